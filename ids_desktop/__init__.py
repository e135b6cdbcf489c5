"""IDS Desktop: offline network intrusion detection workbench (version and name only; no Qt)."""

__all__ = ["APP_NAME", "__version__"]

APP_NAME = "IDS Desktop"
__version__ = "0.1.0"
