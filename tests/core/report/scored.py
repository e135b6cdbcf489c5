"""A scored analysis record built by hand, for report tests that need no model."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd

from ids_desktop.core.analysis import Analysis, ModelRun
from ids_desktop.core.ingest.result import IngestResult
from ids_desktop.core.model.bundle import Scores
from ids_desktop.core.options import AnalysisOptions


def scored_analysis(flows: pd.DataFrame, source: Path, *, name: str = "m",
                    metadata: dict[str, Any] | None = None, input_format: str = "pcap",
                    warnings: list[str] | None = None) -> Analysis:
    """``flows`` (with verdict columns) as if a bundle called ``name`` had scored ``source``."""
    bundle = SimpleNamespace(name=name, path=source.parent / "no-such-bundle",
                             metadata={"name": name, **(metadata or {})}, threshold=0.5)
    n = len(flows)
    scores = Scores(np.zeros((n, 1)), flows["pred_score"].to_numpy(),
                    flows["anomaly_score"].to_numpy(), flows["flagged"].to_numpy(dtype=bool),
                    pd.array(flows["pred_class"], dtype="string"))
    result = IngestResult(flows, input_format, input_format, True, list(warnings or []), source, {},
                          sha256="0" * 64)
    run = ModelRun(bundle, np.zeros((n, 0)), np.zeros((n, 1), dtype=np.int64), scores, 0.5, 0.0)  # type: ignore[arg-type]
    return Analysis(source, AnalysisOptions(), result, flows, run)
