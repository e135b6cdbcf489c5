"""Peer-to-peer file sharing and real-time media on the benign side (issue 32): what a home
office or a permissive office network also carries, and what no server-client service of
``office.py`` looks like. Flows go between many peers at once, on high ports, with traffic in
both directions, which a model trained on client-server traffic alone reads as a botnet or a
scan.

- ``tracker`` host: a BitTorrent tracker (opentracker: HTTP and UDP announces on 6969, for
  the lab's own torrents only, its whitelist) and a
  STUN/TURN server (coturn on 3478, long-term credentials) with its test peer
  (``turnutils_peer``, the far end of relayed calls, UDP 3480).
- Seeders (``seeder`` profile of ``benign.py``): seeding every torrent for the whole mix, two
  with aria2c (TCP, DHT on, each the other's DHT entry point, local peer discovery on some)
  and one with transmission-cli (uTP over UDP as well as TCP, peer exchange).
- Peers (``p2p`` profile): downloads with aria2c or transmission-cli and varied settings (DHT,
  uTP, peer limits, upload caps, seeding after), TURN-relayed calls with audio- and video-like
  pacing (``turnutils_uclient``), and STUN binding checks.

Safety, as in the rest of the lab: the tracker and the TURN server bind only their host's lab
address (``check_target``), every process runs under ``timeout`` in the lab's namespaces, the
torrents name only the lab's tracker, DHT starts only from lab addresses (aria2 has no built-in
bootstrap nodes; transmission's DHT, which has, is off, as is its port mapping) and the
namespaces have no route out of the lab.
"""

from __future__ import annotations

import random
import re
import shutil
import subprocess

from .netns import Host, Lab, LabError, check_target
from .servers import wait_port

TRACKER_PORT = 6969
TURN_PORT = 3478
#: The test peer's port (``turnutils_peer``'s and ``turnutils_uclient``'s default).
PEER_PORT = 3480
TURN_USER, TURN_PASS = "softphone", "turn-lab-2024"
TURN_REALM = "lab.internal"
#: Seeders' BitTorrent and DHT listening port (peers pick theirs from 6881-6999).
SEED_PORT = 6881


def prepare(assets: dict, seed: int, tracker_ip: str) -> dict:
    """Files to share and their torrents (``mktorrent``), announced to ``tracker_ip`` over
    HTTP or UDP. Uses its own seeded generator, like ``office.prepare``."""
    check_target(tracker_ip)
    rng = random.Random(f"p2p-{seed}")
    root = assets["work"] / "p2p"
    content, torrents = root / "content", root / "torrents"
    content.mkdir(parents=True, exist_ok=True)
    torrents.mkdir(parents=True, exist_ok=True)
    names = ["linux-distro.iso", "lecture-recording.mkv", "dataset-2024.tar",
             "podcast-archive.zip", "game-patch.bin", "photos-trip.7z"]
    out = []
    for name in names:
        size = int(rng.lognormvariate(14.8, 0.9)) + (256 << 10)  # ~0.3 to 20 MB
        (content / name).write_bytes(rng.randbytes(min(size, 24 << 20)))
        scheme = rng.choice(["http", "http", "udp"])
        url = (f"http://{tracker_ip}:{TRACKER_PORT}/announce" if scheme == "http"
               else f"udp://{tracker_ip}:{TRACKER_PORT}")
        t = torrents / f"{name}.torrent"
        t.unlink(missing_ok=True)
        subprocess.run(["mktorrent", "-a", url, "-l", str(rng.choice([16, 17, 18])), "-t", "1",
                        "-o", str(t), str(content / name)], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        out.append(str(t))
    # Debian's opentracker serves only the torrents on its whitelist (info hashes in hex)
    info = subprocess.run(["aria2c", "-S", *out], check=True, capture_output=True, text=True)
    hashes = re.findall(r"^Info Hash: ([0-9a-f]{40})$", info.stdout, re.MULTILINE)
    if len(hashes) != len(out):
        raise LabError(f"aria2c -S gave {len(hashes)} info hashes for {len(out)} torrents")
    (root / "whitelist").write_text("".join(f"{h}\n" for h in hashes))
    return {"content": str(content), "torrents": out, "whitelist": str(root / "whitelist")}


def start_tracker(lab: Lab, host: Host, assets: dict, off: dict, limit: float) -> None:
    """opentracker on the host's lab address, HTTP and UDP announces on 6969."""
    check_target(host.ip)
    d = off["public"] / "opentracker"  # it chroots here and drops to nobody
    d.mkdir(exist_ok=True)
    whitelist = d / "whitelist"
    shutil.copyfile(assets["p2p"]["whitelist"], whitelist)
    lab.spawn(host, ["opentracker", "-i", host.ip, "-p", str(TRACKER_PORT), "-P",
                     str(TRACKER_PORT), "-d", str(d), "-u", "nobody",
                     # read after the chroot into d
                     "-w", f"/{whitelist.name}"],
              limit,
              log=assets["work"] / "opentracker.log")
    wait_port(lab, host, TRACKER_PORT, "tcp", limit=15)


def start_turn(lab: Lab, host: Host, assets: dict, off: dict, limit: float) -> None:
    """coturn as the calls' STUN/TURN server (long-term credentials, no TLS), relaying on the
    host's lab address, and ``turnutils_peer`` as the far end of relayed calls."""
    check_target(host.ip)
    work = assets["work"]
    lab.spawn(host, ["turnserver", "-n", "--listening-ip", host.ip, "--relay-ip", host.ip,
                     "--listening-port", str(TURN_PORT), "--min-port", "49152",
                     "--max-port", "49500", "--lt-cred-mech", "--user",
                     f"{TURN_USER}:{TURN_PASS}", "--realm", TURN_REALM, "--no-tls", "--no-dtls",
                     "--no-cli", "--userdb", str(work / "turndb"), "--log-file", "stdout",
                     "--simple-log", "--pidfile", str(work / "turnserver.pid")], limit,
              log=work / "turnserver.log")
    lab.spawn(host, ["turnutils_peer", "-L", host.ip, "-p", str(PEER_PORT)], limit,
              log=work / "turnutils_peer.log")
    wait_port(lab, host, TURN_PORT, "udp", limit=15)
    try:
        wait_port(lab, host, PEER_PORT, "udp", limit=10)
    except LabError as exc:
        raise LabError(f"turnutils_peer did not start on {host.name}") from exc


def user_config(assets: dict, tracker_ip: str, seeders: list[str]) -> dict:
    """The part of a benign user's config the ``p2p`` and ``seeder`` activities read."""
    p2p = assets["p2p"]
    return {"p2p": {"torrents": p2p["torrents"],
                    "content": p2p["content"], "seeders": seeders, "seed_port": SEED_PORT,
                    "turn": tracker_ip, "turn_port": TURN_PORT, "peer_port": PEER_PORT,
                    "turn_user": TURN_USER, "turn_pass": TURN_PASS}}
