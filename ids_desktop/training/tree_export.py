"""A tree baseline exported to ONNX for a bundle that ships a blend (issue 34).

scikit-learn's own persistence is pickle, which runs code on load; the app loads no pickle.
skl2onnx writes the fitted ensemble as an ONNX ``TreeEnsembleClassifier`` that onnxruntime
(already the app's runtime) scores, and the bundle records the file's SHA-256 like the
network's export. Every export is checked against ``predict_proba`` before it is written.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ids_desktop.errors import ModelError

#: Largest tolerated |p_onnx - p_sklearn| on the check rows (float32 thresholds and sums).
MAX_ABS_DIFF = 1e-4


def _leaf_flags_as_ints() -> None:
    """Make skl2onnx 1.20 write HistGradientBoosting leaves that onnx >= 1.20 accepts.

    skl2onnx's tree walker (``skl2onnx.common.tree_ensemble``) passes Python ``False`` as a
    leaf's ``nodes_missing_value_tracks_true``, and newer onnx refuses booleans in an
    integer attribute ("Expected an int, got a boolean"), so every HistGradientBoosting
    conversion fails. The value is a 0/1 flag either way; this passes it as an int.
    Idempotent.
    """
    from skl2onnx.common import tree_ensemble

    if getattr(tree_ensemble.add_node, "_ids_desktop_int_flags", False):
        return
    original = tree_ensemble.add_node

    def add_node(*args: Any, **kwargs: Any) -> Any:
        flag = kwargs.get("nodes_missing_value_tracks_true")
        if flag is not None:
            kwargs["nodes_missing_value_tracks_true"] = int(flag)
        return original(*args, **kwargs)

    add_node._ids_desktop_int_flags = True  # type: ignore[attr-defined]
    tree_ensemble.add_node = add_node


def export_tree(estimator: Any, path: str | Path, check_x: np.ndarray) -> float:
    """Write ``estimator`` (a fitted scikit-learn tree ensemble) to ONNX at ``path``.

    Parameters
    ----------
    estimator
        A fitted ``RandomForestClassifier`` or ``HistGradientBoostingClassifier``.
    path
        The ``.onnx`` file (written to a temporary name, then renamed).
    check_x
        Scaled feature rows ``(n, F)`` on which the export must give ``predict_proba``'s
        probabilities within :data:`MAX_ABS_DIFF`.

    Returns
    -------
    float
        The largest absolute probability difference measured on ``check_x``.

    Raises
    ------
    ModelError
        When the conversion fails or the export differs by more than :data:`MAX_ABS_DIFF`.
    """
    from ids_desktop.core.model.runtime import TreeRunner, accept_export

    _leaf_flags_as_ints()
    from skl2onnx import to_onnx

    path = Path(path)
    x = np.ascontiguousarray(check_x, dtype=np.float32)
    if x.ndim != 2 or not len(x):
        raise ModelError("a tree export needs feature rows (n, F) to be checked on")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp.onnx")
    try:
        try:
            onx = to_onnx(estimator, x[:1], options={id(estimator): {"zipmap": False}},
                          target_opset={"": 17, "ai.onnx.ml": 3})
        except Exception as exc:  # noqa: BLE001 - skl2onnx raises many types
            raise ModelError(f"tree export failed ({exc})") from None
        tmp.write_bytes(onx.SerializeToString())
        n_cls = len(estimator.classes_)
        runner = TreeRunner(tmp, list(range(n_cls)), n_cls)
        diff = float(np.max(np.abs(runner(x) - estimator.predict_proba(x))))
        return accept_export(tmp, path, diff, MAX_ABS_DIFF, "scikit-learn")
    finally:
        tmp.unlink(missing_ok=True)
