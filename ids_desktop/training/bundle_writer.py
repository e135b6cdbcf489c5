"""Writing a trained bundle: model, checked ONNX export, background, metadata and card."""

from __future__ import annotations

import json
import platform
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ids_desktop.core.ingest.digest import sha256_file
from ids_desktop.core.model.bundle import BACKGROUND_FILE, CARD_FILE, METADATA_FILE, MODEL_FILE


def library_versions() -> dict[str, str]:
    """Versions of the libraries a bundle depends on."""
    import keras
    import sklearn
    import tensorflow as tf

    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "scikit-learn": sklearn.__version__,
        "cpu_isa": cpu_isa(),
    }


def cpu_isa() -> str:
    """The widest x86 vector instruction set this CPU offers (``avx512``, ``avx2``, ``avx``),
    else the machine's architecture (``aarch64``, or ``x86_64`` without AVX).

    TensorFlow's oneDNN kernels pick their code path by it, and sums computed in another order
    differ in the last bits, which training compounds. That is the likely reason why, on
    2026-12-08, an AVX2-only machine with the pinned library versions rebuilt NSL-KDD from its
    recipe with other weights, where earlier machines had rebuilt it exactly. A bundle
    records it so that a rebuild can tell a changed recipe from a changed CPU.
    """
    flags: set[str] = set()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    break
    except OSError:
        pass
    for isa, flag in (("avx512", "avx512f"), ("avx2", "avx2"), ("avx", "avx")):
        if flag in flags:
            return isa
    return platform.machine() or "unknown"


def write_bundle(
    out_dir: Path,
    model: Any,
    meta: dict[str, Any],
    *,
    background: np.ndarray | None = None,
    check_inputs: np.ndarray | None = None,
    tree: Any = None,
    tree_check: np.ndarray | None = None,
) -> None:
    """Save ``model.keras``, its checked ONNX export, the background, metadata and card.

    Parameters
    ----------
    out_dir
        The bundle folder (created).
    model
        The trained Keras model.
    meta
        The run's metadata; the files' SHA-256 digests and the export check are added to
        what is written (``meta`` itself is left as it is).
    background
        A ``(n, T, F)`` sample of scaled training sequences (plain ``.npy``, no pickle)
        that LIME explanations perturb towards.
    check_inputs
        The validation windows, where the ONNX export must match Keras (see
        :func:`ids_desktop.core.model.runtime.export_onnx`); without them no export is
        written.
    tree, tree_check
        The blend's fitted scikit-learn tree when the bundle ships one (``meta["blend"]``
        names it), and the scaled rows ``(n, F)`` its ONNX export must match scikit-learn on
        (:func:`ids_desktop.training.tree_export.export_tree`).
    """
    from ids_desktop.core.model.runtime import export_to_bundle
    from ids_desktop.training.card import model_card

    out_dir.mkdir(parents=True, exist_ok=True)
    model_path = out_dir / MODEL_FILE
    model.save(model_path)
    meta = dict(meta)
    meta["model_sha256"] = sha256_file(model_path)
    if check_inputs is not None:
        meta.update(export_to_bundle(model, out_dir, check_inputs))
    if tree is not None:
        from ids_desktop.training.tree_export import export_tree

        if tree_check is None or not len(tree_check):
            raise ValueError("a blend's tree is exported only with rows to check it on")
        blend = dict(meta["blend"])
        tree_path = out_dir / str(blend["file"])
        diff = export_tree(tree, tree_path, tree_check)
        blend["sha256"] = sha256_file(tree_path)
        blend["check"] = {"inputs": "validation split", "rows": int(len(tree_check)),
                          "max_abs_prob_diff": diff}
        meta["blend"] = blend
    if background is not None:
        bg_path = out_dir / BACKGROUND_FILE
        np.save(bg_path, background.astype(np.float32), allow_pickle=False)
        meta["background_sha256"] = sha256_file(bg_path)
    (out_dir / METADATA_FILE).write_text(
        json.dumps(jsonable(meta), indent=2, sort_keys=False) + "\n", encoding="utf-8"
    )
    (out_dir / CARD_FILE).write_text(model_card(meta), encoding="utf-8")


def jsonable(obj: Any) -> Any:
    """``obj`` with numpy scalars and arrays as plain Python values, non-finite floats as None."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating, float)):
        v = float(obj)
        return None if not np.isfinite(v) else v
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    return obj
