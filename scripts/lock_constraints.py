"""Write the pip constraints file that `make` installs with on this platform and Python.

pyproject.toml gives ranges; a clean clone resolves them against whatever the package index
has that day. pandas 3.1.2 reached the index during one session and turned CI red on a clone
that had been green the hour before. With a constraints file `make` installs the versions
resolved here instead, so a rebuild installs what the last green run installed.

    python scripts/lock_constraints.py          # → constraints/<platform>-py<X.Y>.txt

It asks pip to resolve the app with every extra (dev, bundle, lab) as on an empty
environment (``pip install --dry-run --ignore-installed --report``), so the venv it runs in
does not leak into the file. Run it from the venv `make` created, then `CI=true .ci/run` on a
clean clone before committing the new file: the file claims those versions passed.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXTRAS = "dev,bundle,lab"


PYVER = f"{sys.version_info[0]}.{sys.version_info[1]}"


def constraints_path(root: Path = ROOT) -> Path:
    """``constraints/<sys.platform>-py<major>.<minor>.txt``, the name the Makefile looks for."""
    return root / "constraints" / f"{sys.platform}-py{PYVER}.txt"


def resolve(root: Path = ROOT, extras: str = EXTRAS) -> dict[str, str]:
    """Name → version of every distribution pip would install for the app and ``extras``."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--dry-run",
             "--ignore-installed", "--report", str(report), f"{root}[{extras}]"],
            check=True,
        )
        data = json.loads(report.read_text())
    own = "ids-desktop"
    pins = {}
    for item in data["install"]:
        meta = item["metadata"]
        if meta["name"].lower() != own:
            pins[meta["name"]] = meta["version"]
    return dict(sorted(pins.items(), key=lambda kv: kv[0].lower()))


def render(pins: dict[str, str]) -> str:
    head = [
        f"# pip constraints for {sys.platform}, Python {PYVER}: the versions `make` installs",
        "# here (Makefile, CONSTRAINTS). Written by scripts/lock_constraints.py; commit a new",
        "# one only after `CI=true .ci/run` passed with it.",
    ]
    return "\n".join(head + [f"{name}=={version}" for name, version in pins.items()]) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=None,
                    help="where to write (default: constraints/<platform>-py<X.Y>.txt)")
    args = ap.parse_args(argv)
    out = args.out or constraints_path()
    out.parent.mkdir(parents=True, exist_ok=True)
    pins = resolve()
    out.write_text(render(pins))
    print(f"{out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}: {len(pins)} pins")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
