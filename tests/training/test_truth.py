"""Per-flow ground truth of the shared attack captures (ids_desktop.training.truth).

The table's rules and counts are checked on the real captures; those tests skip when
``../shared/data`` is absent. The rule mechanics are checked on a small hand-made frame.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ids_desktop.core import schema
from ids_desktop.training import truth as ct

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
ATTACK = SHARED / "pcaps" / "attack"
needs_shared = pytest.mark.skipif(not ATTACK.is_dir(), reason="../shared/data is absent")


def test_table_is_well_formed() -> None:
    assert len(ct.TRUTH) == 17
    for t in ct.TRUTH.values():
        assert t.family in schema.FAMILIES and t.family != schema.BENIGN, t.name
        assert t.family in t.accepted, t.name
        assert t.accepted <= set(schema.FAMILIES) - {schema.BENIGN}, t.name
        assert 0 <= t.attack_flows <= t.total_flows, t.name
        assert t.justification and t.rule, t.name
        assert (t.attack_flows == 0) == t.disputed, t.name
        if t.disputed:
            assert t.provenance_select is not None, t.name


def test_rules_on_a_hand_made_frame() -> None:
    frame = pd.DataFrame({
        "src_ip": pd.array(["192.168.1.71", "192.168.1.71", "192.168.1.9"], dtype="string"),
        "dst_ip": pd.array(["192.168.1.65", "192.168.1.1", "192.168.1.71"], dtype="string"),
        "src_port": pd.array([40000, 40001, 40002], dtype="Int64"),
        "dst_port": pd.array([80, 53, 22], dtype="Int64"),
        "protocol": pd.array([6, 17, 6], dtype="Int64"),
        "first_seen": [1.0, 2.0, 3.0],
        "last_seen": [1.5, 2.5, 3.5],
    })  # fmt: skip
    binary, cls = ct.label_flows(frame, "zeek_nmap-vsn.pcap")
    assert binary.dtype == np.int8
    assert binary.tolist() == [1, 0, 0]
    assert cls.tolist() == ["scan", "benign", "benign"]
    binary, cls = ct.label_flows(frame, "/any/folder/dns_axfr.pcapng")
    assert binary.tolist() == [1, 1, 1] and set(cls) == {"scan"}
    assert ct.label_flows(frame, "dos_win98_smb_netbeui.pcap")[0].tolist() == [0, 0, 0]
    assert ct.label_flows(frame, "dos_win98_smb_netbeui.pcap", trust_provenance=True)[
        0
    ].tolist() == [1, 1, 1]
    binary, cls = ct.label_benign(frame)
    assert binary.tolist() == [0, 0, 0] and set(cls) == {"benign"}
    with pytest.raises(KeyError):
        ct.label_flows(frame, "ssh.pcap")
    labelled = ct.apply_labels(frame, "ssh.pcap")
    assert labelled["label_binary"].tolist() == [0, 0, 0]


@pytest.fixture(scope="module")
def ingested() -> dict[str, pd.DataFrame]:
    from ids_desktop.core.ingest import ingest

    return {p.name: ingest(p).frame for p in ct.attack_captures(SHARED)}


@needs_shared
def test_every_capture_in_the_folder_is_covered() -> None:
    names = {p.name for p in ATTACK.iterdir()}
    assert names == set(ct.TRUTH)


@needs_shared
@pytest.mark.parametrize("name", sorted(ct.TRUTH))
def test_counts_match_the_table(name, ingested) -> None:
    t = ct.TRUTH[name]
    frame = ingested[name]
    binary, cls = ct.label_flows(frame, name)
    assert len(frame) == t.total_flows
    assert int(binary.sum()) == t.attack_flows
    if not t.disputed:
        assert t.attack_flows >= 1
    else:  # PROVENANCE.md's reading labels every flow
        provenance, _ = ct.label_flows(frame, name, trust_provenance=True)
        assert provenance.sum() == len(frame) >= 1
    assert set(cls[binary == 1]) <= {t.family}
    assert set(cls[binary == 0]) <= {"benign"}
    labelled = ct.apply_labels(frame, name)
    schema.validate_flows(labelled)
    # Every attack flow touches a listed attacker or victim address.
    ends = set(t.attackers) | set(t.victims)
    if ends and t.attack_flows:
        hits = frame["src_ip"].isin(ends) | frame["dst_ip"].isin(ends)
        assert hits[binary == 1].all()


@needs_shared
def test_benign_captures_are_listed_and_all_benign() -> None:
    from ids_desktop.core.ingest import ingest

    benign = ct.benign_captures(SHARED)
    assert len(benign) >= 15
    assert {p.parent.name for p in benign} == {"benign", "benign-apps"}
    assert not {p.name for p in benign} & set(ct.TRUTH)
    frame = ingest(benign[0]).frame
    binary, _ = ct.label_benign(frame)
    assert len(binary) == len(frame) and binary.sum() == 0


def test_markdown_table_and_the_command_line(capsys) -> None:
    from scripts import capture_truth

    df = ct.table(None)
    md = ct.markdown_table(df)
    assert md.count("\n") == len(ct.TRUTH) + 1
    assert "dos_win98_smb_netbeui.pcap (disputed)" in md
    assert "arppoison.pcapng (not flow-visible)" in md
    assert ct.mismatched_counts(df) == 0  # nothing measured
    assert capture_truth.main(["--no-ingest", "--markdown"]) == 0
    assert capsys.readouterr().out.strip() == md
