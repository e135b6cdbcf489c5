"""Errors a user can act on; the CLI maps them to exit code 2, the GUI to a message box."""

from __future__ import annotations


class IdsError(Exception):
    """Base class for every error that is the input's or the user's fault, not a bug."""


class InputError(IdsError):
    """The file is missing, empty, unreadable or not a supported kind of input."""


class SchemaError(IdsError):
    """A table's columns do not match any supported format, or not the one asked for."""


class ModelError(IdsError):
    """A model bundle is missing, tampered with or does not fit the input."""


class ReportError(IdsError):
    """A report could not be written."""


class CancelledError(IdsError):
    """The user cancelled a long-running task."""
