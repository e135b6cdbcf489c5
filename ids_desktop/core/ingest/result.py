"""The value every ingest path returns: a canonical frame plus what was learned on the way."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ids_desktop.core.ingest.packets import PacketFacts


@dataclass
class IngestResult:
    """A canonical flow table (see :mod:`ids_desktop.core.schema`) and its provenance.

    Attributes
    ----------
    frame
        The canonical flow table.
    format
        The detected (or forced) input format, a name from ``ids-desktop-cli formats``.
    feature_format
        The feature family the rows carry, which decides the model bundle
        (``pcap``, ``cic-ids2017``, ``unsw-nb15``, ``ton-iot``, ``nsl-kdd``).
    temporal
        True when rows carry real times and source hosts, so flows can be put in time order
        per host; False for tables without timestamps (a flow's context is then itself).
    warnings
        Human-readable warnings (coerced cells, truncated capture, odd link type, ...).
    source
        The path that was read.
    meta
        Format-specific facts (packets, bytes, link types, truncation offset, ...).
    sha256
        The file's SHA-256, computed while it was read (:mod:`ids_desktop.core.ingest.digest`).
    packets, arp
        For captures: what the container walk kept from single packets for the host-level
        detectors (:class:`~ids_desktop.core.ingest.packets.PacketFacts`) and its ARP claims
        (see :attr:`~ids_desktop.core.ingest.pcapfile.CaptureInfo.arp`).
    """

    frame: pd.DataFrame
    format: str
    feature_format: str
    temporal: bool
    warnings: list[str] = field(default_factory=list)
    source: Path | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    sha256: str = ""
    packets: PacketFacts | None = None
    arp: list[tuple[float, int, str, str, str, str]] = field(default_factory=list)

    @property
    def labelled(self) -> bool:
        """True when the input carries ground truth for its rows."""
        return bool(self.frame["label_binary"].notna().any())

    def label_counts(self) -> dict[str, int]:
        """Original label -> row count, most frequent first (empty when unlabelled)."""
        labels = self.frame["label_original"].dropna()
        counts = labels.value_counts(sort=True)
        return {str(k): int(v) for k, v in counts.items()}
