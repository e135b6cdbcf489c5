"""The lab's Python servers and clients for office protocols that Debian's tools don't cover
well: an SMTP server (aiosmtpd: plain port 25 with STARTTLS offered, submission port 587 with
STARTTLS and AUTH required) that delivers into the lab's Maildirs, a WebSocket server and
client (websockets), and a Modbus/TCP PLC simulator and HMI client (pymodbus).

Run with the lab's virtualenv interpreter (the packages are the ``lab`` extra of
pyproject.toml): ``python labsvc.py {smtp,ws,modbus,ws-client,modbus-client} ...``. Every
server refuses to bind, and every client to connect, outside ``10.213.0.0/16``; clients are
bounded in count and time and stop by themselves.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import os
import random
import ssl
import sys
import time
from pathlib import Path

LAB_NET = ipaddress.ip_network("10.213.0.0/16")


def lab_addr(addr: str) -> str:
    ip = ipaddress.ip_address(addr)
    if ip not in LAB_NET:
        raise SystemExit(f"refusing {addr}: outside the lab network {LAB_NET}")
    return str(ip)


# -- SMTP ------------------------------------------------------------------------------------
def smtp_server(args) -> int:
    from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

    bind = lab_addr(args.bind)
    users = json.loads(Path(args.users).read_text()) if args.users else {}
    maildir = Path(args.maildir)
    uid = args.uid

    class Deliver:  # aiosmtpd calls the handle_* hooks by these names
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, server, session, envelope):  # noqa: N802
            for rcpt in envelope.rcpt_tos:
                user = rcpt.split("@")[0].lower()
                if user not in users:
                    user = "postmaster"
                d = maildir / user / "Maildir"
                for sub in ("new", "cur", "tmp"):
                    (d / sub).mkdir(parents=True, exist_ok=True)
                name = f"{time.time():.6f}.{os.getpid()}.{random.randrange(1 << 30):x}.lab"
                f = d / "new" / name
                f.write_bytes(b"Return-Path: <" + envelope.mail_from.encode() + b">\r\n"
                              + envelope.original_content)
                if uid is not None:
                    for p in (maildir / user, d, d / "new", d / "cur", d / "tmp", f):
                        try:
                            os.chown(p, uid, uid)
                        except OSError:
                            pass
            return "250 Message accepted for delivery"

    def auth(server, session, envelope, mechanism, data):
        if isinstance(data, LoginPassword):
            ok = users.get(data.login.decode(errors="replace")) == \
                data.password.decode(errors="replace")
            return AuthResult(success=ok)
        return AuthResult(success=False)

    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(args.cert, args.key)

    async def main():
        loop = asyncio.get_running_loop()
        servers = [
            await loop.create_server(lambda: SMTP(Deliver(), hostname="mail.lab.internal",
                                                  tls_context=tls, authenticator=auth,
                                                  auth_required=False, timeout=60),
                                     bind, 25),
            await loop.create_server(lambda: SMTP(Deliver(), hostname="mail.lab.internal",
                                                  tls_context=tls, require_starttls=True,
                                                  authenticator=auth, auth_required=True,
                                                  timeout=60), bind, 587),
        ]
        print(f"smtp on {bind}:25,587", flush=True)
        await asyncio.sleep(args.seconds)
        for s in servers:
            s.close()

    asyncio.run(main())
    return 0


# -- WebSocket -------------------------------------------------------------------------------
def ws_server(args) -> int:
    from websockets.asyncio.server import serve

    bind = lab_addr(args.bind)
    rng = random.Random(args.seed)

    async def handler(ws):
        # a notification/chat service: echoes messages, pushes small updates now and then
        async def push():
            n = 0
            while n < 500:
                await asyncio.sleep(rng.uniform(1.0, 8.0))
                n += 1
                await ws.send(json.dumps({"type": "notice", "n": n,
                                          "text": "x" * rng.randint(20, 600)}))

        task = asyncio.create_task(push())
        try:
            async for msg in ws:
                await ws.send(json.dumps({"type": "ack", "len": len(msg)}))
        except Exception:  # noqa: BLE001 - however the client leaves, its session ends
            pass
        finally:
            task.cancel()

    async def main():
        async with serve(handler, bind, args.port, max_size=1 << 20, ping_interval=15,
                         server_header="lab-notify/1.0"):
            print(f"ws on {bind}:{args.port}", flush=True)
            await asyncio.sleep(args.seconds)

    asyncio.run(main())
    return 0


def ws_client(args) -> int:
    from websockets.asyncio.client import connect

    host = lab_addr(args.host)
    rng = random.Random(args.seed)
    end = time.time() + min(args.seconds, 600)

    async def main():
        async with connect(f"ws://{host}:{args.port}/notify?user={args.user}",
                           open_timeout=5, close_timeout=3, ping_interval=10,
                           additional_headers={"Origin": "http://intranet.lab.internal"}) as ws:
            sent = 0
            while time.time() < end and sent < 200:
                try:
                    await asyncio.wait_for(ws.recv(), timeout=rng.uniform(0.5, 6.0))
                except asyncio.TimeoutError:
                    pass
                if rng.random() < 0.5:
                    await ws.send(json.dumps({"type": "msg", "text": "y" * rng.randint(5, 400)}))
                    sent += 1

    try:
        asyncio.run(asyncio.wait_for(main(), timeout=min(args.seconds, 600) + 10))
    except Exception as exc:  # noqa: BLE001 - connection refused, closed: a user's client gives up
        print(f"ws-client: {exc}", file=sys.stderr)
        return 1
    return 0


# -- Modbus/TCP ------------------------------------------------------------------------------
def modbus_server(args) -> int:
    from pymodbus.datastore import (
        ModbusDeviceContext,
        ModbusSequentialDataBlock,
        ModbusServerContext,
    )
    from pymodbus.server import StartAsyncTcpServer

    bind = lab_addr(args.bind)
    rng = random.Random(args.seed)
    def device():
        return ModbusDeviceContext(
            di=ModbusSequentialDataBlock(1, [rng.random() < 0.5 for _ in range(200)]),
            co=ModbusSequentialDataBlock(1, [rng.random() < 0.5 for _ in range(200)]),
            hr=ModbusSequentialDataBlock(1, [rng.randint(0, 4000) for _ in range(200)]),
            ir=ModbusSequentialDataBlock(1, [rng.randint(0, 4000) for _ in range(200)]))

    ctx = ModbusServerContext(devices={1: device(), 2: device()}, single=False)

    async def main():
        try:
            await asyncio.wait_for(StartAsyncTcpServer(context=ctx, address=(bind, 502)),
                                   timeout=args.seconds)
        except asyncio.TimeoutError:
            pass

    print(f"modbus on {bind}:502", flush=True)
    asyncio.run(main())
    return 0


def modbus_client(args) -> int:
    from pymodbus.client import ModbusTcpClient

    host = lab_addr(args.host)
    rng = random.Random(args.seed)
    end = time.time() + min(args.seconds, 900)
    c = ModbusTcpClient(host, port=502, timeout=3, retries=1)
    if not c.connect():
        print("modbus-client: no connection", file=sys.stderr)
        return 1
    n = 0
    try:
        while time.time() < end and n < args.count:
            dev = rng.choice([1, 1, 1, 2])
            op = rng.random()
            if op < 0.5:
                c.read_holding_registers(rng.randrange(0, 100), count=rng.randint(1, 40),
                                         device_id=dev)
            elif op < 0.8:
                c.read_input_registers(rng.randrange(0, 100), count=rng.randint(1, 20),
                                       device_id=dev)
            elif op < 0.93:
                c.read_coils(rng.randrange(0, 100), count=rng.randint(1, 32), device_id=dev)
            else:  # an operator changes a set point
                c.write_register(rng.randrange(0, 20), rng.randint(0, 4000), device_id=dev)
            n += 1
            time.sleep(args.interval * rng.uniform(0.8, 1.2))
    finally:
        c.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="labsvc.py")
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("smtp")
    s.add_argument("--bind", required=True)
    s.add_argument("--cert", required=True)
    s.add_argument("--key", required=True)
    s.add_argument("--users", help="JSON {user: password}")
    s.add_argument("--maildir", required=True)
    s.add_argument("--uid", type=int)
    s.add_argument("--seconds", type=float, default=3600)
    s = sub.add_parser("ws")
    s.add_argument("--bind", required=True)
    s.add_argument("--port", type=int, default=8765)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--seconds", type=float, default=3600)
    s = sub.add_parser("ws-client")
    s.add_argument("--host", required=True)
    s.add_argument("--port", type=int, default=8765)
    s.add_argument("--user", default="user")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--seconds", type=float, default=30)
    s = sub.add_parser("modbus")
    s.add_argument("--bind", required=True)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--seconds", type=float, default=3600)
    s = sub.add_parser("modbus-client")
    s.add_argument("--host", required=True)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--seconds", type=float, default=30)
    s.add_argument("--count", type=int, default=100)
    s.add_argument("--interval", type=float, default=1.0)
    args = ap.parse_args(argv)
    return {"smtp": smtp_server, "ws": ws_server, "ws-client": ws_client,
            "modbus": modbus_server, "modbus-client": modbus_client}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
