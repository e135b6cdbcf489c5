"""The office and server-room services of the benign side (issue 32): real Debian servers (and
the lab's own small Python ones in ``labsvc.py``) configured for the lab and started inside its
namespaces, the same way ``servers.py`` starts the original ones.

Hosts and their services:

- ``mail``: SMTP (aiosmtpd: 25 with STARTTLS offered, 587 submission with STARTTLS and AUTH),
  IMAP/IMAPS and POP3/POP3S (dovecot) on the same Maildirs
- ``dc``: LDAP (slapd, StartTLS offered), Kerberos KDC (MIT krb5kdc, UDP and TCP 88), NTP
  (chronyd, never touching the clock), SNMP agent
- ``db``: MariaDB, PostgreSQL, Redis, SNMP agent
- ``nas``: SMB (samba smbd), rsync daemon, OpenSSH (scp/sftp/rsync over ssh), SNMP agent
- ``infra``: syslog (rsyslog, UDP and TCP 514), MQTT (mosquitto), DHCP (dnsmasq), SIP (sipp as
  a PBX answering calls), VNC (TigerVNC's Xvnc), WebSocket notifications (labsvc.py), SNMP agent
- ``plc``: Modbus/TCP PLC (labsvc.py, pymodbus), SNMP agent
- ``dns2``: a second resolver (dnsmasq forwarding to ``dns``); the lab's secondary DNS server
  pulls the zones from ``dns`` (benign AXFR/IXFR)

Safety: every server binds only its host's lab address (``check_target``), every process
runs under ``timeout`` in the lab's namespaces, state and logs live in the run's work folder
or in the run's private temp folder (removed at teardown), host services are never started
(the lab starts its own copies), chronyd runs with ``-x`` (it never sets the clock) and
clients only ever query time. Configuration of the existing attack targets (dns, www, app,
files, shell) is not changed.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import sys
import time
from pathlib import Path

from .netns import Host, Lab, LabError, check_target
from .servers import LAB_USERS, bind_users, wait_port

SCRIPTS = Path(__file__).resolve().parent
REALM = "LAB.INTERNAL"
BASE_DN = "dc=lab,dc=internal"
DHCP_POOL = ("10.213.0.230", "10.213.0.250")
#: Database accounts and the Redis/LDAP secrets the benign clients use.
DB_USER, DB_PASS = "appuser", "app-db-2024"
RSYNC_USER, RSYNC_PASS = "backup", "rsync-backup-77"
LDAP_ADMIN_PW = "ldap-admin-lab"
VNC_DISPLAY = 47   # Xvnc :47 -> rfbport 5947; an unusual number keeps clear of a host X server
VNC_PORT = 5900 + VNC_DISPLAY
WS_PORT = 8765


def pyexe() -> str:
    """The interpreter with the lab's Python packages (the ``lab`` extra): the one running."""
    return sys.executable


def prepare(lab: Lab, assets: dict, seed: int) -> dict:
    """Files the new services need: big files for FTP/SMB/rsync, the SMB and rsync trees,
    the LDAP directory, mail folders. Uses its own seeded generator, so the original assets
    (and the attacks) come out as before."""
    rng = random.Random(f"office-{seed}")
    work = assets["work"]
    off = work / "office"
    off.mkdir(parents=True, exist_ok=True)
    pub = lab.public_dir("office")          # readable by service users (dovecot, postgres)
    p = {"office": off, "public": pub}
    # big files: large FTP downloads, SMB copies, backups (hard links, one copy on disk)
    big = off / "big"
    big.mkdir(exist_ok=True)
    sizes = {"install-image.iso": rng.randint(12, 24) << 20,
             "quarterly-report.zip": rng.randint(3, 8) << 20,
             "db-dump.sql.gz": rng.randint(1, 4) << 20}
    for name, size in sizes.items():
        (big / name).write_bytes(rng.randbytes(size))
    for name, _, uid in LAB_USERS:
        home = work / "home" / name
        d = home / "big"
        d.mkdir(exist_ok=True)
        for f in big.iterdir():
            dst = d / f.name
            if not dst.exists():
                os.link(f, dst)
        os.chown(d, uid, uid)
    # SMB shares and rsync modules
    smb = off / "smb"
    for share in ("shared", "public", "scans"):
        (smb / share).mkdir(parents=True, exist_ok=True)
        os.chmod(smb / share, 0o1777)
    for i in range(rng.randint(15, 30)):
        (smb / "shared" / f"doc-{i:03d}.docx").write_bytes(
            rng.randbytes(int(rng.lognormvariate(10.5, 1.3)) + 500))
    for f in big.iterdir():
        os.link(f, smb / "public" / f.name)
    rs = off / "rsync"
    for mod in ("software", "backup"):
        (rs / mod).mkdir(parents=True, exist_ok=True)
    for i in range(rng.randint(20, 40)):
        sub = rs / "software" / rng.choice(["tools", "drivers", "fonts", "docs"])
        sub.mkdir(exist_ok=True)
        size = int(rng.lognormvariate(10, 1.4)) + 200
        (sub / f"pkg-{i:03d}.bin").write_bytes(rng.randbytes(size))
    p["smb"], p["rsync"], p["big"] = smb, rs, big
    # mail: Maildirs served by dovecot (as nobody) and filled by the SMTP server
    mail = pub / "mail"
    mail.mkdir(exist_ok=True)
    for name, _, _ in LAB_USERS:
        for sub in ("new", "cur", "tmp"):
            (mail / name / "Maildir" / sub).mkdir(parents=True, exist_ok=True)
        for i in range(rng.randint(3, 12)):  # a few messages already in each mailbox
            body = "".join(rng.choice("abcdefghij klmnop\n") for _ in range(
                int(rng.lognormvariate(7.5, 1.2)) + 100))
            (mail / name / "Maildir" / "cur" / f"{1700000000 + i}.{i}.lab:2,S").write_text(
                f"From: colleague{i}@lab.internal\r\nTo: {name}@lab.internal\r\n"
                f"Subject: note {i}\r\nDate: Mon, 4 Dec 2023 09:{i:02d}:00 +0000\r\n\r\n{body}\r\n")
    _chown_tree(mail, 65534)
    p["mail"] = mail
    p["mail_users"] = {n: pw for n, pw, _ in LAB_USERS}
    p["seed"] = seed
    return p


def _chown_tree(root: Path, uid: int, gid: int | None = None) -> None:
    gid = uid if gid is None else gid
    for d, _dirs, files in os.walk(root):
        os.chown(d, uid, gid)
        for f in files:
            os.chown(os.path.join(d, f), uid, gid)


# -- mail ------------------------------------------------------------------------------------
def start_smtp(lab: Lab, host: Host, assets: dict, off: dict, limit: float) -> None:
    check_target(host.ip)
    users = off["office"] / "smtp-users.json"
    users.write_text(json.dumps({**off["mail_users"], "postmaster": "x" * 16}))
    lab.spawn(host, [pyexe(), str(SCRIPTS / "labsvc.py"), "smtp", "--bind", host.ip,
                     "--cert", str(assets["crt"]), "--key", str(assets["key"]),
                     "--users", str(users), "--maildir", str(off["mail"]), "--uid", "65534",
                     "--seconds", f"{limit:.0f}"], limit, log=assets["work"] / "smtp.log")
    wait_port(lab, host, 25, limit=30)
    wait_port(lab, host, 587, limit=10)


def start_dovecot(lab: Lab, host: Host, assets: dict, off: dict, limit: float) -> None:
    check_target(host.ip)
    d = off["public"] / "dovecot"
    (d / "run").mkdir(parents=True, exist_ok=True)
    (d / "state").mkdir(exist_ok=True)
    os.chmod(d, 0o755)
    users = d / "users"
    users.write_text("".join(f"{n}:{{PLAIN}}{pw}::::::\n" for n, pw in off["mail_users"].items()))
    os.chmod(users, 0o644)
    # dovecot reads the TLS key as root at start; a copy keeps the run's work folder private
    crt, key = d / "tls.crt", d / "tls.key"
    shutil.copyfile(assets["crt"], crt)
    shutil.copyfile(assets["key"], key)
    os.chmod(key, 0o600)
    cfg = d / "dovecot.conf"
    cfg.write_text(f"""protocols = imap pop3
listen = {host.ip}
base_dir = {d}/run
state_dir = {d}/state
instance_name = dovecot-lab-{host.name}
log_path = {assets['work']}/dovecot.log
info_log_path = {assets['work']}/dovecot.log
ssl = yes
ssl_cert = <{crt}
ssl_key = <{key}
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{off['mail']}/%n/Maildir
first_valid_uid = 1000
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%n {users}
}}
userdb {{
  driver = static
  args = uid=65534 gid=65534 home={off['mail']}/%n
}}
service imap-login {{
  inet_listener imap {{
    port = 143
  }}
  inet_listener imaps {{
    port = 993
    ssl = yes
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = 110
  }}
  inet_listener pop3s {{
    port = 995
    ssl = yes
  }}
}}
service stats {{
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
protocol imap {{
  mail_max_userip_connections = 50
}}
""")
    lab.spawn(host, ["dovecot", "-F", "-c", str(cfg)], limit, log=assets["work"] / "dovecot.out")
    wait_port(lab, host, 143, limit=20)
    wait_port(lab, host, 110, limit=10)


# -- directory, login, time ------------------------------------------------------------------
def _ldif(rng: random.Random) -> str:
    out = [f"dn: {BASE_DN}\nobjectClass: dcObject\nobjectClass: organization\no: Lab Internal\n"
           "dc: lab\n",
           f"dn: ou=people,{BASE_DN}\nobjectClass: organizationalUnit\nou: people\n",
           f"dn: ou=groups,{BASE_DN}\nobjectClass: organizationalUnit\nou: groups\n",
           f"dn: ou=hosts,{BASE_DN}\nobjectClass: organizationalUnit\nou: hosts\n"]
    people = [(n, pw, uid) for n, pw, uid in LAB_USERS]
    first = ["anna", "ben", "chloe", "dan", "eva", "finn", "gina", "hugo", "ida", "jon", "kai",
             "lena", "max", "nora", "otto", "pia", "quinn", "rosa", "sam", "tara"]
    last = ["smith", "meyer", "jones", "garcia", "khan", "novak", "rossi", "berg", "silva"]
    for i in range(rng.randint(60, 140)):
        people.append((f"{rng.choice(first)}.{rng.choice(last)}{i}", f"pw-{rng.randrange(10**8)}",
                       62000 + i))
    depts = ["fin", "hr", "eng", "ops", "sales", "it", "mkt"]
    members: dict[str, list[str]] = {d: [] for d in depts}
    for n, pw, uid in people:
        dept = rng.choice(depts)
        members[dept].append(n)
        out.append(
            f"dn: uid={n},ou=people,{BASE_DN}\nobjectClass: inetOrgPerson\n"
            f"objectClass: posixAccount\nuid: {n}\ncn: {n.replace('.', ' ').title()}\n"
            f"sn: {n.split('.')[-1]}\nmail: {n}@lab.internal\nuidNumber: {uid}\n"
            f"gidNumber: {uid}\nhomeDirectory: /home/{n}\nloginShell: /bin/bash\n"
            f"departmentNumber: {dept}\ntelephoneNumber: +1 555 {rng.randrange(10**4):04d}\n"
            f"userPassword: {pw}\n")
    for i, (dept, mem) in enumerate(members.items()):
        if not mem:
            continue
        out.append(f"dn: cn={dept},ou=groups,{BASE_DN}\nobjectClass: posixGroup\ncn: {dept}\n"
                   f"gidNumber: {63000 + i}\n" + "".join(f"memberUid: {m}\n" for m in mem))
    for h in ("www", "app", "files", "shell", "mail", "dc", "db", "nas", "infra", "plc"):
        out.append(f"dn: cn={h},ou=hosts,{BASE_DN}\nobjectClass: device\ncn: {h}\n"
                   f"description: {h}.lab.internal\n")
    return "\n".join(out)


def start_ldap(lab: Lab, host: Host, assets: dict, off: dict, limit: float) -> None:
    check_target(host.ip)
    d = off["office"] / "ldap"
    db = d / "db"
    if d.exists():
        shutil.rmtree(d)
    db.mkdir(parents=True)
    cfg = d / "slapd.conf"
    cfg.write_text(f"""include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile {d}/slapd.pid
TLSCertificateFile {assets['crt']}
TLSCertificateKeyFile {assets['key']}
sizelimit 1000
database mdb
maxsize 104857600
suffix "{BASE_DN}"
rootdn "cn=admin,{BASE_DN}"
rootpw {LDAP_ADMIN_PW}
directory {db}
index objectClass,uid,cn,mail eq
access to attrs=userPassword by self write by anonymous auth by * none
access to * by * read
""")
    ldif = d / "lab.ldif"
    ldif.write_text(_ldif(random.Random(f"ldap-{off['seed']}")))
    r = lab.nsrun(host.ns, ["slapadd", "-f", str(cfg), "-l", str(ldif)], check=False,
                  timeout=60)
    if r.returncode != 0:
        raise LabError(f"slapadd failed: {r.stderr.strip()[:300]}")
    lab.spawn(host, ["slapd", "-d", "0", "-f", str(cfg), "-h", f"ldap://{host.ip}:389/"],
              limit, log=assets["work"] / "slapd.log")
    wait_port(lab, host, 389, limit=20)


def krb5_conf(path: Path, kdc_ip: str, tcp: bool = False) -> Path:
    check_target(kdc_ip)
    path.write_text(f"""[libdefaults]
  default_realm = {REALM}
  dns_lookup_kdc = false
  dns_lookup_realm = false
  rdns = false
  {'udp_preference_limit = 1' if tcp else ''}
[realms]
  {REALM} = {{
    kdc = {kdc_ip}
    admin_server = {kdc_ip}
  }}
[domain_realm]
  .lab.internal = {REALM}
""")
    return path


def start_kdc(lab: Lab, host: Host, assets: dict, off: dict, limit: float) -> None:
    check_target(host.ip)
    d = off["office"] / "krb5"
    if d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True)
    conf = krb5_conf(d / "krb5.conf", host.ip)
    kdc = d / "kdc.conf"
    kdc.write_text(f"""[kdcdefaults]
  kdc_listen = {host.ip}:88
  kdc_tcp_listen = {host.ip}:88
[realms]
  {REALM} = {{
    database_name = {d}/principal
    key_stash_file = {d}/stash
    acl_file = {d}/kadm5.acl
    max_life = 10h 0m 0s
    supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
  }}
[logging]
  kdc = FILE:{assets['work']}/krb5kdc.log
""")
    env = {**os.environ, "KRB5_CONFIG": str(conf), "KRB5_KDC_PROFILE": str(kdc)}
    r = lab.nsrun(host.ns, ["kdb5_util", "create", "-s", "-r", REALM, "-P", "lab-master-key"],
                  check=False, env=env, timeout=60)
    if r.returncode != 0:
        raise LabError(f"kdb5_util failed: {r.stderr.strip()[:300]}")
    q = [f"addprinc -pw {pw} {n}" for n, pw, _ in LAB_USERS]
    q += [f"addprinc -randkey {svc}/{h}.lab.internal" for svc, h in (
        ("host", "files"), ("host", "shell"), ("host", "nas"), ("cifs", "nas"), ("ldap", "dc"),
        ("HTTP", "www"), ("HTTP", "intranet"), ("imap", "mail"), ("smtp", "mail"),
        ("postgres", "db"))]
    for cmd in q:
        lab.nsrun(host.ns, ["kadmin.local", "-r", REALM, "-q", cmd], check=False, env=env)
    lab.spawn(host, ["env", f"KRB5_CONFIG={conf}", f"KRB5_KDC_PROFILE={kdc}", "krb5kdc", "-n",
                     "-r", REALM, "-P", str(d / "krb5kdc.pid")], limit,
              log=assets["work"] / "krb5kdc.out")
    wait_port(lab, host, 88, "udp", limit=15)
    off["krb5_conf"] = conf


def start_ntp(lab: Lab, host: Host, assets: dict, off: dict, limit: float) -> None:
    """chronyd as the office's time server: ``local stratum 8`` (no upstream), and ``-x``: it
    never adjusts the clock (the namespaces share the host's clock)."""
    check_target(host.ip)
    d = off["public"] / "chrony"          # chronyd drops to _chrony: its own folder
    d.mkdir(exist_ok=True)
    try:
        import pwd
        u = pwd.getpwnam("_chrony")
        os.chown(d, u.pw_uid, u.pw_gid)
    except KeyError:
        pass
    cfg = d / "chrony.conf"
    cfg.write_text(f"""bindaddress {host.ip}
port 123
cmdport 0
allow 10.213.0.0/16
local stratum 8
pidfile {d}/chronyd.pid
driftfile {d}/drift
""")
    lab.spawn(host, ["chronyd", "-x", "-d", "-f", str(cfg)], limit,
              log=assets["work"] / "chronyd.log")
    wait_port(lab, host, 123, "udp", limit=15)


def start_snmpd(lab: Lab, host: Host, assets: dict, off: dict, limit: float) -> None:
    check_target(host.ip)
    d = off["office"] / f"snmp-{host.name}"
    d.mkdir(exist_ok=True)
    cfg = d / "snmpd.conf"
    cfg.write_text(f"""agentAddress udp:{host.ip}:161
rocommunity public 10.213.0.0/16
rocommunity monitor 10.213.0.0/16
sysLocation Server room rack {random.Random(host.name).randint(1, 9)}
sysContact it-ops@lab.internal
sysName {host.name}.lab.internal
sysServices 72
""")
    lab.spawn(host, ["env", f"SNMP_PERSISTENT_DIR={d}", "MIBS=", "snmpd", "-f", "-Lf",
                     str(assets["work"] / f"snmpd-{host.name}.log"), "-C", "-c", str(cfg),
                     "-p", str(d / "snmpd.pid")], limit,
              log=assets["work"] / f"snmpd-{host.name}.out")
    wait_port(lab, host, 161, "udp", limit=15)


# -- databases -------------------------------------------------------------------------------
def start_mariadb(lab: Lab, host: Host, assets: dict, off: dict, limit: float) -> None:
    check_target(host.ip)
    d = off["public"] / "mariadb"
    if d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True)
    sock = d / "mysqld.sock"
    r = lab.nsrun(host.ns, ["mariadb-install-db", "--no-defaults", f"--datadir={d}/data",
                            "--user=root", "--auth-root-authentication-method=socket",
                            "--skip-test-db"], check=False, timeout=120)
    if r.returncode != 0:
        raise LabError(f"mariadb-install-db failed: {(r.stderr or r.stdout).strip()[-300:]}")
    lab.spawn(host, ["mariadbd", "--no-defaults", f"--datadir={d}/data", "--user=root",
                     f"--bind-address={host.ip}", "--port=3306", f"--socket={sock}",
                     f"--pid-file={d}/mariadb.pid", "--skip-name-resolve",
                     "--innodb-buffer-pool-size=32M", "--max-connections=300",
                     f"--log-error={assets['work']}/mariadb.err"], limit,
              log=assets["work"] / "mariadb.log")
    wait_port(lab, host, 3306, limit=60)
    rng = random.Random(f"mariadb-{off['seed']}")
    rows = ",".join(f"({i},'item-{i}','{rng.choice(['tools', 'paper', 'it', 'food'])}',"
                    f"{rng.randint(1, 500)},{rng.uniform(1, 900):.2f})" for i in range(1, 2001))
    sql = (f"CREATE DATABASE inventory; CREATE USER '{DB_USER}'@'%' IDENTIFIED BY '{DB_PASS}';"
           f"GRANT ALL ON inventory.* TO '{DB_USER}'@'%'; USE inventory;"
           "CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(64), cat VARCHAR(16),"
           " qty INT, price DECIMAL(8,2));"
           "CREATE TABLE orders (id INT AUTO_INCREMENT PRIMARY KEY, item INT, qty INT,"
           " ts TIMESTAMP DEFAULT CURRENT_TIMESTAMP);"
           f"INSERT INTO items VALUES {rows};")
    r = lab.nsrun(host.ns, ["mariadb", f"--socket={sock}", "-uroot", "-e", sql], check=False,
                  timeout=60)
    if r.returncode != 0:
        raise LabError(f"mariadb setup failed: {r.stderr.strip()[:300]}")


PG_BIN = Path("/usr/lib/postgresql")


def _pg_bin(name: str) -> str:
    versions = sorted(PG_BIN.glob("*/bin/" + name))
    if not versions:
        raise LabError(f"PostgreSQL's {name} is missing; run scripts/lab/install-deps.sh")
    return str(versions[-1])


def start_postgres(lab: Lab, host: Host, assets: dict, off: dict, limit: float) -> None:
    check_target(host.ip)
    d = off["public"] / "postgres"
    if d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True)
    pw = d / "pw"
    pw.write_text("pg-super-lab\n")
    import pwd
    pg = pwd.getpwnam("postgres")
    _chown_tree(d, pg.pw_uid, pg.pw_gid)
    as_pg = ["setpriv", f"--reuid={pg.pw_uid}", f"--regid={pg.pw_gid}", "--clear-groups"]
    r = lab.nsrun(host.ns, [*as_pg, _pg_bin("initdb"), "-D", str(d / "data"), "-U", "postgres",
                            "--pwfile", str(pw), "-A", "scram-sha-256", "-E", "UTF8"],
                  check=False, timeout=120, cwd=str(d))
    if r.returncode != 0:
        raise LabError(f"initdb failed: {(r.stderr or r.stdout).strip()[-300:]}")
    with (d / "data" / "pg_hba.conf").open("a") as f:
        f.write("host all all 10.213.0.0/16 scram-sha-256\n")
    lab.spawn(host, [*as_pg, _pg_bin("postgres"), "-D", str(d / "data"), "-c",
                     f"listen_addresses={host.ip}", "-c", "port=5432", "-c",
                     f"unix_socket_directories={d}", "-c", "max_connections=200", "-c",
                     "shared_buffers=32MB", "-c", "logging_collector=off"], limit,
              log=assets["work"] / "postgres.log", cwd=str(d))
    wait_port(lab, host, 5432, limit=60)
    rng = random.Random(f"pg-{off['seed']}")
    rows = ",".join(f"({i},'asset-{i}','{rng.choice(['laptop', 'monitor', 'phone', 'desk'])}',"
                    f"'{rng.choice(['fin', 'hr', 'eng', 'ops', 'it'])}',{rng.randint(0, 3000)})"
                    for i in range(1, 3001))
    env = {**os.environ, "PGPASSWORD": "pg-super-lab"}
    r = lab.nsrun(host.ns, ["psql", "-h", str(d), "-U", "postgres", "-d", "postgres", "-c",
                            f"CREATE ROLE {DB_USER} LOGIN PASSWORD '{DB_PASS}'", "-c",
                            f"CREATE DATABASE assets OWNER {DB_USER}"], check=False, env=env)
    r2 = lab.nsrun(host.ns, ["psql", "-h", str(d), "-U", "postgres", "-d", "assets", "-c",
                             "CREATE TABLE assets (id INT PRIMARY KEY, tag TEXT, kind TEXT, "
                             f"dept TEXT, cost INT); INSERT INTO assets VALUES {rows}; "
                             f"ALTER TABLE assets OWNER TO {DB_USER};"], check=False, env=env)
    if r.returncode or r2.returncode:
        raise LabError(f"postgres setup failed: {(r.stderr + r2.stderr).strip()[:300]}")


def start_redis(lab: Lab, host: Host, assets: dict, off: dict, limit: float) -> None:
    check_target(host.ip)
    d = off["office"] / "redis"
    d.mkdir(exist_ok=True)
    lab.spawn(host, ["redis-server", "--bind", host.ip, "--port", "6379", "--protected-mode",
                     "no", "--save", "", "--appendonly", "no", "--dir", str(d),
                     "--daemonize", "no", "--maxmemory", "64mb", "--maxmemory-policy",
                     "allkeys-lru", "--pidfile", str(d / "redis.pid"), "--logfile",
                     str(assets["work"] / "redis.log")], limit,
              log=assets["work"] / "redis.out")
    wait_port(lab, host, 6379, limit=20)


# -- files -----------------------------------------------------------------------------------
def start_samba(lab: Lab, host: Host, assets: dict, off: dict, limit: float) -> None:
    check_target(host.ip)
    d = off["public"] / "samba"  # short paths: its unix sockets must fit in 108 bytes
    for sub in ("private", "lock", "state", "cache", "pid", "ncalrpc"):
        (d / sub).mkdir(parents=True, exist_ok=True)
    smb = off["smb"]
    cfg = d / "smb.conf"
    cfg.write_text(f"""[global]
  workgroup = LAB
  server string = Lab NAS
  netbios name = NAS
  server role = standalone server
  interfaces = {host.ip}/24
  bind interfaces only = yes
  smb ports = 445 139
  disable netbios = yes
  private dir = {d}/private
  lock directory = {d}/lock
  state directory = {d}/state
  cache directory = {d}/cache
  pid directory = {d}/pid
  ncalrpc dir = {d}/ncalrpc
  passdb backend = tdbsam:{d}/private/passdb.tdb
  log file = {assets['work']}/samba-%m.log
  max log size = 1000
  logging = file
  load printers = no
  printing = bsd
  printcap name = /dev/null
  disable spoolss = yes
  map to guest = Bad User
  server min protocol = SMB2_02
  usershare path =
[shared]
  path = {smb}/shared
  read only = no
  valid users = {' '.join(n for n, _, _ in LAB_USERS)}
  create mask = 0666
[public]
  path = {smb}/public
  read only = yes
  guest ok = yes
[scans]
  path = {smb}/scans
  read only = no
  guest ok = yes
""")
    prefix = bind_users(assets["etc"])
    for name, pw, _ in LAB_USERS:
        r = lab.nsrun(host.ns, ["sh", "-c", f'{prefix} && exec smbpasswd -c "$1" -s -a "$2"',
                                "sh", str(cfg), name], check=False,
                      input=f"{pw}\n{pw}\n")
        if r.returncode != 0:
            raise LabError(f"smbpasswd failed: {r.stderr.strip()[:300]}")
    lab.spawn(host, ["smbd", "--foreground", "--no-process-group", "--debug-stdout",
                     "--debuglevel=0", "-s", str(cfg)], limit,
              log=assets["work"] / "smbd.log", shell_prefix=prefix)
    wait_port(lab, host, 445, limit=90)
    off["smb_conf"] = cfg


def start_rsyncd(lab: Lab, host: Host, assets: dict, off: dict, limit: float) -> None:
    check_target(host.ip)
    d = off["office"] / "rsyncd"
    d.mkdir(exist_ok=True)
    secrets = d / "secrets"
    secrets.write_text(f"{RSYNC_USER}:{RSYNC_PASS}\n")
    os.chmod(secrets, 0o600)
    cfg = d / "rsyncd.conf"
    cfg.write_text(f"""address = {host.ip}
port = 873
pid file = {d}/rsyncd.pid
use chroot = no
uid = root
gid = root
max connections = 60
log file = {assets['work']}/rsyncd.log
timeout = 120
[software]
  path = {off['rsync']}/software
  read only = yes
  comment = software mirror
[backup]
  path = {off['rsync']}/backup
  read only = no
  auth users = {RSYNC_USER}
  secrets file = {secrets}
  comment = nightly backups
""")
    lab.spawn(host, ["rsync", "--daemon", "--no-detach", f"--config={cfg}"], limit,
              log=assets["work"] / "rsyncd.out")
    wait_port(lab, host, 873, limit=15)


# -- infrastructure --------------------------------------------------------------------------
def start_syslog(lab: Lab, host: Host, assets: dict, off: dict, limit: float) -> None:
    check_target(host.ip)
    d = off["office"] / "rsyslog"
    d.mkdir(exist_ok=True)
    cfg = d / "rsyslog.conf"
    # no imuxsock/imklog: it listens on the network only and never reads the host's logs
    cfg.write_text(f"""global(workDirectory="{d}")
module(load="imudp")
module(load="imtcp" MaxSessions="500")
input(type="imudp" address="{host.ip}" port="514")
input(type="imtcp" address="{host.ip}" port="514")
*.* action(type="omfile" file="{d}/remote.log")
""")
    lab.spawn(host, ["rsyslogd", "-n", "-f", str(cfg), "-i", str(d / "rsyslogd.pid")], limit,
              log=assets["work"] / "rsyslogd.log")
    wait_port(lab, host, 514, limit=15)


def start_mqtt(lab: Lab, host: Host, assets: dict, off: dict, limit: float) -> None:
    check_target(host.ip)
    d = off["office"] / "mosquitto"
    d.mkdir(exist_ok=True)
    cfg = d / "mosquitto.conf"
    cfg.write_text(f"""listener 1883 {host.ip}
allow_anonymous true
persistence false
log_dest stdout
max_connections 500
""")
    lab.spawn(host, ["mosquitto", "-c", str(cfg)], limit, log=assets["work"] / "mosquitto.out")
    wait_port(lab, host, 1883, limit=15)


def start_dhcp(lab: Lab, host: Host, assets: dict, off: dict, limit: float,
               dns_ip: str, ntp_ip: str) -> None:
    """dnsmasq as the office's DHCP server only (``--port=0``: no DNS): a pool inside the
    lab's /24, two-minute leases (renewals every minute), no router option (the lab has no
    gateway), the lab DNS, domain and NTP server."""
    check_target(host.ip)
    for ip in (*DHCP_POOL, dns_ip, ntp_ip):
        check_target(ip)
    d = off["office"] / "dhcp"
    d.mkdir(exist_ok=True)
    lab.spawn(host, ["dnsmasq", "-k", "--conf-file=/dev/null", "--port=0", "--no-hosts",
                     "--interface=eth0", "--bind-interfaces", "--except-interface=lo",
                     f"--dhcp-range={DHCP_POOL[0]},{DHCP_POOL[1]},255.255.255.0,2m",
                     "--dhcp-option=option:router", f"--dhcp-option=option:dns-server,{dns_ip}",
                     "--dhcp-option=option:domain-name,lab.internal",
                     f"--dhcp-option=option:ntp-server,{ntp_ip}", "--dhcp-authoritative",
                     f"--dhcp-leasefile={d}/leases", "--user=root",
                     f"--pid-file={d}/dnsmasq-dhcp.pid", "--log-dhcp",
                     f"--log-facility={assets['work']}/dhcp.log"], limit,
              log=assets["work"] / "dhcp.out")
    end = time.time() + 15  # bound to eth0 (SO_BINDTODEVICE): ss shows 0.0.0.0%eth0:67
    while ":67 " not in lab.nsrun(host.ns, ["ss", "-lun"], check=False).stdout:
        if time.time() > end:
            raise LabError(f"udp/67 did not come up on {host.name}")
        time.sleep(0.2)


def start_sip(lab: Lab, host: Host, assets: dict, off: dict, limit: float) -> None:
    """sipp's built-in UAS (``-sn uas``) as the office PBX: answers every call, echoes RTP."""
    check_target(host.ip)
    d = off["office"] / "sip"
    d.mkdir(exist_ok=True)
    lab.spawn(host, ["sipp", "-sn", "uas", "-i", host.ip, "-p", "5060", "-mi", host.ip,
                     "-rtp_echo", "-nostdin"], limit, log=assets["work"] / "sipp-uas.log",
              cwd=str(d))
    wait_port(lab, host, 5060, "udp", limit=15)


def start_vnc(lab: Lab, host: Host, assets: dict, off: dict, limit: float) -> None:
    """TigerVNC's Xvnc: an X server whose screen is the VNC framebuffer (no password, the
    way many in-house kiosks and lab boxes are set up)."""
    check_target(host.ip)
    lab.spawn(host, ["Xvnc", f":{VNC_DISPLAY}", "-interface", host.ip, "-rfbport",
                     str(VNC_PORT), "-localhost", "no", "-SecurityTypes", "None", "-geometry",
                     "1280x800", "-depth", "24", "-nolisten", "tcp", "-AlwaysShared"], limit,
              log=assets["work"] / "xvnc.log")
    wait_port(lab, host, VNC_PORT, limit=20)


def start_ws(lab: Lab, host: Host, assets: dict, off: dict, limit: float) -> None:
    check_target(host.ip)
    lab.spawn(host, [pyexe(), str(SCRIPTS / "labsvc.py"), "ws", "--bind", host.ip, "--port",
                     str(WS_PORT), "--seed", str(off["seed"]), "--seconds", f"{limit:.0f}"],
              limit, log=assets["work"] / "ws.log")
    wait_port(lab, host, WS_PORT, limit=30)


def start_modbus(lab: Lab, host: Host, assets: dict, off: dict, limit: float) -> None:
    check_target(host.ip)
    lab.spawn(host, [pyexe(), str(SCRIPTS / "labsvc.py"), "modbus", "--bind", host.ip,
                     "--seed", str(off["seed"]), "--seconds", f"{limit:.0f}"], limit,
              log=assets["work"] / "modbus.log")
    wait_port(lab, host, 502, limit=30)


def start_dns2(lab: Lab, host: Host, assets: dict, off: dict, limit: float,
               upstream: str) -> None:
    """A second resolver (a branch office's): dnsmasq that forwards every query to the lab
    DNS server (recursion on the clients' behalf) and caches the answers."""
    check_target(host.ip)
    check_target(upstream)
    lab.spawn(host, ["dnsmasq", "-k", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
                     "--no-poll", "--bind-interfaces", f"--listen-address={host.ip}",
                     "--except-interface=lo", f"--server={upstream}", "--user=root",
                     "--cache-size=300", "--min-port=20000", "--max-port=44999",
                     f"--pid-file={off['office']}/dnsmasq-dns2.pid"], limit,
              log=assets["work"] / "dns2.log")
    wait_port(lab, host, 53, "udp", limit=15)


def start_avahi(lab: Lab, host: Host, work: Path, limit: float, services: list[tuple],
                wait_addr: bool = False) -> object:
    """avahi-daemon on one host (mDNS responder: announces the host and its services, answers
    queries), without D-Bus, in the namespace's private mount namespace with its own run dir
    and service files. Returns the process (the lab stops it at the end of a mix)."""
    d = work / "avahi" / host.name
    svc = d / "services"
    svc.mkdir(parents=True, exist_ok=True)
    for i, (stype, port, name) in enumerate(services):
        (svc / f"s{i}.service").write_text(
            f'<?xml version="1.0" standalone="no"?><!DOCTYPE service-group SYSTEM '
            f'"avahi-service.dtd"><service-group><name>{name}</name><service>'
            f"<type>{stype}</type><port>{port}</port></service></service-group>\n")
    cfg = d / "avahi-daemon.conf"
    cfg.write_text(f"""[server]
host-name={host.name}
domain-name=local
use-ipv4=yes
use-ipv6=no
allow-interfaces=eth0
enable-dbus=no
ratelimit-interval-usec=1000000
ratelimit-burst=1000
[wide-area]
enable-wide-area=no
[publish]
publish-workstation=yes
publish-hinfo=no
publish-addresses=yes
[reflector]
enable-reflector=no
[rlimits]
""")
    prefix = (f"mount -t tmpfs none /run/avahi-daemon && "
              f"mount --bind {svc} /etc/avahi/services")
    if wait_addr:  # a DHCP laptop: announce once the lease is there
        prefix = ("for i in $(seq 120); do ip -4 -o addr show eth0 | grep -q inet && break; "
                  "sleep 0.5; done; " + prefix)
    Path("/run/avahi-daemon").mkdir(exist_ok=True)  # the package's own run dir
    return lab.spawn(host, ["avahi-daemon", "--no-chroot", "--no-drop-root", "--no-rlimits",
                            "-f", str(cfg)], limit, log=work / f"avahi-{host.name}.log",
                     shell_prefix=prefix)
