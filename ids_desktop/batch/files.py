"""The inputs of a batch: files, folders (searched recursively) and globs, as ``ingest`` sees them.

A file named on the command line is always an input: if it is not a capture or a supported
flow table its task fails with ``ingest``'s one-line reason, like ``analyze`` would. Inside a
folder (or a glob's matches), only what ``ingest`` would read is taken: packet captures by
their magic number, Parquet by its own, and text tables whose header or first line matches a
supported format (:func:`ids_desktop.core.ingest.tables.detect.detect_format`); notes,
READMEs and the batch's own output folder are left alone.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from ids_desktop.core.ingest import sniff_kind
from ids_desktop.errors import IdsError, InputError

#: Characters that make a command-line path a glob pattern.
GLOB_CHARS = frozenset("*?[")


def input_kind(path: Path) -> str | None:
    """``pcap``, ``pcapng``, ``parquet`` or the detected table format of ``path``, or
    ``None`` when ``ingest`` would not read it."""
    try:
        kind = sniff_kind(path)
    except IdsError:
        return None
    if kind != "table":
        return kind
    from ids_desktop.core.ingest.tables.arff import looks_like_arff
    from ids_desktop.core.ingest.tables.detect import detect_format
    from ids_desktop.core.ingest.tables.text import (
        TableSource,
        first_nonblank,
        sniff_sep,
        split_fields,
    )

    try:
        with TableSource(path) as source:
            first, _ = first_nonblank(source)
        if not first:
            return None
        if looks_like_arff(first):
            return "nsl-kdd-arff"
        return detect_format(split_fields(first, sniff_sep(first)), path).spec.name
    except (IdsError, OSError, ValueError, EOFError):
        return None


def expand_inputs(paths: Sequence[str | Path], *, exclude: Iterable[Path] = ()) -> list[Path]:
    """The input files that ``paths`` name, each once, in a stable order.

    Parameters
    ----------
    paths
        Files, folders (searched recursively; hidden entries skipped) and glob patterns
        (``**`` matches folders at any depth).
    exclude
        Folders whose content is never an input (the batch's output folder).

    Raises
    ------
    InputError
        When a path is neither a file, a folder nor a pattern matching anything, or when
        nothing at all was found.
    """
    skip = [Path(p).resolve() for p in exclude]
    found: list[Path] = []
    for raw in paths:
        text = str(raw)
        path = Path(text)
        if path.is_file():
            found.append(path)
        elif path.is_dir():
            found.extend(_scan(path, skip))
        elif GLOB_CHARS & set(text):
            matches = sorted(glob.glob(text, recursive=True))
            if not matches:
                raise InputError(f"{text}: the pattern matches no file")
            for m in matches:
                mp = Path(m)
                if mp.is_dir():
                    found.extend(_scan(mp, skip))
                elif mp.is_file() and not _inside(mp, skip) and input_kind(mp) is not None:
                    found.append(mp)
        else:
            raise InputError(f"{text}: no such file or folder")
    seen: set[Path] = set()
    unique = []
    for p in found:
        key = p.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(p)
    if not unique:
        raise InputError("no captures or flow tables found in "
                         + ", ".join(str(p) for p in paths))
    return unique


def _inside(path: Path, folders: Sequence[Path]) -> bool:
    resolved = path.resolve()
    return any(resolved.is_relative_to(f) for f in folders)


def _scan(folder: Path, skip: Sequence[Path]) -> list[Path]:
    """Captures and flow tables under ``folder``, sorted by path."""
    out = []
    for root, dirs, names in os.walk(folder):
        here = Path(root)
        dirs[:] = sorted(d for d in dirs
                         if not d.startswith(".") and not _inside(here / d, skip))
        for name in sorted(names):
            if name.startswith("."):
                continue
            p = here / name
            if p.is_file() and input_kind(p) is not None:
                out.append(p)
    return out
