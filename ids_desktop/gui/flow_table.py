"""FlowTableModel: a read-only Qt model over the analysis DataFrame, sorted with numpy."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

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

Index = QModelIndex | QPersistentModelIndex


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
        if frame is not None:
            self.set_frame(frame)

    # --- data swap -------------------------------------------------------------------------
    def set_frame(self, frame: pd.DataFrame) -> None:
        self.beginResetModel()
        self._frame = frame.reset_index(drop=True)
        first = [c for c in PREFERRED_COLUMNS if c in frame.columns]
        self._columns = first + [c for c in frame.columns if c not in first]
        self._order = np.arange(len(frame))
        self._sorted = self._order
        self._mask = None
        self._cache = {}
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

    def _values(self, column: str) -> np.ndarray:
        values = self._cache.get(column)
        if values is None:
            values = self._frame[column].to_numpy(dtype=object, na_value=None)
            self._cache[column] = values
        return values

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self._order[index.row()]
        column = self._columns[index.column()]
        value = self._values(column)[row]
        if role == Qt.ItemDataRole.DisplayRole:
            return _display(column, value)
        if role == SORT_ROLE:
            return value
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

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

    def set_filter(self, text: str = "", *, flagged_only: bool = False) -> None:
        """Show only rows whose text columns contain ``text`` (case-insensitive), and only
        flagged rows when ``flagged_only``; vectorised, so it stays fast on large tables."""
        mask = np.ones(len(self._frame), dtype=bool)
        if flagged_only and "flagged" in self._frame.columns:
            mask &= self._frame["flagged"].fillna(False).to_numpy(dtype=bool)
        text = text.strip()
        if text:
            hit = np.zeros(len(self._frame), dtype=bool)
            for column in self._columns:
                series = self._frame[column]
                if pd.api.types.is_numeric_dtype(series.dtype) and column not in ("src_port", "dst_port"):
                    continue
                found = series.astype("string").str.contains(text, case=False, regex=False)
                hit |= found.fillna(False).to_numpy(dtype=bool)
            mask &= hit
        self.beginResetModel()
        self._mask = None if mask.all() else mask
        self._apply_mask()
        self.endResetModel()

    def _apply_mask(self) -> None:
        self._order = self._sorted if self._mask is None else self._sorted[self._mask[self._sorted]]


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
        return f"{value:.4g}" if abs(value) < 1e6 else f"{value:,.0f}"
    return str(value)
