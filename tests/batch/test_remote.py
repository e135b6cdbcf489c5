"""``--scheduler``: a scheduler and two workers started as separate processes with the
``dask scheduler`` and ``dask worker`` commands on loopback; one worker killed mid-task."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ids_desktop.batch import run_batch
from ids_desktop.batch.task import DELAY_ENV

pytestmark = pytest.mark.slow

DASK = Path(sys.executable).with_name("dask")


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join([root, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.update(extra)
    return env


@contextlib.contextmanager
def dask_cluster(tmp: Path) -> Iterator[tuple[str, list[subprocess.Popen[bytes]]]]:
    """``(address, [scheduler, worker, worker])``, all on 127.0.0.1; ended on exit."""
    if not DASK.exists():
        pytest.skip("the dask command is not installed beside this Python")
    info = tmp / "scheduler.json"
    logs = tmp / "logs"
    logs.mkdir()
    procs: list[subprocess.Popen[bytes]] = []

    def start(name: str, args: list[str], env: dict[str, str]) -> None:
        with (logs / f"{name}.log").open("wb") as log:
            procs.append(subprocess.Popen([str(DASK), *args], env=env, cwd=tmp, stdout=log,
                                          stderr=subprocess.STDOUT, start_new_session=True))

    try:
        # the retry policy of the embedded cluster: one retry after a worker dies under a task
        start("scheduler", ["scheduler", "--host", "127.0.0.1", "--port", "0",
                            "--dashboard-address", "127.0.0.1:0", "--no-show",
                            "--scheduler-file", str(info)],
              _env(DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES="1"))
        deadline = time.monotonic() + 60
        while not info.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert info.exists(), (logs / "scheduler.log").read_text()
        address = json.loads(info.read_text())["address"]
        assert address.startswith("tcp://127.0.0.1:")
        worker_env = _env(DASK_DISTRIBUTED__WORKER__DAEMON="False",
                          **{DELAY_ENV: "slow-*=8"})
        for i in range(2):
            start(f"worker{i}", ["worker", address, "--host", "127.0.0.1", "--nworkers", "1",
                                 "--nthreads", "1", "--no-dashboard", "--memory-limit", "2GiB",
                                 "--name", f"w{i}"], worker_env)
        yield address, procs
    finally:
        for p in reversed(procs):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGTERM)
        for p in reversed(procs):
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(p.pid, signal.SIGKILL)
                p.wait(5)


def _wait_workers(address: str, n: int) -> None:
    from distributed import Client

    with Client(address, timeout=30) as client:
        client.wait_for_workers(n, timeout=60)


def test_remote_scheduler_with_a_worker_killed_mid_task(captures: Path, tmp_path: Path) -> None:
    from distributed import Client

    inputs = tmp_path / "in"
    inputs.mkdir()
    for p in sorted(captures.glob("*.pcap")):
        (inputs / p.name).write_bytes(p.read_bytes())
    (inputs / "slow-ssh.pcap").write_bytes((captures / "ssh.pcap").read_bytes()[:-1] + b"\0")
    with dask_cluster(tmp_path) as (address, _):
        _wait_workers(address, 2)
        result: list[object] = []
        thread = threading.Thread(target=lambda: result.append(
            run_batch([inputs], tmp_path / "out", scheduler=address)))
        thread.start()
        killed = None
        with Client(address, timeout=30) as client:
            deadline = time.monotonic() + 60
            while killed is None and time.monotonic() < deadline:
                for worker, keys in client.processing().items():
                    if any("slow-ssh" in str(k) for k in keys):
                        time.sleep(1.0)  # well inside the task's 8 s
                        pid = client.run(os.getpid, workers=[worker])[worker]
                        os.kill(pid, signal.SIGKILL)
                        killed = pid
                        break
                time.sleep(0.2)
        thread.join(180)
        assert not thread.is_alive()
    assert killed is not None, "the slow task never ran"
    (batch,) = result
    summary = batch.summary  # type: ignore[attr-defined]
    assert summary["scheduler"] == address and summary["workers"] == 2
    by_name = {Path(f["path"]).name: f for f in summary["files"]}
    slow = by_name.pop("slow-ssh.pcap")
    print("slow file after its worker was killed:", slow["status"], slow["reason"], slow["worker"])
    # retried once on a worker (the killed one's nanny restarts it), or reported
    assert slow["status"] == "analysed" or (slow["status"] == "failed"
                                            and slow["category"] == "worker lost")
    assert all(f["status"] == "analysed" for f in by_name.values()), [
        (n, f["status"], f["reason"]) for n, f in by_name.items()]
    assert summary["captures"] == 4
