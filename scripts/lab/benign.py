"""A benign user, run inside one client namespace: real clients with human-like pacing.

Usage (the orchestrator starts it): ``python3 benign.py CONFIG.json``. The config names the
lab servers, accounts, seed, duration and activity profile. Every tool call is bounded by
``timeout``; the whole worker stops at its deadline.
"""

from __future__ import annotations

import imaplib
import ipaddress
import json
import os
import poplib
import random
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from http.client import HTTPConnection

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
        #: the time daemon (``ntp_daemon``), also in ``bg``; ``None`` until started
        self.ntpd: subprocess.Popen | None = None
        self.tmp = tempfile.mkdtemp(prefix="idslab-user-")
        self.upload = os.path.join(self.tmp, "up.bin")
        with open(self.upload, "wb") as f:
            f.write(self.rng.randbytes(self.rng.randint(5_000, 300_000)))
        self.pages = cfg["pages"]
        self.svc = cfg.get("svc", {})
        p2p = cfg.get("p2p", {})
        for ip in [*cfg["server_ips"], *self.svc.values(), *p2p.get("seeders", []),
                   *([p2p["turn"]] if p2p else [])]:
            if ipaddress.ip_address(ip) not in LAB_NET:
                raise SystemExit(f"refusing non-lab server {ip}")

    # -- helpers ----------------------------------------------------------------------------
    def left(self) -> float:
        return self.deadline - time.time()

    def sh(self, cmd: list[str], limit: float = 30, stdin: bytes | None = None,
           env: dict | None = None, cwd: str | None = None) -> int:
        limit = max(1.0, min(limit, self.left() + 2))
        try:
            r = subprocess.run(["timeout", "-k", "2", f"{limit:.0f}", *cmd], input=stdin,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               timeout=limit + 5, env={**os.environ, **env} if env else None,
                               cwd=cwd)
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
        if sum(p.poll() is None and p is not self.ntpd for p in self.bg) >= 2:
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

    # -- office and server-room services (issue 32) -------------------------------------------
    def ip(self) -> str:
        """This host's own address (for tools that must be told it): no packet is sent."""
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.connect((self.cfg["server_ips"][0], 9))
            return s.getsockname()[0]
        finally:
            s.close()

    def has(self, *names: str) -> bool:
        return all(n in self.svc for n in names)

    def web_clients(self) -> None:
        """Plain HTTP/1.0 and 1.1 from other clients than curl's defaults: curl -0, python's
        urllib and http.client (1.0), wget, and a headless browser where one is installed."""
        page, resources = self.rng.choice(self.pages)
        base = "http://" + self.rng.choice(["www.lab.internal", "intranet", "cdn.lab.internal"])
        how = self.rng.random()
        if how < 0.25:
            urls = [f"{base}/{page}"] + [f"{base}/{r}" for r in resources[:self.rng.randint(1, 8)]]
            self.sh(["curl", "-s", "-0", "-A", self.ua(), *sum((["-o", "/dev/null", u]
                                                                for u in urls), [])], 30)
        elif how < 0.5:
            extra = [f"{base}/{r}" for r in resources[:self.rng.randint(0, 5)]]
            for u in [f"{base}/{page}", *extra]:
                try:
                    req = urllib.request.Request(u, headers={"User-Agent": "Python-urllib/3.11"})
                    with urllib.request.urlopen(req, timeout=10) as resp:
                        resp.read()
                except OSError:
                    pass
                time.sleep(self.rng.uniform(0.05, 0.5))
        elif how < 0.7:
            host = base.split("//")[1]
            try:
                c = HTTPConnection(host, 80, timeout=10)
                c._http_vsn, c._http_vsn_str = 10, "HTTP/1.0"
                c.request("GET", f"/{page}", headers={"User-Agent": "Mozilla/4.0 (compatible)"})
                c.getresponse().read()
                c.close()
            except OSError:
                pass
        elif how < 0.85 or not shutil.which("chromium"):
            self.sh(["wget", "-q", "-O", "/dev/null", "-U", "Wget/1.21.3", "--limit-rate",
                     self.rng.choice(["100k", "300k", "1m"]),
                     f"{base}/files/doc{self.rng.randrange(8)}.pdf"], 40)
        else:  # a real browser engine: its own connection pool, parallelism and headers
            prof = os.path.join(self.tmp, "chromium")
            self.sh(["chromium", "--headless", "--no-sandbox", "--disable-gpu",
                     "--ignore-certificate-errors", f"--user-data-dir={prof}",
                     "--disable-background-networking", "--disable-component-update",
                     "--disable-sync", "--no-first-run", "--disable-default-apps",
                     "--disable-domain-reliability", "--metrics-recording-only",
                     "--no-pings", "--dump-dom",
                     f"{self.rng.choice(['http', 'https'])}://www.lab.internal/{page}"], 45)
        self.done["web_clients"] += 1

    def websocket(self) -> None:
        if not self.has("infra"):
            return
        self.sh([self.cfg["pyexe"], self.cfg["labsvc"], "ws-client", "--host", self.svc["infra"],
                 "--port", str(self.cfg.get("ws_port", 8765)), "--user", self.cfg["name"],
                 "--seed", str(self.rng.randrange(1 << 30)),
                 "--seconds", f"{self.rng.uniform(5, 90):.0f}"], 100)
        self.done["websocket"] += 1

    def ftp_big(self) -> None:
        """Large FTP transfers, active or passive mode, downloads and uploads."""
        user, pw = self.account()
        host = self.rng.choice(self.cfg["ftp_hosts"])
        passive = "on" if self.rng.random() < 0.5 else "off"
        f = self.rng.choice(["install-image.iso", "quarterly-report.zip", "db-dump.sql.gz",
                             "quarterly-report.zip"])
        ops = self.rng.choice([f"get big/{f} -o {self.tmp}/big.bin",
                               f"cls -l big; get big/{f} -o {self.tmp}/big.bin",
                               f"put {self.upload} -o upload/big-{self.cfg['name']}.bin; "
                               f"get big/db-dump.sql.gz -o {self.tmp}/d.bin"])
        self.sh(["lftp", "-u", f"{user},{pw}", "-e", f"set net:max-retries 1; set net:timeout 8; "
                 f"set ftp:passive-mode {passive}; {ops}; bye", host], 150)
        self._rm("big.bin", "d.bin")
        self.done[f"ftp_big_{'passive' if passive == 'on' else 'active'}"] += 1

    def _rm(self, *names: str) -> None:
        for n in names:
            try:
                os.unlink(os.path.join(self.tmp, n))
            except OSError:
                pass

    def smb(self) -> None:
        if not self.has("nas"):
            return
        user, pw = self.account()
        nas = self.svc["nas"]
        r = self.rng.random()
        proto = ["-m", self.rng.choice(["SMB3", "SMB3", "SMB2"])]
        if r < 0.45:
            doc = f"doc-{self.rng.randrange(15):03d}.docx"
            cmds = self.rng.choice([f"ls; get {doc} {self.tmp}/s.docx",
                                    f"cd .; ls; get {doc} {self.tmp}/s.docx; "
                                    f"put {self.upload} from-{self.cfg['name']}.bin; ls",
                                    "ls; dir"])
            self.sh(["smbclient", f"//{nas}/shared", "-U", f"{user}%{pw}", *proto, "-c", cmds], 60)
        elif r < 0.65:
            self.sh(["smbclient", f"//{nas}/public", "-N", *proto, "-c",
                     f"get {self.rng.choice(['quarterly-report.zip', 'db-dump.sql.gz'])} "
                     f"{self.tmp}/p.bin"], 120)
        elif r < 0.8:
            self.sh(["smbclient", f"//{nas}/scans", "-N", *proto, "-c",
                     f"put {self.upload} scan-{self.rng.randrange(10**6)}.pdf"], 40)
        elif r < 0.9:
            self.sh(["smbclient", "-L", nas, "-U", f"{user}%{pw}", *proto], 30)
        else:  # a mistyped password, then the right one
            self.sh(["smbclient", f"//{nas}/shared", "-U", f"{user}%{pw}x", *proto, "-c", "ls"], 20)
            self.think(2)
            self.sh(["smbclient", f"//{nas}/shared", "-U", f"{user}%{pw}", *proto, "-c", "ls"], 20)
        self._rm("s.docx", "p.bin")
        self.done["smb"] += 1

    def rsync(self) -> None:
        if not self.has("nas"):
            return
        nas = self.svc["nas"]
        dst = os.path.join(self.tmp, "rs")
        if self.rng.random() < 0.5:  # the software mirror, from the rsync daemon
            sub = self.rng.choice(["tools", "drivers", "fonts", "docs", ""])
            self.sh(["rsync", "-a", "--timeout=30", f"rsync://{nas}/software/{sub}", dst], 90)
            self.done["rsync_daemon"] += 1
        else:  # a user's files to the NAS over ssh
            user, pw = self.account()
            ssh = "sshpass -p " + pw + " ssh " + " ".join(SSH_OPTS)
            self.sh(["rsync", "-a", "--timeout=30", "-e", ssh, self.upload,
                     f"{user}@{nas}:upload/rsync-{self.cfg['name']}.bin"], 90)
            self.done["rsync_ssh"] += 1
        shutil.rmtree(dst, ignore_errors=True)

    def mail_send(self) -> None:
        if not self.has("mail"):
            return
        user, pw = self.account()
        to = self.rng.choice([u for u, _ in self.cfg["accounts"]])
        mail = self.svc["mail"]
        body = " ".join(self.rng.choice(["meeting", "report", "please", "review", "thanks",
                                         "lunch", "invoice", "update", "draft"])
                        for _ in range(int(self.rng.lognormvariate(4, 1)) + 5))
        cmd = ["swaks", "--server", mail, "--from", f"{user}@lab.internal",
               "--to", f"{to}@lab.internal", "--h-Subject", f"re: {body[:30]}", "--body", body,
               "--timeout", "20"]
        how = self.rng.random()
        if how < 0.45:   # submission: STARTTLS and AUTH on 587, as mail clients send
            cmd += ["--port", "587", "-tls", "--auth", "LOGIN", "--auth-user", user,
                    "--auth-password", pw]
        elif how < 0.7:  # port 25 with opportunistic STARTTLS (server to server)
            cmd += ["--port", "25", "-tlso"]
        else:            # plain SMTP on 25 (an old scanner or a script)
            cmd += ["--port", "25"]
        if self.rng.random() < 0.3:
            cmd += ["--attach", "@" + self.upload]
        self.sh(cmd, 40)
        self.done["mail_send"] += 1

    def mail_read(self) -> None:
        if not self.has("mail"):
            return
        user, pw = self.account()
        mail = self.svc["mail"]
        ctx = ssl.create_default_context()
        ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
        how = self.rng.random()
        try:
            if how < 0.55:
                kind = self.rng.choice(["imap", "imap-starttls", "imaps", "imaps"])
                if kind == "imaps":
                    m = imaplib.IMAP4_SSL(mail, 993, ssl_context=ctx, timeout=15)
                else:
                    m = imaplib.IMAP4(mail, 143, timeout=15)
                    if kind == "imap-starttls":
                        m.starttls(ssl_context=ctx)
                m.login(user, pw)
                m.select("INBOX")
                _, data = m.search(None, "ALL")
                ids = data[0].split()
                for i in self.rng.sample(ids, min(len(ids), self.rng.randint(0, 5))):
                    m.fetch(i, "(RFC822)" if self.rng.random() < 0.6 else "(BODY.PEEK[HEADER])")
                    time.sleep(self.rng.uniform(0.2, 3.0))
                if self.rng.random() < 0.3:  # the client keeps the folder open a while
                    m.noop()
                    time.sleep(min(self.rng.uniform(5, 30), max(0.0, self.left())))
                    m.noop()
                m.logout()
                self.done[kind] += 1
            else:
                kind = self.rng.choice(["pop3", "pop3s"])
                p = poplib.POP3_SSL(mail, 995, context=ctx, timeout=15) if kind == "pop3s" \
                    else poplib.POP3(mail, 110, timeout=15)
                p.user(user)
                p.pass_(pw)
                n, _ = p.stat()
                for i in range(1, min(n, self.rng.randint(1, 4)) + 1):
                    p.retr(i)
                p.quit()
                self.done[kind] += 1
        except (OSError, imaplib.IMAP4.error, poplib.error_proto):
            self.done["mail_read_failed"] += 1

    def ldap(self) -> None:
        if not self.has("dc"):
            return
        user, pw = self.account()
        base = "dc=lab,dc=internal"
        uri = ["-H", f"ldap://{self.svc['dc']}"]
        tls = ["-ZZ"] if self.rng.random() < 0.3 else []
        env = {"LDAPTLS_REQCERT": "never"}
        q = self.rng.choice([
            [f"(uid={user})", "cn", "mail", "departmentNumber"],
            ["(&(objectClass=posixGroup)(memberUid=" + user + "))", "cn"],
            ["(objectClass=device)"],
            [f"(departmentNumber={self.rng.choice(['fin', 'hr', 'eng', 'ops', 'it'])})",
             "cn", "mail", "telephoneNumber"],
            ["(mail=*)", "mail"]])
        if self.rng.random() < 0.5:  # bind as the user (a login check), then search
            self.sh(["ldapwhoami", "-x", *uri, *tls, "-D", f"uid={user},ou=people,{base}",
                     "-w", pw], 10, env=env)
            self.sh(["ldapsearch", "-x", "-LLL", *uri, *tls, "-D", f"uid={user},ou=people,{base}",
                     "-w", pw, "-b", base, *q], 15, env=env)
        else:
            self.sh(["ldapsearch", "-x", "-LLL", *uri, *tls, "-b", base, *q], 15, env=env)
        self.done["ldap"] += 1

    def kerberos(self) -> None:
        if not self.has("dc") or not self.cfg.get("krb5_conf"):
            return
        user, pw = self.account()
        cc = os.path.join(self.tmp, "krb5cc")
        conf = self.cfg["krb5_conf_tcp"] if self.rng.random() < 0.3 else self.cfg["krb5_conf"]
        env = {"KRB5_CONFIG": conf, "KRB5CCNAME": f"FILE:{cc}"}
        if self.rng.random() < 0.1:  # a mistyped password first
            self.sh(["kinit", user], 15, stdin=(pw + "x\n").encode(), env=env)
            self.think(2)
        self.sh(["kinit", user], 15, stdin=(pw + "\n").encode(), env=env)
        for svc in self.rng.sample(["host/files.lab.internal", "cifs/nas.lab.internal",
                                    "HTTP/intranet.lab.internal", "imap/mail.lab.internal",
                                    "ldap/dc.lab.internal", "postgres/db.lab.internal"],
                                   self.rng.randint(1, 3)):
            self.sh(["kvno", svc], 10, env=env)
            time.sleep(self.rng.uniform(0.1, 2.0))
        self.sh(["kdestroy"], 5, env=env)
        self.done["kerberos"] += 1

    def database(self) -> None:
        if not self.has("db"):
            return
        db = self.svc["db"]
        u, p = self.cfg["db_user"], self.cfg["db_pass"]
        r = self.rng.random()
        if r < 0.4:
            q = self.rng.choice([
                f"SELECT * FROM items WHERE id={self.rng.randint(1, 2000)}",
                "SELECT name, qty, price FROM items "
                f"WHERE cat='{self.rng.choice(['tools', 'it'])}'",
                "SELECT cat, COUNT(*), SUM(qty*price) FROM items GROUP BY cat",
                f"INSERT INTO orders (item, qty) VALUES ({self.rng.randint(1, 2000)}, "
                f"{self.rng.randint(1, 9)})", "SELECT * FROM items"])
            self.sh(["mariadb", "-h", db, "-u", u, f"-p{p}", "--connect-timeout=5", "inventory",
                     "-e", q], 20)
            self.done["mariadb"] += 1
        elif r < 0.75:
            q = self.rng.choice([
                f"SELECT * FROM assets WHERE id={self.rng.randint(1, 3000)}",
                "SELECT kind, count(*), avg(cost) FROM assets GROUP BY kind",
                f"SELECT * FROM assets WHERE dept='{self.rng.choice(['fin', 'hr', 'eng'])}'",
                "SELECT * FROM assets"])
            self.sh(["psql", f"host={db} port=5432 user={u} dbname=assets connect_timeout=5",
                     "-q", "-c", q], 20, env={"PGPASSWORD": p, "PGSSLMODE":
                                              self.rng.choice(["disable", "prefer"])})
            self.done["postgresql"] += 1
        else:
            key = f"session:{self.cfg['name']}:{self.rng.randrange(100)}"
            cmds = self.rng.choice([
                [["SET", key, "x" * self.rng.randint(10, 3000), "EX", "600"], ["GET", key]],
                [["INCR", "counter:logins"], ["LPUSH", "queue:jobs", key], ["LLEN", "queue:jobs"]],
                [["HSET", f"user:{self.cfg['name']}", "last", str(int(time.time()))],
                 ["HGETALL", f"user:{self.cfg['name']}"], ["KEYS", "session:*"]]])
            for c in cmds:
                self.sh(["redis-cli", "-h", db, "-p", "6379", *c], 8)
                time.sleep(self.rng.uniform(0.01, 0.5))
            self.done["redis"] += 1

    def ntp(self) -> None:
        if not self.has("dc"):
            return
        dc = self.svc["dc"]
        # queries only: neither tool is allowed to set the (shared) clock
        if self.rng.random() < 0.5:
            self.sh(["ntpdig", "-t", "2", "-c", "1", dc], 10)
        else:
            self.sh(["chronyd", "-Q", "-t", "8", f"pidfile {self.tmp}/chronyd.pid",
                     f"server {dc} iburst maxsamples {self.rng.randint(2, 4)}"], 12)
        self.done["ntp"] += 1

    def ntp_daemon(self) -> None:
        """A time daemon's polls, as ntpd, chronyd with ``acquisitionport 123`` and Windows'
        w32time send them: from port 123 to the office's time server every 16-64 s (after four
        quick ones with ``iburst``, in half the daemons) for as long as the user works, so
        nfstream sees one flow of a few packets over minutes (``ntp`` is the one-shot query).
        Started once per user, in the background, bounded by the user's time; chronyd's
        ``-x``: it never sets the (shared) clock, and ``port 0``: it serves no one."""
        if not self.has("dc") or self.ntpd is not None:
            return
        hold = int(self.left() - 3)
        if hold < 20:
            return
        conf = os.path.join(self.tmp, "chrony-client.conf")
        with open(conf, "w") as f:
            f.write(f"server {self.svc['dc']} {self.rng.choice(['iburst ', ''])}"
                    f"minpoll {self.rng.choice([4, 5, 6])} maxpoll 6\n"
                    "acquisitionport 123\nport 0\ncmdport 0\n"
                    f"pidfile {self.tmp}/chronyd-client.pid\n")
        self.ntpd = subprocess.Popen(["timeout", "-k", "2", str(hold), "chronyd", "-x", "-d",
                                      "-f", conf], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        self.bg.append(self.ntpd)
        self.done["ntp_daemon"] += 1

    def syslog(self) -> None:
        if not self.has("infra"):
            return
        tcp = self.rng.random() < 0.4
        for _ in range(self.rng.randint(1, 6)):
            msg = self.rng.choice(["session opened for user", "backup completed", "disk usage 71%",
                                   "printer out of paper", "login failure for user guest",
                                   "service restarted", "cron job finished"])
            self.sh(["logger", "-n", self.svc["infra"], "-P", "514", "--tcp" if tcp else "--udp",
                     *(["--rfc5424"] if self.rng.random() < 0.5 else ["--rfc3164"]),
                     "-t", self.rng.choice(["app", "sshd", "cron", "backup", "kernel"]),
                     "-p", self.rng.choice(["user.info", "auth.notice", "daemon.warning"]),
                     f"{self.cfg['name']}: {msg}"], 5)
            time.sleep(self.rng.uniform(0.05, 2.0))
        self.done["syslog_tcp" if tcp else "syslog_udp"] += 1

    def mdns(self) -> None:
        """An mDNS browse, as desktops do for printers and shares: a multicast query to
        224.0.0.251:5353 (from 5353 or, as one-shot resolvers do, an ephemeral port)."""
        names = self.rng.sample(["_services._dns-sd._udp.local", "_ipp._tcp.local",
                                 "_smb._tcp.local", "_http._tcp.local", "_workstation._tcp.local",
                                 "_ssh._tcp.local", "_printer._tcp.local"], self.rng.randint(1, 3))
        q = struct.pack("!HHHHHH", 0, 0, len(names), 0, 0, 0)
        for n in names:
            q += b"".join(bytes([len(x)]) + x.encode() for x in n.split(".")) + b"\0"
            q += struct.pack("!HH", 12, 1)
        me = self.ip()
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(me))
            s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 255)
            if self.rng.random() < 0.5:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    s.bind((me, 5353))
                except OSError:
                    pass
            s.settimeout(0.5)
            for delay in (0, 1, 2)[: self.rng.randint(1, 3)]:
                time.sleep(delay)
                s.sendto(q, ("224.0.0.251", 5353))
                end = time.time() + 1.0
                while time.time() < end:
                    try:
                        s.recvfrom(9000)
                    except OSError:
                        break
        except OSError:
            pass
        finally:
            s.close()
        self.done["mdns"] += 1

    def mqtt(self) -> None:
        if not self.has("infra"):
            return
        b = self.svc["infra"]
        if self.rng.random() < 0.6:  # a dashboard: subscribe, read a while
            self.sh(["mosquitto_sub", "-h", b, "-t", self.rng.choice(["lab/#", "lab/+/temp",
                                                                      "lab/plant/#"]),
                     "-C", str(self.rng.randint(3, 40)), "-W", str(self.rng.randint(5, 40)),
                     "-i", f"dash-{self.cfg['name']}-{self.rng.randrange(1000)}"], 50)
        else:
            self.sh(["mosquitto_pub", "-h", b, "-t", f"lab/desk/{self.cfg['name']}",
                     "-q", str(self.rng.choice([0, 1])), "-m",
                     json.dumps({"occupied": self.rng.random() < 0.5})], 10)
        self.done["mqtt"] += 1

    def modbus(self) -> None:
        if not self.has("plc"):
            return
        self.sh([self.cfg["pyexe"], self.cfg["labsvc"], "modbus-client", "--host", self.svc["plc"],
                 "--count", str(self.rng.randint(2, 20)), "--interval",
                 f"{self.rng.uniform(0.3, 2.0):.1f}", "--seed", str(self.rng.randrange(1 << 30)),
                 "--seconds", "60"], 70)
        self.done["modbus"] += 1

    def sip(self) -> None:
        """A phone call through the PBX (sipp's UAC), with RTP from a G.711 recording half of
        the time."""
        if not self.has("infra"):
            return
        me = self.ip()
        d = os.path.join(self.tmp, "sip")
        os.makedirs(d, exist_ok=True)
        secs = int(self.rng.lognormvariate(2.5, 0.8)) + 2
        rtp = self.rng.random() < 0.5 and os.path.exists("/usr/share/sip-tester/g711a.pcap")
        if rtp and not os.path.exists(os.path.join(d, "pcap")):
            os.symlink("/usr/share/sip-tester", os.path.join(d, "pcap"))
        self.sh(["sipp", "-sn", "uac_pcap" if rtp else "uac", f"{self.svc['infra']}:5060",
                 "-i", me, "-p", str(self.rng.randint(5061, 5099)), "-mi", me,
                 "-mp", str(self.rng.randrange(16384, 16484, 2)),
                 "-s", str(self.rng.randint(100, 199)), "-m", "1", "-l", "1",
                 "-d", str(secs * 1000), "-nostdin", "-timeout", str(secs + 20)],
                secs + 30, cwd=d)
        self.done["sip"] += 1

    def vnc(self) -> None:
        if not self.has("infra"):
            return
        port = self.cfg.get("vnc_port", 5947)
        vncdo = os.path.join(os.path.dirname(self.cfg["pyexe"]), "vncdo")
        acts = []
        for _ in range(self.rng.randint(2, 8)):
            a = self.rng.random()
            if a < 0.4:
                acts += ["move", str(self.rng.randrange(1280)), str(self.rng.randrange(800)),
                         "click", "1"]
            elif a < 0.7:
                acts += ["type", self.rng.choice(["ls -la", "status", "hello", "report"])]
            elif a < 0.85:
                acts += ["capture", os.path.join(self.tmp, "screen.png")]
            acts += ["pause", f"{self.rng.uniform(0.3, 4):.1f}"]
        self.sh([vncdo, "-s", f"{self.svc['infra']}::{port}", *acts], 60)
        self._rm("screen.png")
        self.done["vnc"] += 1

    def snmp(self) -> None:
        """An admin looks at a server's SNMP data."""
        hosts = self.cfg.get("snmp_hosts") or []
        if not hosts:
            return
        h = self.rng.choice(hosts)
        oid = self.rng.choice(["1.3.6.1.2.1.1", "1.3.6.1.2.1.2.2", "1.3.6.1.2.1.25.2",
                               "1.3.6.1.2.1.4.20"])
        tool = "snmpbulkwalk" if self.rng.random() < 0.4 else "snmpwalk"
        self.sh([tool, "-v2c", "-c", "public", "-On", "-t", "1", "-r", "1", h, oid], 20)
        self.done["snmp"] += 1

    def dns2(self) -> None:
        """Lookups through the second resolver, which recurses to the lab DNS server."""
        if not self.has("dns2"):
            return
        for _ in range(self.rng.randint(1, 5)):
            name = self.rng.choice(DNS_NAMES + ["dc01.corp.lab.internal", "web01.corp.lab.internal",
                                                "mail", "nas", "db"])
            self.sh(["dig", f"@{self.svc['dns2']}", "+time=1", "+tries=1", name,
                     self.rng.choice(["A", "A", "MX", "TXT"])], 5)
            time.sleep(self.rng.uniform(0.05, 1.0))
        self.done["dns2"] += 1

    # -- infrastructure jobs (the monitoring server, backups, the secondary DNS, OT, IoT) -------
    def monitor(self) -> None:
        """One polling round of the monitoring server: SNMP gets on every agent (and a few
        hosts without one, which never answer), TCP service checks, HTTP health checks."""
        for h in self.cfg.get("snmp_hosts", []) + self.cfg.get("snmp_silent", []):
            self.sh(["snmpget", "-v2c", "-c", "monitor", "-On", "-t", "1", "-r", "0", h,
                     "1.3.6.1.2.1.1.3.0", "1.3.6.1.2.1.1.5.0", "1.3.6.1.2.1.2.2.1.10.2",
                     "1.3.6.1.2.1.2.2.1.16.2"], 5)
            time.sleep(self.rng.uniform(0.02, 0.3))
        if self.rng.random() < 0.3:
            h = self.rng.choice(self.cfg.get("snmp_hosts", []) or [self.svc["infra"]])
            self.sh(["snmpbulkwalk", "-v2c", "-c", "monitor", "-On", "-t", "1", "-r", "0", h,
                     "1.3.6.1.2.1.25"], 20)
        for ip, port in self.cfg.get("checks", []):
            self.sh(["nc", "-z", "-w", "2", ip, str(port)], 5)
            time.sleep(self.rng.uniform(0.01, 0.2))
        for url in ("http://www.lab.internal/", "https://www.lab.internal/api/status",
                    "http://app.lab.internal:8080/"):
            self.sh(["curl", "-s", "-k", "-o", "/dev/null", "-m", "5", "-A", "check_http/v2.3",
                     url], 8)
        if self.rng.random() < 0.5:
            self.syslog()
        if self.rng.random() < 0.3:
            self.ntp()
        self.done["monitor_round"] += 1

    def backup(self) -> None:
        """A backup job: files to the NAS's rsync daemon (bandwidth-limited, as backup jobs
        are), a user's home pulled over ssh, database dumps over the network."""
        nas, db = self.svc.get("nas"), self.svc.get("db")
        src = os.path.join(self.tmp, "bk")
        os.makedirs(src, exist_ok=True)
        for i in range(self.rng.randint(2, 6)):
            with open(os.path.join(src, f"part{i}.bin"), "wb") as f:
                f.write(self.rng.randbytes(self.rng.randint(200_000, 6_000_000)))
        what = self.rng.random()
        if nas and what < 0.5:
            bwlimit = self.rng.choice([2000, 5000, 20000])
            self.sh(["rsync", "-a", "--timeout=60", f"--bwlimit={bwlimit}",
                     src + "/", f"rsync://{self.cfg['rsync_user']}@{nas}/backup/"
                     f"{self.cfg['name']}-{self.rng.randrange(10**6)}/"], 240,
                    env={"RSYNC_PASSWORD": self.cfg["rsync_pass"]})
            self.done["backup_rsyncd"] += 1
        elif what < 0.75:
            user, pw = self.account()
            host = self.rng.choice(self.cfg["ssh_hosts"])
            ssh = "sshpass -p " + pw + " ssh " + " ".join(SSH_OPTS)
            self.sh(["rsync", "-a", "--timeout=60", "--bwlimit=10000", "-e", ssh,
                     f"{user}@{host}:big/", os.path.join(self.tmp, "pull") + "/"], 240)
            shutil.rmtree(os.path.join(self.tmp, "pull"), ignore_errors=True)
            self.done["backup_ssh"] += 1
        elif db:
            u, p = self.cfg["db_user"], self.cfg["db_pass"]
            self.sh(["sh", "-c", f"mariadb-dump -h {db} -u {u} -p{p} inventory > /dev/null"], 60)
            self.sh(["sh", "-c", f"pg_dump 'host={db} user={u} dbname=assets' > /dev/null"], 60,
                    env={"PGPASSWORD": p})
            self.done["backup_db_dump"] += 1
        shutil.rmtree(src, ignore_errors=True)

    def zone_sync(self) -> None:
        """The secondary DNS server keeping its copy of the primary's zones: SOA checks over
        UDP, and a full (AXFR) or incremental (IXFR, answered by a full) transfer when the
        serial moved. Legitimate, and the same packets as a zone-transfer reconnaissance."""
        dns = self.svc["dns"]
        for zone in ("corp.lab.internal", "dmz.lab.internal"):
            self.sh(["dig", f"@{dns}", "+time=2", "+tries=1", zone, "SOA"], 5)
            if self.done["zone_sync"] == 0 or self.rng.random() < 0.5:
                if self.rng.random() < 0.6:
                    kind = "AXFR"
                else:
                    kind = f"IXFR={self.rng.randint(2020010101, 2024010101)}"
                self.sh(["dig", f"@{dns}", "+time=5", "+tries=1", zone, kind], 15)
                self.done["zone_transfer"] += 1
            time.sleep(self.rng.uniform(0.2, 2.0))
        self.done["zone_sync"] += 1

    def hmi(self) -> None:
        """A SCADA HMI polling the PLC on one long Modbus/TCP connection."""
        if not self.has("plc"):
            return
        secs = min(self.rng.uniform(30, 180), max(5.0, self.left() - 5))
        self.sh([self.cfg["pyexe"], self.cfg["labsvc"], "modbus-client", "--host", self.svc["plc"],
                 "--count", "2000", "--interval", f"{self.rng.choice([0.5, 1.0, 2.0])}",
                 "--seed", str(self.rng.randrange(1 << 30)), "--seconds", f"{secs:.0f}"],
                secs + 15)
        self.done["hmi_session"] += 1

    def sensor(self) -> None:
        """An IoT sensor: readings published to the MQTT broker, either one connection per
        reading or one long session."""
        if not self.has("infra"):
            return
        b, me = self.svc["infra"], self.cfg["name"]
        topic = f"lab/{me}/{self.rng.choice(['temp', 'humidity', 'power', 'door'])}"
        if self.rng.random() < 0.5:
            for _ in range(self.rng.randint(1, 5)):
                client = f"{me}-{self.rng.randrange(999)}"
                self.sh(["mosquitto_pub", "-h", b, "-t", topic, "-i", client,
                         "-m", f"{self.rng.uniform(15, 30):.2f}"], 8)
                time.sleep(self.rng.uniform(1, 6))
        else:
            n, gap = self.rng.randint(5, 30), self.rng.uniform(1, 5)
            n = int(max(1, min(n, self.left() / gap - 1)))
            lines = " ".join(f"{self.rng.uniform(15, 30):.2f}" for _ in range(n))
            self.sh(["sh", "-c", f'for v in {lines}; do echo "$v"; sleep {gap:.1f}; done | '
                     f'mosquitto_pub -h {b} -t {topic} -i {me}-live -k 30 -q 1 -l'],
                    n * gap + 15)
        self.done["sensor"] += 1

    # -- peer-to-peer and real-time media (p2p.py) ----------------------------------------
    def _aria2(self, torrents: list[str], folder: str, secs: float, extra: list[str]) -> None:
        self.sh(["aria2c", "--dir", folder, "--allow-overwrite=true", "--file-allocation=none",
                 "--summary-interval=0", "--console-log-level=error", "--check-certificate=false",
                 "--bt-tracker-connect-timeout=5", "--bt-stop-timeout=60",
                 f"--stop={max(5, int(secs))}", *extra, *torrents], secs + 10)

    def _transmission(self, torrent: str, folder: str, port: int) -> list[str]:
        """The transmission-cli command for one torrent: uTP and TCP peers, peer exchange,
        local peer discovery on some; no DHT (its bootstrap nodes are outside the lab) and no
        port mapping."""
        cfg = tempfile.mkdtemp(prefix="tr-", dir=self.tmp)
        with open(os.path.join(cfg, "settings.json"), "w") as f:
            json.dump({"dht-enabled": False, "utp-enabled": self.rng.random() < 0.85,
                       "pex-enabled": True, "lpd-enabled": self.rng.random() < 0.4,
                       "port-forwarding-enabled": False, "peer-port": port,
                       "speed-limit-up-enabled": self.rng.random() < 0.3,
                       "speed-limit-up": self.rng.choice([100, 500, 2000])}, f)
        return ["transmission-cli", "-g", cfg, "-w", folder, "-p", str(port), "-M", torrent]

    def seeder(self) -> None:
        """A peer with every file, seeding them all for the rest of the mix: the last seeder
        with transmission-cli (uTP), the others with aria2c (DHT on, with the other seeders
        as entry points; local peer discovery on some)."""
        p = self.cfg["p2p"]
        me = self.ip()
        if me == p["seeders"][-1]:  # one transmission-cli per torrent, all at once
            secs = max(5.0, self.left() - 3)
            procs = [subprocess.Popen(
                ["timeout", "-k", "2", f"{secs:.0f}",
                 *self._transmission(t, p["content"], p["seed_port"] + 1 + i)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                for i, t in enumerate(p["torrents"])]
            self.bg += procs
            for proc in procs:
                try:
                    proc.wait(timeout=secs + 10)
                except subprocess.TimeoutExpired:
                    proc.kill()
            self.done["seeder"] += 1
            return
        others = [ip for ip in p["seeders"] if ip != me] or [me]
        extra = ["--seed-ratio=0.0", "--check-integrity=true", "--enable-dht=true",
                 f"--dht-listen-port={p['seed_port']}", f"--listen-port={p['seed_port']}",
                 f"--dht-entry-point={self.rng.choice(others)}:{p['seed_port']}",
                 f"--bt-enable-lpd={'true' if self.rng.random() < 0.5 else 'false'}",
                 f"--max-upload-limit={self.rng.choice(['0', '2M', '500K'])}"]
        self._aria2(p["torrents"], p["content"], max(5.0, self.left() - 3), extra)
        self.done["seeder"] += 1

    def torrent(self) -> None:
        """Download one torrent from the swarm (aria2c or transmission-cli), then seed it for
        a while or leave."""
        p = self.cfg["p2p"]
        folder = tempfile.mkdtemp(prefix="bt-", dir=self.tmp)
        port = self.rng.randint(6900, 6999)
        secs = min(self.rng.uniform(40, 200), max(5.0, self.left() - 5))
        if self.rng.random() < 0.4:
            self.sh(self._transmission(self.rng.choice(p["torrents"]), folder, port), secs)
            shutil.rmtree(folder, ignore_errors=True)
            self.done["torrent_transmission"] += 1
            return
        dht = self.rng.random() < 0.6
        extra = [f"--listen-port={port}", f"--enable-dht={'true' if dht else 'false'}",
                 f"--bt-max-peers={self.rng.choice([5, 20, 55])}",
                 f"--max-upload-limit={self.rng.choice(['0', '100K', '1M'])}",
                 f"--seed-time={self.rng.choice([0, 0, 0.5, 1, 2])}",
                 f"--bt-enable-lpd={'true' if self.rng.random() < 0.3 else 'false'}"]
        if dht:
            extra += [f"--dht-listen-port={port}",
                      f"--dht-entry-point={self.rng.choice(p['seeders'])}:{p['seed_port']}"]
        self._aria2([self.rng.choice(p["torrents"])], folder, secs, extra)
        shutil.rmtree(folder, ignore_errors=True)
        self.done["torrent"] += 1

    def call(self) -> None:
        """A call relayed by the TURN server: RTP- and RTCP-like UDP (or TCP) streams with an
        audio pace (20 ms, small packets) or a video one (larger, faster)."""
        p = self.cfg["p2p"]
        video = self.rng.random() < 0.4
        size = self.rng.randint(700, 1200) if video else self.rng.randint(90, 220)
        gap = self.rng.choice([10, 16, 33]) if video else 20
        secs = min(self.rng.uniform(10, 90), max(3.0, self.left() - 3))
        cmd = ["turnutils_uclient", "-u", p["turn_user"], "-w", p["turn_pass"],
               "-p", str(p["turn_port"]), "-e", p["turn"], "-r", str(p["peer_port"]),
               "-n", str(max(10, int(secs * 1000 / gap))), "-z", str(gap), "-l", str(size),
               "-m", str(self.rng.choice([1, 1, 2]))]
        if self.rng.random() < 0.15:
            cmd.append("-t")  # TURN over TCP, as clients behind strict firewalls do
        if self.rng.random() < 0.5:
            cmd.append("-c")  # no RTCP allocation
        self.sh([*cmd, p["turn"]], secs + 15)
        self.done["call"] += 1

    def stun(self) -> None:
        """NAT checks: a STUN binding request or a few."""
        p = self.cfg["p2p"]
        for _ in range(self.rng.randint(1, 3)):
            self.sh(["turnutils_stunclient", "-p", str(p["turn_port"]), p["turn"]], 8)
            time.sleep(self.rng.uniform(0.05, 2.0))
        self.done["stun"] += 1

    def run(self) -> None:
        acts = self.cfg["weights"]
        names = list(acts)
        weights = [acts[n] for n in names]
        try:
            if self.cfg.get("dhcp"):  # a laptop: wait for its DHCP lease before working
                while self.left() > 1:
                    try:
                        self.ip()
                        break
                    except OSError:
                        time.sleep(0.5)
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


#: The office and server-room services (issue 32) each profile uses besides the original ones.
OFFICE = {"web_clients": 6, "websocket": 2, "mail_send": 5, "mail_read": 8, "smb": 5,
          "rsync": 1, "ldap": 3, "kerberos": 3, "database": 2, "ntp": 1, "ntp_daemon": 1,
          "syslog": 1, "mdns": 2, "mqtt": 1, "sip": 2, "dns2": 3, "ftp_big": 1}
ADMIN = {"web_clients": 3, "websocket": 1, "mail_send": 3, "mail_read": 4, "smb": 4,
         "rsync": 4, "ldap": 4, "kerberos": 3, "database": 6, "ntp": 2, "ntp_daemon": 1,
         "syslog": 3, "mdns": 1, "mqtt": 2, "modbus": 2, "sip": 1, "vnc": 3, "snmp": 3,
         "dns2": 2, "ftp_big": 4}

PROFILES = {
    # office worker: mostly web and DNS, some files
    "office": {"web_page": 20, "browse": 12, "dns": 12, "shop": 10, "api_poll": 5,
               "download": 4, "ftp": 6, "ssh_session": 4, "scp": 4, "ssh_failed": 1,
               "idle_keepalive": 2, "ping": 2, **OFFICE},
    # admin: more ssh, ftp and transfers
    "admin": {"web_page": 8, "browse": 4, "dns": 8, "shop": 3, "api_poll": 3, "download": 3,
              "ftp": 10, "ssh_session": 14, "scp": 10, "ssh_failed": 2, "idle_keepalive": 4,
              "ping": 4, **ADMIN},
    # smoke: quick, web + dns + ssh
    "smoke": {"web_page": 5, "dns": 3, "ssh_session": 1, "api_poll": 1},
    # probe: web, dns and the shop (the probe scenario has no ssh or ftp server)
    "probe": {"web_page": 5, "dns": 3, "shop": 3, "api_poll": 1},
    # a laptop that got its address by DHCP: office work, no admin tools
    "laptop": {"web_page": 10, "browse": 5, "dns": 6, "mail_read": 6, "mail_send": 3,
               "smb": 3, "mdns": 4, "kerberos": 2, "ldap": 1, "web_clients": 3, "ntp": 1,
               "ntp_daemon": 1},
    # the infrastructure jobs, each on its own host
    "monitor": {"monitor": 1},
    "backup": {"backup": 1},
    "secondary": {"zone_sync": 1},
    "hmi": {"hmi": 1},
    "sensor": {"sensor": 1},
    # peer-to-peer file sharing and calls (p2p.py), with some DNS
    "p2p": {"torrent": 6, "call": 4, "stun": 2, "dns": 2},
    "seeder": {"seeder": 1},
    # office: every new service once or more (the lab's "office" scenario)
    "office_probe": {k: 1 for k in OFFICE} | {"modbus": 1, "vnc": 1, "snmp": 1},
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
