"""The output folder of a batch: its layout, atomic writes and the resume check.

::

    OUT/
      flows/NAME-SHA12.parquet       every flow of one input with its verdicts and incident id
                                     (the app's own export: ``ingest`` reads it back)
      flows/NAME-SHA12.alerts.jsonl  that input's EVE alerts
      flows/NAME-SHA12.json          that input's manifest, written last: input path and
                                     SHA-256, model and model SHA-256, counts, incidents
      incidents.jsonl                the incidents of every input, joined across files
      alerts.jsonl                   every input's EVE alerts, with the joined incident's id
      summary.json                   counts, failures with their reasons, the scheduler

``NAME`` is the input's file name and ``SHA12`` the first 12 hex digits of its SHA-256, so
the same bytes give the same output wherever they are read from. Every file appears by an
atomic rename (:mod:`ids_desktop.core.atomic`): a cancelled or killed run leaves whole files
or none. A manifest is written after its Parquet and alerts, so it marks an input as done:
a rerun with the same ``OUT`` skips inputs whose manifest has the same input SHA-256 and the
same model (name asked for and SHA-256 of the bundle that would score it now).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ids_desktop.core.atomic import atomic_text, json_default

FLOWS = "flows"
INCIDENTS = "incidents.jsonl"
ALERTS = "alerts.jsonl"
SUMMARY = "summary.json"
#: Manifest format; a manifest of another version is not trusted for resume.
MANIFEST_VERSION = 1

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def output_stem(path: str | Path, sha256: str) -> str:
    """``NAME-SHA12``: the input's name (made safe for any file system) and its digest."""
    name = _UNSAFE.sub("_", Path(path).name).strip("._") or "input"
    return f"{name[:80]}-{sha256[:12]}"


def flows_path(out: Path, stem: str) -> Path:
    return out / FLOWS / f"{stem}.parquet"


def alerts_part(out: Path, stem: str) -> Path:
    return out / FLOWS / f"{stem}.alerts.jsonl"


def manifest_path(out: Path, stem: str) -> Path:
    return out / FLOWS / f"{stem}.json"


def write_json(target: Path, obj: Any) -> None:
    """Write ``obj`` as indented JSON, atomically."""
    with atomic_text(target, newline="\n") as fh:
        json.dump(obj, fh, indent=2, ensure_ascii=False, default=json_default)
        fh.write("\n")


def write_jsonl(target: Path, records: Iterable[Any]) -> int:
    """Write one JSON object a line, atomically; returns the lines written."""
    n = 0
    with atomic_text(target, newline="\n") as fh:
        for rec in records:
            fh.write(json.dumps(rec, ensure_ascii=False, default=json_default) + "\n")
            n += 1
    return n


def read_manifest(out: Path, stem: str) -> dict[str, Any] | None:
    """The manifest of ``stem`` when it and the files it names are all there, else ``None``."""
    path = manifest_path(out, stem)
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict) or manifest.get("version") != MANIFEST_VERSION:
        return None
    if not (flows_path(out, stem).is_file() and alerts_part(out, stem).is_file()):
        return None
    return manifest


def still_valid(manifest: dict[str, Any], sha256: str, model: str,
                current_model_sha256: str | None) -> bool:
    """True when ``manifest`` was written for these input bytes and this model."""
    return (manifest.get("sha256") == sha256 and manifest.get("model") == model
            and current_model_sha256 is not None
            and manifest.get("model_sha256") == current_model_sha256)
