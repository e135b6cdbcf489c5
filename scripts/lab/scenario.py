"""Scenarios: the lab network, its mixes (phases) and their attack schedules, from a seed."""

from __future__ import annotations

import json
import random
import re
import signal
import threading
import time
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from . import attacks as A
from . import office as O
from . import p2p as P
from . import servers as S
from .netns import Host, Lab

BENIGN_PY = Path(__file__).resolve().parent / "benign.py"


@dataclass
class Mix:
    name: str
    seconds: float
    clients: int                      # how many benign clients are active
    attacks: list = field(default_factory=list)   # (offset, factory(lab_hosts, rng) -> Attack)
    profile_mix: tuple[str, ...] = ("office", "office", "office", "admin")
    think: float = 2.0
    offset_scale: float = 1.0           # attack start offsets are multiplied by this


@dataclass
class Plan:
    name: str
    n_clients: int
    n_attackers: int
    servers: dict[str, list[str]]     # host name -> services
    aliases: dict[str, str]           # DNS name -> host name
    mixes: list[Mix]
    on_mix: object = None             # called before each mix (resets per-mix allocations)
    zones: bool = False               # the DNS server also serves transferable zones (AXFR)
    # office and server-room side (issue 32); run in every mix that has benign clients
    workers: list = field(default_factory=list)   # (host, benign.py profile, think median)
    devices: dict = field(default_factory=dict)   # extra benign hosts: name -> address/"dhcp"
    laptops: list = field(default_factory=list)   # devices that lease their address by DHCP
    mdns: dict = field(default_factory=dict)      # host -> avahi services [(type, port, name)]


# -- plans ------------------------------------------------------------------------------------
def smoke_plan(rng: random.Random) -> Plan:
    def scan(h, r):
        return A.Nmap("nmap-syn", h["att0"], [h["srv"]], kind="syn", ports="1-1000", rate=1500,
                      limit=20)

    def brute(h, r):
        return A.Hydra("hydra-ssh", h["att1"], [h["srv"]], service="ssh", ports=[22], tasks=4,
                       users=["alice", "root", "admin"],
                       passwords=A.wordlist(r, 12, "wonderland"), limit=25)

    mix = Mix("smoke", 28, 1, [(3, scan), (8, brute)], profile_mix=("smoke",), think=0.7)
    return Plan("smoke", 1, 2, {"srv": ["dns", "web", "ssh"]},
                {"www": "srv", "intranet": "srv", "cdn": "srv", "files": "srv"}, [mix])


def probe_plan(rng: random.Random) -> Plan:
    """Each of the newer attack kinds once (TLS beacon, POST check-ins, zone transfer,
    simulated Heartbleed, manual SQL injection, ICMP ping sweep), with their servers and one
    benign user."""
    def beacon(h, r):
        return A.TlsBeacon("c2-beacon-tls", h["att0"], [h["cnc"]], count=10, seconds=40)

    def checkin(h, r):
        return A.PostCheckin("c2-post-checkin", h["att1"], [h["cnc"]], count=3, gap=(2, 6))

    def axfr(h, r):
        return A.ZoneTransfer("dns-axfr", h["att2"], [h["dns"]])

    def bleed(h, r):
        return A.Heartbleed("heartbleed", h["att3"], [h["app"]], conns=3,
                            modes=["leak", "oversized", "leak"])

    def sqli(h, r):
        return A.ManualSqli("sqli-manual", h["att4"], [h["app"]], count=7, seconds=70)

    def sweep(h, r):
        targets = [h[n] for n in ("dns", "www", "app", "cnc", "c0")]
        return A.Nmap("nmap-ping-sweep", h["att5"], targets, kind="ping", rate=100)

    mix = Mix("probe", 75, 1, [(2, beacon), (4, checkin), (6, axfr), (8, bleed), (10, sqli),
                               (12, sweep)], profile_mix=("probe",), think=1.0)
    return Plan("probe", 1, 6, {"dns": ["dns"], "www": ["web"], "app": ["app", "heartbleed"],
                                "cnc": ["c2", "c2tls"]},
                {"intranet": "www", "cdn": "www"}, [mix], zones=True)


#: The office and server-room hosts (issue 32) and what runs on them; see ``office.py``.
OFFICE_SERVERS = {"mail": ["smtp", "imap"], "dc": ["ldap", "kdc", "ntp", "snmp"],
                  "db": ["mariadb", "postgres", "redis", "snmp"],
                  "nas": ["smb", "rsyncd", "ssh", "snmp"],
                  "infra": ["syslog", "mqtt", "dhcp", "sip", "vnc", "ws", "snmp"],
                  "plc": ["modbus", "snmp"], "dns2": ["dns2"], "mon": [], "hmi": []}
#: Infrastructure jobs: (host, benign.py profile, think-time median in seconds).
OFFICE_WORKERS = [("mon", "monitor", 12.0), ("mon", "backup", 40.0), ("dns2", "secondary", 45.0),
                  ("hmi", "hmi", 3.0), ("iot0", "sensor", 4.0), ("iot1", "sensor", 6.0),
                  ("iot2", "sensor", 9.0)]
OFFICE_DEVICES = {"iot0": "10.213.0.20", "iot1": "10.213.0.21", "iot2": "10.213.0.22",
                  "lap0": "dhcp", "lap1": "dhcp", "lap2": "dhcp"}
#: avahi-daemon (mDNS responder) hosts and the services they announce.
OFFICE_MDNS = {"infra": [("_ipp._tcp", 631, "Office Printer 2F"),
                         ("_http._tcp", 80, "Printer web")],
               "nas": [("_smb._tcp", 445, "NAS"), ("_adisk._tcp", 9, "NAS backup"),
                       ("_ssh._tcp", 22, "NAS ssh")],
               "lap0": [("_workstation._tcp", 9, "lap0")], "lap1": [], "lap2": [],
               "c0": [("_ssh._tcp", 22, "dev box")], "c1": [], "c2": [("_http._tcp", 8000, "demo")]}


def office_plan(rng: random.Random) -> Plan:
    """The office and server-room services once, without attacks: dns, www and a file server,
    the new hosts, two users who do each new activity, the infrastructure jobs and a laptop
    on DHCP (``python -m scripts.lab office``, about two minutes)."""
    mix = Mix("office", 90, 2, profile_mix=("office_probe",), think=0.8)
    servers = {"dns": ["dns"], "www": ["web"], "files": ["ssh", "ftp"], **OFFICE_SERVERS}
    return Plan("office", 2, 0, servers, {"intranet": "www", "cdn": "www"}, [mix], zones=True,
                workers=[(h, p, t / 3) for h, p, t in OFFICE_WORKERS if h != "iot2"],
                devices={k: v for k, v in OFFICE_DEVICES.items() if k in ("iot0", "iot1", "lap0")},
                laptops=["lap0"], mdns={k: v for k, v in OFFICE_MDNS.items()
                                        if k in ("infra", "nas", "lap0", "c0")})


#: Peer-to-peer seeders (``p2p.py``): benign hosts that seed every torrent for the whole mix.
P2P_SEEDERS = {"seed0": "10.213.0.30", "seed1": "10.213.0.31", "seed2": "10.213.0.32"}


def p2p_plan(rng: random.Random, scale: float = 1.0, clients: int = 12) -> Plan:
    """Benign peer-to-peer file sharing and relayed calls, no attacks (``python -m scripts.lab
    p2p``, about six minutes): a tracker and TURN server, three seeders and ``clients`` peers
    that download, seed, call and check their NAT, beside DNS lookups."""
    mix = Mix("benign-p2p", 300.0 * scale, clients, profile_mix=("p2p",), think=4.0)
    return Plan("p2p", clients, 0, {"dns": ["dns"], "tracker": ["tracker", "turn"]}, {}, [mix],
                workers=[(h, "seeder", 1.0) for h in P2P_SEEDERS], devices=dict(P2P_SEEDERS))


def full_plan(rng: random.Random, scale: float = 1.0, clients: int = 52) -> Plan:
    """Four mixes: attacks alone, benign alone, attacks hidden in busy benign, low-and-slow."""
    state = {"att": 0}
    n_att = 45

    def a(h):  # a fresh dedicated attacker host for every attack of a mix
        state["att"] += 1
        if state["att"] > n_att:
            raise A.LabError("more attacks in one mix than attacker hosts")
        return h[f"att{state['att'] - 1}"]

    def reset():
        state["att"] = 0

    def n(x):
        return max(1, int(x * scale)) if isinstance(x, int) else x * scale

    def cl(i: int) -> str:  # a benign client host that is (also) compromised
        return f"c{i % clients}"

    def users(r, k):
        return r.sample(["alice", "bob", "carol", "dave", "erin", "root", "admin", "test",
                         "oracle", "ubuntu", "guest", "ftp", "user"], k)

    def pw(r, k, real):
        return A.wordlist(r, k, real)

    def scans(base: float, rate: int, big: bool):
        p = "1-1024" if big else "1-300"
        return [
            (base + 0, lambda h, r: A.Nmap("nmap-syn", a(h), [h["www"]], kind="syn", ports=p,
                                           rate=rate)),
            (base + 12, lambda h, r: A.Nmap("nmap-connect", a(h), [h["files"]],
                                            kind="connect", ports="1-500", rate=rate)),
            (base + 25, lambda h, r: A.Nmap("nmap-udp", a(h), [h["dns"], h["files"]],
                                            kind="udp", ports="1-150", rate=min(rate, 300))),
            (base + 40, lambda h, r: A.Nmap("nmap-version", a(h), [h["files"], h["www"], h["app"]],
                                            kind="version", ports="21,22,53,80,443,8080")),
            (base + 55, lambda h, r: A.Nmap("nmap-os", a(h), [h["www"], h["shell"]], kind="os",
                                            ports="22,80,443,1-100", rate=rate)),
            (base + 65, lambda h, r: (lambda k: A.Nmap(f"nmap-{k}", a(h), [h["shell"]], kind=k,
                                                       ports="1-400", rate=rate))(
                r.choice(["xmas", "fin", "null", "ack"]))),
            (base + 80, lambda h, r: A.Nmap("nmap-syn-sweep", a(h),
                                            [h["www"], h["app"], h["files"], h["shell"], h["dns"]],
                                            kind="syn", ports="20-25,53,80,110,143,443,445,3306,"
                                            "3389,5432,8000-8100", rate=rate)),
            (base + 95, lambda h, r: A.Nmap("nmap-ping-sweep", a(h), ping_targets(h, r),
                                            kind="ping", rate=min(rate, 100))),
        ]

    def ping_targets(h, r):
        """The lab's servers and a seeded handful of users' hosts: what a sweep would find."""
        servers = [h[n] for n in ("dns", "www", "app", "files", "shell", "cnc", "tun") if n in h]
        users_ = [h[f"c{i}"] for i in r.sample(range(clients), min(clients, 12))]
        return servers + users_

    def brutes(base: float, tasks: int, k: int):
        return [
            (base, lambda h, r: A.Hydra("hydra-ssh", a(h), [h["files"]], service="ssh",
                                        ports=[22], tasks=tasks, users=users(r, 3),
                                        passwords=pw(r, k, "wonderland"))),
            (base + 30, lambda h, r: A.Hydra("hydra-ftp", a(h), [h["files"]], service="ftp",
                                             ports=[21], tasks=tasks, users=users(r, 4),
                                             passwords=pw(r, k, "builder42"))),
            (base + 60, lambda h, r: A.Hydra("hydra-http-form", a(h), [h["app"]],
                                             service="http-post-form", ports=[8080],
                                             tasks=tasks, users=["admin", "alice", "bob"],
                                             passwords=pw(r, 2 * k, "admin-2024-lab"))),
            (base + 90, lambda h, r: A.Medusa("medusa-ssh", a(h), [h["shell"]], service="ssh",
                                              ports=[22], tasks=min(tasks, 4), users=users(r, 2),
                                              passwords=pw(r, k, None))),
        ]

    def web(base: float, hidden_from: str | None = None):
        out = [
            (base, lambda h, r: A.Sqlmap("sqlmap-detect", a(h), [h["app"]], level=2)),
            (base + 60, lambda h, r: A.Sqlmap("sqlmap-dump", a(h), [h["app"]], level=1,
                                              extra=["--technique=BU", "--dump", "-T", "users"])),
            (base + 30, lambda h, r: A.CmdInjection("cmd-injection-revshell", a(h), [h["app"]],
                                                            dns=h["dns"])),
        ]
        if hidden_from:
            out.append((base + 15, lambda h, r: A.XssProbe("xss-probe", h[hidden_from],
                                                           [h["app"]], hidden=True, count=50)))
        else:
            out.append((base + 15, lambda h, r: A.XssProbe("xss-probe", a(h), [h["app"]],
                                                           count=60)))
        return out

    def floods(base: float, k: float):
        def ddos(h, r):
            hosts = [a(h) for _ in range(4)]
            return DDoS("ddos-syn", hosts, [h["www"]], count=n(int(1500 * k)), port=443)
        return [
            (base, lambda h, r: A.Hping("hping-syn-flood", a(h), [h["www"]], mode="syn", port=80,
                                        count=int(3000 * k), interval_us=1000)),
            (base + 10, lambda h, r: A.Hping("hping-udp-flood", a(h), [h["dns"]], mode="udp",
                                             port=53, count=int(2000 * k), interval_us=1000,
                                             data=64)),
            (base + 16, lambda h, r: A.Hping("hping-icmp-flood", a(h), [h["www"]], mode="icmp",
                                             count=int(1500 * k), interval_us=1000, data=500)),
            (base + 22, lambda h, r: A.SlowHttp("slowloris", a(h), [h["www"]], mode="slowloris",
                                                port=80, conns=200, seconds=n(40))),
            (base + 30, lambda h, r: A.SlowHttp("slowread", a(h), [h["www"]], mode="slowread",
                                                port=80, conns=120, path="/files/doc3.pdf",
                                                seconds=n(40))),
            (base + 45, lambda h, r: A.SlowHttp("slowbody", a(h), [h["app"]], mode="slowbody",
                                                port=8080, conns=100, path="/login",
                                                seconds=n(30))),
            (base + 60, ddos),
        ]

    def covert(base: float, secs: float, bots: list[str] | None, exfil_from: str | None):
        out = [(base + 5, lambda h, r: A.Iodine("iodine-tunnel", a(h), [h["dns"]], dns=h["dns"],
                                                tun=h["tun"], password="labtunnel",
                                                seconds=n(45)))]
        # The same tunnel with the client talking to iodined directly (no resolver between):
        # one long UDP/53 flow per session, the shape of a tunnel to an attacker's own name
        # server (``dns-tunnel-iodine.pcap``). After the relayed session: one tunnel at a time.
        for off in (75, 140):
            out.append((base + off, lambda h, r: A.Iodine(
                "iodine-direct", a(h), [h["tun"]], dns=h["tun"], tun=h["tun"],
                password="labtunnel", seconds=n(r.uniform(20, 40)),
                bytes=r.randint(5000, 40000))))
        period = 5.0
        count = max(3, int(secs / period))
        for i, b in enumerate(bots or [None, None]):
            out.append((base + i * 2, (lambda bb: lambda h, r: A.Beacon(
                "c2-beacon", h[bb] if bb else a(h), [h["cnc"]], hidden=bb is not None,
                period=period * r.uniform(0.8, 1.6), jitter=0.3, count=count, seconds=secs))(b)))
        src = exfil_from
        out.append((base + 20, lambda h, r: A.ExfilHttp(
            "exfil-http", h[src] if src else a(h), [h["cnc"]], hidden=src is not None,
            chunks=n(20))))
        out.append((base + 40, lambda h, r: A.ExfilDns(
            "exfil-dns", h[src] if src else a(h), [h["dns"]], hidden=src is not None,
            queries=n(200))))
        return out

    def newer(spec: dict[str, list[tuple[float, str | None]]], secs: float, slow: bool = False):
        """TLS beacons, POST check-ins, zone transfers, Heartbleed, manual SQL injection:
        ``spec`` maps each kind to its (start offset, benign host it runs from or None)."""
        out = []

        def left(off: float, floor: float) -> float:  # seconds from a start to the mix's end
            return max(floor, secs - off * min(1.0, scale))

        for off, src in spec.get("tls", []):
            out.append((off, (lambda s_, o: lambda h, r: A.TlsBeacon(
                "c2-beacon-tls", h[s_] if s_ else a(h), [h["cnc"]], hidden=s_ is not None,
                count=n(20 if slow else 25), interval=(2.0, 4.0), lookup=s_ is not None,
                seconds=min(left(o, 20.0), 150.0)))(src, off)))
        for off, src in spec.get("post", []):
            out.append((off, (lambda s_, o: lambda h, r: A.PostCheckin(
                "c2-post-checkin", h[s_] if s_ else a(h), [h["cnc"]], hidden=s_ is not None,
                count=r.randint(3, 6), gap=(15.0, 45.0) if slow else (6.0, 30.0),
                seconds=left(o, 30.0)))(src, off)))
        for off, _ in spec.get("axfr", []):
            out.append((off, lambda h, r: A.ZoneTransfer("dns-axfr", a(h), [h["dns"]])))
        for off, _ in spec.get("bleed", []):
            out.append((off, lambda h, r: A.Heartbleed("heartbleed", a(h), [h["app"]],
                                                       conns=3 if slow else 4)))
        for off, src in spec.get("sqli", []):
            out.append((off, (lambda s_, o: lambda h, r: A.ManualSqli(
                "sqli-manual", h[s_] if s_ else a(h), [h["app"]], hidden=s_ is not None,
                count=n(8 if slow else 10), seconds=left(o, 40.0)))(src, off)))
        return out

    T = n(240.0)
    mix_a = Mix("attacks-only", T, 0,
                scans(0, 800, True) + brutes(5, 4, 25) + web(20) + floods(100, 1.0)
                + covert(0, T - 20, None, None)
                + newer({"tls": [(10, None), (100, None)], "post": [(30, None), (120, None)],
                         "axfr": [(15, None), (150, None)], "bleed": [(60, None), (170, None)],
                         "sqli": [(40, None), (130, None)]}, T))
    mix_b = Mix("benign-busy", n(300.0), clients, think=0.6)
    TC = n(480.0)
    mix_c = Mix("mixed-hidden", TC, clients,
                scans(30, 600, True) + brutes(60, 4, 25) + web(150, hidden_from=cl(3))
                + scans(330, 400, False)
                + floods(240, 0.8) + covert(10, TC - 40, [cl(5), cl(11), cl(17)], cl(7))
                + newer({"tls": [(40, cl(13)), (150, None), (250, cl(21))],
                         "post": [(60, cl(25)), (300, None)], "axfr": [(90, None), (380, None)],
                         "bleed": [(200, None), (320, None), (420, None)],
                         "sqli": [(120, cl(29)), (340, None)]}, TC),
                think=0.6)
    mix_d = Mix("mixed-lowslow", T, clients,
                [(0, lambda h, r: A.Nmap("nmap-slow-syn", a(h), [h["www"], h["files"]],
                                         kind="syn", ports="1-200", rate=8, limit=T + 30)),
                 (20, lambda h, r: A.Nmap("nmap-slow-connect", a(h), [h["shell"]],
                                          kind="connect", ports="1-150", rate=3, limit=T)),
                 (10, lambda h, r: A.Hydra("hydra-ftp-slow", a(h), [h["files"]], service="ftp",
                                           ports=[21], tasks=1, users=["alice"],
                                           passwords=pw(r, 40, None), limit=T - 20)),
                 (60, lambda h, r: A.Hydra("hydra-ssh-slow", a(h), [h["shell"]], service="ssh",
                                           ports=[22], tasks=1, users=["bob"],
                                           passwords=pw(r, 20, None), limit=T - 70)),
                 (40, lambda h, r: A.SlowHttp("slowloris", a(h), [h["www"]], mode="slowloris",
                                              port=80, conns=60, seconds=n(60))),
                 ] + covert(0, T - 20, [cl(2), cl(9)], cl(4))
                + newer({"tls": [(30, cl(15))], "post": [(50, None)], "axfr": [(100, None)],
                         "bleed": [(140, None)], "sqli": [(70, None)]}, T, slow=True),
                profile_mix=("office", "office", "admin"), think=1.5)
    servers = {"dns": ["dns"], "www": ["web"], "app": ["app", "heartbleed"],
               "files": ["ssh", "ftp"], "shell": ["ssh"], "cnc": ["c2", "c2tls"],
               "tun": ["iodined"], **OFFICE_SERVERS}
    # "mail" is the mail server's own name now (it was an alias of files)
    aliases = {"intranet": "www", "cdn": "www", "wiki": "www"}
    mixes = [mix_a, mix_b, mix_c, mix_d]
    for m in mixes:
        m.offset_scale = min(1.0, scale)
    return Plan("full", clients, n_att, servers, aliases, mixes, on_mix=reset, zones=True,
                workers=list(OFFICE_WORKERS), devices=dict(OFFICE_DEVICES),
                laptops=[k for k, v in OFFICE_DEVICES.items() if v == "dhcp"],
                mdns={k: v for k, v in OFFICE_MDNS.items()
                      if not k.startswith("c") or int(k[1:]) < clients})


class DDoS(A.Attack):
    """The same SYN flood from several lab hosts at once (one event per host)."""

    family, tool = "ddos", "hping3"

    def __init__(self, name, hosts: list[Host], targets, **params):
        super().__init__(name, hosts[0], targets, **params)
        self.hosts = hosts

    def run(self, ctx):
        evs, threads = [], []
        for i, host in enumerate(self.hosts):
            atk = A.Hping(f"{self.name}-{i}", host, self.targets, mode="syn",
                          port=self.params["port"], count=self.params["count"],
                          interval_us=2000)
            atk.family = "ddos"
            th = threading.Thread(target=lambda at=atk: evs.append(at.run(ctx)), daemon=True)
            th.start()
            threads.append(th)
        for th in threads:
            th.join()
        return evs[0] if evs else None


# -- running ------------------------------------------------------------------------------------
FIXED_IPS = {"dns": "10.213.0.2", "www": "10.213.0.3", "app": "10.213.0.4",
             "files": "10.213.0.5", "shell": "10.213.0.6", "cnc": "10.213.0.66",
             "tun": "10.213.0.67", "srv": "10.213.0.2",
             # office and server room (issue 32)
             "mail": "10.213.0.7", "dc": "10.213.0.8", "db": "10.213.0.9", "nas": "10.213.0.10",
             "infra": "10.213.0.11", "plc": "10.213.0.12", "dns2": "10.213.0.13",
             "mon": "10.213.0.14", "hmi": "10.213.0.15",
             # peer-to-peer and calls (p2p.py)
             "tracker": "10.213.0.16"}


def build(lab: Lab, plan: Plan, work: Path, rng: random.Random, total: float,
          seed: int = 0) -> dict:
    hosts: dict[str, Host] = {}
    for name in plan.servers:
        hosts[name] = lab.add_host(name, "server", FIXED_IPS[name])
    for i in range(plan.n_clients):
        hosts[f"c{i}"] = lab.add_host(f"c{i}", "client", f"10.213.0.{100 + i}")
    for i in range(plan.n_attackers):
        hosts[f"att{i}"] = lab.add_host(f"att{i}", "attacker", f"10.213.0.{180 + i}")
    for name, ip in plan.devices.items():  # IoT devices and DHCP laptops (benign)
        hosts[name] = lab.add_host(name, "client", ip)
    assets = S.prepare_assets(work, rng)
    limit = total + 120
    names = {n: h.ip for n, h in hosts.items() if h.role == "server"}
    names.update({alias: hosts[target].ip for alias, target in plan.aliases.items()})
    names["app"] = names.get("app", next(iter(names.values())))
    extra = [f"--server=/t.lab.internal/{FIXED_IPS['tun']}"] if "tun" in plan.servers else []
    if any("c2tls" in s for s in plan.servers.values()):  # beacons that look their C2 name up
        extra += [f"--address=/{n}/{FIXED_IPS['cnc']}" for n in S.C2_TLS_NAMES]
    if plan.zones:
        extra += S.zone_args(work, random.Random(rng.random()),
                             [h.ip for h in hosts.values() if h.role == "client"], names)
    hostsfile = S.dns_hosts(work, names)
    if "tracker" in hosts:
        assets["p2p"] = P.prepare(assets, seed, hosts["tracker"].ip)
    for name, services in plan.servers.items():
        h = hosts[name]
        for svc in services:
            if svc == "dns":
                S.start_dns(lab, h, assets, limit, extra, hostsfile=hostsfile)
            elif svc == "web":
                S.start_web(lab, h, assets, limit)
            elif svc == "ssh":
                S.start_ssh(lab, h, assets, limit)
            elif svc == "ftp":
                S.start_ftp(lab, h, assets, limit)
            elif svc == "app":
                S.start_pyhttp(lab, h, assets, limit, "app", 8080)
            elif svc == "c2":
                S.start_pyhttp(lab, h, assets, limit, "c2", 8080)
            elif svc == "c2tls":  # after "c2": nginx's TLS front proxies to it
                S.start_c2_tls(lab, h, assets, limit, 8080)
            elif svc == "heartbleed":
                S.start_heartbleed(lab, h, assets, limit, 443, seed=rng.randrange(1 << 30))
            elif svc == "iodined":
                S.start_iodined(lab, h, assets, limit, "labtunnel")
            else:
                start_office(lab, plan, h, svc, assets, limit, hosts, seed)
    return {"hosts": hosts, "assets": assets}


def start_office(lab: Lab, plan: Plan, h: Host, svc: str, assets: dict, limit: float,
                 hosts: dict, seed: int) -> None:
    """Start one of the office and server-room services (``office.py``)."""
    if "office" not in assets:
        assets["office"] = O.prepare(lab, assets, seed)
    off = assets["office"]
    start = {"smtp": O.start_smtp, "imap": O.start_dovecot, "ldap": O.start_ldap,
             "kdc": O.start_kdc, "ntp": O.start_ntp, "snmp": O.start_snmpd,
             "mariadb": O.start_mariadb, "postgres": O.start_postgres, "redis": O.start_redis,
             "smb": O.start_samba, "rsyncd": O.start_rsyncd, "syslog": O.start_syslog,
             "mqtt": O.start_mqtt, "sip": O.start_sip, "vnc": O.start_vnc, "ws": O.start_ws,
             "modbus": O.start_modbus, "tracker": P.start_tracker, "turn": P.start_turn}
    if svc == "dhcp":
        O.start_dhcp(lab, h, assets, off, limit, hosts["dns"].ip,
                     hosts["dc"].ip if "dc" in hosts else hosts["dns"].ip)
    elif svc == "dns2":
        O.start_dns2(lab, h, assets, off, limit, hosts["dns"].ip)
    elif svc in start:
        start[svc](lab, h, assets, off, limit)
    else:
        raise A.LabError(f"unknown service {svc!r} on {h.name}")


DHCP_SCRIPT = """#!/bin/sh
# dhclient's script for the lab's laptops: only the leased address, only inside the lab's /24
# (no routes, no resolver changes: the lab has no gateway and a resolver file per namespace)
case "$new_ip_address" in ""|10.213.0.*) ;; *) exit 1 ;; esac
case "$old_ip_address" in ""|10.213.0.*) ;; *) exit 1 ;; esac
case "$reason" in
  PREINIT) ip link set dev "$interface" up ;;
  BOUND|RENEW|REBIND|REBOOT)
    if [ -n "$old_ip_address" ] && [ "$old_ip_address" != "$new_ip_address" ]; then
      ip addr del "$old_ip_address/24" dev "$interface" 2>/dev/null
    fi
    ip addr replace "$new_ip_address/24" dev "$interface" ;;
  EXPIRE|FAIL|RELEASE|STOP)
    [ -n "$old_ip_address" ] && ip addr del "$old_ip_address/24" dev "$interface" 2>/dev/null ;;
esac
exit 0
"""


def office_cfg(plan: Plan, hosts: dict, net: dict) -> dict:
    """The office-service part of a benign user's config."""
    assets = net["assets"]
    off = assets.get("office", {})
    svc = {n: hosts[n].ip for n in ("dns", "mail", "dc", "db", "nas", "infra", "plc", "dns2")
           if n in hosts}
    out = {"svc": svc, "pyexe": O.pyexe(), "labsvc": str(O.SCRIPTS / "labsvc.py"),
           "db_user": O.DB_USER, "db_pass": O.DB_PASS, "rsync_user": O.RSYNC_USER,
           "rsync_pass": O.RSYNC_PASS, "vnc_port": O.VNC_PORT, "ws_port": O.WS_PORT,
           "snmp_hosts": [hosts[n].ip for n, s in plan.servers.items() if "snmp" in s]}
    if off.get("krb5_conf"):
        out["krb5_conf"] = str(off["krb5_conf"])
        tcp = off["krb5_conf"].with_name("krb5-tcp.conf")
        if not tcp.exists():
            O.krb5_conf(tcp, hosts["dc"].ip, tcp=True)
        out["krb5_conf_tcp"] = str(tcp)
    # the monitoring server also polls hosts without an agent, and checks service ports
    out["snmp_silent"] = [hosts[n].ip for n in ("www", "files", "dns2") if n in hosts]
    ports = {"www": [80, 443], "files": [22, 21], "shell": [22], "mail": [25, 587, 143, 993, 110],
             "dc": [389, 88], "db": [3306, 5432, 6379], "nas": [445, 873, 22],
             "infra": [514, 1883, O.VNC_PORT], "plc": [502], "app": [8080]}
    out["checks"] = [(hosts[n].ip, p) for n, ps in ports.items() if n in hosts for p in ps]
    if "p2p" in assets:
        seeders = [hosts[h].ip for h, profile, _ in plan.workers if profile == "seeder"]
        out.update(P.user_config(assets, hosts["tracker"].ip, seeders))
    return out


def start_office_mix(lab: Lab, plan: Plan, mix: Mix, net: dict, seed: int, base_cfg: dict) -> list:
    """Per mix with benign users: the mDNS responders, the laptops' DHCP clients and the
    infrastructure jobs. Returns the processes to stop at the end of the mix."""
    hosts, work = net["hosts"], net["assets"]["work"]
    procs: list = []
    if mix.clients == 0:
        return procs
    wrng = random.Random(f"office-{seed}-{mix.name}")
    for name, services in plan.mdns.items():
        if name in hosts and name not in plan.laptops:
            procs.append(("avahi", O.start_avahi(lab, hosts[name], work, mix.seconds + 30,
                                                 services)))
    script = work / "dhclient-script"
    script.write_text(DHCP_SCRIPT)
    script.chmod(0o755)
    for name in plan.laptops:
        h = hosts[name]
        conf = work / f"dhclient-{name}.conf"
        conf.write_text(f'send host-name "{name}";\nrequest subnet-mask, broadcast-address, '
                        "domain-name, domain-name-servers, ntp-servers;\n")
        args = ["-sf", str(script), "-cf", str(conf), "-lf", str(work / f"dhclient-{name}.leases"),
                "-pf", str(work / f"dhclient-{name}.pid"), "eth0"]
        procs.append(("dhcp", (h, args, lab.spawn(h, ["dhclient", "-d", "-v", *args],
                                                   mix.seconds + 30,
                                                   log=work / f"dhclient-{name}.log"))))
        if name in plan.mdns:  # avahi on a laptop once it has an address
            procs.append(("avahi", O.start_avahi(lab, h, work, mix.seconds + 30, plan.mdns[name],
                                                 wait_addr=True)))
    time.sleep(0.5)
    jobs = [(h, p, t) for h, p, t in plan.workers if h in hosts]
    jobs += [(n, "laptop", 2.0) for n in plan.laptops]
    for name, profile, think in jobs:
        cfg = {**base_cfg, "name": f"{name}-{profile}", "seed": wrng.randrange(1 << 30),
               "duration": mix.seconds, "weights": profile,
               "think": think * wrng.uniform(0.8, 1.25), "dhcp": name in plan.laptops}
        cf = work / f"job-{mix.name}-{name}-{profile}.json"
        cf.write_text(json.dumps(cfg))
        procs.append(("job", lab.spawn(hosts[name], ["/usr/bin/python3", str(BENIGN_PY), str(cf)],
                                       mix.seconds + 60,
                                       log=work / f"job-{mix.name}-{name}-{profile}.log")))
    return procs


def stop_office_mix(lab: Lab, net: dict, procs: list, mix: Mix) -> dict:
    """Stop the mix's office processes; laptops release their leases (DHCPRELEASE)."""
    work = net["assets"]["work"]
    stats: Counter = Counter()
    for kind, p in procs:
        if kind == "job":
            try:
                p.wait(timeout=10)
            except Exception:  # noqa: BLE001 - stopped just below either way
                pass
            lab.stop(p, wait=3)
        elif kind == "dhcp":
            h, args, proc = p
            lab.run(h, ["dhclient", "-r", *args], 10)
            lab.stop(proc, wait=3)
        elif kind == "avahi":
            lab.stop(p, wait=3)
    for f in work.glob(f"job-{mix.name}-*.log"):
        for line in f.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                try:
                    stats.update(json.loads(line)["done"])
                except (ValueError, KeyError):
                    pass
    return dict(stats)


def _pages(www: Path) -> list:
    out = []
    for line in (www / "pages.txt").read_text().splitlines():
        parts = line.split()
        out.append([parts[0], parts[1:]])
    return out


def run_mix(lab: Lab, plan: Plan, mix: Mix, net: dict, out: Path, rng: random.Random,
            seed: int, log_path: Path, stop: threading.Event) -> dict:
    hosts, assets = net["hosts"], net["assets"]
    work = assets["work"]
    pcap = out / "pcaps" / f"{mix.name}.pcap"
    pcap.parent.mkdir(parents=True, exist_ok=True)
    tdlog = work / f"tcpdump-{mix.name}.log"
    td = lab.spawn(lab.switch_ns, ["tcpdump", "-i", "br0", "-n", "-s", "0", "-B", "32768",
                                   "-w", str(pcap)], mix.seconds + 400, log=tdlog)
    time.sleep(1.0)
    t0 = time.time()
    attacker_side = {"cnc", "tun"}
    server_ips = [h.ip for n, h in hosts.items() if h.role == "server" and n not in attacker_side]
    ssh_hosts = [hosts[n].ip for n, s in plan.servers.items() if "ssh" in s]
    ftp_hosts = [hosts[n].ip for n, s in plan.servers.items() if "ftp" in s] or ssh_hosts
    base = {"server_ips": server_ips, "ssh_hosts": ssh_hosts, "ftp_hosts": ftp_hosts,
            "pages": _pages(assets["www"]),
            "accounts": [[u, p] for u, p, _ in S.LAB_USERS],
            "app_accounts": [["alice", "wonderland"], ["bob", "builder42"],
                             ["carol", "S3cure!pass"]], **office_cfg(plan, hosts, net)}
    office_procs = start_office_mix(lab, plan, mix, net, seed, base)
    workers = []
    for i in range(mix.clients):
        name = f"c{i}"
        # crc32, not hash(): str hashes differ between interpreter runs (PYTHONHASHSEED)
        cfg = {"name": name, "seed": seed * 1000 + i + zlib.crc32(mix.name.encode()) % 997,
               "duration": mix.seconds, "weights": rng.choice(mix.profile_mix),
               "think": mix.think * rng.uniform(0.6, 1.6), "pages": _pages(assets["www"]),
               "server_ips": server_ips, "ssh_hosts": ssh_hosts, "ftp_hosts": ftp_hosts,
               "accounts": [[u, p] for u, p, _ in S.LAB_USERS],
               "app_accounts": [["alice", "wonderland"], ["bob", "builder42"],
                                ["carol", "S3cure!pass"]], **office_cfg(plan, hosts, net)}
        cf = work / f"user-{mix.name}-{name}.json"
        cf.write_text(json.dumps(cfg))
        workers.append(lab.spawn(hosts[name], ["/usr/bin/python3", str(BENIGN_PY), str(cf)],
                                 mix.seconds + 60, log=work / f"user-{mix.name}-{name}.log"))
    ctx = A.Ctx(lab, work, mix.name, log_path, random.Random(rng.random()),
                {n: h for n, h in hosts.items() if h.role == "server"}, stop=stop)
    schedule = []
    if plan.on_mix:
        plan.on_mix()
    arng = random.Random(rng.random())
    for offset, factory in mix.attacks:
        atk = factory(hosts, arng)
        for t in getattr(atk, "hosts", [atk.attacker]) + atk.targets:
            A.check_target(t.ip)
        schedule.append((offset * mix.offset_scale, atk))
    threads = A.run_schedule(ctx, schedule, t0)
    hard_end = t0 + mix.seconds + 240
    for th in threads:
        th.join(timeout=max(0.1, hard_end - time.time()))
    while time.time() < t0 + mix.seconds and not stop.is_set():
        if all(w.poll() is not None for w in workers) and not mix.clients == 0:
            break
        time.sleep(0.5)
    for w in workers:
        try:
            w.wait(timeout=max(1, t0 + mix.seconds + 60 - time.time()))
        except Exception:  # noqa: BLE001 - stopped just below either way
            pass
        lab.stop(w, wait=3)
    office_stats = stop_office_mix(lab, net, office_procs, mix)
    time.sleep(2.0)
    lab.stop(td, sig=signal.SIGINT, wait=10)
    dropped = 0
    m = re.search(r"(\d+) packets dropped by kernel", tdlog.read_text(errors="replace"))
    if m:
        dropped = int(m.group(1))
    user_stats = Counter()
    for i in range(mix.clients):
        f = work / f"user-{mix.name}-c{i}.log"
        for line in f.read_text(errors="replace").splitlines() if f.exists() else []:
            if line.startswith("{"):
                try:
                    user_stats.update(json.loads(line)["done"])
                except (ValueError, KeyError):
                    pass
    return {"mix": mix.name, "pcap": str(pcap), "seconds": round(time.time() - t0, 1),
            "clients": mix.clients, "kernel_drops": dropped, "benign_activities": dict(user_stats),
            "office_jobs": office_stats,
            "events": sum(1 for e in ctx.events)}
