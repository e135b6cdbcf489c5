"""Real servers (Debian packages) configured for the lab and started inside its namespaces.

Configuration lives in the run's work folder. Lab user accounts never touch the host's user
database: server processes start in ``ip netns exec``'s private mount namespace, where copies
of /etc/passwd, /etc/shadow and /etc/group with the lab users appended are bind-mounted.
"""

from __future__ import annotations

import os
import random
import subprocess
import time
from pathlib import Path

from .netns import Host, Lab, LabError, check_target

#: Lab accounts on the file/shell servers: (name, password, uid).
LAB_USERS = [("alice", "wonderland", 61001), ("bob", "builder42", 61002),
             ("carol", "S3cure!pass", 61003), ("dave", "correct-horse", 61004),
             ("erin", "sunflower77", 61005)]

FTP_PASV = (40000, 40199)
SCRIPTS = Path(__file__).resolve().parent


def _sh(cmd: list[str]) -> str:
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def prepare_assets(work: Path, rng: random.Random) -> dict[str, Path]:
    """Write configs, keys, the web site and the user overlay; return named paths."""
    work.mkdir(parents=True, exist_ok=True)
    os.chmod(work, 0o755)
    p: dict[str, Path] = {"work": work}
    # user overlay
    etc = work / "etc"
    etc.mkdir(exist_ok=True)
    passwd = Path("/etc/passwd").read_text()
    shadow = Path("/etc/shadow").read_text()
    group = Path("/etc/group").read_text()
    homes = work / "home"
    for name, pw, uid in LAB_USERS:
        home = homes / name
        home.mkdir(parents=True, exist_ok=True)
        (home / "notes.txt").write_text(f"{name}'s notes\n" * rng.randint(5, 50))
        (home / "report.bin").write_bytes(rng.randbytes(rng.randint(20_000, 400_000)))
        (home / "upload").mkdir(exist_ok=True)
        for d in (home, home / "upload"):
            os.chown(d, uid, uid)
        for f in home.iterdir():
            os.chown(f, uid, uid)
        h = _sh(["openssl", "passwd", "-6", pw]).strip()
        passwd += f"{name}:x:{uid}:{uid}:lab user:{home}:/bin/bash\n"
        shadow += f"{name}:{h}:19000:0:99999:7:::\n"
        group += f"{name}:x:{uid}:\n"
    for fname, text, mode in (("passwd", passwd, 0o644), ("shadow", shadow, 0o600),
                              ("group", group, 0o644)):
        (etc / fname).write_text(text)
        os.chmod(etc / fname, mode)
    p["etc"] = etc
    # ssh host key
    key = work / "ssh_host_ed25519_key"
    if not key.exists():
        _sh(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)])
    p["sshkey"] = key
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege-separation dir
    # TLS certificate
    crt, k = work / "tls.crt", work / "tls.key"
    if not crt.exists():
        _sh(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
             "-subj", "/CN=www.lab.internal", "-keyout", str(k), "-out", str(crt)])
    p["crt"], p["key"] = crt, k
    # web site: pages with many resources of varied sizes
    www = work / "www"
    for sub in ("css", "js", "img", "files"):
        (www / sub).mkdir(parents=True, exist_ok=True)
    res = []
    for i in range(40):
        kind = rng.choice(["css", "js", "img", "img", "img"])
        ext = {"css": "css", "js": "js", "img": rng.choice(["png", "jpg", "gif"])}[kind]
        size = int(rng.lognormvariate(9.0, 1.2)) + 200
        path = f"{kind}/r{i}.{ext}"
        (www / path).write_bytes(rng.randbytes(min(size, 600_000)))
        res.append(path)
    for i in range(8):
        (www / "files" / f"doc{i}.pdf").write_bytes(rng.randbytes(rng.randint(50_000, 2_000_000)))
    pages = []
    for i in range(25):
        picks = rng.sample(res, rng.randint(3, 25))
        tags = "\n".join(
            f'<link rel="stylesheet" href="/{r}">' if r.endswith(".css") else
            f'<script src="/{r}"></script>' if r.endswith(".js") else f'<img src="/{r}">'
            for r in picks)
        links = " ".join(f'<a href="/page{j}.html">page {j}</a>' for j in rng.sample(range(25), 5))
        body = "<p>" + " ".join(rng.choice(["lorem", "ipsum", "dolor", "sit", "amet", "lab"])
                                for _ in range(rng.randint(50, 3000))) + "</p>"
        (www / f"page{i}.html").write_text(
            f"<!doctype html><html><head><title>Page {i}</title>\n{tags}</head>"
            f"<body><h1>Intranet page {i}</h1>{links}{body}</body></html>")
        pages.append((f"page{i}.html", picks))
    (www / "index.html").write_text("<html><body>" + "".join(
        f'<a href="/page{i}.html">{i}</a> ' for i in range(25)) + "</body></html>")
    (www / "pages.txt").write_text("\n".join(
        p_ + " " + " ".join(r) for p_, r in pages) + "\n")
    p["www"] = www
    # ftp content
    ftp = work / "ftp"
    ftp.mkdir(exist_ok=True)
    return p


def sshd_config(work: Path, ip: str, key: Path) -> Path:
    cfg = work / f"sshd-{ip}.conf"
    cfg.write_text(f"""ListenAddress {ip}
Port 22
HostKey {key}
PidFile {work}/sshd-{ip}.pid
UsePAM no
PasswordAuthentication yes
KbdInteractiveAuthentication no
PermitRootLogin no
StrictModes no
MaxStartups 200:30:400
MaxSessions 20
MaxAuthTries 6
LoginGraceTime 20
UseDNS no
Subsystem sftp internal-sftp
""")
    return cfg


def vsftpd_config(work: Path, ip: str) -> Path:
    cfg = work / f"vsftpd-{ip}.conf"
    cfg.write_text(f"""listen=YES
listen_ipv6=NO
listen_address={ip}
background=NO
anonymous_enable=NO
local_enable=YES
write_enable=YES
local_umask=022
pasv_enable=YES
pasv_min_port={FTP_PASV[0]}
pasv_max_port={FTP_PASV[1]}
pasv_address={ip}
secure_chroot_dir=/var/run/vsftpd/empty
pam_service_name=vsftpd
seccomp_sandbox=NO
xferlog_enable=NO
max_clients=300
max_per_ip=100
connect_from_port_20=NO
""")
    return cfg


def nginx_config(work: Path, ip: str, www: Path, crt: Path, key: Path) -> Path:
    tmp = work / "nginx-tmp"
    tmp.mkdir(exist_ok=True)
    cfg = work / f"nginx-{ip}.conf"
    cfg.write_text(f"""daemon off;
master_process on;
worker_processes 1;
pid {work}/nginx-{ip}.pid;
error_log {work}/nginx-error.log warn;
events {{ worker_connections 2048; }}
http {{
  include /etc/nginx/mime.types;
  access_log off;
  sendfile on;
  keepalive_timeout 20;
  keepalive_requests 200;
  client_body_temp_path {tmp}/body;
  proxy_temp_path {tmp}/proxy;
  fastcgi_temp_path {tmp}/fastcgi;
  uwsgi_temp_path {tmp}/uwsgi;
  scgi_temp_path {tmp}/scgi;
  server {{
    listen {ip}:80;
    listen {ip}:443 ssl;
    server_name www.lab.internal intranet.lab.internal cdn.lab.internal;
    ssl_certificate {crt};
    ssl_certificate_key {key};
    root {www};
    index index.html;
    location /api/ {{ default_type application/json; return 200 '{{"status":"ok"}}'; }}
  }}
}}
""")
    return cfg


def dns_hosts(work: Path, names: dict[str, str]) -> Path:
    f = work / "lab-hosts"
    f.write_text("".join(f"{ip} {n} {n}.lab.internal\n" for n, ip in names.items()))
    return f


def _wait_port(lab: Lab, host: Host, port: int, proto: str = "tcp", limit: float = 10) -> None:
    flag = "-ltn" if proto == "tcp" else "-lun"
    end = time.time() + limit
    while time.time() < end:
        out = lab.nsrun(host.ns, ["ss", flag], check=False).stdout
        if f"{host.ip}:{port} " in out or f"*:{port} " in out or f"0.0.0.0:{port} " in out:
            return
        time.sleep(0.2)
    raise LabError(f"{proto}/{port} did not come up on {host.name}")


def bind_users(etc: Path) -> str:
    return " && ".join(f"mount --bind {etc / f} /etc/{f}" for f in ("passwd", "shadow", "group"))


def start_dns(lab: Lab, host: Host, assets: dict, limit: float, extra: list[str] = (),
              hostsfile: Path | None = None) -> None:
    hosts = hostsfile or dns_hosts(assets["work"], {h.name: h.ip for h in lab.hosts.values()})
    lab.spawn(host, ["dnsmasq", "-k", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
                     "--no-poll", "--bind-interfaces", f"--listen-address={host.ip}",
                     "--except-interface=lo", f"--addn-hosts={hosts}", "--domain=lab.internal",
                     "--local=/lab.internal/", "--user=root", "--cache-size=500",
                     "--mx-host=lab.internal,mail.lab.internal,10",
                     "--txt-record=lab.internal,v=spf1 -all",
                     f"--pid-file={assets['work']}/dnsmasq.pid", *extra], limit,
              log=assets["work"] / "dnsmasq.log")
    _wait_port(lab, host, 53, "udp")
    lab.set_dns(host.ip)


def start_ssh(lab: Lab, host: Host, assets: dict, limit: float) -> None:
    cfg = sshd_config(assets["work"], host.ip, assets["sshkey"])
    lab.spawn(host, ["/usr/sbin/sshd", "-D", "-e", "-f", str(cfg)], limit,
              log=assets["work"] / f"sshd-{host.name}.log", shell_prefix=bind_users(assets["etc"]))
    _wait_port(lab, host, 22)


def start_ftp(lab: Lab, host: Host, assets: dict, limit: float) -> None:
    cfg = vsftpd_config(assets["work"], host.ip)
    lab.spawn(host, ["vsftpd", str(cfg)], limit, log=assets["work"] / f"vsftpd-{host.name}.log",
              shell_prefix=bind_users(assets["etc"]))
    _wait_port(lab, host, 21)


def start_web(lab: Lab, host: Host, assets: dict, limit: float) -> None:
    cfg = nginx_config(assets["work"], host.ip, assets["www"], assets["crt"], assets["key"])
    lab.spawn(host, ["nginx", "-c", str(cfg), "-e", str(assets["work"] / "nginx-error.log")],
              limit, log=assets["work"] / "nginx.log")
    _wait_port(lab, host, 443)


def start_pyhttp(lab: Lab, host: Host, assets: dict, limit: float, mode: str, port: int) -> None:
    check_target(host.ip)
    lab.spawn(host, ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                     "/usr/bin/python3", str(SCRIPTS / "webapp.py"), "--mode", mode,
                     "--bind", host.ip, "--port", str(port)], limit,
              log=assets["work"] / f"{mode}-{host.name}.log")
    _wait_port(lab, host, port)


def start_iodined(lab: Lab, host: Host, assets: dict, limit: float, password: str,
                  tunnel_ip: str = "10.213.9.1", domain: str = "t.lab.internal") -> None:
    check_target(tunnel_ip)
    lab.spawn(host, ["iodined", "-f", "-c", "-l", host.ip, "-P", password,
                     f"{tunnel_ip}/27", domain], limit, log=assets["work"] / "iodined.log")
    _wait_port(lab, host, 53, "udp")
