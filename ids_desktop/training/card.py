"""Render a bundle's MODEL_CARD.md from its measured metadata (never hand-written numbers)."""

from __future__ import annotations

from typing import Any

from ids_desktop.core.model.runtime import TREE_NAMES
from ids_desktop.core.targets import STABILITY_TARGET
from ids_desktop.training.capture_sources import bundle_everyday_folders, seed_folders_apart


def _f(v: Any, digits: int = 4) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


#: Metric keys of the tree baselines -> the names the card gives them.
TREE_BASELINES = TREE_NAMES
#: Metric keys of the networks and the tree baselines -> the names the card's tables give them.
MODEL_LABELS = {"hybrid": "hybrid ConvLSTM-Seq2Seq", "seq2seq": "plain Seq2Seq (LSTM)",
                **TREE_BASELINES}


def better_tree(metrics: dict[str, Any]) -> tuple[str, dict[str, Any], bool] | None:
    """The stronger tree baseline on test attack F1 (``(key, metrics, hybrid ahead)``), where
    the hybrid is ahead when its F1 is at least the tree's at a FAR no worse; ``None`` without
    trees."""
    trees = [k for k in TREE_BASELINES if metrics.get(k)]
    if not trees:
        return None
    key = max(trees, key=lambda k: metrics[k]["binary"]["f1"])
    return key, metrics[key], ahead_of(metrics["hybrid"]["binary"], metrics[key]["binary"])


def ahead_of(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Issue 34's bar between two models' binary metrics: ``a``'s attack F1 at least ``b``'s,
    at a FAR no worse."""
    return bool(a["f1"] >= b["f1"] and a["far"] <= b["far"])


def results_table(meta: dict[str, Any]) -> list[str]:
    """Markdown rows comparing the hybrid with the baselines on the test split."""
    rows = [
        "| model | attack precision | attack recall | attack F1 | FAR | accuracy | macro-F1 "
        "(families) | ROC-AUC | flows/s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for key, label in MODEL_LABELS.items():
        m = meta["metrics"].get(key)
        if m:
            rows.append(_result_row(label, m, f"{m['flows_per_s']:,}"))
    refit = meta["metrics"].get("refit_check")
    if refit:
        rows.append(_result_row("hybrid trained again on train + validation (how the shipped "
                                "weights are made)", refit, "n/a"))
    blend = meta["metrics"].get("blend")
    if blend:
        rows.append(_result_row(f"{blend_label(blend)}: average of the hybrid and "
                                f"{TREE_BASELINES[blend['tree']]}", blend, "n/a"))
    blend_refit = meta["metrics"].get("blend_refit_check")
    if blend_refit:
        rows.append(_result_row("the same average, both trained again on train + validation "
                                "(how the shipped blend is made)", blend_refit, "n/a"))
    return rows


def blend_label(blend: dict[str, Any]) -> str:
    """``shipped (the app's verdicts)`` or ``not shipped`` for a run's blend metrics."""
    return "shipped (the app's verdicts)" if blend.get("shipped") else "not shipped"


def _result_row(label: str, m: dict[str, Any], speed: str) -> str:
    b = m["binary"]
    return (f"| {label} | {_f(b['precision'])} | {_f(b['recall'])} | {_f(b['f1'])} | "
            f"{_f(b['far'])} | {_f(b['accuracy'])} | {_f(m['macro_f1'])} | {_f(b['roc_auc'])} | "
            f"{speed} |")


#: (column, metrics key) of the models compared.
SEED_MODELS = (("hybrid", "hybrid"), ("RandomForest", "tree"), ("HistGB", "boosting"),
               ("hybrid+tree avg", "blend"), ("ceiling", "ceiling"))


def seed_row(meta: dict[str, Any]) -> dict[str, Any]:
    """The figures of one run's metadata."""
    m = meta["metrics"]
    row: dict[str, Any] = {"seed": meta["seed"], "test_flows": meta["rows"]["test"]}
    for _, key in SEED_MODELS:
        if key in m:
            row[f"{key}_f1"] = m[key]["binary"]["f1"]
            row[f"{key}_far"] = m[key]["binary"]["far"]
    row["hybrid_distinct_f1"] = m["hybrid"].get("distinct", {}).get("binary", {}).get("f1")
    bar = better_tree(m)
    if bar is not None:
        row["ahead"] = bar[2]
        if m.get("blend"):
            row["blend_ahead"] = ahead_of(m["blend"]["binary"], bar[1]["binary"])
            row["blend_shipped"] = bool(m["blend"].get("shipped"))
    return row


def seed_spread_table(rows: list[dict[str, Any]]) -> list[str]:
    """Markdown rows of a dataset's seeds (:func:`seed_row`), with mean and minimum rows."""
    cols = [(f"{label} F1", f"{key}_f1") for label, key in SEED_MODELS]
    cols += [(f"{label} FAR", f"{key}_far") for label, key in SEED_MODELS[:4]]
    cols += [("hybrid F1, each vector once", "hybrid_distinct_f1")]
    out = ["| seed | " + " | ".join(c for c, _ in cols) + " | hybrid ahead | hybrid+tree avg "
           "ahead (shipped?) |", "|---" * (len(cols) + 3) + "|"]

    def yes(v: Any) -> str:
        return "n/a" if v is None else "yes" if v else "no"

    for r in rows:  # rows recorded before the average could ship lack its columns: n/a
        shipped = "" if "blend_shipped" not in r else (
            " (shipped)" if r["blend_shipped"] else " (not shipped)")
        out.append(f"| {r['seed']} | " + " | ".join(_f(r.get(k)) for _, k in cols)
                   + f" | {yes(r.get('ahead'))} | {yes(r.get('blend_ahead'))}{shipped} |")
    for label in ("mean", "min"):
        cells = []
        for _, k in cols:
            vals = [r[k] for r in rows if r.get(k) is not None]
            if not vals:
                cells.append("n/a")
            elif label == "mean":
                cells.append(_f(float(sum(vals) / len(vals))))
            else:  # the worst seed: lowest F1, highest FAR
                cells.append(_f(max(vals) if k.endswith("_far") else min(vals)))
        ahead = sum(bool(r.get("ahead")) for r in rows)
        judged = [r for r in rows if "blend_ahead" in r]
        b_ahead = (f"{sum(bool(r['blend_ahead']) for r in judged)} of {len(judged)}"
                   if judged else "n/a")
        out.append(f"| {label} | " + " | ".join(cells)
                   + (f" | {ahead} of {len(rows)} | {b_ahead} |" if label == "mean" else " | | |"))
    return out


def distinct_table(meta: dict[str, Any]) -> list[str]:
    """Markdown rows of the test figures with each feature vector and label counted once."""
    rows = ["| model | attack precision | attack recall | attack F1 | FAR | test rows |",
            "|---|---|---|---|---|---|"]
    blend = meta["metrics"].get("blend") or {}
    labels = {**MODEL_LABELS, "blend": f"{blend_label(blend)}: hybrid + tree average"}
    for key, label in labels.items():
        m = meta["metrics"].get(key, {}).get("distinct")
        if not m:
            continue
        b = m["binary"]
        rows.append(f"| {label} | {_f(b['precision'])} | {_f(b['recall'])} | {_f(b['f1'])} | "
                    f"{_f(b['far'])} | {m['n']:,} |")
    return rows if len(rows) > 2 else []


#: Why a flow table has no real order (issue 34): the card says so for T = 1 bundles.
NO_ORDER = {
    "unsw-nb15": "the UNSW-NB15 training/testing partition has no per-flow times (`stime`, "
                 "`ltime`) and no addresses; only the raw UNSW-NB15 CSVs carry them",
    "cic-ids2017": "the MachineLearningCVE export has no `Timestamp` and no addresses, and the "
                   "cleaned export none either",
    "ton-iot": "the Train_Test_Network table carries `src_ip` but no `ts` column, and the "
               "sample's row order is not time order (PROVENANCE.md), so no host's flows can be "
               "put in the order they happened",
    "nsl-kdd": "KDD connection records carry no time and no host",
}


def target_lines(meta: dict[str, Any]) -> list[str]:
    """Plain statements of whether the issue's targets are met."""
    t = meta.get("targets", {})
    hyb = meta["metrics"]["hybrid"]["binary"]
    out = []
    if t.get("attack_f1") is not None:
        ok = hyb["f1"] >= t["attack_f1"]
        out.append(f"- Attack-class F1 target {t['attack_f1']}: **{'met' if ok else 'NOT met'}** "
                   f"(hybrid {_f(hyb['f1'])}).")
    if t.get("far") is not None:
        ok = hyb["far"] <= t["far"]
        out.append(f"- False-alarm-rate target <= {t['far']}: **{'met' if ok else 'NOT met'}** "
                   f"(hybrid {_f(hyb['far'])}).")
    s2s = meta["metrics"].get("seq2seq")
    if s2s:
        ok = hyb["f1"] > s2s["binary"]["f1"]
        out.append(f"- Beats the plain Seq2Seq on attack F1: **{'yes' if ok else 'NO'}** "
                   f"({_f(hyb['f1'])} vs {_f(s2s['binary']['f1'])}).")
    bar = better_tree(meta["metrics"])
    if bar is not None:
        # the stronger of the two ensembles on the test split is the bar, at its own FAR
        key, best, ok = bar
        name, b = TREE_BASELINES[key], best["binary"]
        out.append(f"- Ahead of the tree ensembles per flow (attack F1 at least the better "
                   f"one's, at a FAR no worse): **{'yes' if ok else 'NO'}** "
                   f"(hybrid {_f(hyb['f1'])} at FAR {_f(hyb['far'])}; {name} {_f(b['f1'])} at "
                   f"FAR {_f(b['far'])}).")
    blend = meta["metrics"].get("blend")
    if bar is not None and blend and blend.get("shipped"):
        key, best, _ = bar
        b, tb = blend["binary"], best["binary"]
        ok = ahead_of(b, tb)
        v = blend["validation"]
        out.append(f"- The shipped blend (the app's verdicts) ahead of the tree ensembles per "
                   f"flow: **{'yes' if ok else 'NO'}** (blend {_f(b['f1'])} at FAR "
                   f"{_f(b['far'])}; {TREE_BASELINES[key]} {_f(tb['f1'])} at FAR "
                   f"{_f(tb['far'])}). It shipped because on the validation split its attack "
                   f"F1 {_f(v['blend']['f1'])} at FAR {_f(v['blend']['far'])} was at least the "
                   f"hybrid's {_f(v['hybrid']['f1'])} and {TREE_BASELINES[blend['tree']]}'s "
                   f"{_f(v['tree']['f1'])}, at a FAR no higher than the tree's "
                   f"{_f(v['tree']['far'])}.")
        if t.get("attack_f1") is not None:
            out.append(f"- Attack-class F1 target {t['attack_f1']} for the shipped blend: "
                       f"**{'met' if b['f1'] >= t['attack_f1'] else 'NOT met'}** "
                       f"({_f(b['f1'])}).")
    lofo = [r for r in meta.get("lofo", []) if r.get("tree")]
    if lofo:
        def ahead(r: dict[str, Any]) -> bool:
            h, t = r["hybrid"], r["tree"]
            return ((h["detected_combined"] or 0) >= (t["detected"] or 0)
                    and (h["far_combined"] or 0) <= (t["far"] or 0))

        won = [r["family"] for r in lofo if ahead(r)]
        out.append(f"- Unseen families (leave one out), hybrid ahead of the RandomForest "
                   f"(detects at least as many at a FAR no worse): **{len(won)} of {len(lofo)}**"
                   + (f" ({', '.join(won)})" if won else "") + ".")
    return out


def ceiling_lines(meta: dict[str, Any]) -> list[str]:
    """The best attack F1 any model of these features reaches on the test flows."""
    c = meta["metrics"].get("ceiling")
    if not c:
        return []
    b = c["binary"]
    return [f"Ceiling: a feature vector gets one verdict, so where one vector carries benign and "
            f"attack labels ({c['mixed_flows']:,} test flows) the majority label by count is the "
            f"best answer; those answers score attack F1 {_f(b['f1'])} at FAR {_f(b['far'])}.",
            ""]


def _refit_lines(meta: dict[str, Any]) -> list[str]:
    r = meta.get("refit")
    if not r:
        return []
    return [f"- Shipped weights: trained again on all {r['rows']:,} labelled rows for "
            f"{r['epochs']} epochs (the epoch early stopping kept in the split run), with the "
            "thresholds the split run chose on its validation rows. The split run's figures "
            "below are of the network trained on the training rows alone; the same refit "
            "procedure on train + validation, scored on the untouched test split, is the row "
            "'trained again on train + validation'."]


def _runtime_lines(meta: dict[str, Any]) -> list[str]:
    check = meta.get("onnx_check")
    if not check:
        out = ["- Runtime: Keras (`model.keras`); no ONNX export in this bundle."]
    else:
        out = [
            f"- Runtime: the app scores `model.onnx` with onnxruntime (no TensorFlow at run "
            f"time). `model.keras` stays the source of truth; the export was checked on "
            f"{check['windows']:,} {check['inputs']} windows: max |P_onnx - P_keras| = "
            f"{check['max_abs_prob_diff']:.1e} (limit 1e-5)."
        ]
    blend = meta.get("blend")
    if blend:
        name = TREE_BASELINES.get(blend["tree"], blend["tree"])
        tc = blend.get("check", {})
        out.append(
            f"- **Shipped as a blend** (issue 34): the app's class probabilities are the plain "
            f"average of the hybrid ConvLSTM-Seq2Seq's and a {name}'s (`{blend['file']}`, "
            f"weight {blend['weight']:g} each), both trained again on every labelled row. The "
            f"hybrid stays in every verdict, and its own "
            f"figures are the 'hybrid ConvLSTM-Seq2Seq' rows below. The tree's ONNX export "
            f"(skl2onnx) was checked on {tc.get('rows', 0):,} {tc.get('inputs', '?')} rows: "
            f"max |P_onnx - P_sklearn| = {tc.get('max_abs_prob_diff', float('nan')):.1e} "
            f"(limit 1e-4)."
        )
    return out


def capture_validation_lines(meta: dict[str, Any]) -> list[str]:
    """The per-capture validation of a ``pcap`` bundle (``scripts/train_pcap.py``)."""
    v = meta.get("capture_validation")
    if not v:
        return []
    att = [r for r in v["rows"] if r["kind"] == "attack"]
    arp_checked = any("found_by_model" in r for r in att)  # rows from before the check: not said
    detected = any("found_by_detectors" in r for r in att)  # rows since the detectors (issue 33)
    lines = [
        "## Validation on real captures (issue 5)",
        "",
        "Measured by `scripts/train_pcap.py` on `../shared/data/pcaps/attack/*` and "
        "`pcaps/benign/*`, flows extracted by the app's own capture ingest, per-flow truth from "
        "`scripts/capture_truth.py` (attacker/victim addresses and a rule per capture, from "
        "inspecting each capture; see its docstring). A capture counts as *found* when at least "
        "one of its attack flows is flagged and the most frequent predicted family among them "
        "is one the truth table accepts; for a family absent from training the anomaly-only "
        "verdict `attack` also counts."
        + (" Flags are the app's: the model's, plus the host-level detectors' "
           "(`ids_desktop/core/detect/`: scans, guessing, floods, beacons, DNS, ARP, DHCP, "
           "Heartbleed, attack URIs), whose family stands on the flows they cover."
           if detected else
           " Flags are the app's: the model's, plus the capture ingest's ARP check "
           "(`ids_desktop/core/ingest/arp.py`), which flags as `mitm` the flows a host spoofing "
           "ARP may relay (its victims' flows from its first conflicting claim on)."
           if arp_checked else ""),
        "",
        "### Choosing the training source",
        "",
        "| source | attack captures found | flow-visible, undisputed found "
        "| benign flows flagged |",
        "|---|---|---|---|",
    ]
    for name, s in v["sources"].items():
        lines.append(
            f"| {name}{' (chosen)' if name == v['chosen'] else ''} "
            f"| {s['found']}/{s['attack_captures']} "
            f"({s['found_share']:.0%}) | {s['visible_found']}/{s['visible_captures']} "
            f"({s['visible_found_share']:.0%}) | {s['benign_flagged']:,}/{s['benign_flows']:,} "
            f"({s['benign_flag_rate']:.2%}) |"
        )
    lines += ["", f"Rule: {v['rule']}.", ""]
    chosen = v["sources"][v["chosen"]]
    point = next((p for p in v.get("operating_points") or []
                  if v.get("alert_threshold") is not None
                  and p["threshold"] == v["alert_threshold"]), None)
    if point is not None:  # the targets are judged where the shipped bundle flags (issue 32)
        chosen = {**chosen, "found": point["found"],
                  "found_share": point["found"] / max(point["attack_captures"], 1),
                  "found_by_model": point.get("found_by_model", chosen.get("found_by_model")),
                  "benign_flagged": point["benign_flagged"],
                  "benign_flag_rate": point["benign_flag_rate"]}
    arp_found = [r["capture"] for r in att if r["found"] and not r.get("found_by_model", True)]
    any_flag = sum(r["attack_flagged"] > 0 for r in att)
    risen = [r["capture"] for r in att if (r.get("anomaly_ratio") or 0) >= 1.5]
    ok_found = chosen["found_share"] >= 0.8
    ok_benign = chosen["benign_flag_rate"] <= 0.05
    arp_note = ""
    if detected:
        arp_note = (f" The model alone finds {chosen.get('found_by_model', chosen['found'])}/"
                    f"{chosen['attack_captures']}; the detectors alone "
                    f"{chosen.get('found_by_detectors', 0)}/{chosen['attack_captures']}.")
    elif arp_found:
        arp_note = (f" The model alone finds {chosen.get('found_by_model', chosen['found'])}/"
                    f"{chosen['attack_captures']}; the ARP check finds "
                    + ", ".join(f"`{c}`" for c in arp_found) + ".")
    risen_list = ", ".join(f"`{c}`" for c in risen) or "none"
    lines += [
        "### Targets (issue 5)",
        "",
        *([f"Judged at the shipped threshold {v['alert_threshold']:g} (the operating points "
           "below); the per-capture rows are at each fold model's own threshold.", ""]
          if point is not None else []),
        f"- At least 80 % of the attack captures found with a sensible family: "
        f"**{'met' if ok_found else 'NOT met'}** ({chosen['found']}/{chosen['attack_captures']}; "
        f"{chosen['visible_found']}/{chosen['visible_captures']} of the flow-visible, undisputed "
        f"ones). {any_flag}/{len(att)} have at least one attack flow flagged, whatever the family."
        + arp_note,
        "- Benign-capture flows flagged at no more than 5 %: "
        f"**{'met' if ok_benign else 'NOT met'}** ({chosen['benign_flag_rate']:.2%}).",
        "- Anomaly score (reconstruction error) on attack flows, median, relative to the median "
        f"over all benign-capture flows: >= 1.5x on {risen_list}. The only family never in "
        "training is `mitm` (arppoison, not flow-visible). The "
        "Merlin-over-QUIC capture is an attack no other training capture contains (the lab has "
        "no QUIC C2); the lab's only TLS exploit is a wire-level simulation of Heartbleed "
        "(`scripts/lab/heartbleed.py`).",
        "",
    ]
    if v.get("folds"):
        lines += [
            f"The chosen source trains on the reported captures, so every row below comes "
            f"from one of {len(v['folds'])} fold models that did not see that capture "
            + ("(leave-one-capture-out: each fold holds out one attack capture and a share of "
               "the benign captures, seeded)."
               if v.get("fold_rule") == "leave-one-capture-out" else
               "(captures split into folds at random, seeded)."),
            "",
        ]
    lines += [
        f"### Per capture ({v['chosen']})",
        "",
        "| capture | truth family | flows | attack flows | attack flows flagged | top predicted "
        "family | found | family in training | anomaly rise (median, x benign) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in v["rows"]:
        if r["kind"] != "attack":
            continue
        note = (" (disputed)" if r.get("disputed")
                else " (not flow-visible)" if not r.get("flow_visible", True) else "")
        ratio = r.get("anomaly_ratio")
        lines.append(
            f"| {r['capture']}{note} | {r['family']} | {r['flows']:,} | {r['attack_flows']:,} | "
            f"{r['attack_flagged']:,} | {r['top_family'] or '-'} | "
            f"{'yes' if r['found'] else 'no'} | {'no' if r['unseen_family'] else 'yes'} | "
            f"{'n/a' if ratio is None else f'{ratio:.1f}'} |"
        )
    lines += ["", "| benign capture | flows | flagged | top predicted family |",
              "|---|---|---|---|"]
    for r in v["rows"]:
        if r["kind"] == "benign":
            lines.append(f"| {r['capture']} | {r['flows']:,} | {r['flagged']:,} | "
                         f"{r['top_family'] or '-'} |")
    if chosen.get("apps_flows"):
        fams = ", ".join(f"{f} {n}" for f, n in (chosen.get("apps_top_families") or {}).items())
        folders = bundle_everyday_folders(meta)
        lines += [
            "",
            f"Everyday applications ({', '.join(f'`pcaps/{f}`' for f in folders)}), held out "
            f"by the same folds: "
            f"{chosen['apps_flagged']:,} of {chosen['apps_flows']:,} flows flagged "
            f"({chosen['apps_flag_rate']:.2%}), in {chosen['apps_captures_with_flags']} of "
            f"{chosen['apps_captures']} captures"
            + (f" (top family per capture: {fams})." if fams else "."),
        ]
        lines += [f"- `{f}`: {chosen[f + '_flagged']:,} of {chosen[f + '_flows']:,} flows "
                  f"flagged ({chosen[f + '_flag_rate']:.2%}), {chosen[f + '_alerts']:,} of them "
                  f"alerts ({chosen[f + '_alert_rate']:.2%})"
                  for f in folders if chosen.get(f + "_flows")]
    lines += _operating_points(v)
    lines += _seed_spread(meta.get("validation_seeds") or {})
    seen = meta.get("training_captures_seen") or []
    lines += [
        "",
        "### Captures the shipped bundle saw in training",
        "",
        ("- " + ", ".join(f"`{c}`" for c in seen)) if seen else
        "- None of the reported captures (attack/ and benign/); "
        + ", ".join(f"`pcaps/{f}/*`" for f in bundle_everyday_folders(meta))
        + " and the traffic lab's captures only." if "apps" in meta.get("training_source", "") else
        "- None of the shared captures; the traffic lab's captures only.",
        "",
    ]
    over = meta.get("training_oversampling")
    if over:
        lines += [
            "### How the training frame is weighted",
            "",
            f"- Each shared attack capture is repeated until it has at least "
            f"{over['min_attack_flows']} attack flows (at most {over['max_copies']} copies), each "
            f"benign capture {over['benign_copies']} times.",
            f"- Lab flows are capped at {over['lab_class_cap']:,} per attack family, shared out "
            "over the family's tools so that rare tools keep all their flows.",
        ]
        if over.get("min_tool_flows"):
            lines.append(
                f"- Lab attack tools with fewer than {over['min_tool_flows']} flows (over all lab "
                f"runs) are repeated up to that many (at most {over['max_copies']} copies), each "
                "copy a host of its own: a family's few zone transfers or POST check-ins "
                "otherwise weigh as little as a handful of its nmap or beacon flows.")
        lines.append("")
    shipped = meta.get("shipped_on_reported_captures")
    if shipped:
        lines += [
            f"The shipped bundle itself on the reported captures (in sample where it saw them): "
            f"{shipped['found']}/{shipped['attack_captures']} attack captures found, "
            f"{shipped['benign_flagged']}/{shipped['benign_flows']} benign-capture flows flagged "
            f"({shipped['benign_flag_rate']:.2%}).",
            "",
        ]
    attempts = meta.get("shipping_attempts") or []
    if attempts:
        lines += _shipping_gate(attempts, meta.get("shipping_gate", {}),
                                meta.get("explanation_check"))
        lines += _beyond_gate(meta.get("explanations_beyond_gate"),
                              meta.get("shipping_gate", {}).get("stability_target",
                                                                STABILITY_TARGET))
    return lines


def _pct(share: float) -> str:
    return f"{share * 100:g} %"


def _operating_points(v: dict[str, Any]) -> list[str]:
    """The validation's fixed-threshold sweep: what a threshold override trades."""
    points = v.get("operating_points")
    if not points:
        return []
    thresholds = sorted({r["threshold"] for r in v["rows"] if "threshold" in r})
    own = (f"{thresholds[0]:.2f}" if len(thresholds) == 1 else
           f"{thresholds[0]:.2f}-{thresholds[-1]:.2f}") if thresholds else "?"
    apps = any("apps_flows" in p for p in points)
    split = any("apps_alerts" in p for p in points)  # alerts apart from unusual (issue 32)
    chosen = v.get("alert_threshold")
    lines = [
        "",
        "### Operating points: the same models' scores at fixed thresholds",
        "",
        f"Each model above flags at the threshold it calibrated on its own validation split "
        f"(here {own}), never on these captures. The rows below re-read the same scores with "
        f"one fixed threshold on P(attack) for all of them (the anomaly threshold unchanged)"
        + (f". The shipped bundle flags at **{chosen:g}** (marked), {v['alert_threshold_rule']}: "
           "the rule reads benign flows only, and the captures found there are what it costs."
           if chosen is not None else
           ": what an override in Settings trades, not how the default was chosen."),
        "",
        "| threshold | attack captures found | "
        + ("by the model alone | " if split else "")
        + "benign-capture flows flagged |"
        + (" everyday-application alerts |" if split else "")
        + (" everyday-application flows flagged (alerts + unusual) |" if apps else ""),
        "|---|---|---|" + ("---|" if split else "") + ("---|" if split else "")
        + ("---|" if apps else ""),
    ]
    for p in points:
        mark = " (shipped)" if chosen is not None and p["threshold"] == chosen else ""
        row = (f"| {p['threshold']:g}{mark} | {p['found']}/{p['attack_captures']} | "
               + (f"{p.get('found_by_model', 0)}/{p['attack_captures']} | " if split else "")
               + f"{p.get('benign_flagged', 0):,}/{p.get('benign_flows', 0):,} "
               f"({p.get('benign_flag_rate', 0):.2%}) |")
        if split:
            row += (f" {p.get('apps_alerts', 0):,}/{p.get('apps_flows', 0):,} "
                    f"({p.get('apps_alert_rate', 0):.2%}) |")
        if apps:
            row += (f" {p.get('apps_flagged', 0):,}/{p.get('apps_flows', 0):,} "
                    f"({p.get('apps_flag_rate', 0):.2%}) |")
        lines.append(row)
    return lines


def _seed_spread(seeds: dict[str, dict[str, Any]]) -> list[str]:
    """The same validation over several training seeds (``bench/capture_seeds.py --record``):
    per seed and as mean and worst, at each seed's alert operating point."""
    if not seeds:
        return []

    def pct(x: float | None) -> str:
        return "-" if x is None else f"{x:.2%}"

    apart = seed_folders_apart(seeds.values())
    cols: tuple[tuple[str, str, Any], ...] = (
        ("model alone", "op_model", str), ("model + detectors", "op_both", str),
        ("everyday-application alerts", "op_apps_alerts", pct),
        ("alerts + unusual", "op_apps_flagged", pct),
        *((c, f"op_{f}_{k}", pct) for f in apart
          for c, k in ((f"{f} alerts", "alerts"), (f"{f} alerts + unusual", "flagged"))),
        ("benign-capture flows flagged", "op_benign_flagged", pct),
        ("alert threshold", "op", lambda x: f"{x:g}"))
    lines = ["", "### Over training seeds (the spread, not the best seed)", "",
             "The validation above repeated with other training seeds, each at its own alert "
             "operating point: attack captures found (of "
             f"{next(iter(seeds.values()))['captures']}) and flows flagged out of fold.", "",
             "| seed | " + " | ".join(c for c, _, _ in cols) + " |",
             "|---" * (len(cols) + 1) + "|"]
    for seed, r in seeds.items():
        lines.append(f"| {seed} | " + " | ".join(f(r[k]) if r.get(k) is not None else "-"
                                                  for _, k, f in cols) + " |")
    for label in ("mean", "worst"):
        cells = []
        for _, k, f in cols:
            vals = [r[k] for r in seeds.values() if r.get(k) is not None]
            if not vals or k == "op":
                cells.append("")
                continue
            worst = min(vals) if f is str else max(vals)
            v = sum(vals) / len(vals) if label == "mean" else worst
            cells.append(f"{v:.2f}".rstrip("0").rstrip(".") if f is str else pct(v))
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines


def _shipping_gate(attempts: list[dict[str, Any]], gate: dict[str, Any],
                   check: dict[str, Any] | None = None) -> list[str]:
    """The capture bundle's shipping gate (benign fit, demo capture, explanation stability),
    per seed; ``gate`` holds its bounds as the training run recorded them, ``check`` the
    explanation check rerun since (:func:`_explanation_check`)."""

    def checks(a: dict[str, Any]) -> str:
        """The later checks' figures, as far as the gate got (it stops at the first miss)."""
        demo, steady = a.get("demo_flag_rate") or {}, a.get("explanation_stability") or {}
        said = []
        if demo:
            said.append(f"demo capture's office flows {demo['office']:.1%} flagged, its "
                        f"attacker's {demo['attacker']:.1%}")
        if steady:
            said.append("explanations' top-5 features Jaccard " + jaccards(steady)
                        + setting(a.get("explanation_setting")))
        return ", ".join(said) or "not checked further"

    tried = "; ".join(f"seed {a['seed']}: {a['found']} attack captures found, "
                      f"{a['benign_flagged']} benign-capture flows flagged "
                      f"({a['benign_flag_rate']:.2%}), {checks(a)}" for a in attempts)
    demo_rule = (f"; it must flag at most {_pct(gate.get('demo_office_limit', 0.1))} of the "
                 "office flows of the demo capture that `make run` opens and at least "
                 f"{_pct(gate.get('demo_attacker_min', 0.5))} of its attacker's"
                 if any("demo_flag_rate" in a for a in attempts) else "")
    return [
        f"The shipped bundle must not flag more than {_pct(gate.get('benign_flag_limit', 0.05))} "
        f"of the flows of the benign captures it trained on{demo_rule}; and its LIME "
        "explanations must keep their top-5 features across 5 seeds (mean Jaccard index >= "
        f"{gate.get('stability_target', STABILITY_TARGET)} over "
        f"{gate.get('stability_flows', 50)} flagged flows, issue 6) on the demo capture and "
        "the lab's attack capture. A training run that "
        "misses any of these is repeated with the next seed (the per-capture table above "
        f"comes from the fold models and does not depend on it): {tried}. "
        f"Shipped: seed {attempts[-1]['seed']}.",
        "",
        *_explanation_check(check),
    ]


def jaccards(steady: dict[str, float | None]) -> str:
    return ", ".join(f"{'n/a' if j is None else f'{j:.3f}'} on `{name}`"
                     for name, j in steady.items())


def setting(how: dict[str, Any] | None) -> str:
    """`` (LIME's `paired` neighbourhood, 2,000 samples)``, or nothing when not recorded."""
    return (f" (LIME's `{how['neighbourhood']}` neighbourhood, {how['num_samples']:,} samples)"
            if how else "")


def _explanation_check(check: dict[str, Any] | None) -> list[str]:
    """The gate's explanation check rerun on the shipped bundle (``gate.recheck_explanations``)
    after the app's explanation setting changed."""
    if not check:
        return []
    return [
        f"The gate's explanation check was rerun on the shipped bundle on {check['date']} with "
        f"the app's setting then, LIME's `{check['neighbourhood']}` neighbourhood and "
        f"{check['num_samples']:,} samples (`scripts/train_pcap.py --recheck-explanations`): "
        f"top-5 features Jaccard {jaccards(check['explanation_stability'])}; "
        + ("met." if check["passed"] else "NOT met."),
        "",
    ]


def _beyond_gate(beyond: dict[str, Any] | None, target: float) -> list[str]:
    """The gate's explanation measure on shared attack captures it does not read
    (``gate.explanations_beyond_gate``): reported, not gating."""
    if not beyond:
        return []
    steady = beyond["explanation_stability"]
    met = sum(j is not None and j >= target for j in steady.values())
    return [
        "The same measure on shared attack captures the gate does not read (the bundle trained "
        f"on them; reported, not gating), on {beyond['date']}{setting(beyond)}: top-5 features "
        f"Jaccard {jaccards(steady)}. The target {target} is met on {met} of {len(steady)}: "
        "a seed chosen by its figures on the gate's two captures is not as steady everywhere.",
        "",
    ]


def _left_out_lines(meta: dict[str, Any]) -> list[str]:
    """For the capture bundle: the flow columns the capture ingest gives that it does not read."""
    if meta["feature_format"] != "pcap":
        return []
    from ids_desktop.core.model.preprocess import ECN_COLUMNS, PCAP_DROPS

    read = set(meta["features"])
    left = sorted(c for c in PCAP_DROPS if c not in read)
    if not left:
        return []
    ecn = set(ECN_COLUMNS) & set(left)
    return [
        f"- Flow columns it does not read (`PCAP_DROPS`): {', '.join(f'`{c}`' for c in left)}: "
        "meter bookkeeping, the network environment, nDPI's confidence in its guess and strings "
        "an attacker controls"
        + (", and the ECN flag counts (CWR, ECE), because whether two TCP stacks negotiate "
           "explicit congestion notification is a setting of their operating systems, not "
           "behaviour (`bench/ecn_flip.py`)" if ecn else "") + "."
    ]


def model_card(meta: dict[str, Any]) -> str:
    """The full model card text for ``meta`` (a bundle's metadata)."""
    rows = meta["rows"]
    members = meta.get("options", {}).get("members", 1)
    lines = [
        f"# Model card: `{meta['name']}`",
        "",
        "Generated by `ids_desktop.core.model.training` from the numbers measured in the "
        "training run; do not edit by hand (rerun "
        + ("`make train-pcap`" if meta["feature_format"] == "pcap" else "`make train`") + ").",
        "",
        "## What it is",
        "",
        f"- Serves the `{meta['feature_format']}` feature format; {len(meta['features'])} input "
        f"columns expanded to {meta['n_inputs']} model features (signed log1p + standardisation, "
        + ("plus a quantile-normal copy of each numeric column, " if meta.get("preprocessing", {})
           .get("quantile_levels") else "")
        + "one-hot top-K for categorical columns; all parameters in `metadata.json`).",
        f"- Hybrid ConvLSTM1D encoder-decoder (Seq2Seq sequence labelling) with a reconstruction "
        f"head; T = {meta['seq_len']} flows per sequence; "
        f"{meta['metrics']['hybrid'].get('params', 'n/a')} parameters"
        + (f" in {members} networks trained from different seeds, whose class probabilities "
           "and reconstructions are averaged" if members > 1 else "") + ".",
        f"- temporal_context: {str(meta['temporal_context']).lower()}."
        + ("" if meta["temporal_context"] else
           " The training table has no real order: "
           + NO_ORDER.get(meta["feature_format"], "it has no per-flow timestamps")
           + ". So every flow's sequence is the flow alone (T = 1); the convolution still runs "
           "across the feature axis."),
        f"- Classes: {', '.join(meta['classes'])}.",
        *_left_out_lines(meta),
        *_refit_lines(meta),
        *_runtime_lines(meta),
        (f"- Decision: flagged when the blend's P(attack) >= {_f(meta['threshold'])}, chosen "
         f"on the validation split. The hybrid's anomaly score is computed and shown with each "
         f"flow but flags nothing: the blend decides by its classifier alone (the hybrid alone "
         f"also flags at anomaly score >= {_f(meta.get('hybrid_anomaly_threshold'))})."
         if meta.get("blend") else
         f"- Decision: flagged when P(attack) >= {_f(meta['threshold'])} or the anomaly score >= "
         f"{_f(meta['anomaly_threshold'])}; "
         + ("both thresholds chosen on the validation split." if "calibrated_threshold" not in meta
           else f"the anomaly threshold chosen on the validation split; P(attack)'s raised from "
                f"the validation split's {_f(meta['calibrated_threshold'])} to the alert "
                f"operating point: "
                f"{meta.get('capture_validation', {}).get('alert_threshold_rule', '?')}. "
                f"The test-split figures below were measured at the validation split's "
                f"threshold, before that raise.")),
        "",
        "## Data and split",
        "",
    ]
    for d in meta.get("training_data", []):
        lines.append(f"- `{d['file']}` ({d.get('format', '')}): {d['rows']:,} rows, SHA-256 "
                     f"`{d['sha256']}`.")
    if rows.get("counted_as_they_occur"):
        kept = (f"- {rows['input']:,} labelled rows, every flow kept as it occurs: a feature "
                f"vector seen k times weighs k times in the loss, the thresholds and every "
                f"figure below ({rows['distinct']:,} distinct vectors and labels)"
                + (f"; proportional subsample to {rows['after_subsample']:,} rows"
                   if rows.get("subsampled") else "") + ".")
    else:
        kept = (f"- {rows['input']:,} labelled rows, {rows['after_dedup']:,} after removing "
                "exact duplicates" + (" (the same host at the same time with the same features "
                "and label)" if meta.get("temporal_context") else " (same features and label)")
                + (f", stratified subsample to {rows['after_subsample']:,} rows (every class "
                   "kept, at least 2,000 rows per class where available)"
                   if rows.get("subsampled") else "") + ".")
    lines += [
        kept,
        f"- Split 70/15/15 (train {rows['train']:,} / validation {rows['val']:,} / test "
        f"{rows['test']:,}), stratified by class and grouped by a hash of the feature vector, "
        f"so identical feature vectors never straddle splits ({rows['feature_groups']:,} "
        f"groups; {rows['conflicting_groups']:,} feature vectors carry more than one label, a "
        "floor on achievable error). The test split is used only for the numbers below.",
        f"- Seed {meta['seed']}; training took {meta['train_seconds']} s on this machine.",
        "- Class counts used: " + ", ".join(f"{k} {v:,}" for k, v in rows["class_counts"].items())
        + ".",
        "",
        "## Results on the test split, flow by flow",
        "",
        *results_table(meta),
        "",
        *ceiling_lines(meta),
        "flows/s: compiled forward pass (Keras models) or `predict_proba` (tree) over at least "
        "50,000 test flows, measured inside the training run (TensorFlow op determinism on, "
        "which slows some kernels; `bench/model.py` measures the app's speed), "
        "preprocessing excluded.",
        "",
        "### Targets (issues 3 and 34)",
        "",
        *target_lines(meta),
        "",
        f"Anomaly score alone (reconstruction error, trained on benign flows): ROC-AUC "
        f"{_f(meta['metrics']['hybrid'].get('anomaly_roc_auc'))} on the test split; "
        f"{meta['metrics']['hybrid'].get('flagged_by_anomaly_only', 0):,} test flows were flagged "
        "by it alone.",
        "",
        "### Hybrid, per family (test split)",
        "",
        "| family | precision | recall | F1 | support |",
        "|---|---|---|---|---|",
    ]
    for fam, v in meta["metrics"]["hybrid"]["per_class"].items():
        if fam in ("attack", "anomaly") and not v["support"]:
            continue  # the anomaly-only verdict: no test flow has it as truth (counted above)
        lines.append(f"| {fam} | {_f(v['precision'])} | {_f(v['recall'])} | {_f(v['f1'])} | "
                     f"{v['support']:,} |")
    tree = meta["metrics"].get("tree")
    if tree:
        lines += ["", "### Tree baseline (RandomForest), per family (test split)", "",
                  "| family | precision | recall | F1 | support |", "|---|---|---|---|---|"]
        for fam, v in tree["per_class"].items():
            lines.append(f"| {fam} | {_f(v['precision'])} | {_f(v['recall'])} | {_f(v['f1'])} | "
                         f"{v['support']:,} |")
    if meta.get("seed_spread"):
        lines += ["", "## Over training seeds, flow by flow", "",
                  "Each seed is a whole run of the recipe: its own split, networks, trees and "
                  "thresholds (`bench/dataset_seeds.py --record`). The mean and the worst seed, "
                  "never the best.", "", *seed_spread_table(meta["seed_spread"])]
    once = distinct_table(meta)
    if once:
        lines += ["", "## The same test split, each feature vector counted once", "",
                  "The figure earlier cards reported: every distinct feature vector and label "
                  "counts once, however often it occurs. Second to the flow-by-flow figures "
                  "above, which are what an analyst sees.", "", *once]
    sub = meta["metrics"].get("subsample_20pct", {})
    if sub:
        lines += ["", "## Sampling robustness: 20 % random subsample of the test split", ""]
        h = sub["hybrid"]
        lines.append(f"- Hybrid on {h['n']:,} flows: accuracy {_f(h['binary']['accuracy'])}, "
                     f"attack F1 {_f(h['binary']['f1'])}, FAR {_f(h['binary']['far'])}"
                     + ("" if meta["temporal_context"] else
                        " (T = 1, so no context is lost; this checks the estimate's stability)")
                     + ".")
        if "tree" in sub:
            t = sub["tree"]
            lines.append("- RandomForest on the same flows: "
                         f"accuracy {_f(t['binary']['accuracy'])}, "
                         f"attack F1 {_f(t['binary']['f1'])}.")
    if meta.get("lofo"):
        lines += [
            "", "## Generalisation: leave one attack family out", "",
            "Trained without the family (train and validation rows removed, thresholds from that "
            "validation split); share of that family's test flows flagged, and the false-alarm "
            "rate on benign test flows.", "",
            "| left out | test flows | hybrid: classifier | hybrid: anomaly score | hybrid: "
            "combined | hybrid FAR | RandomForest: detected | RandomForest FAR | ROC-AUC family "
            "vs benign: hybrid P(attack) / anomaly score / RandomForest |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for r in meta["lofo"]:
            h, t = r["hybrid"], r.get("tree", {})
            lines.append(
                f"| {r['family']} | {r['n_test_family']:,} | {_f(h['detected_by_classifier'])} | "
                f"{_f(h['detected_by_anomaly'])} | {_f(h['detected_combined'])} | "
                f"{_f(h['far_combined'])} | {_f(t.get('detected'))} | {_f(t.get('far'))} | "
                f"{_f(h.get('auc_classifier'), 3)} / {_f(h.get('auc_anomaly'), 3)} / "
                f"{_f(t.get('auc'), 3)} |"
            )
    lines += ["", *capture_validation_lines(meta)]
    lines += [
        "",
        "## Known limits",
        "",
        "- Trained on one public sample of the dataset; the test split comes from the same "
        "sample, so these numbers overstate performance on other networks.",
        "- IP addresses and absolute timestamps are never features. Ports are used only where "
        "the dataset's own feature set has them (CIC-IDS2017 `Destination Port`).",
        "- The anomaly score is a reconstruction error learned from benign training flows; it "
        "flags unusual traffic, not necessarily attacks.",
    ]
    if not meta["temporal_context"]:
        lines.append("- No temporal context: sequences need per-flow times and source hosts "
                     "(captures, CIC TrafficLabelling, raw UNSW-NB15, ToN-IoT's per-source "
                     "tables with `ts`).")
    lines.append("")
    return "\n".join(lines)
