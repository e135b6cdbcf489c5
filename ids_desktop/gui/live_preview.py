"""LivePreview: unscored flows shown in the table while a file is read, a few times a second."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QTableView

from ids_desktop.gui.flow_table import PREFERRED_COLUMNS, FlowTableModel, StagedRows, fit_columns

#: Columns of the unscored preview shown while a file is read (besides PREFERRED_COLUMNS).
PREVIEW_EXTRA = (
    "last_seen",
    "bidirectional_packets",
    "bidirectional_bytes",
    "bidirectional_duration_ms",
    "requested_server_name",
)
#: Verdict columns shown empty in the preview, so the layout does not jump when scores arrive.
VERDICT_COLUMNS = ("flagged", "pred_class", "pred_score", "anomaly_score")
#: Shortest pause between two preview refreshes of the table (ms); longer if refreshes are slow.
PREVIEW_MIN_INTERVAL_MS = 400
#: Unscored flows shown at most while a file is read. Each refresh copies and merges the rows
#: shown so far on the GUI thread, competing for the GIL with the extraction: at a million
#: rows one refresh blocked the event loop for 0.1-0.5 s. The rest appear with the verdicts.
PREVIEW_MAX_ROWS = 200_000
#: Delay (ms) before the next step of work split over several turns of the event loop. A
#: timer, not a zero-delay call: Qt runs zero-delay calls as posted events, all in the same
#: pass, so repaints and other timers only got their turn after every step had run.
NEXT_TURN_MS = 1


def preview_columns(batch: pd.DataFrame) -> pd.DataFrame:
    """The identity columns of a batch of unscored flows (cheap to join and show)."""
    keep = [c for c in (*PREFERRED_COLUMNS, *PREVIEW_EXTRA) if c in batch.columns]
    return batch[keep]


class LivePreview(QObject):
    """Feeds batches of unscored flows (the analysis task's partial results) to the table.

    Batches are queued as they arrive; the table refreshes at most every
    :data:`PREVIEW_MIN_INTERVAL_MS` (longer when a refresh itself is slow), keeps the user's
    sort and scroll position, and stops growing at :data:`PREVIEW_MAX_ROWS` while the count
    of flows read goes on. :meth:`finish` hands the table over to the analysis.

    Signals:
        status_changed(str): how many flows were read and shown so far.

    Attributes:
        updates: Refreshes of the table so far.
    """

    status_changed = Signal(str)

    def __init__(
        self, model: FlowTableModel, table: QTableView, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.model = model
        self.table = table
        self.updates = 0
        self._finished = False
        self._pending: list[pd.DataFrame] = []
        self._shown = 0  # unscored flows shown so far
        self._queued = 0  # ... and those waiting to be shown (at most PREVIEW_MAX_ROWS)
        self._read = 0  # unscored flows read so far
        self._staged: tuple[StagedRows, int, float] | None = None  # prepared, shown next turn
        self._timer = QTimer(self, singleShot=True, interval=PREVIEW_MIN_INTERVAL_MS)
        self._timer.timeout.connect(self._show)

    def add(self, batch: pd.DataFrame) -> None:
        """Queue a batch of unscored flows; the table refreshes a few times a second at most."""
        if self._finished:
            return
        self._read += len(batch)
        room = PREVIEW_MAX_ROWS - self._queued
        batch = batch.iloc[: max(0, room)]
        self._queued += len(batch)
        if not self._timer.isActive():
            self._timer.start()
        if not len(batch):
            return
        # all-missing verdict columns, so preview rows have the analysis table's columns
        n = len(batch)
        empty: dict[str, Any] = {
            c: np.full(n, np.nan) for c in VERDICT_COLUMNS if c not in batch.columns
        }
        if "flagged" in empty:
            empty["flagged"] = pd.arrays.BooleanArray(
                np.zeros(n, dtype=bool), np.ones(n, dtype=bool)
            )
        self._pending.append(batch.assign(**empty))

    def finish(self) -> None:
        """The analysis arrived and replaces the preview: drop whatever is still queued."""
        self._finished = True
        self._timer.stop()
        self._pending.clear()
        self._staged = None
        self._shown = self._queued = self._read = 0

    def stop(self, why: str) -> None:
        """The analysis ended without a result: keep the flows shown, say they are unscored."""
        self._timer.stop()
        self._pending.clear()
        self._commit()  # rows prepared are shown too
        if self._shown and not self._finished:
            if self._read <= self._shown:
                said = f"the {self._shown:,} flows read until then are shown, unscored"
            else:
                said = (
                    f"{self._read:,} flows were read until then; "
                    f"the first {self._shown:,} are shown, unscored"
                )
            self.status_changed.emit(f"{why}: {said}")
        self._finished = True

    def _show(self) -> None:
        """Show every flow read so far, unscored, keeping the sort and scroll position.

        New rows are prepared on this turn of the event loop and shown on the next
        (:meth:`_commit`): at a million rows each half takes ~40 ms.
        """
        if self._finished:
            return
        if not self._pending:  # the table is full: only the count moves
            if self._shown:
                self._say_read()
            return
        if self._staged is not None:  # the previous batch is not shown yet: wait for it
            self._timer.start()
            return
        t0 = time.perf_counter()
        batch = (
            self._pending[0]
            if len(self._pending) == 1
            else pd.concat(self._pending, ignore_index=True)
        )
        self._pending = []
        if self._shown == 0:
            header = self.table.horizontalHeader()
            self.model.set_frame(batch)
            if "first_seen" in batch.columns:  # flows in time order until the user sorts
                header.blockSignals(True)
                header.setSortIndicator(
                    self.model.columns().index("first_seen"), Qt.SortOrder.AscendingOrder
                )
                header.blockSignals(False)
            section, order = header.sortIndicatorSection(), header.sortIndicatorOrder()
            if 0 <= section < self.model.columnCount():
                self.model.sort(section, order)
            fit_columns(self.table)
            self._was_shown(len(batch), t0)
            return
        self._staged = (self.model.stage_rows(batch), len(batch), time.perf_counter() - t0)
        QTimer.singleShot(NEXT_TURN_MS, self, self._commit)

    def _commit(self) -> None:
        staged, rows, spent = self._staged or (None, 0, 0.0)
        self._staged = None
        if staged is None or self._finished:
            return
        t0 = time.perf_counter()
        scroll = self.table.verticalScrollBar().value()
        if self.model.commit(staged):
            self.table.verticalScrollBar().setValue(scroll)
            self._was_shown(rows, t0 - spent)

    def _say_read(self) -> None:
        shown = "" if self._read <= self._shown else f" (the first {self._shown:,} shown)"
        self.status_changed.emit(
            f"{self._read:,} flows read so far{shown}; "
            "verdicts appear when the model has scored them"
        )

    def _was_shown(self, rows: int, t0: float) -> None:
        self._shown += rows
        self._say_read()
        self.updates += 1
        # refresh less often when a refresh itself takes long (very large captures)
        spent_ms = (time.perf_counter() - t0) * 1000
        self._timer.setInterval(max(PREVIEW_MIN_INTERVAL_MS, int(spent_ms * 8)))
