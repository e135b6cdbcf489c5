"""Small HTTP servers for the lab, run inside a lab namespace only.

``--mode app``: a deliberately vulnerable shop ("LabShop"): a login form checked against
sqlite, ``/item?id=`` with SQL injection (numeric context), ``/vulnerabilities/sqli/?id=``
with SQL injection in a quoted string (the DVWA exercise's shape), ``/search?q=`` with
reflected XSS and ``/lookup?host=`` with command injection. Like Apache it closes a
keep-alive connection that stays idle for :data:`KEEPALIVE_SECONDS` between requests. It
binds only to the lab address it is given and refuses to bind anywhere outside the lab
network. It is meant to run as ``nobody``.

``--mode c2``: a command-and-control / drop server: ``/beacon`` (and any other GET path)
hands out tasks, ``/result`` and ``/upload`` accept POSTed data (and discard it), and
``/<name>.php`` takes ransomware-style check-ins: an opaque POSTed body, answered after a
pause with a chunked reply (``Connection: close``), now and then a large one. The TLS C2
front (nginx on the same host, see ``servers.py``) proxies to this server.
"""

from __future__ import annotations

import argparse
import html
import ipaddress
import json
import random
import sqlite3
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

LAB_NET = ipaddress.ip_network("10.213.0.0/16")

PAGE = """<!doctype html><html><head><title>LabShop - {title}</title>
<link rel="stylesheet" href="/static/style.css"></head><body>
<nav><a href="/">Home</a> <a href="/search?q=">Search</a> <a href="/login">Login</a></nav>
<main>{body}</main></body></html>"""

CSS = b"body{font-family:sans-serif;margin:2em} nav a{margin-right:1em}" * 20

USERS = [("alice", "wonderland"), ("bob", "builder42"), ("carol", "S3cure!pass"),
         ("admin", "admin-2024-lab")]
ITEMS = [(i, f"Widget {i}", round(3.5 + i * 1.25, 2), f"A fine widget number {i}")
         for i in range(1, 60)]


#: A query may run this long before the database aborts it (like a server's statement
#: timeout); sqlmap's SQLite time-based payloads (RANDOMBLOB) would otherwise burn CPU.
QUERY_SECONDS = 1.0
DB_LOCK = threading.Lock()
#: An idle keep-alive connection is closed after this long (Apache's KeepAliveTimeout); it
#: applies only while waiting for the next request line, never while a request is read.
KEEPALIVE_SECONDS = 5.0


def make_db() -> sqlite3.Connection:
    db = sqlite3.connect(":memory:", check_same_thread=False)
    db.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, 1_000_000)
    db.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, password TEXT)")
    db.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, price REAL, descr TEXT)")
    db.executemany("INSERT INTO users (name, password) VALUES (?, ?)", USERS)
    db.executemany("INSERT INTO items VALUES (?, ?, ?, ?)", ITEMS)
    db.commit()
    return db


def query(db: sqlite3.Connection, sql: str, params: tuple = ()) -> list:
    """Run one query, aborted after :data:`QUERY_SECONDS` (one connection, one at a time)."""
    with DB_LOCK:
        deadline = time.monotonic() + QUERY_SECONDS
        db.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
        try:
            return db.execute(sql, params).fetchall()
        finally:
            db.set_progress_handler(None, 0)


class AppHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "LabShop/0.1"
    db: sqlite3.Connection

    def log_message(self, fmt, *args):  # quiet
        pass

    def handle_one_request(self):
        """Wait at most :data:`KEEPALIVE_SECONDS` for a request to start, then serve it."""
        try:
            self.connection.settimeout(KEEPALIVE_SECONDS)
            started = self.rfile.peek(1)
        except OSError:  # idle too long (or reset): close like Apache's keep-alive timeout
            started = b""
        if not started:
            self.close_connection = True
            return
        self.connection.settimeout(None)
        super().handle_one_request()

    def _send(self, code: int, body: bytes, ctype: str = "text/html; charset=utf-8") -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _page(self, title: str, body: str, code: int = 200) -> None:
        self._send(code, PAGE.format(title=title, body=body).encode())

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        url = urlparse(self.path)
        q = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        if url.path == "/":
            links = "".join(f'<li><a href="/item?id={i}">Widget {i}</a></li>'
                            for i, *_ in ITEMS[:20])
            self._page("Home", f"<h1>Welcome to LabShop</h1><ul>{links}</ul>")
        elif url.path == "/static/style.css":
            self._send(200, CSS, "text/css")
        elif url.path == "/login":
            self._page("Login", '<form method="post" action="/login"><input name="username">'
                       '<input name="password" type="password"><button>Log in</button></form>')
        elif url.path == "/item":
            # VULNERABLE on purpose: the id is pasted into the SQL text.
            sql = f"SELECT name, price, descr FROM items WHERE id = {q.get('id', '1')}"
            try:
                rows = query(self.db, sql)
            except sqlite3.Error as exc:
                self._page("Error", f"<p>Database error: {html.escape(str(exc))}</p>", 500)
                return
            body = "".join(f"<h2>{r[0]}</h2><p>{r[1]} EUR</p><p>{r[2]}</p>" for r in rows)
            self._page("Item", body or "<p>No such item</p>")
        elif url.path.rstrip("/") == "/vulnerabilities/sqli":
            # VULNERABLE on purpose: the id is pasted into a quoted string (DVWA "low").
            form = ('<form action="/vulnerabilities/sqli/" method="GET">User ID: '
                    '<input type="text" name="id"><input type="submit" name="Submit" '
                    'value="Submit"></form>')
            if "id" not in q:
                self._page("SQL Injection", f"<h1>User lookup</h1>{form}")
                return
            sql = f"SELECT id, name FROM users WHERE id = '{q['id']}'"
            try:
                rows = query(self.db, sql)
            except sqlite3.Error as exc:
                self._page("Error", f"<pre>{html.escape(sql)}</pre><p>{html.escape(str(exc))}"
                           "</p>", 500)
                return
            body = "".join(f"<pre>ID: {html.escape(str(q['id']))}<br>First name: "
                           f"{html.escape(str(r[0]))}<br>Surname: {html.escape(str(r[1]))}"
                           "</pre>" for r in rows)
            self._page("SQL Injection", f"<h1>User lookup</h1>{form}{body}")
        elif url.path == "/search":
            term = q.get("q", "")
            hits = [r for r in ITEMS if term.lower() in r[1].lower()] if term else []
            # VULNERABLE on purpose: the search term is reflected without escaping.
            body = f"<h1>Results for {term}</h1>" + "".join(f"<p>{r[1]}</p>" for r in hits[:10])
            self._page("Search", body)
        elif url.path == "/lookup":
            host = q.get("host", "localhost")
            # VULNERABLE on purpose: shell command injection (the app runs as nobody).
            try:
                out = subprocess.run(f"getent hosts {host}", shell=True, capture_output=True,
                                     text=True, timeout=20).stdout
            except subprocess.TimeoutExpired:
                out = "timeout"
            self._page("Lookup", f"<pre>{html.escape(out)}</pre>")
        else:
            self._page("Not found", "<p>Not found</p>", 404)

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(min(n, 1 << 20)).decode("latin-1")
        form = {k: v[0] for k, v in parse_qs(data).items()}
        url = urlparse(self.path)
        if url.path == "/login":
            rows = query(self.db, "SELECT id FROM users WHERE name = ? AND password = ?",
                         (form.get("username", ""), form.get("password", "")))
            row = rows[0] if rows else None
            if row:
                self._page("Welcome", "<p>Welcome back!</p><a href='/'>continue</a>")
            else:
                self._page("Login", "<p>Login failed</p>", 200)
        else:
            self._page("Not found", "<p>Not found</p>", 404)


class C2Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "nginx"
    rng = random.Random(7)
    lock = threading.Lock()

    def log_message(self, fmt, *args):
        pass

    def _send(self, body: bytes, ctype: str = "application/json") -> None:
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.headers.get("X-Lab-Front") == "tls":  # via the TLS front: a backend's think time
            time.sleep(self.rng.uniform(0.05, 0.5))
        task = self.rng.choice(["sleep", "sleep", "sleep", "whoami", "ls", "upload"])
        self._send(json.dumps({"task": task, "id": self.rng.randrange(1 << 30)}).encode())

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        remaining = n
        while remaining > 0:
            chunk = self.rfile.read(min(remaining, 65536))
            if not chunk:
                break
            remaining -= len(chunk)
        if urlparse(self.path).path.endswith(".php"):
            self._checkin()
        else:
            self._send(b'{"ok":true}')

    def _checkin(self) -> None:
        """A ransomware-style C2 answer: after a pause, a chunked reply and close."""
        with self.lock:
            pause = self.rng.uniform(1.0, 6.0)
            big = self.rng.random() < 0.25
            size = self.rng.randint(20_000, 130_000) if big else self.rng.randint(2, 40)
            body = self.rng.randbytes(size // 2).hex().encode()
        time.sleep(pause)
        self.send_response(200)
        self.send_header("X-Powered-By", "PHP/5.4.45")
        self.send_header("Connection", "close")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        for i in range(0, len(body), 8192):
            part = body[i:i + 8192]
            self.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
        self.wfile.write(b"0\r\n\r\n")
        self.close_connection = True


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", choices=["app", "c2"], default="app")
    ap.add_argument("--bind", required=True)
    ap.add_argument("--port", type=int, default=8080)
    a = ap.parse_args(argv)
    if ipaddress.ip_address(a.bind) not in LAB_NET:
        print(f"refusing to bind outside the lab network: {a.bind}", file=sys.stderr)
        return 2
    if a.mode == "app":
        AppHandler.db = make_db()
        handler = AppHandler
    else:
        handler = C2Handler
    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer.request_queue_size = 128
    srv = ThreadingHTTPServer((a.bind, a.port), handler)
    srv.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
