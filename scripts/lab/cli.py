"""Command line: ``python -m scripts.lab {smoke,probe,office,full,cleanup} [--seed N] [--out DIR]``.

Run from the repository root. ``probe`` runs each of the newer attack kinds once (TLS beacon,
POST check-ins, zone transfer, simulated Heartbleed, manual SQL injection) with their servers
and one benign user. ``office`` runs the office and server-room services (mail, directory,
databases, file shares, infrastructure, OT/IoT, VoIP, VNC) once, without attacks.

The last line on stdout of ``smoke``, ``probe`` and ``full`` is one JSON object:
``{"flows": N, "benign": N, "attack": N, "families": [...]}``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from . import scenario as SC
from .netns import Lab, LabError, active_runs, cleanup_all, lab_namespaces, preflight

TOOLS_SMOKE = ["tcpdump", "ethtool", "nmap", "hydra", "nginx", "/usr/sbin/sshd", "dnsmasq", "curl",
               "dig", "sshpass", "ssh", "setpriv", "/usr/bin/python3"]
TOOLS_PROBE = TOOLS_SMOKE + ["host", "openssl"]
TOOLS_FULL = TOOLS_PROBE + ["hping3", "medusa", "sqlmap", "slowhttptest", "iodine", "iodined",
                            "vsftpd", "lftp", "wget", "nc", "ping", "scp", "sftp"]
#: The office and server-room services (issue 32): servers and the clients that use them.
TOOLS_OFFICE = ["swaks", "dovecot", "slapd", "slapadd", "ldapsearch", "krb5kdc", "kdb5_util",
                "kadmin.local", "kinit", "kvno", "chronyd", "ntpdig", "snmpd", "snmpget",
                "snmpbulkwalk", "mariadbd", "mariadb-install-db", "mariadb", "psql", "pg_dump",
                "redis-server", "redis-cli", "smbd", "smbclient", "smbpasswd", "rsync",
                "rsyslogd", "logger", "mosquitto", "mosquitto_pub", "mosquitto_sub", "dhclient",
                "avahi-daemon", "sipp", "Xvnc", "lftp", "wget", "nc", "sshpass"]
#: Peer-to-peer file sharing and relayed calls (``p2p.py``).
TOOLS_P2P = ["opentracker", "mktorrent", "aria2c", "transmission-cli", "turnserver",
             "turnutils_uclient", "turnutils_peer", "turnutils_stunclient"]


def default_out() -> Path:
    """$IDS_LAB_DATA, else ``lab-data`` beside the repository (never inside it)."""
    env = os.environ.get("IDS_LAB_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[3] / "lab-data"


def _log(msg: str) -> None:
    print(f"[lab {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def _python_packages() -> None:
    """The ``lab`` extra's packages (labsvc.py's servers and clients) in this interpreter."""
    import importlib.util

    missing = [m for m in ("aiosmtpd", "websockets", "pymodbus", "vncdotool")
               if importlib.util.find_spec(m) is None]
    if missing:
        raise LabError(f"python packages missing: {', '.join(missing)}; "
                       "pip install the 'lab' extra (pyproject.toml) into this interpreter")


def extract(pcap: Path):
    """Flows of a capture as the app's canonical table (the app's own ingest path)."""
    from ids_desktop.core.ingest import ingest

    return ingest(pcap).frame


def run(args) -> dict:
    preflight({"smoke": TOOLS_SMOKE, "probe": TOOLS_PROBE,
               "office": TOOLS_SMOKE + TOOLS_OFFICE,
               "p2p": TOOLS_SMOKE + TOOLS_P2P}.get(args.scenario, TOOLS_FULL + TOOLS_OFFICE))
    if args.scenario in ("office", "full"):
        _python_packages()
    repo = Path(__file__).resolve().parents[2]
    out_root = Path(args.out).resolve()
    if out_root == repo or repo in out_root.parents:
        raise LabError(f"refusing to write generated data inside the repository: {out_root}")
    busy = active_runs()
    if busy:
        raise LabError(f"another lab run is active (pid {', '.join(map(str, sorted(busy)))}); "
                       "wait for it or stop it first")
    stale = lab_namespaces()
    if stale:
        _log(f"removing {len(stale)} leftover lab namespace(s) from an earlier run")
        cleanup_all(verbose=False)
    rng = random.Random(args.seed)
    if args.scenario == "smoke":
        plan = SC.smoke_plan(rng)
    elif args.scenario == "probe":
        plan = SC.probe_plan(rng)
    elif args.scenario == "office":
        plan = SC.office_plan(rng)
    elif args.scenario == "p2p":
        plan = SC.p2p_plan(rng, scale=args.scale, clients=args.clients or 12)
    else:
        plan = SC.full_plan(rng, scale=args.scale, clients=args.clients or 52)
        if args.mixes:
            keep = set(args.mixes.split(","))
            plan.mixes = [m for m in plan.mixes if m.name in keep]
            if args.think:
                for m in plan.mixes:
                    m.think = args.think
    out = out_root / f"{plan.name}-seed{args.seed}"
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    log_path = out / "scenario-log.jsonl"
    log_path.touch()
    total = sum(m.seconds for m in plan.mixes)
    stop = threading.Event()
    lab = Lab(str(os.getpid()), out / "work")

    def on_signal(signum, frame):
        stop.set()
        raise KeyboardInterrupt(f"signal {signum}")

    old = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    t_start = time.time()
    mixes = []
    try:
        lab.up()
        net = SC.build(lab, plan, lab.workdir, rng, total, seed=args.seed)
        _log(f"network up: {len(lab.hosts)} hosts in namespaces {lab.switch_ns[:-3]}-*")
        for mix in plan.mixes:
            _log(f"mix {mix.name}: {mix.seconds:.0f} s, {mix.clients} benign clients, "
                 f"{len(mix.attacks)} attacks")
            mixes.append(SC.run_mix(lab, plan, mix, net, out, rng, args.seed, log_path, stop))
    finally:
        stop.set()
        lab.down()
        for s, h in old.items():
            signal.signal(s, h)
    t_traffic = time.time() - t_start
    _log(f"traffic done in {t_traffic:.0f} s; extracting and labelling flows")
    return label_all(out, plan, mixes, args, t_start, t_traffic)


def label_all(out: Path, plan, mixes: list[dict], args, t_start: float, t_traffic: float) -> dict:
    import pandas as pd

    from .label import label_flows, load_events

    events = load_events(out / "scenario-log.jsonl")
    attacker_ips = {f"10.213.0.{180 + i}" for i in range(plan.n_attackers)}
    attacker_ips |= {SC.FIXED_IPS["cnc"], SC.FIXED_IPS["tun"]}
    (out / "flows").mkdir(exist_ok=True)
    all_labels = []
    drops = Counter()
    for m in mixes:
        frame = extract(Path(m["pcap"]))
        labelled, labels, drop = label_flows(frame, events, attacker_ips, m["mix"])
        drops.update(drop)
        m["flows_raw"] = int(len(frame))
        m["flows"] = int(len(labelled))
        m["dropped"] = {k: int(v) for k, v in drop.items()}
        m["by_family"] = {k: int(v) for k, v in labels["label_class"].value_counts().items()}
        m["by_application"] = _apps(labels)
        m["benign_by_application"] = _apps(labels[labels["label_binary"] == 0])
        labelled.to_parquet(out / "flows" / f"{m['mix']}.parquet", index=False)
        all_labels.append(labels)
        m["pcap_bytes"] = Path(m["pcap"]).stat().st_size
    labels = pd.concat(all_labels, ignore_index=True)
    labels.to_csv(out / "labels.csv.gz", index=False)
    n = len(labels)
    att = int(labels["label_binary"].sum())
    fams = sorted(set(labels.loc[labels["label_binary"] == 1, "label_class"]))
    summary = {
        "scenario": plan.name, "seed": args.seed, "scale": getattr(args, "scale", 1.0),
        "clients": plan.n_clients,
        "command": " ".join(["python", "-m", "scripts.lab", *sys.argv[1:]]),
        "started_utc": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t_start)),
        "traffic_seconds": round(t_traffic, 1),
        "total_seconds": round(time.time() - t_start, 1),
        "flows": n, "benign": n - att, "attack": att, "families": fams,
        "by_family": {k: int(v) for k, v in labels["label_class"].value_counts().items()},
        "by_tool": {k: int(v) for k, v in labels.loc[labels["label_binary"] == 1, "tool"]
                    .value_counts().items()},
        "by_application": _apps(labels),
        "benign_by_application": _apps(labels[labels["label_binary"] == 0]),
        "events": len(events),
        "events_failed": [e.id for e in events if e.note or (e.rc not in (0, None) and e.tool in
                                                             ("sqlmap", "iodine"))],
        "dropped": {k: int(v) for k, v in drops.items()},
        "mixes": mixes,
        "out": str(out),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    md = summary_markdown(summary)
    (out / "SUMMARY.md").write_text(md)
    if args.summary:
        Path(args.summary).write_text(md)
    return summary


def _apps(labels) -> dict[str, int]:
    """Flows per nDPI application name (``application`` column; "Unknown" when nDPI has none)."""
    app = labels["application"].astype("string").fillna("Unknown").replace("", "Unknown")
    return {str(k): int(v) for k, v in app.value_counts().items()}


def protocol_mix_markdown(s: dict) -> list[str]:
    """The protocol mix table: flows and share per nDPI application, overall and per mix."""
    mixes = [m for m in s["mixes"] if m.get("by_application")]
    total = s.get("by_application") or {}
    if not total:
        return []
    n = max(1, sum(total.values()))
    head = "| application | all flows | share | " + " | ".join(m["mix"] for m in mixes) + " |"
    lines = ["## Protocol mix (nDPI application)", "",
             "Flows per application name as nDPI gives it in the flow table's `application` "
             "column, overall and per mix (share of that mix's flows in brackets). Applications "
             f"seen in benign flows: {len(s.get('benign_by_application', {}))} "
             f"({', '.join(sorted(s.get('benign_by_application', {})))}).", "",
             head, "|---|---:|---:|" + "---:|" * len(mixes)]
    for app, v in sorted(total.items(), key=lambda kv: (-kv[1], kv[0])):
        cells = []
        for m in mixes:
            c = m["by_application"].get(app, 0)
            cells.append(f"{c:,} ({100 * c / max(1, m['flows']):.1f}%)" if c else "")
        lines.append(f"| {app} | {v:,} | {100 * v / n:.2f}% | " + " | ".join(cells) + " |")
    return lines + [""]


def summary_markdown(s: dict) -> str:
    fams = sorted(s["by_family"].items(), key=lambda kv: -kv[1])
    lines = [
        f"# Traffic lab dataset summary: `{s['scenario']}` scenario, seed {s['seed']}",
        "",
        "Written by the lab itself (`scripts/lab`) after a real run; the data is not committed.",
        "",
        f"- command: `{s['command']}`",
        f"- started (UTC): {s['started_utc']}; traffic {s['traffic_seconds']:.0f} s, "
        f"total with flow extraction and labelling {s['total_seconds']:.0f} s",
        f"- benign clients: {s['clients']}; scale {s['scale']}",
        f"- flows: **{s['flows']:,}**, benign {s['benign']:,} "
        f"({100 * s['benign'] / max(1, s['flows']):.1f}%), attack {s['attack']:,}",
        f"- attack families ({len(s['families'])}): {', '.join(s['families'])}",
        f"- scenario-log events: {s['events']}; failed or errored: "
        f"{', '.join(s['events_failed']) or 'none'}",
        f"- flows dropped by the labeller: {s['dropped'] or 'none'}",
        "",
        "## Flows per family",
        "",
        "| family | flows |",
        "|---|---:|",
        *[f"| {k} | {v:,} |" for k, v in fams],
        "",
        "## Flows per tool (attack flows)",
        "",
        "| tool | flows |",
        "|---|---:|",
        *[f"| {k} | {v:,} |" for k, v in sorted(s["by_tool"].items(), key=lambda kv: -kv[1])],
        "",
        "## Per mix (scenario phase)",
        "",
        "| mix | seconds | benign clients | flows | benign | attack | capture MB | kernel drops |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for m in s["mixes"]:
        b = m["by_family"].get("benign", 0)
        lines.append(f"| {m['mix']} | {m['seconds']:.0f} | {m['clients']} | {m['flows']:,} | "
                     f"{b:,} | {m['flows'] - b:,} | {m['pcap_bytes'] / 1e6:.1f} | "
                     f"{m['kernel_drops']} |")
    lines += ["", "Per-mix families:", ""]
    for m in s["mixes"]:
        fam = ", ".join(f"{k} {v:,}" for k, v in sorted(m["by_family"].items(),
                                                        key=lambda kv: -kv[1]))
        lines.append(f"- {m['mix']}: {fam}")
    lines += ["", *protocol_mix_markdown(s)]
    acts = Counter()
    for m in s["mixes"]:
        acts.update(m.get("benign_activities") or {})
        acts.update(m.get("office_jobs") or {})
    if acts:
        lines += ["## Benign activities (all mixes)", "",
                  ", ".join(f"{k} {v:,}" for k, v in sorted(acts.items(), key=lambda kv: -kv[1])),
                  ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m scripts.lab", description=__doc__)
    ap.add_argument("scenario", choices=["smoke", "probe", "office", "p2p", "full", "cleanup"])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default=str(default_out()),
                    help="data folder outside the repo "
                    "(default $IDS_LAB_DATA, else lab-data beside the repo)")
    ap.add_argument("--scale", type=float, default=1.0,
                    help="full and p2p: scale the mix durations")
    ap.add_argument("--clients", type=int,
                    help="full and p2p: benign client hosts (default 52 and 12)")
    ap.add_argument("--mixes", help="full: run only these mixes (comma-separated)")
    ap.add_argument("--think", type=float, help="with --mixes: benign think-time median (s)")
    ap.add_argument("--force", action="store_true",
                    help="cleanup: also remove the namespaces of a run that is still alive")
    ap.add_argument("--summary", help="also write the markdown summary to this path")
    args = ap.parse_args(argv)
    if args.clients is not None and not 1 <= args.clients <= 79:
        ap.error("--clients must be between 1 and 79 (the lab's address plan)")
    if args.scenario == "cleanup":
        if os.geteuid() != 0:
            print("lab cleanup: needs root", file=sys.stderr)
            return 0
        busy = active_runs()
        n = cleanup_all(verbose=False, force=args.force)
        if busy and not args.force:
            print(f"lab cleanup: left the namespaces of active run(s) {sorted(busy)}; "
                  "--force removes them too", file=sys.stderr)
        print(json.dumps({"removed_namespaces": n}))
        return 0
    try:
        s = run(args)
    except LabError as exc:
        print(f"lab: {exc}", file=sys.stderr)
        print(json.dumps({"skipped": str(exc)}))
        return 3
    except KeyboardInterrupt:
        print("lab: interrupted; everything torn down", file=sys.stderr)
        return 130
    print(json.dumps({"flows": s["flows"], "benign": s["benign"], "attack": s["attack"],
                      "families": s["families"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
