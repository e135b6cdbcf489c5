"""Shared fixtures: headless Qt, the optional ../shared/data folder, small generated inputs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real datasets beside the repo; the test skips when they are absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is absent")
    return SHARED_DATA


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """A temporal bundle trained in seconds on the synthetic frame (T chosen from 4 and 6):
    ``(bundle folder, TrainResult, frame)``."""
    from ids_desktop.training.options import TrainOptions
    from ids_desktop.training.trainer import train_frame
    from tests.synthetic_flows import synthetic_frame

    out = tmp_path_factory.mktemp("models") / "tiny"
    opts = TrainOptions(epochs=2, patience=1, seq_lens=(4, 6), lofo_families=("scan",),
                        lofo_epochs=1, filters=4, batch_size=64, quantiles=32)
    frame = synthetic_frame()
    result = train_frame(frame, "ton-iot", out, temporal=True, seed=1, options=opts, name="tiny")
    return out, result, frame


@pytest.fixture(scope="session")
def tiny_bundle(tiny_run):
    """The tiny bundle as ``(folder, metadata, frame)``."""
    out, result, frame = tiny_run
    return out, result.metadata, frame


@pytest.fixture(scope="session")
def demo_analysis(tmp_path_factory):
    """The demo capture (a port scan and an SSH brute force from 203.0.113.66 among office
    traffic) analysed with the shipped ``pcap`` bundle; skipped when the bundle is not built."""
    from ids_desktop.synth.demo_capture import write_demo

    if not (REPO / "models" / "pcap" / "metadata.json").is_file():
        pytest.skip("models/pcap is not built (scripts/train_pcap.py)")
    from ids_desktop.core.workflow import run_analysis

    path = write_demo(tmp_path_factory.mktemp("demo") / "demo.pcap")
    return run_analysis(path)
