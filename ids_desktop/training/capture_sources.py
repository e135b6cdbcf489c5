"""The capture bundle's training sources and their flows, cached by file digest.

- ``lab``: flow-labelled captures of the traffic lab (``scripts/lab``; real attack tools
  against real servers in network namespaces), read from ``$IDS_LAB_DATA/<run>/flows``;
- ``apps``: the everyday captures of :data:`EVERYDAY_FOLDERS` under ``../shared/data/pcaps``
  (``benign-apps``: 177 captures of everyday applications; ``benign-more``: 253 more);
- ``captures``: the shared attack and benign captures, labelled per flow by
  :mod:`ids_desktop.training.truth`.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd

from ids_desktop.training import truth
from ids_desktop.training.locations import flow_cache_dir
from ids_desktop.training.oversampling import (
    Oversampling,
    Part,
    assemble,
    cap_lab,
    rare_tool_copies,
)

#: The training sources the capture recipe compares, cheapest first.
SOURCES = ("lab", "lab+apps", "lab+apps+captures")
#: Captures never trained on: no flow-visible attack, or ground truth in dispute.
NEVER_TRAIN = {"arppoison.pcapng", "dos_win98_smb_netbeui.pcap"}
#: The shared folders of everyday captures the ``apps`` source trains on (and, with
#: ``--apps-folds``, holds out by folds); a bundle records its own as ``everyday_folders``.
EVERYDAY_FOLDERS = ("benign-apps", "benign-more")
#: What a bundle that records no ``everyday_folders`` trained on (bundles before benign-more).
EVERYDAY_BEFORE = ("benign-apps",)


def bundle_everyday_folders(meta: dict[str, Any]) -> tuple[str, ...]:
    """The everyday folders a bundle trained on: its ``everyday_folders``, or
    :data:`EVERYDAY_BEFORE` for a bundle that records none."""
    return tuple(meta.get("everyday_folders") or EVERYDAY_BEFORE)


def seed_folders_apart(rows: Iterable[dict[str, Any]]) -> list[str]:
    """The everyday folders with figures of their own in per-seed validation rows
    (``op_<folder>_alerts`` and ``op_<folder>_flagged``, which ``bench/capture_seeds.py``
    writes when the folds held out more than one folder); the card and that bench read them."""
    rows = list(rows)
    return [f for f in EVERYDAY_FOLDERS if any(r.get(f"op_{f}_alerts") is not None for r in rows)]


class FlowReader:
    """Reads the sources' flows, caching captures' flows and noting each file's SHA-256.

    Parameters
    ----------
    cache
        The flow cache folder; ``None``: :func:`ids_desktop.training.locations.flow_cache_dir`
        (looked up, and created, on first use).

    Attributes
    ----------
    sha256
        Part name -> SHA-256 of its file, for the bundle's metadata (filled as files are read).
    """

    def __init__(self, cache: Path | None = None) -> None:
        self.cache = cache
        self.sha256: dict[str, str] = {}

    def capture_flows(self, path: Path) -> pd.DataFrame:
        """The app's canonical flows of a capture (cached by the file's SHA-256)."""
        full = hashlib.sha256(path.read_bytes()).hexdigest()
        self.sha256[f"{path.parent.name}/{path.name}"] = full
        digest = full[:20]
        cache = self.cache or flow_cache_dir()
        cached = cache / f"{digest}.parquet"
        if cached.is_file():
            return pd.read_parquet(cached)
        from ids_desktop.core.ingest import ingest

        frame = ingest(path).frame
        tmp = cached.with_suffix(".tmp")
        frame.to_parquet(tmp, index=False)
        os.replace(tmp, cached)
        return frame

    def lab_parts(self, lab: Path) -> list[Part]:
        """Every lab run's flow files as parts ``lab:<run>/<file>``."""
        parts = []
        for run in lab_runs(lab):
            for f in sorted((run / "flows").glob("*.parquet")):
                self.sha256[f"lab:{run.name}/{f.stem}"] = hashlib.sha256(f.read_bytes()).hexdigest()
                parts.append((f"lab:{run.name}/{f.stem}", pd.read_parquet(f)))
        return parts

    def shared_parts(self, data: Path, kind: str) -> list[Part]:
        """Labelled flows of the shared captures: ``kind`` is attack, benign or benign-apps."""
        folder = data / "pcaps" / kind
        out = []
        captures = (p for p in folder.iterdir() if p.suffix.lower() in truth.CAPTURE_SUFFIXES)
        for path in sorted(captures):
            if kind == "attack" and path.name not in truth.TRUTH:
                continue
            labelled = truth.apply_labels(self.capture_flows(path), path.name)
            out.append((f"{kind}/{path.name}", labelled))
        return out

    def everyday_parts(self, data: Path, folders: tuple[str, ...]) -> list[Part]:
        """The everyday captures of ``folders`` (each all benign), folder by folder."""
        return [p for kind in folders for p in self.shared_parts(data, kind)]

    def lab_training_parts(self, lab: Path, seed: int, over: Oversampling) -> list[Part]:
        """The lab's flows as training parts: capped per family, rare attacks repeated."""
        parts = cap_lab(self.lab_parts(lab), over.lab_class_cap, seed)
        return parts + rare_tool_copies(parts, over.min_tool_flows, over.max_copies)


class Sources(NamedTuple):
    """The parts of every training source (see the module docstring)."""

    lab: list[Part]
    apps: list[Part]
    attack: list[Part]
    benign: list[Part]


def lab_runs(lab: Path) -> list[Path]:
    """Lab run folders (each with ``flows/*.parquet``) under ``lab`` (or ``lab`` itself)."""
    if (lab / "flows").is_dir():
        return [lab]
    return sorted(p for p in lab.iterdir() if (p / "flows").is_dir()) if lab.is_dir() else []


def load_sources(lab: Path, data: Path, seed: int, over: Oversampling | None = None,
                 reader: FlowReader | None = None,
                 everyday: tuple[str, ...] = EVERYDAY_FOLDERS) -> Sources:  # fmt: skip
    """Read every source: the lab's training parts, everyday captures, attack and benign ones.

    ``over`` weighs the lab's parts (default: the shipped bundle's :class:`Oversampling`);
    ``reader`` collects the files' digests (default: a fresh one); ``everyday``: the folders
    of everyday captures (the ``apps`` source).
    """
    reader = reader or FlowReader()
    return Sources(reader.lab_training_parts(lab, seed, over or Oversampling()),
                   reader.everyday_parts(data, everyday), reader.shared_parts(data, "attack"),
                   reader.shared_parts(data, "benign"))


def source_parts(source: str, lab: list[Part], apps: list[Part],
                 reported: list[Part]) -> tuple[list[Part], list[str]]:  # fmt: skip
    """The training parts of ``source`` and the reported captures among them (by name)."""
    parts = lab + (apps if "apps" in source else [])
    seen: list[str] = []
    if "captures" in source:
        extra = [p for p in reported if p[0].split("/", 1)[1] not in NEVER_TRAIN]
        parts = parts + extra
        seen = [p[0] for p in extra]
    return parts, seen


def training_info(parts: list[Part], sha256: dict[str, str]) -> list[dict[str, Any]]:
    """The bundle's ``training_data`` entries: each part once, each everyday folder as one."""
    def folder(name: str) -> str:
        return name.split("/", 1)[0]

    info = [{"file": name, "sha256": sha256.get(name, ""), "rows": len(f), "format": "pcap"}
            for name, f in parts
            if folder(name) not in EVERYDAY_FOLDERS and "#" not in name]  # copies: listed once
    for kind in EVERYDAY_FOLDERS:
        mine = [f for name, f in parts if folder(name) == kind]
        if mine:
            info.append({"file": f"{kind}/* ({len(mine)} captures)",
                         "sha256": "(per file in PROVENANCE.md)",
                         "rows": sum(len(f) for f in mine), "format": "pcap"})
    return info


def load_training_flows(meta: dict[str, Any], lab: Path, data: Path) -> pd.DataFrame:
    """The shipped bundle's training frame, rebuilt from its recorded source (export checks).

    Raises
    ------
    RuntimeError
        When the shared captures differ from the ones the bundle recorded it trained on.
    """
    over = Oversampling.from_metadata(meta)
    reader = FlowReader()
    seed = int(meta.get("training_oversampling", {}).get("lab_sample_seed", meta.get("seed", 0)))
    lab_parts = reader.lab_training_parts(lab, seed, over)
    chosen = meta.get("training_source", "lab+apps")
    apps = reader.everyday_parts(data, bundle_everyday_folders(meta)) if "apps" in chosen else []
    reported = (reader.shared_parts(data, "attack") + reader.shared_parts(data, "benign")
                if "captures" in chosen else [])
    parts, seen = source_parts(chosen, lab_parts, apps, reported)
    if seen != list(meta.get("training_captures_seen", [])):
        raise RuntimeError("the shared captures differ from the ones the bundle was trained on")
    return assemble(parts, over).drop(columns=["capture"])  # same copies as the shipped training
