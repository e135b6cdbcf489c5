"""Real servers (Debian packages) configured for the lab and started inside its namespaces.

Besides the Debian servers there are the lab's own small ones: ``webapp.py`` (the vulnerable
shop and the C2 server) and ``heartbleed.py`` (a *simulated* Heartbleed target: Debian's
OpenSSL has no heartbeat support, see that module). The C2 server gets a TLS front (nginx on
the C2 host, port 443, a certificate chain from the lab's own CA) and the lab DNS server
carries two authoritative zones that anyone may transfer (AXFR), like a misconfigured
internal DNS server.

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


def cert_chain(work: Path, name: str, alt: list[str] = (), bits: int = 2048) -> tuple[Path, Path]:
    """A leaf certificate for ``name`` signed by the lab's own CA: (chain PEM, key PEM).

    The CA key is RSA-4096, so a server's certificate flight is a few kB, as on the Internet.
    """
    ca_crt, ca_key = work / "lab-ca.crt", work / "lab-ca.key"
    if not ca_crt.exists():
        _sh(["openssl", "req", "-x509", "-newkey", "rsa:4096", "-nodes", "-days", "30",
             "-subj", "/O=Lab Internal/CN=Lab Internal Issuing CA", "-keyout", str(ca_key),
             "-out", str(ca_crt)])
    leaf, key, csr = work / f"{name}.crt", work / f"{name}.key", work / f"{name}.csr"
    chain = work / f"{name}-chain.pem"
    if not chain.exists():
        _sh(["openssl", "req", "-newkey", f"rsa:{bits}", "-nodes", "-subj", f"/CN={name}",
             "-keyout", str(key), "-out", str(csr)])
        ext = work / f"{name}.ext"
        ext.write_text("subjectAltName=" + ",".join(f"DNS:{n}" for n in [name, *alt]) + "\n")
        _sh(["openssl", "x509", "-req", "-in", str(csr), "-CA", str(ca_crt), "-CAkey",
             str(ca_key), "-CAcreateserial", "-days", "30", "-extfile", str(ext),
             "-out", str(leaf)])
        chain.write_text(leaf.read_text() + ca_crt.read_text())
    return chain, key


#: Names the TLS C2 beacons use for SNI. Dedicated attacker hosts pin them with ``curl
#: --resolve`` (no DNS lookup); beacons hidden on benign clients look them up in the lab DNS,
#: which answers them with the C2 host's address.
C2_TLS_NAMES = ["testing.com", "cdn-update.net", "static.analytics-sync.com",
                "api.telemetry-check.org"]


#: MaxAuthTries of the lab's SSH servers, picked by address: real servers differ, and the
#: number of password tries per connection sets a brute-force flow's packets and duration.
SSH_MAX_AUTH_TRIES = (2, 3, 6)


def sshd_config(work: Path, ip: str, key: Path) -> Path:
    """sshd with PAM, as distributions ship it: pam_unix delays every failed password by
    about 2 s, so a brute-force connection lasts seconds (``malicious-ssh-bruteforce.pcap``:
    1.8-3.6 s). Without PAM the lab's were 60-200 ms, and the capture model called the real
    one a scan."""
    cfg = work / f"sshd-{ip}.conf"
    tries = SSH_MAX_AUTH_TRIES[int(ip.rsplit(".", 1)[-1]) % len(SSH_MAX_AUTH_TRIES)]
    cfg.write_text(f"""ListenAddress {ip}
Port 22
HostKey {key}
PidFile {work}/sshd-{ip}.pid
UsePAM yes
PasswordAuthentication yes
KbdInteractiveAuthentication no
PermitRootLogin no
StrictModes no
MaxStartups 200:30:400
MaxSessions 20
MaxAuthTries {tries}
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


def nginx_c2_config(work: Path, ip: str, crt: Path, key: Path, upstream: int) -> Path:
    """nginx as the TLS front (HTTP/2 and HTTP/1.1) of the C2 server on the same host."""
    tmp = work / "nginx-tmp"
    tmp.mkdir(exist_ok=True)
    check_target(ip)
    cfg = work / f"nginx-c2-{ip}.conf"
    cfg.write_text(f"""daemon off;
master_process on;
worker_processes 1;
pid {work}/nginx-c2-{ip}.pid;
error_log {work}/nginx-c2-error.log warn;
events {{ worker_connections 512; }}
http {{
  access_log off;
  keepalive_timeout 10;
  client_body_temp_path {tmp}/c2body;
  proxy_temp_path {tmp}/c2proxy;
  fastcgi_temp_path {tmp}/c2fastcgi;
  uwsgi_temp_path {tmp}/c2uwsgi;
  scgi_temp_path {tmp}/c2scgi;
  server {{
    listen {ip}:443 ssl http2;
    server_name _;
    ssl_certificate {crt};
    ssl_certificate_key {key};
    ssl_protocols TLSv1.2 TLSv1.3;
    location / {{
      proxy_pass http://{ip}:{upstream};
      proxy_set_header Host $host;
      proxy_set_header X-Lab-Front tls;
    }}
  }}
}}
""")
    return cfg


def zone_args(work: Path, rng: random.Random, clients: list[str], servers: dict[str, str],
              dns_name: str = "dns.lab.internal") -> list[str]:
    """dnsmasq options for two authoritative zones open to zone transfer (AXFR) by anyone.

    ``corp.lab.internal`` looks like an Active Directory domain's zone (domain controllers,
    file and mail servers, SRV records, CNAMEs, TXT, MX and one A record per workstation,
    about 100-200 records); ``dmz.lab.internal`` is small (about 20). ``--auth-sec-servers``
    without ``--auth-peer`` is what lets any host transfer them. ``--auth-server`` names no
    interface, so the normal (recursive) service on the lab address stays as it is.
    """
    corp, dmz = "corp.lab.internal", "dmz.lab.internal"
    a: dict[str, str] = {}
    core = {"dc01": servers.get("dns"), "dc02": servers.get("dns"), "fs01": servers.get("files"),
            "fs02": servers.get("files"), "exch01": servers.get("files"),
            "sql01": servers.get("app"), "web01": servers.get("www"),
            "jump01": servers.get("shell"),
            "backup01": "10.213.1.20", "wsus01": "10.213.1.21", "vpn01": "10.213.1.22",
            "sccm01": "10.213.1.23", "ca01": "10.213.1.24", "hv01": "10.213.1.30",
            "hv02": "10.213.1.31", "nas01": "10.213.1.40"}
    for name, ip in core.items():
        if ip:
            a[f"{name}.{corp}"] = ip
    for i in range(rng.randint(4, 10)):
        a[f"prn-{rng.choice(['hq', 'lab', 'ops'])}-{i:02d}.{corp}"] = f"10.213.1.{60 + i}"
    ws = list(clients) + [f"10.213.2.{i}" for i in range(1, rng.randint(30, 120))]
    dept = ["fin", "hr", "eng", "ops", "sales", "it", "mkt"]
    for i, ip in enumerate(ws):
        a[f"ws-{rng.choice(dept)}-{100 + i:04d}.{corp}"] = ip
    small = {"www": servers.get("www"), "vpn": "10.213.3.10", "mail": "10.213.3.11",
             "ns1": servers.get("dns"), "ftp": servers.get("files"), "portal": "10.213.3.12",
             "api": servers.get("app"), "owa": "10.213.3.13", "sftp": "10.213.3.14",
             "status": "10.213.3.15", "remote": "10.213.3.16"}
    for name, ip in small.items():
        if ip:
            a[f"{name}.{dmz}"] = ip
    hosts = work / "lab-zones"
    hosts.write_text("".join(f"{ip} {n}\n" for n, ip in a.items()))
    args = [f"--auth-server={dns_name}", f"--auth-zone={corp}", f"--auth-zone={dmz}",
            f"--auth-sec-servers=ns2.{corp}", f"--addn-hosts={hosts}",
            f"--auth-soa={rng.randint(2020010101, 2024123199)},hostmaster.{corp}",
            f"--mx-host={corp},exch01.{corp},10", f"--mx-host={dmz},mail.{dmz},10",
            f"--txt-record={corp},v=spf1 mx ip4:10.213.0.0/16 -all",
            f"--txt-record={corp},MS=ms{rng.randint(10_000_000, 99_999_999)}",
            f"--txt-record=_dmarc.{corp},v=DMARC1; p=quarantine; rua=mailto:dmarc@{corp}",
            f"--txt-record={dmz},v=spf1 a mx -all"]
    site = "Default-First-Site-Name"
    for svc, port, dcs in (("_ldap._tcp", 389, 2), ("_kerberos._tcp", 88, 2),
                           ("_kerberos._udp", 88, 2), ("_kpasswd._tcp", 464, 1),
                           ("_kpasswd._udp", 464, 1), ("_gc._tcp", 3268, 2),
                           (f"_ldap._tcp.{site}._sites", 389, 2),
                           (f"_kerberos._tcp.{site}._sites", 88, 2),
                           (f"_gc._tcp.{site}._sites", 3268, 1),
                           ("_ldap._tcp.dc._msdcs", 389, 2), ("_ldap._tcp.pdc._msdcs", 389, 1),
                           ("_kerberos._tcp.dc._msdcs", 88, 2),
                           ("_ldap._tcp.DomainDnsZones", 389, 2),
                           ("_ldap._tcp.ForestDnsZones", 389, 2)):
        for d in range(dcs):
            args.append(f"--srv-host={svc}.{corp},dc0{d + 1}.{corp},{port},0,100")
    for alias, target in (("intranet", "web01"), ("wiki", "web01"), ("git", "web01"),
                          ("mail", "exch01"), ("autodiscover", "exch01"), ("files", "fs01"),
                          ("db", "sql01"), ("update", "wsus01"), ("pki", "ca01")):
        args.append(f"--cname={alias}.{corp},{target}.{corp}")
    args.append(f"--cname=webmail.{dmz},owa.{dmz}")
    return args


def dns_hosts(work: Path, names: dict[str, str]) -> Path:
    f = work / "lab-hosts"
    f.write_text("".join(f"{ip} {n} {n}.lab.internal\n" for n, ip in names.items()))
    return f


def wait_port(lab: Lab, host: Host, port: int, proto: str = "tcp", limit: float = 10) -> None:
    """Wait until ``host`` listens on ``proto``/``port`` (``ss`` in its namespace); raise
    LabError after ``limit`` seconds."""
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
    wait_port(lab, host, 53, "udp")
    lab.set_dns(host.ip)


def start_ssh(lab: Lab, host: Host, assets: dict, limit: float) -> None:
    cfg = sshd_config(assets["work"], host.ip, assets["sshkey"])
    lab.spawn(host, ["/usr/sbin/sshd", "-D", "-e", "-f", str(cfg)], limit,
              log=assets["work"] / f"sshd-{host.name}.log", shell_prefix=bind_users(assets["etc"]))
    wait_port(lab, host, 22)


def start_ftp(lab: Lab, host: Host, assets: dict, limit: float) -> None:
    cfg = vsftpd_config(assets["work"], host.ip)
    lab.spawn(host, ["vsftpd", str(cfg)], limit, log=assets["work"] / f"vsftpd-{host.name}.log",
              shell_prefix=bind_users(assets["etc"]))
    wait_port(lab, host, 21)


def start_web(lab: Lab, host: Host, assets: dict, limit: float) -> None:
    cfg = nginx_config(assets["work"], host.ip, assets["www"], assets["crt"], assets["key"])
    lab.spawn(host, ["nginx", "-c", str(cfg), "-e", str(assets["work"] / "nginx-error.log")],
              limit, log=assets["work"] / "nginx.log")
    wait_port(lab, host, 443)


def start_pyhttp(lab: Lab, host: Host, assets: dict, limit: float, mode: str, port: int) -> None:
    check_target(host.ip)
    lab.spawn(host, ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                     "/usr/bin/python3", str(lab.public_copy(SCRIPTS / "webapp.py")),
                     "--mode", mode, "--bind", host.ip, "--port", str(port)], limit,
              log=assets["work"] / f"{mode}-{host.name}.log")
    wait_port(lab, host, port)


def start_c2_tls(lab: Lab, host: Host, assets: dict, limit: float, upstream: int = 8080) -> None:
    """nginx on the C2 host's port 443 in front of ``webapp.py --mode c2`` (which adds a
    backend's think time, 50-500 ms, to the GETs that come through this front)."""
    chain, key = cert_chain(assets["work"], C2_TLS_NAMES[0], C2_TLS_NAMES[1:], bits=4096)
    cfg = nginx_c2_config(assets["work"], host.ip, chain, key, upstream)
    lab.spawn(host, ["nginx", "-c", str(cfg), "-e", str(assets["work"] / "nginx-c2-error.log")],
              limit, log=assets["work"] / "nginx-c2.log")
    wait_port(lab, host, 443)


def start_heartbleed(lab: Lab, host: Host, assets: dict, limit: float, port: int = 443,
                     seed: int = 0) -> None:
    """The *simulated* Heartbleed target (``heartbleed.py serve``; drops to nobody)."""
    check_target(host.ip)
    chain, _ = cert_chain(assets["work"], f"{host.name}.lab.internal")
    lab.spawn(host, ["/usr/bin/python3", str(SCRIPTS / "heartbleed.py"), "serve", "--bind",
                     host.ip, "--port", str(port), "--cert", str(chain), "--seed", str(seed)],
              limit, log=assets["work"] / f"heartbleed-{host.name}.log")
    wait_port(lab, host, port)


def start_iodined(lab: Lab, host: Host, assets: dict, limit: float, password: str,
                  tunnel_ip: str = "10.213.9.1", domain: str = "t.lab.internal") -> None:
    check_target(tunnel_ip)
    lab.spawn(host, ["iodined", "-f", "-c", "-l", host.ip, "-P", password,
                     f"{tunnel_ip}/27", domain], limit, log=assets["work"] / "iodined.log")
    wait_port(lab, host, 53, "udp")
