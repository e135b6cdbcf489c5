"""Add (or refresh) the checked ONNX export of existing bundles without retraining them.

For each bundle: rebuild its validation split from the training data it names, export
``model.keras`` to ``model.onnx``, require |p_onnx - p_keras| <= 1e-5 on every validation
window, then record the export's SHA-256 and the measured difference in ``metadata.json``
and the model card (:mod:`ids_desktop.training.export`). Training (``scripts/train_all.py``,
``scripts/train_pcap.py``) does the same for new bundles.

    python scripts/export_onnx.py [--only NAME ...] [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from ids_desktop.training import locations


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="bundle names (default: all)")
    parser.add_argument("--models", type=Path, default=locations.models_dir())
    parser.add_argument("--data", type=Path, default=locations.shared_data_dir())
    args = parser.parse_args(argv)

    from ids_desktop.core.model.bundle import METADATA_FILE
    from ids_desktop.training.export import refresh_export

    names = args.only or sorted(p.parent.name for p in args.models.glob(f"*/{METADATA_FILE}"))
    for name in names:
        t0 = time.perf_counter()
        check = refresh_export(args.models / name, args.data)
        print(f"{name}: {check.windows} validation windows, "
              f"max |dp| = {check.max_abs_prob_diff:.2e}, {check.onnx_bytes / 1e3:.0f} kB, "
              f"{time.perf_counter() - t0:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
