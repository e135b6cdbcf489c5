"""The capture bundle's per-capture validation folds (issue 5: leave-one-capture-out)."""

from __future__ import annotations

import pytest

from tests.scripts_loader import load_script

NAMES = [f"attack/a{i}.pcap" for i in range(5)] + [f"benign/b{i}.pcap" for i in range(7)]


def test_loco_holds_out_each_attack_capture_alone_and_every_capture_once() -> None:
    folds = load_script("train_pcap").folds_of(NAMES, "loco", seed=3)
    assert len(folds) == 5
    held = [n for f in folds for n in f]
    assert sorted(held) == sorted(NAMES)  # every capture is held out by exactly one fold
    for f in folds:
        assert sum(n.startswith("attack/") for n in f) == 1
    # Benign captures are shared out evenly.
    sizes = sorted(len(f) - 1 for f in folds)
    assert sizes[-1] - sizes[0] <= 1


def test_loco_is_seeded() -> None:
    tp = load_script("train_pcap")
    assert tp.folds_of(NAMES, "loco", seed=1) == tp.folds_of(NAMES, "loco", seed=1)


@pytest.mark.parametrize("k", [2, 4])
def test_random_folds_cover_every_capture_once(k: int) -> None:
    folds = load_script("train_pcap").folds_of(NAMES, k, seed=0)
    assert len(folds) == k
    assert sorted(n for f in folds for n in f) == sorted(NAMES)
