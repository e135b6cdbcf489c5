"""FlowTableModel: a read-only Qt model over the analysis DataFrame, sorted with numpy."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QTableView

from ids_desktop.core import vocabulary

SORT_ROLE = Qt.ItemDataRole.UserRole + 1

#: Columns shown first when present; the rest follow in frame order.
PREFERRED_COLUMNS = (
    "flagged",
    "pred_class",
    "pred_score",
    "anomaly_score",
    "first_seen",
    "src_ip",
    "src_port",
    "dst_ip",
    "dst_port",
    "protocol",
    "application",
    "label_original",
    "flow_id",
)

#: Columns the text search looks in: addresses, ports, applications, names and verdicts.
SEARCH_COLUMNS = (
    "src_ip",
    "dst_ip",
    "src_port",
    "dst_port",
    "application",
    "requested_server_name",
    "pred_class",
    "label_original",
)

#: Probabilities and scores, shown with three decimals (``1`` would hide a 0.9996).
SCORE_COLUMNS = ("pred_score", "anomaly_score")

#: What a flagged row shows in the ``flagged`` column (an unflagged one shows nothing).
FLAGGED_MARK = "●"
#: Identity columns hidden until asked for (the column chooser keeps every column one click
#: away): the 19-digit flow id and the 0/1 label beside the family. Model features (~85 for
#: a capture) and the meter's bookkeeping are hidden too (:func:`shown_by_default`).
HIDDEN_IDENTITY = frozenset({"flow_id", "label_binary"})


def shown_by_default(column: str) -> bool:
    """Whether the table opens with ``column`` visible: addresses, times, verdicts, incident,
    server name yes; the flow id, the meter's bookkeeping and the model's features no."""
    return column in vocabulary.IDENTITY_COLUMNS and column not in HIDDEN_IDENTITY


def header_text(column: str) -> str:
    """A column's header: its name in words with its unit (:mod:`ids_desktop.core.vocabulary`)."""
    return vocabulary.label(column)

#: Translucent red over the row: darkens a light base and warms a dark one, so the palette's
#: text colour stays readable in both themes.
FLAGGED_BRUSH = QColor(220, 50, 47, 70)

Index = QModelIndex | QPersistentModelIndex

_ROLES = frozenset({
    Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.BackgroundRole,
    Qt.ItemDataRole.TextAlignmentRole, SORT_ROLE,
})
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)


class FlowTableModel(QAbstractTableModel):
    """Wraps a DataFrame read-only. Sorting permutes a numpy row order, never the frame.

    ``sort()`` uses a stable ``np.argsort`` on the raw column (numbers sort numerically,
    missing values last), which takes well under a second for a million rows where a
    ``QSortFilterProxyModel`` takes tens of seconds.
    """

    def __init__(self, frame: pd.DataFrame | None = None, parent: Any = None) -> None:
        super().__init__(parent)
        self._frame = pd.DataFrame()
        self._columns: list[str] = []
        self._order = np.arange(0)
        self._cache: dict[str, _Cells] = {}
        self._sorted = np.arange(0)
        self._mask: np.ndarray | None = None
        self._flagged: np.ndarray | None = None
        self._search: dict[str, tuple[np.ndarray, pd.Series]] = {}
        self._sort_by: tuple[str, bool] | None = None  # (column, descending) of the last sort()
        self._merge: _SortedKeys | None = None  # that sort, kept for append_rows
        if frame is not None:
            self.set_frame(frame)

    # --- data swap -------------------------------------------------------------------------
    def set_frame(
        self,
        frame: pd.DataFrame,
        *,
        order: np.ndarray | None = None,
        search: Mapping[str, tuple[np.ndarray, pd.Series]] | None = None,
    ) -> None:
        """Show ``frame``; ``order`` (a row permutation) and ``search`` (from
        :func:`search_index`) may be computed beforehand, off the GUI thread."""
        self.beginResetModel()
        self._frame = frame.reset_index(drop=True)
        first = [c for c in PREFERRED_COLUMNS if c in frame.columns]
        self._columns = first + [c for c in frame.columns if c not in first]
        self._order = np.arange(len(frame)) if order is None else np.asarray(order, dtype=np.int64)
        self._sorted = self._order
        self._sort_by = None
        self._merge = None
        self._mask = None
        self._cache = {}
        self._search = dict(search or {})
        self._flagged = _flags(frame)
        self.endResetModel()

    def append_rows(self, rows: pd.DataFrame) -> None:
        """Add ``rows`` after the current ones (the live preview of a file being read).

        The same as :meth:`commit` of :meth:`stage_rows`.
        """
        self.commit(self.stage_rows(rows))

    def stage_rows(self, rows: pd.DataFrame) -> StagedRows:
        """Prepare adding ``rows`` after the current ones, without changing the model.

        The last :meth:`sort` is kept: a numeric column's new rows are merged into the sorted
        order (``O(rows + new log new)``), because sorting a million rows again for every batch
        cost the GUI thread 0.13 s each time. A text column is sorted again. Cells already
        converted for display are kept. The work is split from :meth:`commit` so a caller can
        give the event loop a turn in between (each half takes ~40 ms at a million rows).
        """
        if not len(self._frame.columns):
            return StagedRows(self._frame, rows.reset_index(drop=True), None, None, {}, None)
        old = len(self._frame)
        frame = pd.concat([self._frame, rows[self._frame.columns]], ignore_index=True)
        sorted_rows = np.arange(len(frame))
        merge = None
        if self._sort_by is not None:
            name, descending = self._sort_by
            if self._merge is not None:  # kept by sort() for a numeric column
                merge = self._merge.appended(rows[name], old)
                sorted_rows = merge.order()
            else:
                sorted_rows = sort_order(frame[name], descending=descending)
        # blocks of cells already converted stay
        cache = {c: v.extended(frame[c], old) for c, v in self._cache.items()}
        new_flags = _flags(rows)
        flagged: np.ndarray | None
        if self._flagged is not None and new_flags is not None:
            flagged = np.concatenate([self._flagged, new_flags])
        else:
            flagged = _flags(frame)
        return StagedRows(self._frame, frame, sorted_rows, merge, cache, flagged)

    def commit(self, staged: StagedRows) -> bool:
        """Show what :meth:`stage_rows` prepared; ``False`` (and nothing changes) when the
        model's frame was replaced since. Filters are cleared, as by :meth:`set_frame`."""
        if staged.base is not self._frame:
            return False
        if staged.order is None:  # the model was empty
            self.set_frame(staged.frame)
            return True
        self.beginResetModel()
        self._frame = staged.frame
        self._sorted = staged.order
        self._merge = staged.merge
        self._mask = None
        self._apply_mask()
        self._cache = staged.cache
        self._search = {}
        self._flagged = staged.flagged
        self.endResetModel()
        return True

    @property
    def frame(self) -> pd.DataFrame:
        return self._frame

    def columns(self) -> list[str]:
        return list(self._columns)

    def row_of(self, view_row: int) -> int:
        """The frame row shown at ``view_row``."""
        return int(self._order[view_row])

    def view_row_of(self, row: int) -> int | None:
        """The view row showing frame row ``row``; ``None`` when it is filtered out."""
        found = np.flatnonzero(self._order == row)
        return int(found[0]) if len(found) else None

    # --- Qt model API ----------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._order)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._columns)

    def _values(self, column: str) -> _Cells:
        """Per-cell access to a column without an O(rows) conversion (see :class:`_Cells`)."""
        values = self._cache.get(column)
        if values is None:
            values = self._cache[column] = _Cells(self._frame[column])
        return values

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        # A view asks for a dozen roles per painted cell: answer the unused ones before any
        # lookup, and the rest from per-column facts, so painting stays cheap.
        if role not in _ROLES or not index.isValid():
            return None
        if role == Qt.ItemDataRole.BackgroundRole:
            flagged = self._flagged
            is_flagged = flagged is not None and flagged[self._order[index.row()]]
            return FLAGGED_BRUSH if is_flagged else None
        column = self._columns[index.column()]
        values = self._values(column)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return _RIGHT if values.numeric else None
        value = values[self._order[index.row()]]
        return display_text(column, value) if role == Qt.ItemDataRole.DisplayRole else value

    def headerData(  # noqa: N802
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        horizontal = orientation == Qt.Orientation.Horizontal
        if role == Qt.ItemDataRole.ToolTipRole and horizontal:
            return self._columns[section]  # the name the CSV and the model use
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if horizontal:
            return header_text(self._columns[section])
        return str(section + 1)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(self._columns):
            return
        self.layoutAboutToBeChanged.emit()
        # persistent indexes (the selection, the current row) follow their flow, not the
        # view row: without this the highlight stayed on row n while row n became another flow
        kept = self.persistentIndexList()
        rows = [int(self._order[i.row()]) if i.row() < len(self._order) else -1 for i in kept]
        name, descending = self._columns[column], order == Qt.SortOrder.DescendingOrder
        self._sort_by = (name, descending)
        self._sorted = sort_order(self._frame[name], descending=descending)
        numeric = _is_numeric(self._frame[name])
        self._merge = _SortedKeys(self._frame[name], self._sorted, descending) if numeric else None
        self._apply_mask()
        if kept:
            where = np.empty(len(self._frame), dtype=np.int64)
            where[self._order] = np.arange(len(self._order))
            moved = [self.index(int(where[r]), i.column()) if r >= 0 else QModelIndex()
                     for r, i in zip(rows, kept, strict=True)]
            self.changePersistentIndexList(kept, moved)
        self.layoutChanged.emit()

    def set_filter(
        self,
        text: str = "",
        *,
        flagged_only: bool = False,
        classes: set[str] | None = None,
        min_score: float | None = None,
        where: np.ndarray | None = None,
    ) -> None:
        """Show only matching rows; every test is a vectorised mask, fast on large tables.

        Parameters
        ----------
        text
            Case-insensitive substring of an address, port, application, server name or class.
        flagged_only
            Only rows whose ``flagged`` is true.
        classes
            Only rows whose ``pred_class`` is one of these.
        min_score
            Only rows whose ``pred_score`` is at least this.
        where
            Only rows true in this mask over the frame's rows (a pivot:
            :func:`ids_desktop.gui.pivots.pivot_mask`).
        """
        frame = self._frame
        mask = np.ones(len(frame), dtype=bool)
        if where is not None and len(where) == len(frame):
            mask &= where
        if flagged_only and self._flagged is not None:
            mask &= self._flagged
        if classes is not None and "pred_class" in frame.columns:
            mask &= frame["pred_class"].isin(sorted(classes)).fillna(False).to_numpy(dtype=bool)
        if min_score is not None and min_score > 0 and "pred_score" in frame.columns:
            mask &= (frame["pred_score"].fillna(0).to_numpy(dtype=float) >= min_score)
        text = text.strip().lower()
        if text:
            hit = np.zeros(len(frame), dtype=bool)
            for column in SEARCH_COLUMNS:
                if column in frame.columns:
                    if column not in self._search:
                        self._search[column] = search_codes(frame[column])
                    codes, distinct = self._search[column]
                    if len(distinct):
                        found = distinct.str.contains(text, regex=False).to_numpy(
                            dtype=bool, na_value=False
                        )
                        hit |= np.append(found, False)[codes]  # code -1 (missing) picks the False
            mask &= hit
        self.beginResetModel()
        self._mask = None if mask.all() else mask
        self._apply_mask()
        self.endResetModel()

    def column_texts(self, column: int, rows: int) -> list[str]:
        """The display strings of the first ``rows`` shown rows of ``column``."""
        name = self._columns[column]
        values = self._values(name)
        return [display_text(name, values[int(r)]) for r in self._order[:rows]]

    def rows_as_text(self, view_rows: list[int], columns: list[str]) -> str:
        """Tab-separated text of the given view rows and columns, with a header line."""
        lines = ["\t".join(columns)]
        for view_row in view_rows:
            row = self.row_of(view_row)
            lines.append("\t".join(display_text(c, self._values(c)[row]) for c in columns))
        return "\n".join(lines)

    def _apply_mask(self) -> None:
        self._order = self._sorted if self._mask is None else self._sorted[self._mask[self._sorted]]


class _Cells:
    """Index a column cell by cell: numbers as ``int`` or ``float``, the rest as Python
    objects, missing as ``None``. Nothing is converted for the whole column, which took
    3-50 ms per column of a million rows on the GUI thread at every swap of the table.

    Numbers are read straight from the column's numpy data (and mask, for nullable
    integers). Text is converted a block of rows at a time, on first use: indexing an Arrow
    string array cell by cell cost ~20 µs a cell. Blocks are small because a sorted table
    shows rows from all over the frame: a page of a million rows sorted by score touched a
    hundred 4,096-row blocks (60 ms); 256-row blocks cost ~0.05 ms.
    """

    BLOCK = 256
    MAX_BLOCKS = 1024

    def __init__(self, series: pd.Series) -> None:
        self.array = series.array
        dtype = series.dtype
        self.numeric = (pd.api.types.is_numeric_dtype(dtype)
                        and not pd.api.types.is_bool_dtype(dtype))
        self.integer = self.numeric and pd.api.types.is_integer_dtype(dtype)
        self.data: np.ndarray | None = None
        self.mask: np.ndarray | None = None
        if self.numeric:
            if isinstance(self.array, pd.arrays.IntegerArray | pd.arrays.FloatingArray):
                self.data, self.mask = self.array._data, self.array._mask  # views, no copy
            elif isinstance(dtype, np.dtype):
                self.data = series.to_numpy()  # a view
            else:  # other extension arrays: converted once
                self.data = series.to_numpy(dtype="float64", na_value=np.nan)
                self.integer = False
        self.blocks: dict[int, np.ndarray] = {}

    def extended(self, series: pd.Series, old: int) -> _Cells:
        """The cells of ``series``, whose first ``old`` rows are this column's: text blocks
        already converted are kept."""
        out = _Cells(series)
        out.blocks = {b: v for b, v in self.blocks.items() if (b + 1) * self.BLOCK <= old}
        return out

    def __getitem__(self, row: int) -> Any:
        if self.data is not None:
            if self.mask is not None and self.mask[row]:
                return None
            if self.integer:
                return int(self.data[row])
            value = float(self.data[row])
            return None if value != value else value  # NaN is missing
        b, i = divmod(int(row), self.BLOCK)
        block = self.blocks.get(b)
        if block is None:
            if len(self.blocks) >= self.MAX_BLOCKS:
                self.blocks.clear()
            part = pd.Series(self.array[b * self.BLOCK : (b + 1) * self.BLOCK], copy=False)
            block = np.asarray(part.to_numpy(dtype=object, na_value=None), dtype=object)
            self.blocks[b] = block
        value = block[i]
        missing = value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value))
        return None if missing else value


def search_codes(series: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """``(codes, distinct)`` for substring search: each row's code into the lower-cased
    distinct values (-1 when missing). Matching the few distinct addresses, ports or
    applications and indexing by code is ~10x faster than a string search over every row."""
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    distinct = pd.Series([str(u).lower() for u in uniques], dtype="string")
    return codes.astype(np.int64, copy=False), distinct


def search_index(frame: pd.DataFrame) -> dict[str, tuple[np.ndarray, pd.Series]]:
    """:func:`search_codes` of every searched column of ``frame`` (for ``set_frame``)."""
    return {c: search_codes(frame[c]) for c in SEARCH_COLUMNS if c in frame.columns}


def _flags(frame: pd.DataFrame) -> np.ndarray | None:
    if "flagged" not in frame.columns:
        return None
    return frame["flagged"].fillna(False).to_numpy(dtype=bool)


def _is_numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype)


def _numeric_keys(series: pd.Series, descending: bool) -> tuple[np.ndarray, np.ndarray]:
    """``(keys, missing)``: ascending sort keys of a numeric column (0 where missing)."""
    keys = pd.to_numeric(series, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    missing = np.isnan(keys)
    return np.where(missing, 0.0, -keys if descending else keys), missing


@dataclass
class StagedRows:
    """Rows prepared by :meth:`FlowTableModel.stage_rows`, for :meth:`FlowTableModel.commit`."""

    base: pd.DataFrame  # the frame they extend
    frame: pd.DataFrame
    order: np.ndarray | None  # None: the model was empty, ``frame`` is simply shown
    merge: _SortedKeys | None
    cache: dict[str, _Cells]
    flagged: np.ndarray | None


class _SortedKeys:
    """A numeric sort kept for merging: rows with a value in order with their keys, then the
    rows without one (last, in row order). Appending rows costs a sort of the new rows and
    one insert, never a gather over the whole table (0.02 s at a million rows)."""

    def __init__(self, series: pd.Series, sorted_rows: np.ndarray, descending: bool) -> None:
        keys, missing = _numeric_keys(series, descending)
        self.descending = descending
        self.known = sorted_rows[~missing[sorted_rows]]
        self.keys = keys[self.known]
        self.missing = sorted_rows[missing[sorted_rows]]

    def appended(self, series: pd.Series, first_row: int) -> _SortedKeys:
        """This sort with the rows of ``series`` (frame rows from ``first_row``) merged in.

        New rows go after old rows with equal keys: they come later in the frame, so this
        is the order a stable sort of the whole column gives.
        """
        keys, missing = _numeric_keys(series, self.descending)
        order = sort_order(series, descending=self.descending)
        has = ~missing[order]
        at = np.searchsorted(self.keys, keys[order[has]], side="right")
        out = copy.copy(self)
        out.known = np.insert(self.known, at, first_row + order[has])
        out.keys = np.insert(self.keys, at, keys[order[has]])
        out.missing = np.concatenate([self.missing, first_row + order[~has]])
        return out

    def order(self) -> np.ndarray:
        """The sorted rows: those with a value, then those without."""
        return np.concatenate([self.known, self.missing])


def sort_order(series: pd.Series, *, descending: bool = False) -> np.ndarray:
    """A stable row permutation sorting ``series``; missing values always go last."""
    if _is_numeric(series):
        keys, missing = _numeric_keys(series, descending)
    else:
        codes, _ = pd.factorize(series.astype("string"), sort=True)
        missing = codes < 0
        keys = np.where(missing, 0, -codes if descending else codes)
    return np.lexsort((keys, missing)).astype(np.int64)


def display_text(column: str, value: Any) -> str:
    """A cell as the table shows it: ``""`` when missing, times as UTC, scores with three
    decimals, other numbers with four significant digits (thousands separators from 1e6),
    protocols by name (TCP, UDP), a flagged flow as :data:`FLAGGED_MARK`."""
    if value is None:
        return ""
    if column == "flagged":
        return FLAGGED_MARK if bool(value) else ""
    if column == "protocol":
        return vocabulary.protocol_name(value)
    if column in ("first_seen", "last_seen") and isinstance(value, (float, np.floating)):
        if np.isnan(value):
            return ""
        return pd.Timestamp(value, unit="s", tz="UTC").strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    if isinstance(value, (float, np.floating)):
        if np.isnan(value):
            return ""
        if column in SCORE_COLUMNS:
            return f"{value:.3f}"
        return f"{value:.4g}" if abs(value) < 1e6 else f"{value:,.0f}"
    return str(value)


def fit_columns(table: QTableView, sample_rows: int = 30, first: int = 16) -> None:
    """Size the leading columns of a view of a :class:`FlowTableModel` to their header and
    the first rows' text.

    ``resizeColumnsToContents`` asks the model for 1,000 rows of every column, which
    stalled the GUI for seconds on captures with a hundred feature columns; even
    ``resizeColumnToContents`` on 16 columns cost ~60 ms of data() calls per role. Here
    the widths come straight from the font metrics of the displayed strings (~2 ms).
    """
    model = table.model()
    assert isinstance(model, FlowTableModel)
    header = table.horizontalHeader()
    cells = table.fontMetrics()
    heads = header.fontMetrics()
    rows = min(sample_rows, model.rowCount())
    columns = model.columns()
    for i in range(min(first, len(columns))):
        if table.isColumnHidden(i):
            continue
        texts = model.column_texts(i, rows)
        width = max([cells.horizontalAdvance(t) for t in texts]
                    + [heads.horizontalAdvance(header_text(columns[i])) + 18])
        header.resizeSection(i, max(40, min(width + 14, 360)))
