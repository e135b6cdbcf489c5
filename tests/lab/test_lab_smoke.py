"""The traffic lab's smoke scenario (scripts/lab): one server, one client, one scan, one brute
force.

Runs only where the lab can: root, network namespaces and the lab's Debian tools
(``scripts/lab/install-deps.sh``). Everywhere else it skips.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from scripts.lab.netns import MIN_LIMIT_S, LabError, bounded, check_target

REPO = Path(__file__).resolve().parents[2]
TOOLS = ["ip", "tcpdump", "nmap", "hydra", "nginx", "dnsmasq", "curl", "dig", "sshpass",
         "ssh", "setpriv"]
PREFIX = "idslab-"


def skip_unless_lab_can_run() -> None:
    """Skip the test when the lab cannot run here, or another lab run holds namespaces."""
    why = _lab_available()
    if why:
        pytest.skip(why)
    if lab_namespaces():
        pytest.skip("lab namespaces from another run exist (a lab is running or needs cleanup)")


def _lab_available() -> str | None:
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "the lab needs root"
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if not Path("/usr/sbin/sshd").exists():
        missing.append("sshd")
    if missing:
        return f"lab tools missing ({', '.join(missing)}); run scripts/lab/install-deps.sh"
    probe = f"{PREFIX}pytest-probe-{os.getpid()}"
    r = subprocess.run(["ip", "netns", "add", probe], capture_output=True)
    if r.returncode != 0:
        return "network namespaces are not available"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return None


def lab_namespaces() -> list[str]:
    """Names of the network namespaces a lab run made (``idslab-*``) that exist now."""
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return [ln.split()[0] for ln in out.splitlines() if ln.startswith(PREFIX)]


def _procs_mentioning(text: str) -> list[str]:
    hits = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit() or int(d.name) == os.getpid():
            continue
        try:
            cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmd:
            hits.append(f"{d.name}: {cmd[:120]}")
    return hits


def _digest(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.mark.slow
def test_lab_smoke_labels_both_classes_and_leaves_nothing(tmp_path: Path) -> None:
    skip_unless_lab_can_run()
    passwd_before = _digest("/etc/passwd")
    out = tmp_path / "lab-data"
    r = subprocess.run([sys.executable, "-m", "scripts.lab", "smoke", "--seed", "3",
                        "--out", str(out)], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    last = json.loads(r.stdout.strip().splitlines()[-1])
    assert sorted(last) == ["attack", "benign", "families", "flows"]
    assert last["flows"] == last["benign"] + last["attack"]
    assert last["benign"] > 0 and last["attack"] > 0
    assert {"scan", "brute_force"} <= set(last["families"])
    run = out / "smoke-seed3"
    assert (run / "pcaps" / "smoke.pcap").stat().st_size > 0
    import pandas as pd

    flows = pd.read_parquet(run / "flows" / "smoke.parquet")
    assert len(flows) == last["flows"]
    assert set(flows["label_binary"].astype(int)) == {0, 1}
    summary = json.loads((run / "summary.json").read_text())
    # Its duration (about 35 s here) is a benchmark figure, not a pass/fail: timed asserts
    # flake on a loaded machine. `make lab-smoke` prints it; the issue note records it.
    assert summary["total_seconds"] > 0
    # nothing left behind: namespaces, processes, the host's user database
    assert lab_namespaces() == []
    assert _procs_mentioning(str(run)) == []
    assert not list(Path("/etc/netns").glob(PREFIX + "*")) if Path("/etc/netns").exists() else True
    assert _digest("/etc/passwd") == passwd_before


def test_lab_refuses_targets_outside_its_network() -> None:
    assert check_target("10.213.0.5") == "10.213.0.5"
    for bad in ("8.8.8.8", "127.0.0.1", "10.0.0.1", "192.168.1.1", "::1", "example.org"):
        with pytest.raises(LabError):
            check_target(bad)


def test_every_lab_command_gets_a_real_time_limit() -> None:
    """Limits computed at a small ``--scale`` (hydra-ssh-slow's ``T - 70``) can be negative or
    round to ``timeout 0``, which means no limit: each one is raised to a second at least."""
    for limit in (-58.0, 0.0, 0.3, 0.49):
        assert bounded(limit) == MIN_LIMIT_S and f"{bounded(limit):.0f}" != "0"
    assert bounded(170.0) == 170.0


@pytest.mark.slow
def test_lab_ctrl_c_tears_everything_down(tmp_path: Path) -> None:
    skip_unless_lab_can_run()
    import signal
    import time

    out = tmp_path / "lab-data"
    p = subprocess.Popen([sys.executable, "-m", "scripts.lab", "smoke", "--seed", "4",
                          "--out", str(out)], cwd=REPO, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 30
    while time.time() < deadline and not any(n.endswith("-c0") for n in lab_namespaces()):
        time.sleep(0.2)
    time.sleep(6)  # traffic and attacks under way
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 130, err[-2000:]
    assert lab_namespaces() == []
    assert _procs_mentioning(str(out)) == []
