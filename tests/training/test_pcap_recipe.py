"""The capture bundle's recipe: folds (issue 5: leave-one-capture-out), weighting, the gate."""

from __future__ import annotations

from pathlib import Path

import pytest

from ids_desktop.training import capture_validation as cv
from ids_desktop.training import gate, oversampling, pcap
from ids_desktop.training.capture_sources import Sources

NAMES = [f"attack/a{i}.pcap" for i in range(5)] + [f"benign/b{i}.pcap" for i in range(7)]


def test_loco_holds_out_each_attack_capture_alone_and_every_capture_once() -> None:
    folds = cv.folds_of(NAMES, "loco", seed=3)
    assert len(folds) == 5
    held = [n for f in folds for n in f]
    assert sorted(held) == sorted(NAMES)  # every capture is held out by exactly one fold
    for f in folds:
        assert sum(n.startswith("attack/") for n in f) == 1
    # Benign captures are shared out evenly.
    sizes = sorted(len(f) - 1 for f in folds)
    assert sizes[-1] - sizes[0] <= 1


def test_loco_is_seeded() -> None:
    assert cv.folds_of(NAMES, "loco", seed=1) == cv.folds_of(NAMES, "loco", seed=1)


@pytest.mark.parametrize("k", [2, 4])
def test_random_folds_cover_every_capture_once(k: int) -> None:
    folds = cv.folds_of(NAMES, k, seed=0)
    assert len(folds) == k
    assert sorted(n for f in folds for n in f) == sorted(NAMES)


def _lab_part(tools: dict[str, int], benign: int = 5):
    import pandas as pd

    rows = [(t, 1) for t, n in tools.items() for _ in range(n)] + [("normal", 0)] * benign
    return pd.DataFrame({
        "src_ip": [f"10.0.0.{i % 3}" for i in range(len(rows))],
        "label_original": pd.array([t for t, _ in rows], dtype="string"),
        "label_binary": pd.array([b for _, b in rows], dtype="Int8"),
    })


def test_rare_lab_tools_are_repeated_as_hosts_of_their_own() -> None:
    # "axfr" is rare over both runs together (3 + 2 flows), "nmap" is not.
    parts = [("lab:r1/a", _lab_part({"axfr": 3, "nmap": 40})), ("lab:r2/a", _lab_part({"axfr": 2}))]
    extra = oversampling.rare_tool_copies(parts, 20)
    tools = {str(t) for _, f in extra for t in f["label_original"]}
    assert tools == {"axfr"}  # neither the frequent tool nor benign flows are copied
    assert sum(len(f) for _, f in extra) == 5 * 3  # ceil(20 / 5) = 4 in all: 3 extra copies
    hosts = [set(f["src_ip"]) for _, f in extra]
    originals = {ip for _, f in parts for ip in f["src_ip"]}
    assert all(h.isdisjoint(originals) for h in hosts)  # sequences never mix copy and original
    assert len({n for n, _ in extra}) == len(extra)
    assert oversampling.rare_tool_copies(parts, 0) == []
    # A tool of one flow gets at most MAX_COPIES in all.
    one = oversampling.rare_tool_copies([("lab:r/a", _lab_part({"x": 1}))], 10_000)
    assert sum(len(f) for _, f in one) == oversampling.Oversampling().max_copies - 1


def _capture(n: int = 3):
    import pandas as pd

    return pd.DataFrame({"src_ip": ["10.0.0.1"] * n,
                         "label_class": pd.array(["benign"] * n, dtype="string"),
                         "label_original": pd.array(["benign"] * n, dtype="string"),
                         "label_binary": pd.array([0] * n, dtype="Int8")})


def test_benign_apps_are_held_out_by_the_folds_and_reported_apart(monkeypatch) -> None:
    """The captures source scores each everyday-application capture with the one fold model
    that did not train on it, and keeps those flows out of the reported benign rate."""
    trained: list[set[str]] = []
    scored: list[set[str]] = []

    def fake_fit(frame, out_dir, **kw):
        trained.append(set(frame["capture"]))

    def fake_validate(bundle, parts, fams, **kw):
        scored.append({n for n, _ in parts})
        return [{"capture": n.split("/", 1)[1], "kind": n.split("/", 1)[0], "flows": len(f),
                 "flagged": 1 if n.startswith("benign-apps/") else 0, "top_family": "dos"}
                for n, f in parts if not n.startswith("attack/")]

    monkeypatch.setattr(pcap, "fit", fake_fit)
    monkeypatch.setattr(pcap, "validate", fake_validate)
    monkeypatch.setattr(pcap, "bundle_of", lambda result: None)
    lab = [("lab:r/a", _capture())]
    apps = [(f"benign-apps/app{i}.pcap", _capture()) for i in range(7)]
    attack = [(f"attack/a{i}.pcap", _capture()) for i in range(3)]
    benign = [("benign/b0.pcap", _capture(2))]
    res = pcap.run_source("lab+apps+captures", Sources(lab, apps, attack, benign), epochs=1, seed=0,
                          k_folds="loco", apps_folds=True, log=lambda msg: None)
    assert len(trained) == 3
    for app, _ in apps:
        held = [i for i, s in enumerate(scored) if app in s]
        assert len(held) == 1  # scored once, by one fold model ...
        assert app not in trained[held[0]]  # ... that did not train on it
        assert sum(app in t for t in trained) == 2  # and trained on by every other fold
    s = res["summary"]
    assert (s["apps_captures"], s["apps_flows"], s["apps_flagged"]) == (7, 21, 7)
    assert s["apps_top_families"] == {"dos": 7}
    assert (s["benign_flows"], s["benign_flagged"]) == (2, 0)  # the reported rate is unchanged


def test_without_apps_folds_every_fold_trains_on_every_app(monkeypatch) -> None:
    trained: list[set[str]] = []
    monkeypatch.setattr(pcap, "fit",
                        lambda frame, out_dir, **kw: trained.append(set(frame["capture"])))
    monkeypatch.setattr(pcap, "validate", lambda bundle, parts, fams, **kw: [])
    monkeypatch.setattr(pcap, "bundle_of", lambda result: None)
    apps = [(f"benign-apps/app{i}.pcap", _capture()) for i in range(4)]
    attack = [(f"attack/a{i}.pcap", _capture()) for i in range(3)]
    res = pcap.run_source("lab+apps+captures", Sources([("lab:r/a", _capture())], apps, attack, []),
                          epochs=1, seed=0, k_folds="loco", log=lambda msg: None)
    assert len(trained) == 3 and all({n for n, _ in apps} <= t for t in trained)
    assert "apps_flows" not in res["summary"]


def test_shipping_gate_runs_its_checks_cheapest_first_and_stops_at_a_miss(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Benign captures, then the demo capture, then explanation stability (the costly one)."""
    calls = []
    demo = {"office": 0.02, "attacker": 0.9}
    steady = {"demo.pcap": 0.85, "attacks-only.pcap": 0.81}
    monkeypatch.setattr(gate, "demo_flags", lambda b, d: calls.append("demo") or dict(demo))
    monkeypatch.setattr(gate, "explanation_stability",
                        lambda b, inputs, log: calls.append("explain") or dict(steady))
    the_demo = gate.DemoCapture(tmp_path / "demo.pcap", "203.0.113.66")
    (tmp_path / "metadata.json").write_text('{"seq_len": 8}')
    setting = gate.explanation_setting(tmp_path)
    assert set(setting) == {"neighbourhood", "num_samples"}

    def run_gate(rate: float):
        calls.clear()
        shipped = {"found": 13, "benign_flagged": round(rate * 127), "benign_flag_rate": rate}
        attempt, passed = gate.shipping_gate(shipped, tmp_path, tmp_path, the_demo,
                                             lambda msg: None)
        assert attempt["found"] == 13 and attempt["benign_flag_rate"] == rate
        return attempt, passed, list(calls)

    assert run_gate(0.03) == ({"found": 13, "benign_flagged": 4, "benign_flag_rate": 0.03,
                           "demo_flag_rate": demo, "explanation_stability": steady,
                           "explanation_setting": setting}, True,
                          ["demo", "explain"])
    attempt, passed, ran = run_gate(0.06)  # over the benign limit: nothing else measured
    assert not passed and ran == []
    assert attempt["demo_flag_rate"] == {} == attempt["explanation_stability"]
    demo["office"] = 0.11
    assert run_gate(0.03)[1:] == (False, ["demo"])
    demo.update(office=0.02, attacker=0.4)
    assert run_gate(0.03)[1:] == (False, ["demo"])
    demo["attacker"] = 0.9
    steady["attacks-only.pcap"] = 0.79
    assert run_gate(0.03)[1:] == (False, ["demo", "explain"])
    steady["attacks-only.pcap"] = None  # nothing flagged there
    assert run_gate(0.03)[1:] == (False, ["demo", "explain"])


def test_an_explanation_recheck_is_recorded_in_the_bundle_and_its_card(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """``scripts/train_pcap.py --recheck-explanations``: the gate's explanation check with the
    app's current setting, kept beside the shipping attempts; a miss is refused."""
    import json
    import shutil

    from ids_desktop.core.explain.service import default_neighbourhood, default_samples
    from ids_desktop.training.card import model_card

    repo = Path(__file__).resolve().parents[2]
    bundle = tmp_path / "pcap"
    bundle.mkdir()
    for name in ("metadata.json", "MODEL_CARD.md"):
        shutil.copy(repo / "models" / "pcap" / name, bundle / name)
    meta = json.loads((bundle / "metadata.json").read_text())
    meta.pop("explanation_check", None)
    (bundle / "metadata.json").write_text(json.dumps(meta))
    steady = {"demo.pcap": 0.87, "attacks-only.pcap": 0.91}
    seen = []
    monkeypatch.setattr(gate, "explanation_stability",
                        lambda b, inputs, log: seen.append(inputs) or dict(steady))
    check = gate.recheck_explanations(bundle, tmp_path / "lab", tmp_path / "demo.pcap",
                                      lambda msg: None)
    assert seen and seen[0][0] == tmp_path / "demo.pcap"
    seq_len = meta["seq_len"]
    assert check["passed"] and check["explanation_stability"] == steady
    assert (check["neighbourhood"], check["num_samples"]) == (
        default_neighbourhood(seq_len), default_samples(seq_len))
    gate.record_explanation_check(bundle, check)
    meta = json.loads((bundle / "metadata.json").read_text())
    assert meta["explanation_check"] == check
    card = (bundle / "MODEL_CARD.md").read_text()
    assert card == model_card(meta)
    assert (f"explanation check was rerun on the shipped bundle on {check['date']} with the "
            f"app's setting then, LIME's `{check['neighbourhood']}` neighbourhood and "
            f"{check['num_samples']:,} samples (`scripts/train_pcap.py --recheck-explanations`): "
            "top-5 features Jaccard 0.870 on `demo.pcap`, 0.910 on `attacks-only.pcap`; met."
            ) in card
    steady["attacks-only.pcap"] = 0.79
    assert not gate.recheck_explanations(bundle, tmp_path, tmp_path / "demo.pcap",
                                         lambda msg: None)["passed"]


def test_explanations_beyond_the_gate_are_measured_and_reported_not_gating(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The gate's measure on shared attack captures it does not read: only those present,
    ``None`` without any; kept in the metadata and stated in the card with how many meet the
    target, whatever the figures (it never refuses a bundle)."""
    import json
    import shutil

    from ids_desktop.training.card import model_card

    repo = Path(__file__).resolve().parents[2]
    bundle = tmp_path / "pcap"
    bundle.mkdir()
    shutil.copy(repo / "models" / "pcap" / "metadata.json", bundle / "metadata.json")
    data = tmp_path / "data"
    assert gate.explanations_beyond_gate(bundle, data, lambda msg: None) is None
    attack = data / "pcaps" / "attack"
    attack.mkdir(parents=True)
    for name in gate.BEYOND_GATE[:2]:
        (attack / name).write_bytes(b"")
    seen = []
    monkeypatch.setattr(gate, "explanation_stability",
                        lambda b, inputs, log: seen.append(inputs)
                        or {p.name: j for p, j in zip(inputs, (0.81, 0.52), strict=True)})
    beyond = gate.explanations_beyond_gate(bundle, data, lambda msg: None)
    assert seen == [[attack / n for n in gate.BEYOND_GATE[:2]]]
    assert beyond is not None and set(beyond) == {"date", "neighbourhood", "num_samples",
                                                  "explanation_stability"}
    check = {"date": beyond["date"], "neighbourhood": beyond["neighbourhood"],
             "num_samples": beyond["num_samples"], "passed": True,
             "explanation_stability": {"demo.pcap": 0.85, "attacks-only.pcap": 0.9}}
    gate.record_explanation_check(bundle, check, beyond)
    meta = json.loads((bundle / "metadata.json").read_text())
    assert meta["explanations_beyond_gate"] == beyond
    card = (bundle / "MODEL_CARD.md").read_text()
    assert card == model_card(meta)
    assert (f"top-5 features Jaccard 0.810 on `{gate.BEYOND_GATE[0]}`, 0.520 on "
            f"`{gate.BEYOND_GATE[1]}`. The target 0.8 is met on 1 of 2") in card
    meta.pop("explanations_beyond_gate")
    assert "gate does not read" not in model_card(meta)


def _swept(
    kind: str, flows: int, found_at: float | None = None, flagged: dict | None = None
) -> dict:
    """A validation row whose capture counts as found from ``found_at`` down."""
    sweep = {}
    for t in cv.SWEEP:
        entry = {"flagged": (flagged or {}).get(t, 0)}
        if kind == "attack":
            entry["found"] = found_at is not None and t <= found_at
        sweep[str(t)] = entry
    return {"kind": kind, "capture": f"{kind}-{flows}", "flows": flows, "threshold": 0.4,
            "sweep": sweep}


def test_operating_points_count_captures_found_and_flows_flagged_per_threshold() -> None:
    rows = [
        _swept("attack", 3, found_at=0.9),
        _swept("attack", 5, found_at=0.2),
        _swept("attack", 7),  # never found
        {"kind": "attack", "capture": "no-sweep", "flows": 1},  # an older row: left out
        _swept("benign", 100, flagged={0.05: 30, 0.1: 12, 0.2: 4}),
        _swept("benign", 50, flagged={0.05: 10}),
    ]
    points = {p["threshold"]: p for p in cv.operating_points(rows)}
    assert list(points) == list(cv.SWEEP)
    assert points[0.05]["found"] == 2 and points[0.5]["found"] == 1 and points[0.99]["found"] == 0
    assert all(p["attack_captures"] == 3 for p in points.values())
    assert points[0.05]["benign_flagged"] == 40 and points[0.05]["benign_flows"] == 150
    assert points[0.1]["benign_flag_rate"] == pytest.approx(12 / 150)
    assert "apps_flows" not in points[0.1]  # no held-out apps: no apps figure
    rows.append(_swept("benign-apps", 20, flagged={0.05: 5}))
    assert cv.operating_points(rows)[0]["apps_flag_rate"] == pytest.approx(0.25)


def test_both_everyday_folders_pool_as_apps_and_each_is_reported_apart() -> None:
    # The alert operating point reads the pooled everyday flows; the card and
    # bench/capture_seeds.py also report benign-apps (issue 32's target) and benign-more apart.
    rows = [_swept("benign-apps", 20, flagged={0.05: 5}),
            _swept("benign-more", 30, flagged={0.05: 3}),
            _swept("benign", 10, flagged={0.05: 1})]
    first = cv.operating_points(rows)[0]
    assert first["apps_flows"] == 50 and first["apps_flagged"] == 8
    assert first["benign-apps_flag_rate"] == pytest.approx(0.25)
    assert first["benign-more_flag_rate"] == pytest.approx(0.1)
    assert first["benign_flows"] == 10  # the reported benign captures stay apart
    for r in rows:
        r.update(flagged=r["sweep"]["0.05"]["flagged"], alerts=0, top_family="dos")
    summary = cv.summarise(rows)
    assert summary["apps_captures"] == 2 and summary["apps_flagged"] == 8
    assert summary["benign-more_flagged"] == 3 and summary["benign-apps_flows"] == 20
    one = cv.summarise(rows[:1])  # one everyday folder: no per-folder keys
    assert "benign-apps_flows" not in one and one["apps_flows"] == 20


def test_a_bundle_rebuilds_its_training_frame_from_the_everyday_folders_it_recorded(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from ids_desktop.training import capture_sources as cs

    read: list[tuple[str, ...]] = []
    monkeypatch.setattr(cs.FlowReader, "lab_training_parts", lambda self, *a: [])
    monkeypatch.setattr(cs.FlowReader, "everyday_parts",
                        lambda self, data, folders: read.append(folders) or [])
    monkeypatch.setattr(cs, "assemble", lambda parts, over: __import__("pandas").DataFrame(
        {"capture": []}))
    cs.load_training_flows({"training_source": "lab+apps"}, tmp_path, tmp_path)
    cs.load_training_flows({"training_source": "lab+apps",
                            "everyday_folders": ["benign-apps", "benign-more"]}, tmp_path, tmp_path)
    assert read == [("benign-apps",), ("benign-apps", "benign-more")]


def test_the_alert_operating_point_is_the_lowest_threshold_within_the_apps_budgets() -> None:
    from ids_desktop.training.pcap import alert_operating_point

    def point(t: float, alerts: float, flagged: float) -> dict[str, float]:
        return {"threshold": t, "apps_alert_rate": alerts, "apps_flag_rate": flagged}

    points = [point(0.9, 0.01, 0.03), point(0.2, 0.05, 0.09), point(0.5, 0.019, 0.06),
              point(0.7, 0.02, 0.05)]
    assert alert_operating_point(points) == 0.7  # 0.5 is within the alert budget only
    assert alert_operating_point([point(0.9, 0.03, 0.04)]) is None  # none within budget
    assert alert_operating_point([{"threshold": 0.5, "found": 3}]) is None  # apps not held out
    assert alert_operating_point(None) is None
    rows = [_swept("benign-apps", 20, flagged={0.05: 5})]
    rows[0]["sweep"]["0.05"]["alerts"] = 2
    first = cv.operating_points(rows)[0]
    assert first["apps_alerts"] == 2 and first["apps_alert_rate"] == pytest.approx(0.1)


def test_a_capture_is_found_only_when_its_attack_flows_carry_an_accepted_family() -> None:
    import numpy as np
    import pandas as pd

    flagged = np.array([True, True, True, False])
    pred = pd.array(["exploit", "scan", "exploit", "benign"], dtype="string")
    mask = np.array([True, True, True, True])
    hit, top, found = cv.found_family(flagged, pred, mask, {"scan"})
    assert hit.sum() == 3 and top == "exploit" and not found  # the most frequent family decides
    some = np.array([False, True, False, True])
    assert cv.found_family(flagged, pred, some, {"scan"})[1:] == ("scan", True)
    none_flagged = np.array([True, True, True, False])
    assert cv.found_family(~flagged, pred, none_flagged, {"scan"})[1:] == ("", False)
