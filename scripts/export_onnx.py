"""Add (or refresh) the checked ONNX export of existing bundles without retraining them.

For each bundle: rebuild its validation split from the training data it names, export
``model.keras`` to ``model.onnx``, require |p_onnx - p_keras| <= 1e-5 on every validation
window, then record the export's SHA-256 and the measured difference in ``metadata.json``
and the model card. Training (``scripts/train_all.py``, ``scripts/train_pcap.py``) does the
same for new bundles.

    python scripts/export_onnx.py [--only NAME ...] [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))


def lab_present() -> bool:
    """Whether a traffic-lab run (``$IDS_LAB_DATA``, default ``../lab-data``) is on disk."""
    import os

    from train_pcap import lab_runs  # type: ignore[import-not-found]

    return bool(lab_runs(Path(os.environ.get("IDS_LAB_DATA", REPO.parent / "lab-data"))))


def capture_inputs(bundle, data: Path):  # noqa: ANN001
    """Model inputs of every shared capture's analysis windows (the check without a lab run).

    The capture bundle's validation split is rebuilt from the traffic-lab run it was trained
    on; lab runs live outside the repository, so on a machine without one the export is
    checked on the windows the app itself builds from the real shared captures (attack,
    benign and benign-apps).
    """
    import numpy as np

    from ids_desktop.core.ingest import ingest
    from ids_desktop.core.model import sequences

    parts = []
    for kind in ("attack", "benign", "benign-apps"):
        for path in sorted((data / "pcaps" / kind).iterdir()):
            if path.suffix.lower() not in (".pcap", ".pcapng", ".cap"):
                continue
            result = ingest(path)
            if not len(result.frame):
                continue
            x = bundle.features(result.frame, result.temporal)
            parts.append(sequences.to_tensor(x, bundle.windows(result.frame, result.temporal)))
    return np.concatenate(parts)


def training_frame(name: str, data: Path, meta: dict):
    """The canonical training frame of bundle ``name`` and whether it is temporal."""
    import pandas as pd

    from ids_desktop.core.ingest import ingest

    if name == "pcap":
        from train_pcap import load_training_flows  # type: ignore[import-not-found]

        frame = load_training_flows(meta)
        return frame, True
    from train_all import JOBS  # type: ignore[import-not-found]

    results = [ingest(data / f) for f in JOBS[name][0]]
    frame = pd.concat([r.frame for r in results], ignore_index=True)
    return frame, all(r.temporal for r in results)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="bundle names (default: all)")
    parser.add_argument("--models", type=Path, default=REPO / "models")
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    args = parser.parse_args(argv)

    from ids_desktop.core.model.bundle import CARD_FILE, METADATA_FILE, load_bundle
    from ids_desktop.core.model.card import model_card
    from ids_desktop.core.model.runtime import ONNX_FILE, export_to_bundle
    from ids_desktop.core.model.training import validation_inputs

    names = args.only or sorted(p.parent.name for p in args.models.glob(f"*/{METADATA_FILE}"))
    for name in names:
        folder = args.models / name
        t0 = time.perf_counter()
        bundle = load_bundle(folder, backend="keras")
        meta = bundle.metadata
        if name == "pcap" and not lab_present():
            x_val = capture_inputs(bundle, args.data)
            meta.update(export_to_bundle(bundle.model, folder, x_val))
            meta["onnx_check"]["inputs"] = "shared-capture analysis"  # card: "N ... windows"
        else:
            frame, temporal = training_frame(name, args.data, meta)
            x_val = validation_inputs(frame, meta, temporal=temporal)
            meta.update(export_to_bundle(bundle.model, folder, x_val))
        diff = meta["onnx_check"]["max_abs_prob_diff"]
        (folder / METADATA_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        (folder / CARD_FILE).write_text(model_card(meta), encoding="utf-8")
        print(f"{name}: {len(x_val)} validation windows, max |dp| = {diff:.2e}, "
              f"{(folder / ONNX_FILE).stat().st_size / 1e3:.0f} kB, {time.perf_counter() - t0:.0f} s",
              flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
