"""The traffic lab's peer-to-peer and call traffic (``scripts/lab/p2p.py``, issue 32): the plan's
wiring and the torrents it makes (no root needed) and, where the lab can run with the tools,
the ``p2p`` scenario for real."""

from __future__ import annotations

import ipaddress
import json
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from scripts.lab import cli as CLI
from scripts.lab import office as O
from scripts.lab import p2p as P
from scripts.lab import scenario as SC
from scripts.lab.netns import HOST_NET, LabError, is_link_scope
from tests.lab.test_lab_smoke import REPO, lab_namespaces, skip_unless_lab_can_run


def test_p2p_plan_is_benign_with_its_own_hosts() -> None:
    plan = SC.p2p_plan(random.Random(1))
    assert all(not m.attacks for m in plan.mixes) and plan.n_attackers == 0
    assert plan.servers["tracker"] == ["tracker", "turn"]
    assert {p for _, p, _ in plan.workers} == {"seeder"}
    assert {h for h, _, _ in plan.workers} == set(SC.P2P_SEEDERS) == set(plan.devices)
    ours = [ipaddress.ip_address(SC.FIXED_IPS["tracker"])]
    ours += [ipaddress.ip_address(v) for v in SC.P2P_SEEDERS.values()]
    taken = {ipaddress.ip_address(v) for k, v in SC.FIXED_IPS.items() if k != "tracker"}
    taken |= {ipaddress.ip_address(v) for v in SC.OFFICE_DEVICES.values() if v != "dhcp"}
    clients = {HOST_NET.network_address + 100 + i for i in range(80)}
    attackers = {HOST_NET.network_address + 180 + i for i in range(45)}
    low, high = (ipaddress.ip_address(a) for a in O.DHCP_POOL)
    assert len(set(ours)) == len(ours)
    for ip in ours:
        assert ip in HOST_NET and ip not in taken | clients | attackers and not low <= ip <= high


@pytest.mark.skipif(not (shutil.which("mktorrent") and shutil.which("aria2c")),
                    reason="mktorrent and aria2c not installed (scripts/lab/install-deps.sh)")
def test_torrents_announce_only_the_lab_tracker_and_are_whitelisted(tmp_path: Path) -> None:
    got = P.prepare({"work": tmp_path}, 3, "10.213.0.16")
    assert len(got["torrents"]) >= 4
    hashes = Path(got["whitelist"]).read_text().split()
    assert len(hashes) == len(set(hashes)) == len(got["torrents"])
    for t in got["torrents"]:
        raw = Path(t).read_bytes()
        assert raw.count(b"://") == 1 and b"://10.213.0.16:6969" in raw
    with pytest.raises(LabError):
        P.prepare({"work": tmp_path}, 3, "192.0.2.1")


@pytest.mark.slow
def test_lab_p2p_runs_swarms_and_calls_and_labels_them_benign(tmp_path: Path) -> None:
    skip_unless_lab_can_run()
    missing = [t for t in CLI.TOOLS_P2P if not shutil.which(t)]
    if missing:
        pytest.skip(f"p2p tools missing: {', '.join(missing)}; run scripts/lab/install-deps.sh")
    out = tmp_path / "lab-data"
    r = subprocess.run([sys.executable, "-m", "scripts.lab", "p2p", "--seed", "4", "--scale",
                        "0.3", "--out", str(out)], cwd=REPO, capture_output=True, text=True,
                       timeout=420)
    assert r.returncode == 0, r.stderr[-2000:]
    last = json.loads(r.stdout.strip().splitlines()[-1])
    assert last["attack"] == 0 and last["benign"] == last["flows"] > 50
    run = out / "p2p-seed4"
    summary = json.loads((run / "summary.json").read_text())
    assert summary["dropped"].get("non_lab_address", 0) == 0
    flows = pd.read_parquet(run / "flows" / "benign-p2p.parquet")
    apps = flows["application"].astype(str)
    torrent = flows[apps.str.contains("BitTorrent")]
    # peers fetched pieces from each other (not only tracker announces), and TURN relayed calls
    moved = torrent[torrent["dst_port"] != P.TRACKER_PORT]["bidirectional_bytes"].sum()
    assert moved > 1_000_000, torrent.groupby("application").size()
    calls = flows[flows["dst_port"] == P.TURN_PORT]
    assert calls["bidirectional_bytes"].max() > 100_000
    for col in ("src_ip", "dst_ip"):
        ok = flows[col].map(lambda ip: ipaddress.ip_address(ip) in HOST_NET or is_link_scope(ip))
        assert ok.all(), flows.loc[~ok, col].unique()
    assert lab_namespaces() == []
