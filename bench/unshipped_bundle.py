"""Train a capture bundle as ``make train-pcap``'s shipping step does, but without the validation
folds and the shipping gate, into a folder of its own: to measure what a training change buys
(false alarms, explanations) when no seed of it passes the gate, so ``models/`` never gets one.

The bundle is trained on ``lab+apps+captures`` from the lab runs given (each a
``scripts.lab`` output folder with ``flows/``, or a folder of such runs), with the recipe's
options and oversampling, and its threshold is raised to ``--threshold`` as the shipped
bundle's is to its alert operating point. It is written to ``OUT/pcap``, so the app's commands
and the benches read it with ``IDS_DESKTOP_MODELS=OUT`` (or ``bench/false_alarms.py --models
OUT``). It has no model card and no validation; it is not for shipping.

    python bench/unshipped_bundle.py --lab ../lab-data ../lab-p2p --out ../unshipped [--seed 0]
        [--threshold 0.9] [--everyday benign-apps]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from ids_desktop.training import locations
from ids_desktop.training.capture_sources import (
    EVERYDAY_FOLDERS,
    FlowReader,
    lab_runs,
    load_sources,
    source_parts,
    training_info,
)
from ids_desktop.training.oversampling import Oversampling, assemble
from ids_desktop.training.pcap import EPOCHS, fit, raise_threshold


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lab", type=Path, nargs="+", default=[locations.lab_data_dir()])
    ap.add_argument("--data", type=Path, default=locations.shared_data_dir())
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threshold", type=float, default=0.9,
                    help="the alert threshold (the shipped bundle's operating point)")
    ap.add_argument("--everyday", nargs="+", default=list(EVERYDAY_FOLDERS), metavar="FOLDER",
                    help="folders of everyday captures to train on (the shipped bundle's "
                         "are its metadata's everyday_folders)")
    args = ap.parse_args(argv)
    out = args.out.resolve() / "pcap"
    if out.resolve() == (locations.models_dir() / "pcap").resolve():
        ap.error("--out must not be the shipped models folder")
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        runs = Path(tmp)  # one folder of links to every run, as the training reads one folder
        for folder in args.lab:
            for run in lab_runs(folder.resolve()):
                (runs / run.name).symlink_to(run, target_is_directory=True)
        print("lab runs:", ", ".join(sorted(p.name for p in runs.iterdir())), flush=True)
        over = Oversampling()
        reader = FlowReader()
        lab, apps, attack, benign = load_sources(runs, args.data, args.seed, over, reader,
                                             tuple(args.everyday))
        parts, _ = source_parts("lab+apps+captures", lab, apps, attack + benign)
        info = training_info(parts, reader.sha256)
        out.mkdir(parents=True, exist_ok=True)
        result = fit(assemble(parts, over), out, final=True, epochs=EPOCHS, seed=args.seed,
                     info=info)
    raise_threshold(result, out, args.threshold)
    print(f"bundle written to {out} in {time.perf_counter() - t0:.0f} s (not for shipping)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
