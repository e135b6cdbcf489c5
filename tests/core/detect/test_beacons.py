"""Beacons: regular check-ins with jitter are found; irregular or too few are not."""

from __future__ import annotations

from ids_desktop.core.detect.beacons import MAX_JITTER, MIN_CHECKINS
from ids_desktop.synth.attack_captures import C2, CLIENT, write_beacon
from tests.core.detect import only


def test_regular_tls_check_ins_with_jitter_are_a_beacon(detect) -> None:
    found = only(detect(write_beacon, checkins=MIN_CHECKINS, period_s=60, jitter=0.3), "beacon")
    assert found.family == "botnet"
    assert found.sources == (CLIENT,) and found.targets == (C2,) and found.ports == (443,)
    assert len(found.rows) == MIN_CHECKINS
    assert 48 <= found.extra["period_s"] <= 72 and found.extra["jitter"] <= MAX_JITTER
    assert found.summary.startswith(f"{CLIENT} checked in with {C2}:443 (TLS) {MIN_CHECKINS} times "
                                    "over ")
    assert ", every " in found.summary and "(median gap; typical deviation " in found.summary


def test_irregular_check_ins_are_no_beacon(detect) -> None:
    assert detect(write_beacon, checkins=MIN_CHECKINS + 10, period_s=60, regular=False) == ()


def test_one_check_in_fewer_is_no_beacon(detect) -> None:
    assert detect(write_beacon, checkins=MIN_CHECKINS - 1, period_s=60, jitter=0.3) == ()
