"""A benign user, run inside one client namespace: real clients with human-like pacing.

Usage (the orchestrator starts it): ``python3 benign.py CONFIG.json``. The config names the
lab servers, accounts, seed, duration and activity profile. Every tool call is bounded by
``timeout``; the whole worker stops at its deadline.
"""

from __future__ import annotations

import ipaddress
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter

LAB_NET = ipaddress.ip_network("10.213.0.0/16")
SSH_OPTS = ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "LogLevel=ERROR", "-o", "PubkeyAuthentication=no",
            "-o", "PreferredAuthentications=password", "-o", "ConnectTimeout=5"]
USER_AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/119.0 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 13_5) AppleWebKit/605.1.15 Version/17.0 Safari/605.1",
]
SEARCH_TERMS = ["widget", "blue", "Widget 1", "gift", "cable", "7", "deluxe", ""]
DNS_NAMES = ["www", "intranet", "cdn", "files", "app", "dns", "mail", "printer", "wiki",
             "www.lab.internal", "files.lab.internal", "nosuchhost", "updates", "time"]


class User:
    def __init__(self, cfg: dict):
        self.cfg = cfg
        self.rng = random.Random(cfg["seed"])
        self.deadline = time.time() + cfg["duration"]
        self.done: Counter = Counter()
        self.bg: list[subprocess.Popen] = []
        self.tmp = tempfile.mkdtemp(prefix="idslab-user-")
        self.upload = os.path.join(self.tmp, "up.bin")
        with open(self.upload, "wb") as f:
            f.write(self.rng.randbytes(self.rng.randint(5_000, 300_000)))
        self.pages = cfg["pages"]
        for ip in cfg["server_ips"]:
            if ipaddress.ip_address(ip) not in LAB_NET:
                raise SystemExit(f"refusing non-lab server {ip}")

    # -- helpers ----------------------------------------------------------------------------
    def left(self) -> float:
        return self.deadline - time.time()

    def sh(self, cmd: list[str], limit: float = 30, stdin: bytes | None = None) -> int:
        limit = max(1.0, min(limit, self.left() + 2))
        try:
            r = subprocess.run(["timeout", "-k", "2", f"{limit:.0f}", *cmd], input=stdin,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               timeout=limit + 5)
            return r.returncode
        except subprocess.TimeoutExpired:
            return -1

    def think(self, median: float | None = None) -> None:
        m = median if median is not None else self.cfg["think"]
        t = min(self.rng.lognormvariate(0, 0.8) * m, 6 * m, max(0.0, self.left()))
        time.sleep(t)

    def account(self) -> tuple[str, str]:
        return tuple(self.rng.choice(self.cfg["accounts"]))

    def ua(self) -> str:
        return self.rng.choice(USER_AGENTS)

    # -- activities -----------------------------------------------------------------------
    def web_page(self) -> None:
        page, resources = self.rng.choice(self.pages)
        scheme = self.rng.choice(["http", "https", "https"])
        host = self.rng.choice(["www.lab.internal", "intranet", "cdn.lab.internal"])
        base = f"{scheme}://{host}"
        urls = [f"{base}/{page}"] + [f"{base}/{r}" for r in resources]
        style = self.rng.random()
        common = ["-s", "-k", "-A", self.ua(), "--max-time", "20"]
        outs = sum((["-o", "/dev/null", u] for u in urls), [])
        if style < 0.25:  # one keep-alive connection for the whole page
            self.sh(["curl", *common, *outs], 30)
        elif style < 0.6:  # a browser-like burst of parallel connections
            self.sh(["curl", *common, "--parallel", "--parallel-max",
                     str(self.rng.randint(2, 6)), *outs], 30)
        elif style < 0.7 and scheme == "http":
            self.sh(["wget", "-q", "-p", "-U", self.ua(), "-e", "robots=off", "-P", self.tmp,
                     "--delete-after", urls[0]], 30)
        else:  # page then resources one by one with short pauses, new connections
            for u in urls[: self.rng.randint(2, 10)]:
                self.sh(["curl", *common, "-o", "/dev/null", "--no-keepalive", u], 20)
                time.sleep(self.rng.uniform(0.02, 0.4))
        self.done["web"] += 1

    def browse(self) -> None:
        """Several pages in a row, reading each for a moment."""
        for _ in range(self.rng.randint(2, 5)):
            self.web_page()
            time.sleep(self.rng.uniform(0.3, 3.0))
            if self.left() < 1:
                break

    def download(self) -> None:
        f = f"files/doc{self.rng.randrange(8)}.pdf"
        rate = self.rng.choice(["200k", "500k", "1M", "5M"])
        self.sh(["curl", "-s", "-k", "-o", "/dev/null", "--limit-rate", rate, "-A", self.ua(),
                 f"https://www.lab.internal/{f}"], 40)
        self.done["download"] += 1

    def api_poll(self) -> None:
        n = self.rng.randint(2, 6)
        for _ in range(n):
            self.sh(["curl", "-s", "-o", "/dev/null", "-H", "Accept: application/json",
                     f"http://intranet/api/status?t={self.rng.randrange(10**6)}"], 10)
            time.sleep(self.rng.uniform(1, 4))
            if self.left() < 0:
                break
        self.done["api"] += 1

    def shop(self) -> None:
        base = "http://app.lab.internal:8080"
        s = ["curl", "-s", "-o", "/dev/null", "-A", self.ua(), "--max-time", "10"]
        self.sh([*s, f"{base}/", "-o", "/dev/null", f"{base}/static/style.css"], 15)
        self.think(1.0)
        r = self.rng.random()
        if r < 0.4:
            self.sh([*s, f"{base}/item?id={self.rng.randint(1, 59)}"], 10)
        elif r < 0.7:
            term = self.rng.choice(SEARCH_TERMS)
            self.sh([*s, "-G", "--data-urlencode", f"q={term}", f"{base}/search"], 10)
        else:
            user, pw = self.rng.choice(self.cfg["app_accounts"])
            if self.rng.random() < 0.15:  # a legitimate user mistyping the password
                pw = pw[:-1] + "x"
            self.sh([*s, "-d", f"username={user}&password={pw}", f"{base}/login"], 10)
        self.done["shop"] += 1

    def dns(self) -> None:
        for _ in range(self.rng.randint(2, 8)):
            name = self.rng.choice(DNS_NAMES)
            qtype = self.rng.choices(["A", "A", "A", "MX", "TXT", "AAAA"], k=1)[0]
            if self.rng.random() < 0.15:
                self.sh(["dig", "+time=1", "+tries=1", "-x",
                         self.rng.choice(self.cfg["server_ips"])], 5)
            else:  # now and then over TCP, as resolvers do after a truncated answer
                tcp = ["+tcp"] if self.rng.random() < 0.05 else []
                self.sh(["dig", "+time=1", "+tries=1", *tcp, name, qtype], 5)
            time.sleep(self.rng.uniform(0.05, 1.0))
        self.done["dns"] += 1

    def ping(self) -> None:
        self.sh(["ping", "-q", "-c", str(self.rng.randint(1, 4)), "-i", "0.5",
                 self.rng.choice(self.cfg["server_ips"])], 8)
        self.done["ping"] += 1

    def ssh_session(self) -> None:
        user, pw = self.account()
        host = self.rng.choice(self.cfg["ssh_hosts"])
        cmds = self.rng.sample(["ls -la", "uptime", "cat notes.txt", "df -h", "whoami",
                                "ps aux | head", "date", "echo hello", "wc -c report.bin",
                                "head -3 notes.txt", "id"], self.rng.randint(2, 6))
        # interactive: commands typed with pauses, as a person would
        script = "".join(f"sleep {self.rng.uniform(0.5, 4):.1f}; {c}; " for c in cmds) + "exit"
        if self.rng.random() < 0.6:
            self.sh(["sshpass", "-p", pw, "ssh", "-tt", *SSH_OPTS, f"{user}@{host}", script], 45)
        else:
            self.sh(["sshpass", "-p", pw, "ssh", *SSH_OPTS, f"{user}@{host}",
                     self.rng.choice(cmds)], 20)
        self.done["ssh"] += 1

    def ssh_failed(self) -> None:
        user, pw = self.account()
        host = self.rng.choice(self.cfg["ssh_hosts"])
        self.sh(["sshpass", "-p", pw + "1", "ssh", *SSH_OPTS, "-o", "NumberOfPasswordPrompts=1",
                 f"{user}@{host}", "true"], 15)
        self.think(2)
        self.sh(["sshpass", "-p", pw, "ssh", *SSH_OPTS, f"{user}@{host}", "true"], 15)
        self.done["ssh_failed"] += 1

    def scp(self) -> None:
        user, pw = self.account()
        host = self.rng.choice(self.cfg["ssh_hosts"])
        if self.rng.random() < 0.5:
            self.sh(["sshpass", "-p", pw, "scp", "-q", *SSH_OPTS, f"{user}@{host}:report.bin",
                     os.path.join(self.tmp, "dl.bin")], 30)
        elif self.rng.random() < 0.5:
            self.sh(["sshpass", "-p", pw, "scp", "-q", *SSH_OPTS, self.upload,
                     f"{user}@{host}:upload/from-{self.cfg['name']}.bin"], 30)
        else:
            batch = b"ls\nget notes.txt " + self.tmp.encode() + b"/n.txt\nput " + \
                self.upload.encode() + b" upload/sftp.bin\nbye\n"
            self.sh(["sshpass", "-p", pw, "sftp", "-q", *SSH_OPTS, "-b", "-", f"{user}@{host}"],
                    30, stdin=batch)
        self.done["scp"] += 1

    def ftp(self) -> None:
        user, pw = self.account()
        host = self.rng.choice(self.cfg["ftp_hosts"])
        failed = self.rng.random() < 0.08
        if failed:
            pw = pw + "!"
        ops = self.rng.choice([
            "ls; get notes.txt -o {t}/f.txt",
            "get report.bin -o {t}/r.bin",
            "put {up} -o upload/ftp-{n}.bin; ls upload",
            "ls; get report.bin -o {t}/r.bin; put {up} -o upload/ftp2-{n}.bin",
        ]).format(t=self.tmp, up=self.upload, n=self.cfg["name"])
        self.sh(["lftp", "-u", f"{user},{pw}", "-e",
                 f"set net:max-retries 1; set net:timeout 5; set ftp:passive-mode on; {ops}; bye",
                 host], 40)
        self.done["ftp_failed" if failed else "ftp"] += 1

    def idle_keepalive(self) -> None:
        if sum(p.poll() is None for p in self.bg) >= 2:
            return
        user, pw = self.account()
        host = self.rng.choice(self.cfg["ssh_hosts"])
        hold = self.rng.randint(30, 150)
        hold = int(max(5, min(hold, self.left() - 3)))
        p = subprocess.Popen(["timeout", "-k", "2", str(hold + 10), "sshpass", "-p", pw, "ssh",
                              *SSH_OPTS, "-o", "ServerAliveInterval=10", f"{user}@{host}",
                              f"sleep {hold}"], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        self.bg.append(p)
        self.done["idle"] += 1

    def run(self) -> None:
        acts = self.cfg["weights"]
        names = list(acts)
        weights = [acts[n] for n in names]
        try:
            time.sleep(self.rng.uniform(0, min(5, self.cfg["duration"] / 4)))
            while self.left() > 1:
                getattr(self, self.rng.choices(names, weights)[0])()
                self.think()
        finally:  # also on SIGTERM (SystemExit), which is how the lab's teardown ends a user
            for p in self.bg:
                if p.poll() is None:
                    p.terminate()
            for p in self.bg:
                try:
                    p.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    p.kill()
            shutil.rmtree(self.tmp, ignore_errors=True)
        print(json.dumps({"user": self.cfg["name"], "done": dict(self.done)}), flush=True)


PROFILES = {
    # office worker: mostly web and DNS, some files
    "office": {"web_page": 20, "browse": 12, "dns": 12, "shop": 10, "api_poll": 5,
               "download": 4, "ftp": 6, "ssh_session": 4, "scp": 4, "ssh_failed": 1,
               "idle_keepalive": 2, "ping": 2},
    # admin: more ssh, ftp and transfers
    "admin": {"web_page": 8, "browse": 4, "dns": 8, "shop": 3, "api_poll": 3, "download": 3,
              "ftp": 10, "ssh_session": 14, "scp": 10, "ssh_failed": 2, "idle_keepalive": 4,
              "ping": 4},
    # smoke: quick, web + dns + ssh
    "smoke": {"web_page": 5, "dns": 3, "ssh_session": 1, "api_poll": 1},
    # probe: web, dns and the shop (the probe scenario has no ssh or ftp server)
    "probe": {"web_page": 5, "dns": 3, "shop": 3, "api_poll": 1},
}


def main() -> int:
    cfg = json.loads(open(sys.argv[1]).read())
    if isinstance(cfg.get("weights"), str):
        cfg["weights"] = PROFILES[cfg["weights"]]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    User(cfg).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
