"""Atomic file writes: a temporary file in the target's folder, then a rename."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any


@contextlib.contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success it replaces ``target``.

    On any exception (a failing writer, a cancel) the temporary file is removed and the
    existing ``target``, if any, is left untouched.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    # mkstemp creates 0600; a report should get the permissions any new file gets (umask).
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    try:
        yield tmp
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


@contextlib.contextmanager
def atomic_text(target: str | Path, *, newline: str | None = None) -> Iterator[IO[str]]:
    """Open a text file for writing that appears at ``target`` only if the block succeeds."""
    with atomic_path(target) as tmp, tmp.open("w", encoding="utf-8", newline=newline) as fh:
        yield fh


def json_default(value: Any) -> Any:
    """``json.dumps``'s ``default`` for what the app writes: numpy scalars and paths."""
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
