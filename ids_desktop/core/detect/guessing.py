"""Password guessing against login services: many short sessions from one source to one service.

A flow table shows sessions, not login results, so a guess is a session to a login service
that ends quickly: each try of a guessing tool opens a connection, offers a few passwords and
is dropped. Sessions are grouped by source, target and service, the service named by nDPI's
application when it knows it (an SSH server on port 902 is still SSH) and by the port
otherwise. A group is guessing when, within :data:`WINDOW_S`, it holds at least the service's
threshold of sessions and at least :data:`SHORT_SHARE` of them are short (under
:data:`SHORT_S`).

Thresholds: Zeek's ``SSH::password_guesses_limit`` (30) for SSH and
``FTP::bruteforce_threshold`` (20) for FTP; 20 for the other services (Zeek has no policy for
them; Telnet, RDP, SMB, databases, mail and directory logins are rarer than SSH's in daily
use). Kerberos gets 40: one workstation's log-on asks its domain controller for 24 tickets in
22 s in ``benign-apps/kerberos.pcap``. HTTP logins are not counted here: a browser opens many
short sessions to one web server every day, and telling a failed login from a page load needs
the HTTP status, which the flow table does not carry.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ids_desktop.core.detect.finding import Finding, span
from ids_desktop.core.detect.flows import TCP, FlowView

#: Zeek measures SSH guesses over 30 minutes and FTP over 15; one window for all services.
WINDOW_S = 1800.0
SHORT_S = 30.0
SHORT_SHARE = 0.8
#: A login session: the client's handshake, protocol greeting and credentials take at least
#: five packets (a banner grab takes four).
MIN_CLIENT_PACKETS = 5
#: Service -> (nDPI application names, well-known TCP ports, sessions in the window).
SERVICES: dict[str, tuple[tuple[str, ...], tuple[int, ...], int]] = {
    "SSH": (("SSH",), (22,), 30),
    "FTP": (("FTP_CONTROL",), (21,), 20),
    "Telnet": (("Telnet",), (23,), 20),
    "RDP": (("RDP",), (3389,), 20),
    "SMB": (("SMBv1", "SMBv23"), (445, 139), 20),
    "Kerberos": (("Kerberos",), (88,), 40),
    "MySQL": (("MySQL",), (3306,), 20),
    "PostgreSQL": (("PostgreSQL",), (5432,), 20),
    "MSSQL": (("MsSQL-TDS",), (1433,), 20),
    "Redis": (("Redis",), (6379,), 20),
    "MongoDB": (("MongoDB",), (27017,), 20),
    "LDAP": (("LDAP",), (389,), 20),
    "IMAP": (("IMAP", "IMAPS"), (143, 993), 20),
    "POP3": (("POP3", "POPS"), (110, 995), 20),
    "SMTP": (("SMTP", "SMTPS"), (25, 465, 587), 20),
    "VNC": (("VNC",), (5900,), 20),
}
_BY_APP = {a: s for s, (apps, _, _) in SERVICES.items() for a in apps}
_BY_PORT = {p: s for s, (_, ports, _) in SERVICES.items() for p in ports}


def service_names(view: FlowView) -> np.ndarray:
    """Per flow: the login service it talks to, or ``""``."""
    by_app = np.array([_BY_APP.get(a, "") for a in view.app], dtype=object)
    by_port = np.array([_BY_PORT.get(int(p), "") for p in view.dport], dtype=object)
    known = np.isin(view.app, ("Unknown", "")) | (by_app != "")
    return np.where(by_app != "", by_app, np.where(known, by_port, ""))


def detect(view: FlowView) -> list[Finding]:
    """Guessing against the login services in :data:`SERVICES`."""
    service = service_names(view)
    # a session, not a probe: the server answered and the client said more than hello (a
    # scan's probe that reads the SSH banner and hangs up is no login)
    tcp = np.flatnonzero(
        (view.proto == TCP) & (view.s2d_packets >= MIN_CLIENT_PACKETS) & (view.d2s_bytes > 0)
    )
    if not (service[tcp] != "").any():
        return []
    table = pd.DataFrame(
        {
            "s": view.src[tcp],
            "d": view.dst[tcp],
            "p": view.dport[tcp],
            "svc": service[tcp],
            "i": tcp,
        }
    )
    # One service per server port: sessions nDPI could not name (too short to tell) take the
    # name the others to that port got, so an SSH server on port 902 counts all its sessions.
    named = table[table["svc"] != ""]
    by_port = named.groupby(["s", "d", "p"])["svc"].agg(lambda v: v.mode().iat[0])
    table = table.drop(columns="svc").join(by_port, on=["s", "d", "p"], how="inner")
    out = []
    for (src, dst, port, svc), group in table.groupby(["s", "d", "p", "svc"], sort=False):
        need = SERVICES[svc][2]
        if len(group) < need:
            continue
        rows = group["i"].to_numpy()
        rows = rows[np.argsort(view.start[rows], kind="stable")]
        times = view.start[rows]
        ends = np.searchsorted(times, times + WINDOW_S, side="right")
        sizes = ends - np.arange(len(rows))
        best = int(np.argmax(sizes))
        if sizes[best] < need:
            continue
        sessions = rows[best : ends[best]]
        short = view.duration_s[sessions] < SHORT_S
        if short.mean() < SHORT_SHARE:
            continue
        t0, t1 = float(view.start[sessions[0]]), float(np.nanmax(view.end[sessions]))
        quick = int((view.duration_s[sessions] < 2.0).sum())
        # the finding covers the attacker's other connections to the service meanwhile too
        covered = np.flatnonzero(
            (view.src == src)
            & (view.dst == dst)
            & (view.dport == port)
            & (view.proto == TCP)
            & (view.start >= t0)
            & (view.start <= t1)
        )
        summary = (
            f"{src} tried {len(sessions):,} {svc} logins on {dst}"
            f"{'' if port in SERVICES[svc][1] else f' (port {port})'} in {span(t1 - t0)}; "
            f"{quick:,} closed within 2 s"
        )
        out.append(
            Finding(
                f"{svc.lower()}_guessing",
                "brute_force",
                (src,),
                (dst,),
                (int(port),),
                t0,
                t1,
                covered,
                summary,
                target_count=1,
                port_count=1,
            )
        )
    return out
