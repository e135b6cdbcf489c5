"""Fixtures of the detector tests: write a synthetic capture, ingest it, run every detector."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ids_desktop.core.detect import Finding, detect_all
from ids_desktop.core.ingest import ingest

Detect = Callable[..., tuple[Finding, ...]]


@pytest.fixture
def detect(tmp_path: Path) -> Detect:
    """``detect(write, **kw)``: the findings of ``detect_all`` on the capture ``write(path, **kw)``
    writes (a function of :mod:`ids_desktop.synth.attack_captures` and its sibling)."""

    def run(write: Callable[..., Path], **kw: object) -> tuple[Finding, ...]:
        path = write(tmp_path / f"{write.__name__}.pcap", **kw)
        return detect_all(ingest(path))

    return run

