"""The app makes no network connection: ``analyze`` and the GUI self-test pass with no network.

Two locks, both applied whenever they are available, so the test never silently skips:

- a ``sitecustomize`` on ``PYTHONPATH`` installs an audit hook (and patches
  ``socket.socket``/``socket.create_connection``) that refuses every IPv4/IPv6 socket and
  every name lookup in the Python process and its forked children, and records each attempt
  in a log file; the log must stay empty. A control run checks the lock really works.
- ``unshare -n`` (as root) or ``unshare -rn`` (unprivileged user namespace) runs the commands
  in a new network namespace with no interface up, which also stops native code (Qt,
  onnxruntime, nDPI) that would bypass Python's socket module.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ids_desktop.synth.demo_capture import write_demo
from ids_desktop.synth.tables import synthetic_table

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

SITECUSTOMIZE = textwrap.dedent(
    '''
    """Offline test lock: refuse and record any IPv4/IPv6 socket or name lookup."""
    import errno
    import os
    import socket
    import sys

    _LOG = os.environ["IDS_OFFLINE_LOG"]
    _INET = {int(socket.AF_INET), int(socket.AF_INET6), -1}
    _LOOKUPS = {"socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex",
                "socket.gethostbyaddr", "socket.getnameinfo"}


    def _refuse(what):
        with open(_LOG, "a", encoding="utf-8") as fh:
            fh.write(f"{os.getpid()} {sys.argv[:2]} {what}\\n")
        raise OSError(errno.EACCES, f"network access blocked by the offline test: {what}")


    def _hook(event, args):
        if event == "socket.__new__" and int(args[1]) in _INET:
            _refuse(f"socket(family={args[1]})")
        elif event in _LOOKUPS:
            _refuse(f"{event}{args!r}")
        elif event == "socket.connect":
            _refuse(f"connect{args[1:]!r}")


    sys.addaudithook(_hook)


    def _blocked_connection(address, *args, **kwargs):
        _refuse(f"create_connection({address!r})")


    socket.create_connection = _blocked_connection
    '''
)


def _namespace_prefix() -> list[str]:
    """``unshare -n`` or ``unshare -rn`` when one of them works here, else nothing."""
    for prefix in (["unshare", "-n"], ["unshare", "-rn"]):
        try:
            ok = subprocess.run([*prefix, "true"], capture_output=True, timeout=10).returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            ok = False
        if ok:
            return prefix
    return []


@pytest.fixture(scope="module")
def offline(tmp_path_factory):
    """(run, log): ``run(argv)`` runs a command under every available lock."""
    folder = tmp_path_factory.mktemp("offline")
    site = folder / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE)
    log = folder / "attempts.log"
    log.write_text("")
    prefix = _namespace_prefix()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])
        .rstrip(os.pathsep),
        "IDS_OFFLINE_LOG": str(log),
        "QT_QPA_PLATFORM": "offscreen",
        "XDG_CONFIG_HOME": str(folder / "config"),
        "XDG_DATA_HOME": str(folder / "data"),
        "XDG_CACHE_HOME": str(folder / "cache"),
        # a proxy that would be used if anything tried HTTP
        "http_proxy": "http://192.0.2.1:9", "https_proxy": "http://192.0.2.1:9",
    }

    def run(argv: list[str], timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*prefix, *argv], capture_output=True, text=True, timeout=timeout,
                              env=env, cwd=REPO)  # fmt: skip

    return run, log, prefix


def test_the_lock_is_in_place(offline) -> None:
    run, log, prefix = offline
    probe = ("import socket\ntry:\n socket.create_connection(('127.0.0.1', 9), timeout=2)\n"
             "except OSError as e:\n print('refused', e)\n")
    proc = run([sys.executable, "-c", probe], timeout=60)
    assert "refused" in proc.stdout, proc.stderr
    assert "create_connection" in log.read_text()
    raw = ("import socket\ntry:\n socket.socket().connect(('192.0.2.1', 9))\n"
           "except OSError as e:\n print('refused', e)\n")
    assert "refused" in run([sys.executable, "-c", raw], timeout=60).stdout
    log.write_text("")  # the real runs below must leave it empty


def test_analyze_and_selftest_run_offline(offline, tmp_path) -> None:
    run, log, prefix = offline
    capture = tmp_path / "demo.pcap"
    write_demo(capture, seed=7, minutes=1)
    table = tmp_path / "flows.csv"
    table.write_text(synthetic_table("cic-ids2017", 200, random.Random(5)))
    has_pcap = (REPO / "models" / "pcap" / "metadata.json").is_file()
    has_cic = (REPO / "models" / "cic-ids2017" / "metadata.json").is_file()

    proc = run([str(BIN / "ids-desktop-cli"), "analyze", str(capture), "--json"], timeout=120)
    if has_pcap:
        assert proc.returncode == 0, proc.stderr
    else:  # ingest ran offline; the model step has nothing to run yet
        assert proc.returncode == 2 and "serves the 'pcap' format" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr

    if has_cic:
        reports = tmp_path / "reports"
        proc = run([str(BIN / "ids-desktop-cli"), "analyze", str(table), "--json", "--report",
                    str(reports / "r.pdf"), "--csv", str(reports / "r.csv"), "--explain", "0"],
                   timeout=180)  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        assert (reports / "r.pdf").stat().st_size > 1000

    target = capture if has_pcap else (table if has_cic else None)
    if target is not None:
        shot = tmp_path / "shot.png"
        proc = run([sys.executable, "-m", "ids_desktop.app", "--selftest", str(target),
                    "--screenshot", str(shot)])
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    attempts = log.read_text()
    assert attempts == "", f"network access attempted:\n{attempts}"
    if not prefix:
        print("no network namespace available: checked with the Python-level lock only")


def test_onnxruntime_leaves_no_device_id_in_the_home_folder(tmp_path) -> None:
    """onnxruntime writes ~/.cache/Microsoft/DeveloperTools/.onnxruntime/{deviceid,
    onnxruntime.db} at import; the app turns that off (ids_desktop/__init__.py)."""
    pytest.importorskip("onnxruntime")
    env = {k: v for k, v in os.environ.items()
           if k not in ("XDG_CACHE_HOME", "ORT_DISABLE_TELEMETRY")}

    def home_after(code: str, name: str) -> list[str]:
        home = tmp_path / name
        home.mkdir()
        subprocess.run([sys.executable, "-c", code], env={**env, "HOME": str(home)},
                       check=True, timeout=120, cwd=REPO)
        return sorted(str(p.relative_to(home)) for p in home.rglob("*") if p.is_file())

    bare = home_after("import onnxruntime", "bare")
    if not bare:
        pytest.skip("this onnxruntime writes nothing at import")
    assert any("deviceid" in p for p in bare)  # the control: the file appears without the app
    model = REPO / "models" / "pcap" / "model.onnx"
    score = (f"import onnxruntime as ort; ort.InferenceSession({str(model)!r}, "
             "providers=['CPUExecutionProvider'])" if model.is_file() else "")
    app = home_after(f"import ids_desktop.core.model.runtime\nimport onnxruntime\n{score}", "app")
    assert app == []
