"""The lab network: namespaces, a bridge, process tracking and teardown.

Safety design
-------------
* Every namespace the lab makes is named ``idslab-<run>-<host>``; ``cleanup`` removes any
  namespace with the ``idslab-`` prefix (and its /etc/netns/ resolver file).
* One "switch" namespace holds a Linux bridge; each host namespace gets one veth whose peer
  is attached to that bridge. Both veth ends are created straight inside namespaces, so
  the host's own interfaces and routing tables are never touched. No namespace has a
  default route, forwarding is off and IPv6 is disabled: packets can only reach lab hosts.
* Every address a tool is pointed at goes through :func:`check_target`, which refuses
  anything outside :data:`LAB_NET`.
* Every process is started with ``timeout`` in its own process group and remembered;
  teardown kills those groups, then any process still inside a lab namespace (all of them
  were started by the lab), then deletes the namespaces.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

PREFIX = "idslab-"
LAB_NET = ipaddress.ip_network("10.213.0.0/16")
HOST_NET = ipaddress.ip_network("10.213.0.0/24")
#: Addresses that only exist on the lab's own link (its bridge): the /24's broadcast, the
#: limited broadcast and the unspecified source of DHCP, and link-local multicast
#: (224.0.0.0/24: mDNS 224.0.0.251, IGMPv3 reports to 224.0.0.22), which no router forwards.
#: Benign DHCP and mDNS traffic uses them; a packet to them cannot leave the bridge.
LINK_SCOPE_NET = ipaddress.ip_network("224.0.0.0/24")
LINK_SCOPE = {"0.0.0.0", "255.255.255.255", str(HOST_NET.broadcast_address)}


def is_link_scope(addr: str) -> bool:
    """True for the lab link's broadcast, unspecified and link-local multicast addresses."""
    try:
        return addr in LINK_SCOPE or ipaddress.ip_address(addr) in LINK_SCOPE_NET
    except ValueError:
        return False
NETNS_ETC = Path("/etc/netns")


class LabError(RuntimeError):
    """The lab cannot run here (no root, no namespaces, a tool missing) or a safety check failed."""


def check_target(addr: str) -> str:
    """Return ``addr`` if it is inside the lab's own range; refuse anything else."""
    try:
        ip = ipaddress.ip_address(str(addr).strip())
    except ValueError:
        raise LabError(f"refusing target {addr!r}: not an IP address") from None
    if ip not in LAB_NET:
        raise LabError(f"refusing target {addr}: outside the lab network {LAB_NET}")
    return str(ip)


def preflight(tools: list[str]) -> None:
    """Raise :class:`LabError` unless we are root, namespaces work and ``tools`` exist."""
    if os.geteuid() != 0:
        raise LabError("the lab needs root (network namespaces); run it as root")
    if shutil.which("ip") is None:
        raise LabError("iproute2 'ip' is missing; run scripts/lab/install-deps.sh")
    missing = [t for t in tools if shutil.which(t) is None and not Path(t).exists()]
    if missing:
        raise LabError(f"missing tools: {', '.join(missing)}; run scripts/lab/install-deps.sh")
    probe = f"{PREFIX}probe-{os.getpid()}"
    r = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if r.returncode != 0:
        raise LabError(f"network namespaces are not available: {r.stderr.strip()}")
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)


def _run(cmd: list[str], check: bool = True) -> subprocess.CompletedProcess:
    r = subprocess.run(cmd, capture_output=True, text=True)
    if check and r.returncode != 0:
        raise LabError(f"command failed: {' '.join(cmd)}: {r.stderr.strip()}")
    return r


def lab_namespaces() -> list[str]:
    """Every existing namespace whose name has the lab prefix."""
    r = _run(["ip", "netns", "list"], check=False)
    names = [line.split()[0] for line in r.stdout.splitlines() if line.strip()]
    return [n for n in names if n.startswith(PREFIX)]


def _kill_ns_pids(ns: str) -> None:
    r = _run(["ip", "netns", "pids", ns], check=False)
    for tok in r.stdout.split():
        try:
            os.kill(int(tok), signal.SIGKILL)
        except (ValueError, ProcessLookupError, PermissionError):
            pass


def _owner_alive(ns: str) -> int | None:
    """The pid of the live lab run that owns ``ns`` (``idslab-<pid>-<host>``), else None."""
    try:
        pid = int(ns[len(PREFIX):].split("-", 1)[0])
    except ValueError:
        return None
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    return pid if b"lab" in cmd else None


def active_runs() -> set[int]:
    """Pids of lab runs that are alive and own namespaces now."""
    return {p for p in map(_owner_alive, lab_namespaces()) if p is not None}


def cleanup_all(verbose: bool = True, force: bool = False) -> int:
    """Remove lab namespaces of runs that are gone (all of them with ``force``), killing the
    processes inside first. Returns how many."""
    names = [n for n in lab_namespaces() if force or _owner_alive(n) is None]
    for ns in names:
        _kill_ns_pids(ns)
    time.sleep(0.2 if names else 0)
    for ns in names:
        _run(["ip", "netns", "del", ns], check=False)
        shutil.rmtree(NETNS_ETC / ns, ignore_errors=True)
    if NETNS_ETC.exists():  # resolver files of namespaces that no longer exist
        live = set(lab_namespaces())
        for d in NETNS_ETC.glob(PREFIX + "*"):
            if d.name not in live and (force or _owner_alive(d.name) is None):
                shutil.rmtree(d, ignore_errors=True)
    # Lab.public_copy folders of dead runs, and benign users' scratch folders (idslab-user-*,
    # no owner pid in the name) left by a killed user once they are older than any run lasts
    for d in Path(tempfile.gettempdir()).glob(PREFIX + "*"):
        stale = (time.time() - d.stat().st_mtime > 6 * 3600 if d.name.startswith(PREFIX + "user-")
                 else _owner_alive(d.name) is None)
        if d.is_dir() and (force or stale):
            shutil.rmtree(d, ignore_errors=True)
    if verbose and names:
        print(f"removed {len(names)} lab namespace(s)")
    return len(names)


#: Shortest time limit a lab command gets, in seconds.
MIN_LIMIT_S = 1.0


def bounded(limit: float) -> float:
    """A command's time limit as ``timeout`` gets it: at least :data:`MIN_LIMIT_S`. A limit
    computed from a small ``--scale`` can come out negative (``timeout`` then refuses to run the
    command) or under 0.5 s, which prints as ``timeout 0``: no limit at all."""
    return max(MIN_LIMIT_S, float(limit))


@dataclass
class Host:
    name: str
    ns: str
    ip: str
    role: str


@dataclass
class Lab:
    """One lab network. Use as a context manager; teardown always runs."""

    run_id: str
    workdir: Path
    dns_ip: str | None = None
    hosts: dict[str, Host] = field(default_factory=dict)
    procs: list[subprocess.Popen] = field(default_factory=list)
    _next_ip: int = 10
    _up: bool = False
    _closing: bool = False
    _public: Path | None = None

    @property
    def switch_ns(self) -> str:
        return f"{PREFIX}{self.run_id}-sw"

    # -- network -------------------------------------------------------------------------
    def up(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._up = True
        sw = self.switch_ns
        _run(["ip", "netns", "add", sw])
        self._ns_sysctl(sw)
        self.nsrun(sw, ["ip", "link", "set", "lo", "up"])
        self.nsrun(sw, ["ip", "link", "add", "br0", "type", "bridge", "stp_state", "0",
                                  "mcast_snooping", "0"])
        self.nsrun(sw, ["ip", "link", "set", "br0", "up"])

    def _ns_sysctl(self, ns: str) -> None:
        for key, val in (
            ("net.ipv6.conf.all.disable_ipv6", "1"),
            ("net.ipv6.conf.default.disable_ipv6", "1"),
            ("net.ipv4.ip_forward", "0"),
            ("net.ipv4.tcp_syncookies", "1"),
            # the range the README promises: below ATTACK_SPORTS (50000-59999), which attack
            # traffic from a benign user's host binds, so the 5-tuple tells the two apart
            # (the kernel default, 32768-60999, overlapped it)
            ("net.ipv4.ip_local_port_range", "20000 44999"),
        ):
            self.nsrun(ns, ["sysctl", "-q", "-w", f"{key}={val}"], check=False)

    def add_host(self, name: str, role: str, ip: str | None = None) -> Host:
        """A host on the lab's bridge. ``ip="dhcp"``: no address yet (a laptop that asks the
        lab's DHCP server for one; its client may only add addresses inside HOST_NET)."""
        if name in self.hosts:
            return self.hosts[name]
        dhcp = ip == "dhcp"
        if dhcp:
            ip = "0.0.0.0"
        elif ip is None:
            ip = str(HOST_NET.network_address + self._next_ip)
            self._next_ip += 1
        if not dhcp:
            check_target(ip)
            if ipaddress.ip_address(ip) not in HOST_NET:
                raise LabError(f"host address {ip} outside {HOST_NET}")
        ns = f"{PREFIX}{self.run_id}-{name}"
        _run(["ip", "netns", "add", ns])
        self._ns_sysctl(ns)
        idx = len(self.hosts)
        peer = f"p{idx}"
        _run(["ip", "link", "add", "eth0", "netns", ns, "type", "veth",
              "peer", "name", peer, "netns", self.switch_ns])
        self.nsrun(self.switch_ns, ["ip", "link", "set", peer, "master", "br0"])
        self.nsrun(self.switch_ns, ["ip", "link", "set", peer, "up"])
        self.nsrun(ns, ["ip", "link", "set", "lo", "up"])
        if not dhcp:
            self.nsrun(ns, ["ip", "addr", "add", f"{ip}/{HOST_NET.prefixlen}", "dev", "eth0"])
        self.nsrun(ns, ["ip", "link", "set", "eth0", "up"])
        # Segmentation and receive offloads off on both ends: with them on, tcpdump on the
        # bridge saw merged segments of up to 21.7 kB, so every lab flow had fewer, larger
        # packets than the same traffic on a wire (real captures carry at most MTU-sized
        # frames), and the capture model learnt packet sizes no real capture has.
        for where, dev in ((ns, "eth0"), (self.switch_ns, peer)):
            self.nsrun(where, ["ethtool", "-K", dev, "tso", "off", "gso", "off", "gro", "off"],
                       check=False)
        if role == "client":
            self._client_link(ns, peer, name)
        # No default route: only the on-link lab /24 is reachable.
        routes = self.nsrun(ns, ["ip", "route", "show"]).stdout
        if "default" in routes:
            raise LabError(f"unexpected default route in {ns}")
        if self.dns_ip:
            self._resolver(ns)
        host = Host(name, ns, ip, role)
        self.hosts[name] = host
        return host

    #: Access-link rates of the benign users' hosts (Mbit/s), by host number. A bridge of
    #: veths moves a web page in a millisecond, so lab page loads were shorter than the lab's
    #: slow-HTTP attacks by orders of magnitude while real ones (tcp_ports.pcapng: 1.0-1.6 s)
    #: look like them; the capture model called real browsing "dos". The kernel here has
    #: no netem for latency; a token bucket at least gives transfers their real durations.
    CLIENT_MBIT = (2, 4, 8, 16, 32, 64)

    def _client_link(self, ns: str, peer: str, name: str) -> None:
        """Rate-limit a benign user's host both ways (token bucket on each end of its veth)."""
        digits = "".join(ch for ch in name if ch.isdigit()) or "0"
        mbit = self.CLIENT_MBIT[int(digits) % len(self.CLIENT_MBIT)]
        burst = max(16_000, mbit * 125 * 4)  # bytes: about 4 ms at the rate
        for where, dev in ((ns, "eth0"), (self.switch_ns, peer)):
            self.nsrun(where, ["tc", "qdisc", "replace", "dev", dev, "root", "tbf", "rate",
                               f"{mbit}mbit", "burst", str(burst), "latency", "200ms"], check=False)

    def set_dns(self, ip: str) -> None:
        self.dns_ip = check_target(ip)
        for h in self.hosts.values():
            self._resolver(h.ns)

    def _resolver(self, ns: str) -> None:
        d = NETNS_ETC / ns
        d.mkdir(parents=True, exist_ok=True)
        (d / "resolv.conf").write_text(
            f"nameserver {self.dns_ip}\nsearch lab.internal\noptions timeout:1 attempts:1\n"
        )

    # -- processes -------------------------------------------------------------------------
    def nsrun(self, ns: str, cmd: list[str], check: bool = True, timeout: float = 30,
              **kw) -> subprocess.CompletedProcess:
        full = ["ip", "netns", "exec", ns, *cmd]
        try:
            r = subprocess.run(full, capture_output=True, text=True, timeout=timeout, **kw)
        except subprocess.TimeoutExpired as exc:
            raise LabError(f"timed out: {' '.join(cmd)}") from exc
        if check and r.returncode != 0:
            raise LabError(f"failed in {ns}: {' '.join(cmd)}: {r.stderr.strip()[:300]}")
        return r

    def spawn(self, host: Host | str, cmd: list[str], limit: float, log: Path | None = None,
              shell_prefix: str | None = None, **kw) -> subprocess.Popen:
        """Start ``cmd`` in a host's namespace under ``timeout limit`` in its own group."""
        if self._closing:
            raise LabError("the lab is shutting down")
        ns = host.ns if isinstance(host, Host) else host
        inner = ["timeout", "-k", "3", f"{bounded(limit):.0f}", *cmd]
        if shell_prefix:
            # a shell line run first in the private mount namespace (bind mounts), then exec
            inner = ["sh", "-c", shell_prefix + ' && exec "$@"', "sh", *inner]
        out = open(log, "ab") if log else subprocess.DEVNULL
        p = subprocess.Popen(["ip", "netns", "exec", ns, *inner], stdout=out,
                             stderr=subprocess.STDOUT if log else subprocess.DEVNULL,
                             stdin=subprocess.DEVNULL, start_new_session=True, **kw)
        if log:
            out.close()
        self.procs.append(p)
        return p

    def public_copy(self, src: Path) -> Path:
        """A copy of ``src`` that an unprivileged user can read (for a server started as
        nobody): the checkout may sit below a directory only root can enter, such as a
        ``mktemp -d`` folder. The copy lives in a private-to-this-run folder under the system
        temp dir and is removed at teardown."""
        if self._public is None:
            self._public = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{self.run_id}-"))
            self._public.chmod(0o755)
        dst = self._public / src.name
        shutil.copyfile(src, dst)
        dst.chmod(0o644)
        return dst

    def public_dir(self, name: str) -> Path:
        """A folder in the same private-to-this-run temp folder as :meth:`public_copy`, for
        servers whose unprivileged processes must reach their state (dovecot, PostgreSQL):
        pytest's and mktemp's folders are root-only. Removed at teardown."""
        if self._public is None:
            self._public = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{self.run_id}-"))
            self._public.chmod(0o755)
        d = self._public / name
        d.mkdir(exist_ok=True)
        d.chmod(0o755)
        return d

    def run(self, host: Host, cmd: list[str], limit: float, **kw) -> subprocess.CompletedProcess:
        """Run ``cmd`` in a host's namespace to completion, bounded by ``timeout``."""
        if self._closing:
            raise LabError("the lab is shutting down")
        limit = bounded(limit)
        full = ["ip", "netns", "exec", host.ns, "timeout", "-k", "2", f"{limit:.0f}", *cmd]
        p = subprocess.Popen(full, stdout=kw.pop("stdout", subprocess.DEVNULL),
                             stderr=kw.pop("stderr", subprocess.DEVNULL),
                             stdin=kw.pop("stdin", subprocess.DEVNULL),
                             start_new_session=True, **kw)
        self.procs.append(p)
        try:
            out, err = p.communicate(timeout=limit + 10)
        except subprocess.TimeoutExpired:
            _killpg(p)
            out, err = p.communicate()
        finally:
            try:
                self.procs.remove(p)
            except ValueError:
                pass
        return subprocess.CompletedProcess(full, p.returncode, out, err)

    def stop(self, p: subprocess.Popen, sig: int = signal.SIGTERM, wait: float = 5) -> None:
        if p.poll() is None:
            try:
                os.killpg(p.pid, sig)
            except ProcessLookupError:
                pass
            try:
                p.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                _killpg(p)
                p.wait(timeout=5)
        try:
            self.procs.remove(p)
        except ValueError:
            pass

    # -- teardown --------------------------------------------------------------------------
    def down(self) -> None:
        if not self._up:
            return
        self._closing = True
        for p in list(self.procs):
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.time() + 3
        for p in list(self.procs):
            try:
                p.wait(timeout=max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                _killpg(p)
        for p in list(self.procs):
            try:
                p.wait(timeout=3)
            except subprocess.TimeoutExpired:
                pass
        self.procs.clear()
        names = [h.ns for h in self.hosts.values()] + [self.switch_ns]
        for ns in names:
            _kill_ns_pids(ns)
        for ns in names:
            _run(["ip", "netns", "del", ns], check=False)
            shutil.rmtree(NETNS_ETC / ns, ignore_errors=True)
        if self._public is not None:
            shutil.rmtree(self._public, ignore_errors=True)
            self._public = None
        self._up = False

    def __enter__(self) -> Lab:
        return self

    def __exit__(self, *exc) -> None:
        self.down()


def _killpg(p: subprocess.Popen) -> None:
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
