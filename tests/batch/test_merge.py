"""Incidents across files: the one-file rule (same sources and family, 30 min apart at most)."""

from __future__ import annotations

from ids_desktop.batch.merge import join_incidents, part_ids


def _inc(id_: str, t0: float, t1: float, *, source: str = "203.0.113.66", family: str = "scan",
         severity: str = "low", flows: int = 10) -> dict:
    return {"id": id_, "family": family, "severity": severity, "sources": [source],
            "targets": ["10.0.0.1"], "ports": [22, 80], "target_count": 1, "port_count": 2,
            "first_seen": t0, "last_seen": t1, "flows": flows, "packets": 2 * flows,
            "bytes": 100 * flows, "flagged_by": ["port_scan"], "summary": f"part {id_}"}


def test_a_scan_cut_by_rotation_is_one_incident_listing_both_files() -> None:
    files = [{"path": "/c/b.pcap", "incidents": [_inc("INC-b", 1000.0, 1100.0)]},
             {"path": "/c/a.pcap", "incidents": [_inc("INC-a", 0.0, 900.0, severity="medium")]}]
    (joined,) = join_incidents(files)
    assert joined["files"] == ["/c/a.pcap", "/c/b.pcap"]  # in time order
    assert joined["flows"] == 20 and joined["packets"] == 40
    assert joined["first_seen"] == 0.0 and joined["last_seen"] == 1100.0
    assert joined["severity"] == "medium"
    assert joined["id"].startswith("INC-") and joined["id"] not in ("INC-a", "INC-b")
    assert "2 files" in joined["summary"]
    assert part_ids([joined]) == {("/c/a.pcap", "INC-a"): joined["id"],
                                  ("/c/b.pcap", "INC-b"): joined["id"]}


def test_gap_family_and_source_keep_incidents_apart() -> None:
    files = [
        {"path": "/c/a.pcap", "incidents": [_inc("INC-a", 0.0, 100.0)]},
        # 30 min and 1 s after the first one ended: the same attacker coming back
        {"path": "/c/b.pcap", "incidents": [_inc("INC-b", 1901.0, 2000.0)]},
        {"path": "/c/c.pcap", "incidents": [_inc("INC-c", 50.0, 60.0, family="brute_force",
                                                 severity="medium"),
                                            _inc("INC-d", 50.0, 60.0, source="198.51.100.7")]},
    ]
    joined = join_incidents(files)
    assert sorted(i["id"] for i in joined) == ["INC-a", "INC-b", "INC-c", "INC-d"]
    assert joined[0]["id"] == "INC-c"  # most severe first
    assert all(len(i["files"]) == 1 for i in joined)


def test_untimed_incidents_are_never_joined() -> None:
    files = [{"path": "/t/a.csv", "incidents": [_inc("INC-a", None, None)]},  # type: ignore[arg-type]
             {"path": "/t/b.csv", "incidents": [_inc("INC-b", None, None)]}]  # type: ignore[arg-type]
    assert len(join_incidents(files)) == 2


def test_incidents_the_file_kept_apart_stay_apart() -> None:
    files = [{"path": "/c/a.pcap", "incidents": [_inc("INC-a", 0.0, 10.0),
                                                  _inc("INC-b", 5.0, 20.0)]},
             {"path": "/c/b.pcap", "incidents": [_inc("INC-c", 30.0, 40.0)]}]
    joined = join_incidents(files)
    assert sorted(len(i["files"]) for i in joined) == [1, 2]
    assert all(len(set(i["files"])) == len(i["parts"]) for i in joined)
