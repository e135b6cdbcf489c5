"""The committed constraints files agree with pyproject.toml's ranges.

`make` installs with ``constraints/<platform>-py<X.Y>.txt`` where one matches. A range changed
in pyproject.toml without a new lock would make pip refuse to install on a fresh machine;
this names the stale pin instead.
"""

from __future__ import annotations

import importlib.metadata as md
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
FILES = sorted((ROOT / "constraints").glob("*.txt"))


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, version = line.partition("==")
        assert sep and version, f"{path.name}: {line!r} is not name==version"
        pins[canonicalize_name(name)] = version
    return pins


def test_a_constraints_file_exists_for_ci() -> None:
    assert FILES, "constraints/ holds no file: a clean clone would install whatever is newest"


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_every_pin_satisfies_the_projects_ranges(path: Path) -> None:
    platform, _, py = path.stem.partition("-py")
    major, minor = (int(x) for x in py.split("."))
    env = {"sys_platform": platform, "python_version": f"{major}.{minor}",
           "platform_system": {"linux": "Linux", "darwin": "Darwin", "win32": "Windows"}.get(
               platform, platform)}
    pins = _pins(path)
    requires = md.requires("ids-desktop") or []
    checked = 0
    for text in requires:
        req = Requirement(text)
        extras = ("dev", "bundle", "lab", "")
        if req.marker is not None and not any(
                req.marker.evaluate({**env, "extra": e}) for e in extras):
            continue
        name = canonicalize_name(req.name)
        assert name in pins, f"{path.name} pins no version of {req.name} ({text})"
        assert req.specifier.contains(pins[name], prereleases=True), (
            f"{path.name}: {req.name}=={pins[name]} is outside pyproject.toml's {req.specifier};"
            " rerun `make lock`")
        checked += 1
    assert checked >= 20, f"only {checked} requirements checked: is ids-desktop installed?"


def test_the_file_for_this_interpreter_is_the_one_make_uses() -> None:
    tag = f"{sys.platform}-py{sys.version_info[0]}.{sys.version_info[1]}"
    makefile = (ROOT / "Makefile").read_text()
    assert "constraints/$(PYTAG).txt" in makefile
    if not (ROOT / "constraints" / f"{tag}.txt").exists():
        pytest.skip(f"no constraints file for {tag}: make installs pyproject.toml's ranges")
