"""Incidents: one scan is one incident, two attackers are two, a spoofed flood is one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ids_desktop.core.incidents import GAP_S, group, incident_ids
from ids_desktop.core.model.bundle import default_models_dir
from ids_desktop.synth.attack_captures import (
    ATTACKER,
    T0,
    TARGET,
    Capture,
    write_port_scan,
    write_ssh_guessing,
    write_syn_flood,
)

needs_model = pytest.mark.skipif(
    not (default_models_dir() / "pcap" / "metadata.json").is_file(), reason="no pcap bundle")


def _analyse(path: Path):  # type: ignore[no-untyped-def]
    from ids_desktop.core.workflow import run_analysis

    return run_analysis(path)


def _by_family(analysis, family: str):  # type: ignore[no-untyped-def]
    return [i for i in analysis.incidents if i.family == family]


@needs_model
def test_one_port_scan_is_one_incident(tmp_path: Path) -> None:
    analysis = _analyse(write_port_scan(tmp_path / "scan.pcap", ports=40))
    (scan,) = _by_family(analysis, "scan")
    assert scan.sources == (ATTACKER,) and scan.targets == (TARGET,)
    assert scan.flows == 40 and scan.port_count == 40 and "port_scan" in scan.flagged_by
    assert scan.summary.startswith(f"{ATTACKER} probed 40 TCP ports on {TARGET}")
    flows = analysis.flows
    assert set(flows.loc[flows["src_ip"] == ATTACKER, "incident_id"]) == {scan.id}
    # the same file and model give the same id
    assert _analyse(tmp_path / "scan.pcap").incidents[0].id == analysis.incidents[0].id


@needs_model
def test_one_brute_force_is_one_incident(tmp_path: Path) -> None:
    analysis = _analyse(write_ssh_guessing(tmp_path / "ssh.pcap", attempts=40))
    (guessing,) = _by_family(analysis, "brute_force")
    assert guessing.sources == (ATTACKER,) and guessing.targets == (TARGET,)
    assert guessing.flows == 40 and guessing.ports == (22,) and guessing.severity == "medium"
    assert [i.family for i in analysis.incidents] == ["brute_force"]


@needs_model
def test_two_attackers_at_once_are_two_incidents(tmp_path: Path) -> None:
    cap = Capture(seed=9)
    second = "198.51.100.99"
    for k, port in enumerate(range(100, 140)):
        cap.syn(T0 + k * 2_000, ATTACKER, TARGET, 61000, port, answer="rst")
        cap.syn(T0 + k * 2_000 + 500, second, TARGET, 62000, port, answer="rst")
    analysis = _analyse(cap.write(tmp_path / "two.pcap"))
    scans = _by_family(analysis, "scan")
    assert sorted(i.sources for i in scans) == [(second,), (ATTACKER,)]
    assert all(i.flows == 40 and i.targets == (TARGET,) for i in scans)


@needs_model
def test_a_flood_from_spoofed_sources_is_one_incident(tmp_path: Path) -> None:
    analysis = _analyse(write_syn_flood(tmp_path / "flood.pcap", attempts=1200, sources=300))
    (flood,) = _by_family(analysis, "ddos")
    assert flood.targets == (TARGET,) and flood.flows == 1200 and len(flood.sources) == 5
    assert "from 300 sources" in flood.summary and "syn_flood" in flood.flagged_by
    assert len(analysis.incidents) == 1


def _flows(rows: list[tuple[str, str, str, float, bool]]) -> pd.DataFrame:
    src, dst, fam, t, flagged = zip(*rows, strict=True)
    return pd.DataFrame({
        "src_ip": list(src), "dst_ip": list(dst), "dst_port": [443] * len(rows),
        "protocol": [6] * len(rows), "first_seen": list(t), "last_seen": [x + 1 for x in t],
        "pred_class": list(fam), "flagged": list(flagged),
        "flagged_by": ["model" if f else None for f in flagged],
        "severity": ["medium" if f else None for f in flagged],
    })


def test_model_flows_of_one_source_and_family_split_at_the_gap() -> None:
    t0 = 1_700_000_000.0
    flows = _flows([
        ("10.0.0.5", "10.0.0.9", "web_attack", t0, True),
        ("10.0.0.5", "10.0.0.9", "web_attack", t0 + 60, True),
        ("10.0.0.5", "10.0.0.9", "benign", t0 + 70, False),
        ("10.0.0.5", "10.0.0.9", "web_attack", t0 + 60 + GAP_S + 1, True),  # came back later
        ("10.0.0.6", "10.0.0.9", "web_attack", t0 + 30, True),  # another source
        ("10.0.0.5", "10.0.0.9", "exploit", t0 + 40, True),  # another family
    ])
    incidents = group(flows, (), file_sha256="f" * 64, model_sha256="m" * 64)
    assert sorted((i.sources[0], i.family, i.flows) for i in incidents) == [
        ("10.0.0.5", "exploit", 1), ("10.0.0.5", "web_attack", 1), ("10.0.0.5", "web_attack", 2),
        ("10.0.0.6", "web_attack", 1)]
    ids = incident_ids(incidents, len(flows))
    assert ids[2] is pd.NA and ids[0] == ids[1] != ids[3]
    assert len({i.id for i in incidents}) == 4 and all(i.id.startswith("INC-") for i in incidents)
    assert group(flows.assign(flagged=np.zeros(len(flows), dtype=bool)), ()) == ()


def test_a_table_without_addresses_or_times_still_groups(recwarn) -> None:  # type: ignore[no-untyped-def]
    """NSL-KDD and some CSV exports name no hosts and no times: the incidents say so plainly
    instead of "nan h" and "?", and nothing warns."""
    flows = pd.DataFrame({
        "pred_class": ["anomaly", "anomaly", "DoS"], "flagged": [True, True, True],
        "severity": ["low", "low", "high"], "flagged_by": ["anomaly", "anomaly", "model"],
        "first_seen": [np.nan] * 3, "last_seen": [np.nan] * 3,
    })
    incidents = group(flows, [])
    assert [i.family for i in incidents] == ["DoS", "anomaly"]
    anomaly = incidents[1].to_json()
    assert anomaly["first_seen"] is None and anomaly["flows"] == 2
    assert str(anomaly["summary"]).startswith("A source the file does not name sent 2 flows")
    assert "nan" not in str(anomaly["summary"])
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]
