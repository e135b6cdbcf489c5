"""The shipped bundles' ONNX exports give the Keras model's probabilities (issue 9)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[3]
MODELS = REPO / "models"
BUNDLES = sorted(p.parent.name for p in MODELS.glob("*/model.onnx"))

pytestmark = pytest.mark.skipif(not BUNDLES, reason="no bundle with an ONNX export in models/")


@pytest.mark.slow
@pytest.mark.parametrize("name", BUNDLES)
def test_shipped_onnx_matches_keras_on_background(name: str) -> None:
    """Always runs: the bundle's own background sequences, with full and partial context."""
    from ids_desktop.core.model.bundle import load_bundle
    from ids_desktop.core.model.runtime import max_prob_diff

    onnx_b, keras_b = load_bundle(MODELS / name), load_bundle(MODELS / name, backend="keras")
    bg = np.load(MODELS / name / "background.npy", allow_pickle=False)
    x = np.stack([bg, np.ones_like(bg)], axis=-1).astype(np.float32)
    if x.shape[1] > 1:  # also the left-padded sequences of a host's first flows
        x_pad = x.copy()
        x_pad[: len(x) // 2, : x.shape[1] // 2] = 0.0
        x = np.concatenate([x, x_pad])
    assert max_prob_diff(onnx_b.runner, keras_b.runner, x) <= 1e-5
    meta = json.loads((MODELS / name / "metadata.json").read_text())
    assert meta["onnx_check"]["max_abs_prob_diff"] <= 1e-5


def test_analysis_never_imports_tensorflow(tmp_path: Path) -> None:
    """Scoring and explaining run on onnxruntime: TensorFlow stays out of the app process."""
    code = (
        "import sys\n"
        "from ids_desktop.core.model.bundle import load_bundle\n"
        f"b = load_bundle({str(MODELS / BUNDLES[0])!r})\n"
        "import numpy as np\n"
        "bg = np.load(b.path / 'background.npy')\n"
        "x = np.stack([bg, np.ones_like(bg)], -1).astype('float32')\n"
        "p = b.runner(x)[0]\n"
        "assert p.shape[0] == len(x)\n"
        "print('tensorflow' in sys.modules, 'keras' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "False"]


@pytest.mark.parametrize("name", BUNDLES)
def test_parallel_calls_give_the_serial_outputs_and_leave_no_thread(name: str) -> None:
    """The default runner splits a batch over calls run side by side: the outputs are those
    of one call after another, bit for bit and in order, and no pool thread outlives it."""
    import threading

    from ids_desktop.core.model import runtime

    path = MODELS / name / runtime.ONNX_FILE
    parallel, serial = runtime.OnnxRunner(path), runtime.OnnxRunner(path, threads=1)
    parallel.parallel = max(parallel.parallel, 2)  # on a one-core runner too
    shape = [d if isinstance(d, int) else 1 for d in parallel.input_shape]
    n = 3 * runtime.RUN_POSITIONS // shape[1] + 5  # several calls, the last one short
    x = np.random.default_rng(0).random([n, *shape[1:]]).astype(np.float32)
    got, want = parallel(x), serial(x)
    assert [g.shape for g in got] == [w.shape for w in want] and got[0].shape[0] == n
    assert all(np.array_equal(g, w) for g, w in zip(got, want, strict=True))
    assert not [t for t in threading.enumerate() if t.name.startswith("ids-onnx")]
