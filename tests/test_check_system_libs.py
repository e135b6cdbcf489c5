"""scripts/check_system_libs.py: what `make run` says when the Qt window's libraries are missing."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "check_system_libs.py"
spec = importlib.util.spec_from_file_location("check_system_libs", SCRIPT)
assert spec is not None and spec.loader is not None
check = importlib.util.module_from_spec(spec)
sys.modules["check_system_libs"] = check
spec.loader.exec_module(check)

LDD = """/x/libqxcb.so:
\tlibQt6XcbQpa.so.6 => /x/lib/libQt6XcbQpa.so.6 (0x00007f)
\tlibxcb-cursor.so.0 => not found
\tlibxkbcommon-x11.so.0 => not found
/x/libQt6Gui.so.6:
\tlibEGL.so.1 => not found
\tlibxcb-cursor.so.0 => not found
\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f)
"""


def test_missing_libraries_are_read_from_ldd_once_each() -> None:
    assert check.missing_from_ldd(LDD) == [
        "libxcb-cursor.so.0", "libxkbcommon-x11.so.0", "libEGL.so.1"]


def test_the_report_names_the_packages_to_install() -> None:
    text = check.report(check.missing_from_ldd(LDD))
    assert "sudo apt-get install libegl1 libxcb-cursor0 libxkbcommon-x11-0" in text
    assert "libxcb-cursor.so.0  (Debian/Ubuntu package libxcb-cursor0)" in text


def test_main_fails_and_names_them_when_something_is_missing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(check.sys, "platform", "linux")
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.setattr(check, "missing_libraries", lambda: ["libxcb-cursor.so.0"])
    assert check.main() == 1
    assert "libxcb-cursor0" in capsys.readouterr().err
    monkeypatch.setattr(check, "missing_libraries", lambda: [])
    assert check.main() == 0
    monkeypatch.setattr(check, "missing_libraries", lambda: ["libGL.so.1"])
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")  # the tests' platform needs none
    assert check.main() == 0


def test_every_library_the_installed_plugin_links_has_a_package() -> None:
    """The list follows the installed PySide6: each NEEDED system library is in PACKAGES."""
    import shutil
    import subprocess

    qt, ldd = check.qt_folder(), shutil.which("ldd")
    if qt is None or ldd is None or not sys.platform.startswith("linux"):
        pytest.skip("needs PySide6 and ldd on Linux")
    out = subprocess.run([ldd, str(qt / "plugins" / "platforms" / "libqxcb.so")],
                         capture_output=True, text=True, check=True).stdout
    system = [line.split()[0] for line in out.splitlines()
              if "=>" in line and "/PySide6/" not in line and "libQt6" not in line]
    base = {"libc.so.6", "libm.so.6", "libstdc++.so.6", "libgcc_s.so.1", "linux-vdso.so.1"}
    direct = [so for so in system if so.startswith(("libxcb", "libxkb", "libX", "libGL"))]
    assert direct and set(direct) - base <= set(check.PACKAGES), set(direct) - set(check.PACKAGES)
