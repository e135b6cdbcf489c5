"""IDS Desktop: offline network intrusion detection workbench (version and name only; no Qt)."""

import os as _os

__all__ = ["APP_NAME", "__version__"]

APP_NAME = "IDS Desktop"
__version__ = "0.1.0"

# onnxruntime's Linux/macOS wheels (1.32 here) write a device id and a telemetry queue under
# ~/.cache/Microsoft/DeveloperTools/.onnxruntime as soon as they are imported. This variable,
# which its telemetry provider reads at import, stops both (tests/test_offline.py checks it).
# Set here, before anything of ours can import onnxruntime; ORT_DISABLE_TELEMETRY=0 opts back in.
_os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
