"""Whether a rebuilt bundle is the shipped one: same weights, export outputs and background.

``model.keras`` is a zip whose own metadata carries the save date, and tf2onnx names the
constants of an export by a process-wide counter, so neither file's SHA-256 repeats across
runs. The comparison reads what does: the network's weight arrays, the export's outputs, the
background sample and the measured metadata.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ids_desktop.core.model.bundle import BACKGROUND_FILE, METADATA_FILE, MODEL_FILE
from ids_desktop.core.model.runtime import ONNX_FILE

#: Metadata entries that change from run to run of the same recipe (timings, file digests
#: that cover a save date or generated names), as ``/``-separated paths; ``*`` is any key.
VOLATILE = ("train_seconds", "model_sha256", "onnx_sha256", "metrics/*/flows_per_s")
#: The Keras archive's member holding the weights.
WEIGHTS_MEMBER = "model.weights.h5"


def weights_sha256(model_file: Path) -> str:
    """SHA-256 over a ``model.keras`` file's weight arrays (name, dtype, shape and bytes of
    each, in name order): equal for equal weights whenever and wherever they were saved."""
    import h5py

    with zipfile.ZipFile(model_file) as archive:
        data = archive.read(WEIGHTS_MEMBER)
    digest = hashlib.sha256()
    with h5py.File(io.BytesIO(data), "r") as f:
        names: list[str] = []

        def collect(name: str, obj: object) -> None:
            if isinstance(obj, h5py.Dataset):
                names.append(name)

        f.visititems(collect)
        for name in sorted(names):
            array = np.ascontiguousarray(f[name][()])
            for part in (name, str(array.dtype), str(array.shape)):
                digest.update(part.encode())
            digest.update(array.tobytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class BundleComparison:
    """Two bundle folders side by side.

    Attributes
    ----------
    weights
        The networks' weight arrays are identical (:func:`weights_sha256`).
    background
        The explanation background samples are byte-identical.
    onnx_max_abs_diff
        Largest difference of the two ONNX exports' outputs on the first bundle's background
        windows (``None`` when either has no export).
    metadata
        Metadata entries that differ beyond :data:`VOLATILE`: path -> (first, second);
        ``<absent>`` marks an entry only one records.
    """

    weights: bool
    background: bool
    onnx_max_abs_diff: float | None
    metadata: dict[str, tuple[Any, Any]]

    @property
    def same_model(self) -> bool:
        """The same network, export outputs and background: the bundles score alike."""
        return self.weights and self.background and self.onnx_max_abs_diff in (None, 0.0)


def compare_bundles(a: Path, b: Path) -> BundleComparison:
    """Compare bundle folder ``a`` (e.g. the shipped one) with ``b`` (e.g. a rebuild)."""
    weights = weights_sha256(a / MODEL_FILE) == weights_sha256(b / MODEL_FILE)
    bg_a, bg_b = (np.load(p / BACKGROUND_FILE, allow_pickle=False) for p in (a, b))
    background = bg_a.shape == bg_b.shape and bg_a.tobytes() == bg_b.tobytes()
    diff = None
    if (a / ONNX_FILE).is_file() and (b / ONNX_FILE).is_file():
        from ids_desktop.core.model.runtime import OnnxRunner

        x = np.stack([bg_a, np.ones_like(bg_a)], axis=-1).astype(np.float32)
        out_a, out_b = OnnxRunner(a / ONNX_FILE)(x), OnnxRunner(b / ONNX_FILE)(x)
        diff = max(float(np.max(np.abs(u - v))) if u.size else 0.0 for u, v in zip(out_a, out_b))
    meta_a, meta_b = (json.loads((p / METADATA_FILE).read_text(encoding="utf-8")) for p in (a, b))
    return BundleComparison(weights, background, diff, metadata_differences(meta_a, meta_b))


def metadata_differences(a: Any, b: Any, path: str = "") -> dict[str, tuple[Any, Any]]:
    """Entries of two metadata trees that differ, beyond :data:`VOLATILE`, by path."""
    if _volatile(path):
        return {}
    if isinstance(a, dict) and isinstance(b, dict):
        out: dict[str, tuple[Any, Any]] = {}
        for key in list(a) + [k for k in b if k not in a]:
            sub = f"{path}/{key}" if path else str(key)
            if key not in a or key not in b:
                if not _volatile(sub):
                    out[sub] = (a.get(key, "<absent>"), b.get(key, "<absent>"))
                continue
            out.update(metadata_differences(a[key], b[key], sub))
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        out = {}
        for i, (u, v) in enumerate(zip(a, b)):
            out.update(metadata_differences(u, v, f"{path}[{i}]"))
        return out
    return {} if a == b else {path: (a, b)}


def _volatile(path: str) -> bool:
    parts = path.split("/")
    for pattern in VOLATILE:
        want = pattern.split("/")
        if len(want) == len(parts) and all(w in ("*", p) for w, p in zip(want, parts)):
            return True
    return False
