"""FlowTableModel: a read-only Qt model over the analysis DataFrame, sorted with numpy."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

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

#: Translucent red over the row: darkens a light base and warms a dark one, so the palette's
#: text colour stays readable in both themes.
FLAGGED_BRUSH = QColor(220, 50, 47, 70)

Index = QModelIndex | QPersistentModelIndex

_ROLES = frozenset({
    Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.BackgroundRole, Qt.ItemDataRole.TextAlignmentRole, SORT_ROLE,
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
        self._cache: dict[str, np.ndarray] = {}
        self._sorted = np.arange(0)
        self._mask: np.ndarray | None = None
        self._flagged: np.ndarray | None = None
        self._search: dict[str, tuple[np.ndarray, pd.Series]] = {}
        if frame is not None:
            self.set_frame(frame)

    # --- data swap -------------------------------------------------------------------------
    def set_frame(
        self,
        frame: pd.DataFrame,
        *,
        order: np.ndarray | None = None,
        search: dict[str, tuple[np.ndarray, pd.Series]] | None = None,
    ) -> None:
        """Show ``frame``; ``order`` (a row permutation) and ``search`` (from
        :func:`search_index`) may be computed beforehand, off the GUI thread."""
        self.beginResetModel()
        self._frame = frame.reset_index(drop=True)
        first = [c for c in PREFERRED_COLUMNS if c in frame.columns]
        self._columns = first + [c for c in frame.columns if c not in first]
        self._order = np.arange(len(frame)) if order is None else np.asarray(order, dtype=np.int64)
        self._sorted = self._order
        self._mask = None
        self._cache = {}
        self._search = dict(search or {})
        self._flagged = (
            frame["flagged"].fillna(False).to_numpy(dtype=bool) if "flagged" in frame.columns else None
        )
        self.endResetModel()

    @property
    def frame(self) -> pd.DataFrame:
        return self._frame

    def columns(self) -> list[str]:
        return list(self._columns)

    def row_of(self, view_row: int) -> int:
        """The frame row shown at ``view_row``."""
        return int(self._order[view_row])

    # --- Qt model API ----------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._order)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._columns)

    def _values(self, column: str) -> Any:
        """Per-cell access to a column without an O(rows) Python conversion.

        Numeric columns become numpy float arrays (a cheap vectorised copy, NaN for missing);
        text columns keep their pandas array and are indexed cell by cell, so the first paint
        of a million-row table does not stall on converting whole columns to objects.
        """
        values = self._cache.get(column)
        if values is None:
            series = self._frame[column]
            if pd.api.types.is_bool_dtype(series.dtype):
                values = series.to_numpy(dtype=object, na_value=None)
            elif pd.api.types.is_numeric_dtype(series.dtype):
                values = _NumericCells(series)
            else:
                values = _TextCells(series.array)
            self._cache[column] = values
        return values

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        # A view asks for a dozen roles per painted cell: answer the unused ones before any
        # lookup, and the rest from per-column facts, so painting stays cheap.
        if role not in _ROLES or not index.isValid():
            return None
        if role == Qt.ItemDataRole.BackgroundRole:
            flagged = self._flagged
            return FLAGGED_BRUSH if flagged is not None and flagged[self._order[index.row()]] else None
        column = self._columns[index.column()]
        values = self._values(column)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return _RIGHT if isinstance(values, _NumericCells) else None
        value = values[self._order[index.row()]]
        return _display(column, value) if role == Qt.ItemDataRole.DisplayRole else value

    def headerData(  # noqa: N802
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return self._columns[section]
        return str(section + 1)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(self._columns):
            return
        self.layoutAboutToBeChanged.emit()
        self._sorted = sort_order(
            self._frame[self._columns[column]], descending=order == Qt.SortOrder.DescendingOrder
        )
        self._apply_mask()
        self.layoutChanged.emit()

    def set_filter(
        self,
        text: str = "",
        *,
        flagged_only: bool = False,
        classes: set[str] | None = None,
        min_score: float | None = None,
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
        """
        frame = self._frame
        mask = np.ones(len(frame), dtype=bool)
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
                        found = distinct.str.contains(text, regex=False).to_numpy(dtype=bool, na_value=False)
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
        return [_display(name, values[int(r)]) for r in self._order[:rows]]

    def rows_as_text(self, view_rows: list[int], columns: list[str]) -> str:
        """Tab-separated text of the given view rows and columns, with a header line."""
        lines = ["\t".join(columns)]
        for view_row in view_rows:
            row = self.row_of(view_row)
            lines.append("\t".join(_display(c, self._values(c)[row]) for c in columns))
        return "\n".join(lines)

    def _apply_mask(self) -> None:
        self._order = self._sorted if self._mask is None else self._sorted[self._mask[self._sorted]]


class _NumericCells:
    """Index a numeric column cell by cell: ints stay ints, missing becomes ``None``."""

    def __init__(self, series: pd.Series) -> None:
        self.floats = series.to_numpy(dtype="float64", na_value=np.nan)
        self.integer = pd.api.types.is_integer_dtype(series.dtype)

    def __getitem__(self, row: int) -> Any:
        value = self.floats[row]
        if np.isnan(value):
            return None
        return int(value) if self.integer else float(value)


class _TextCells:
    """Index a text column cell by cell; missing becomes ``None``.

    Rows are converted to Python objects a block at a time, on first use: indexing a pandas
    (Arrow) string array one cell at a time cost ~20 µs a cell, and a page of cells is painted
    for every scroll step; a converted block answers in well under a microsecond.
    """

    BLOCK = 4096
    MAX_BLOCKS = 64

    def __init__(self, array: Any) -> None:
        self.array = array
        self.blocks: dict[int, np.ndarray] = {}

    def __getitem__(self, row: int) -> Any:
        b, i = divmod(int(row), self.BLOCK)
        block = self.blocks.get(b)
        if block is None:
            if len(self.blocks) >= self.MAX_BLOCKS:
                self.blocks.clear()
            part = self.array[b * self.BLOCK : (b + 1) * self.BLOCK]
            block = np.asarray(pd.Series(part).to_numpy(dtype=object, na_value=None), dtype=object)
            self.blocks[b] = block
        value = block[i]
        return None if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)) else value


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


def sort_order(series: pd.Series, *, descending: bool = False) -> np.ndarray:
    """A stable row permutation sorting ``series``; missing values always go last."""
    if pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype):
        keys = pd.to_numeric(series, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        missing = np.isnan(keys)
        keys = np.where(missing, 0.0, -keys if descending else keys)
    else:
        codes, _ = pd.factorize(series.astype("string"), sort=True)
        missing = codes < 0
        keys = np.where(missing, 0, -codes if descending else codes)
    return np.lexsort((keys, missing)).astype(np.int64)


def _display(column: str, value: Any) -> str:
    if value is None:
        return ""
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
