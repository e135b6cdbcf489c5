"""Import TensorFlow/Keras without its native start-up chatter on stderr.

TensorFlow 2.21 writes oneDNN and absl notices straight to file descriptor 2 while it loads,
whatever ``TF_CPP_MIN_LOG_LEVEL`` says. The CLI promises one line on stderr for an error,
so the first import runs with fd 2 pointed at /dev/null (Python-level warnings still show).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from types import ModuleType
from typing import cast


@contextlib.contextmanager
def _fd2_silenced() -> Iterator[None]:
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def keras() -> ModuleType:
    """``import keras`` (and TensorFlow under it), quietly the first time."""
    if "keras" in sys.modules:
        return sys.modules["keras"]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with _fd2_silenced():
        import keras as module
    return cast(ModuleType, module)  # keras ships no types: mypy sees Any
