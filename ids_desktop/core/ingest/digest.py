"""A file's SHA-256, computed while the ingest reads it: each byte hashed once, in order.

Reports and the explanation cache name a file by its SHA-256. Hashing it after ingest read
it cost a second pass over the file (about a second per GiB); here the reads the ingest makes
anyway feed the hash. Reads may go back (the capture walk re-reads a record header that
straddles two blocks) or skip ahead (a damaged capture's walk stops early): bytes already
hashed are not hashed again, and skipped bytes are read and hashed when the reader moves past
them or when the digest is asked for.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import BinaryIO

_GAP_CHUNK = 1 << 20


class _HashingRaw(io.RawIOBase):
    """An unbuffered file that hashes what is read from it (see the module docstring)."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._hash = hashlib.sha256()
        self._hashed = 0  # bytes [0, _hashed) are in the hash

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._raw.seek(offset, whence)

    def tell(self) -> int:
        return self._raw.tell()

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        pos = self._raw.tell()
        if pos > self._hashed:
            self._hash_gap(pos)
        n = self._raw.readinto(buffer)  # type: ignore[attr-defined]
        if n and pos + n > self._hashed:
            start = self._hashed - pos
            self._hash.update(memoryview(buffer)[start:n])
            self._hashed = pos + n
        return n or 0

    def _hash_gap(self, until: int | None) -> None:
        """Hash the bytes from ``_hashed`` to ``until`` (the end when ``None``), then return
        to where the reader was."""
        back = self._raw.tell()
        self._raw.seek(self._hashed)
        while until is None or self._hashed < until:
            want = _GAP_CHUNK if until is None else min(_GAP_CHUNK, until - self._hashed)
            block = self._raw.read(want)
            if not block:
                break
            self._hash.update(block)
            self._hashed += len(block)
        self._raw.seek(back)

    def hexdigest(self) -> str:
        """The whole file's SHA-256, reading and hashing what the reader skipped or left."""
        self._hash_gap(None)
        return self._hash.hexdigest()

    def close(self) -> None:
        self._raw.close()
        super().close()


def open_hashed(path: Path) -> io.BufferedReader:
    """Open ``path`` for reading; :func:`file_digest` of the result gives its SHA-256."""
    return io.BufferedReader(_HashingRaw(Path(path).open("rb", buffering=0)))


def file_digest(fh: io.BufferedReader) -> str:
    """The SHA-256 of the file behind ``fh`` (from :func:`open_hashed`), whatever was read."""
    raw = fh.raw
    if not isinstance(raw, _HashingRaw):
        raise TypeError("file_digest needs a file from open_hashed")
    return raw.hexdigest()


def sha256_file(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes, for files no reader goes through (bundles, Parquet)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_GAP_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()
