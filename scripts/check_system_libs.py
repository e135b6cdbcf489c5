"""Name the system libraries the Qt window needs that this Linux machine lacks (``make run``).

PySide6's wheels bring Qt, not the X11/OpenGL/font libraries Qt's ``xcb`` platform plugin
links against; a bare Debian or Ubuntu lacks several of them, and the window then fails with
"Could not load the Qt platform plugin xcb" and no names. This asks the dynamic loader
(``ldd``) which libraries of the installed plugin and Qt's GUI libraries it cannot find, and
names the Debian/Ubuntu packages to install. Without ``ldd`` (or PySide6) it looks the usual
list up with ``ctypes.util.find_library``.

Exit status: 0 when nothing is missing (or not on Linux, or ``QT_QPA_PLATFORM`` is
``offscreen``/``minimal``, which need none of them), 1 when something is. ``make test`` does
not run it: the tests use the offscreen platform.

Usage: python scripts/check_system_libs.py
"""

from __future__ import annotations

import ctypes.util
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

#: Libraries the xcb platform plugin and Qt's GUI/DBus libraries load (PySide6 6.8-6.12,
#: read from their ELF NEEDED entries), with the Debian/Ubuntu package of each.
PACKAGES: dict[str, str] = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb.so.1": "libxcb1",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libX11.so.6": "libx11-6",
    "libGL.so.1": "libgl1",
    "libEGL.so.1": "libegl1",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libdbus-1.so.3": "libdbus-1-3",
    "libz.so.1": "zlib1g",
    # what those load in turn (installed with them; named in case one is broken)
    "libGLX.so.0": "libglx0",
    "libGLdispatch.so.0": "libglvnd0",
    "libXau.so.6": "libxau6",
    "libXdmcp.so.6": "libxdmcp6",
}
#: Qt files whose dependencies matter for the window, relative to PySide6's Qt folder.
QT_FILES = ("plugins/platforms/libqxcb.so", "lib/libQt6XcbQpa.so.6", "lib/libQt6Gui.so.6",
            "lib/libQt6DBus.so.6", "lib/libQt6Widgets.so.6")
_NOT_FOUND = re.compile(r"^\s*(\S+)\s+=>\s+not found", re.MULTILINE)


def missing_from_ldd(output: str) -> list[str]:
    """The sonames ``ldd`` printed as ``=> not found``, in order, once each."""
    return list(dict.fromkeys(_NOT_FOUND.findall(output)))


def qt_folder() -> Path | None:
    """PySide6's ``Qt`` folder, found without importing Qt (which could itself fail)."""
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "Qt"
    return folder if folder.is_dir() else None


def missing_libraries() -> list[str]:
    """Sonames the Qt window needs and the loader cannot find on this machine."""
    qt = qt_folder()
    ldd = shutil.which("ldd")
    if qt is not None and ldd is not None:
        files = [str(qt / f) for f in QT_FILES if (qt / f).is_file()]
        if files:
            proc = subprocess.run([ldd, *files], capture_output=True, text=True, timeout=60,
                                  check=False)
            return missing_from_ldd(proc.stdout)
    # no ldd or no PySide6: the usual list, through the loader's own search
    return [so for so in PACKAGES if ctypes.util.find_library(so.split(".so")[0][3:]) is None]


def report(missing: list[str]) -> str:
    """What to tell the user: the missing libraries and one install command."""
    lines = ["The Qt window needs system libraries this machine lacks:"]
    lines += [f"  {so}  (Debian/Ubuntu package {PACKAGES.get(so, '?')})" for so in missing]
    packages = sorted({PACKAGES[so] for so in missing if so in PACKAGES})
    if packages:
        lines.append(f"Install them with: sudo apt-get install {' '.join(packages)}")
    lines.append("(the command line, ids-desktop-cli, needs none of them)")
    return "\n".join(lines)


def main() -> int:
    if not sys.platform.startswith("linux"):
        return 0
    if os.environ.get("QT_QPA_PLATFORM", "").split(":")[0] in ("offscreen", "minimal"):
        return 0
    missing = missing_libraries()
    if missing:
        print(report(missing), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
