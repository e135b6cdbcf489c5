"""The batch driver: a Dask cluster, one task per file, progress, cancel and the summary.

:func:`run_batch` is a plain function with ``progress`` and ``cancel`` hooks, like the core's;
the CLI's ``batch`` command and the window's File ▸ Open Folder are thin layers over it.

The cluster. With no scheduler address it starts a ``distributed.LocalCluster`` for the run:
``workers`` processes (default: the number of cores) of one thread each, each with a memory
limit (the machine's memory shared out, at least :data:`MIN_WORKER_MEMORY`), the scheduler and
workers listening on 127.0.0.1 only and no dashboard. With an address (``tcp://HOST:PORT``) it
submits to that cluster, whose workers need ids-desktop installed and the inputs readable at
the same paths (README, "Batch runs").

Worker processes are not daemonic (``distributed.worker.daemon: False``): nfstream's meters
are child processes, which Python forbids to daemonic processes. A worker that dies under a
task (killed, out of memory) makes the scheduler run that file once more elsewhere
(``distributed.scheduler.allowed-failures: 1``); a second death reports the file as failed
(``worker lost``) and the other files go on.

Cancel (the ``cancel`` hook, or Ctrl+C in the CLI). The tasks see a ``distributed.Event`` and
stop through the core's own cancel path, which ends nfstream's meters and removes temporary
files; tasks still running after :data:`CANCEL_GRACE_S` are cancelled by the scheduler. The
local cluster is closed in every case and any process it left (a worker, a meter) is ended:
nothing keeps running, and outputs appear only by atomic renames, so no partial file remains.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ids_desktop.batch import merge
from ids_desktop.batch import outputs as O
from ids_desktop.batch.files import expand_inputs
from ids_desktop.batch.task import (
    BAD_INPUT,
    CRASH,
    WORKER_LOST,
    analyse_file,
    cancel_event_name,
)
from ids_desktop.core.options import AnalysisOptions
from ids_desktop.core.tasks import Cancel, Progress, check_cancel
from ids_desktop.errors import InputError

#: Seconds to connect to a scheduler, or for a local cluster to start its workers.
CONNECT_TIMEOUT_S = 60
#: Seconds the tasks get to stop by themselves after a cancel.
CANCEL_GRACE_S = 15.0
#: Seconds to close the client and the local cluster.
CLOSE_TIMEOUT_S = 20
#: The least memory a local worker is given (bytes): one analysis of a 1 GiB capture peaks
#: at 2.3 GiB with its meters (README, "Limits"); the worker's own limit counts only itself.
MIN_WORKER_MEMORY = 2 * 2**30
#: How often (s) the driver looks at its tasks and at ``cancel``.
POLL_S = 0.2
#: The scheduler name of an embedded cluster in ``summary.json`` and ``--json``.
LOCAL = "local"

#: Dask settings of every batch run (module docstring).
DASK_CONFIG = {
    "distributed.worker.daemon": False,
    "distributed.scheduler.allowed-failures": 1,
    # the memory monitor's messages and Dask's own logging would garble a progress bar
    "distributed.admin.system-monitor.gil.enabled": False,
    "logging.distributed": "error",
}


@dataclass
class BatchResult:
    """What a batch run did: ``summary`` is ``summary.json``'s content.

    Attributes
    ----------
    out
        The output folder.
    files
        One record per input, in input order (:func:`~ids_desktop.batch.task.analyse_file`).
    incidents
        The incidents joined across files (:mod:`.merge`), as in ``incidents.jsonl``.
    summary
        Counts, failures and the scheduler (``summary.json``).
    """

    out: Path
    files: list[dict[str, Any]]
    incidents: list[dict[str, Any]]
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> list[dict[str, Any]]:
        return [f for f in self.files if f.get("status") == "failed"]

    @property
    def bad_input(self) -> bool:
        return any(f.get("category") == BAD_INPUT for f in self.failed)

    def cli_json(self) -> dict[str, Any]:
        """``batch --json``: exactly the keys the issue names."""
        s = self.summary
        return {k: s[k] for k in ("captures", "failed", "flows", "flagged", "incidents",
                                  "seconds", "scheduler", "workers")}


def default_workers() -> int:
    return os.cpu_count() or 1


def run_batch(
    paths: Sequence[str | Path],
    out: str | Path,
    options: AnalysisOptions | None = None,
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    memory_limit: int | str | None = None,
    models_dir: str | Path | None = None,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> BatchResult:
    """Analyse every input ``paths`` name on a Dask cluster; write the results under ``out``.

    Parameters
    ----------
    paths
        Files, folders and glob patterns (:func:`~ids_desktop.batch.files.expand_inputs`).
    out
        The output folder (:mod:`.outputs`); a rerun skips inputs already done there.
    options
        Model, threshold and flow timeouts of every analysis.
    scheduler
        ``tcp://HOST:PORT`` of an existing cluster; ``None`` starts a local one.
    workers
        Local worker processes (default: the number of cores); ignored with ``scheduler``.
    memory_limit
        Per local worker (bytes or ``"4GiB"``); default: the memory shared out by ``workers``.
    models_dir
        Where bundles live (default: the app's); must be readable at the same path by workers.
    progress, cancel
        Hooks (:mod:`ids_desktop.core.tasks`): ``progress(files done, files, stage)``.

    Raises
    ------
    InputError
        When no input is found, or the scheduler cannot be reached.
    CancelledError
        When ``cancel`` was set; the folder holds the files finished before.
    """
    started = time.perf_counter()
    options = options or AnalysisOptions()
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: exists and is not a folder; choose a folder for --out")
    inputs = expand_inputs(paths, exclude=[out])
    (out / O.FLOWS).mkdir(parents=True, exist_ok=True)
    report = progress or (lambda done, total, stage: None)
    report(0, len(inputs), "starting the cluster" if scheduler is None else "connecting")
    opts = options.to_dict()
    mdir = None if models_dir is None else str(Path(models_dir).resolve())
    with _cluster(scheduler, workers, memory_limit) as (client, n_workers):
        check_cancel(cancel)
        records = _run_tasks(client, inputs, out, opts, mdir, report, cancel)
    incidents = merge.join_incidents([r for r in records if r.get("status") in
                                      ("analysed", "skipped")])
    check_cancel(cancel)
    alerts = _write_alerts(out, records, merge.part_ids(incidents))
    O.write_jsonl(out / O.INCIDENTS, incidents)
    summary = _summary(records, incidents, alerts, scheduler, n_workers, options,
                       time.perf_counter() - started)
    O.write_json(out / O.SUMMARY, summary)
    return BatchResult(out, records, incidents, summary)


# --- the cluster -----------------------------------------------------------------------------


@contextlib.contextmanager
def _cluster(scheduler: str | None, workers: int | None,
             memory_limit: int | str | None) -> Iterator[tuple[Any, int]]:
    """A connected ``distributed.Client`` and the number of workers; closes what it started
    and ends any process a local cluster leaves behind."""
    import dask
    from distributed import Client, LocalCluster

    cluster = None
    client = None
    leftovers: list[Any] = []
    with dask.config.set(DASK_CONFIG):
        try:
            if scheduler is None:
                n = max(1, int(workers or default_workers()))
                with _no_sigint():  # the workers inherit SIGINT ignored: Ctrl+C is the driver's
                    cluster = LocalCluster(
                        n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1",
                        dashboard_address=None, memory_limit=memory_limit or _memory_per(n),
                        silence_logs=logging.ERROR, protocol="tcp",
                        # no dashboard; the scheduler's HTTP routes (health, metrics) on a
                        # free loopback port, not 8787 (another cluster's, maybe)
                        scheduler_kwargs={"dashboard": False,
                                          "dashboard_address": "127.0.0.1:0"})
                client = Client(cluster, timeout=CONNECT_TIMEOUT_S)
            else:
                try:
                    client = Client(scheduler, timeout=CONNECT_TIMEOUT_S)
                except (OSError, TimeoutError) as exc:
                    raise InputError(f"cannot reach the Dask scheduler at {scheduler}: "
                                     f"{exc}") from None
            try:
                info = client.scheduler_info(n_workers=-1)  # every worker, not the first 5
            except TypeError:  # an older distributed: no n_workers, and it lists them all
                info = client.scheduler_info()
            n_workers = len(info.get("workers", {}))
            if cluster is not None:
                leftovers = _process_trees(client)
            yield client, n_workers
        finally:
            if cluster is not None and client is not None:
                leftovers += _process_trees(client)
            if client is not None:
                with contextlib.suppress(Exception):
                    client.close(timeout=CLOSE_TIMEOUT_S)
            if cluster is not None:
                with contextlib.suppress(Exception):
                    cluster.close(timeout=CLOSE_TIMEOUT_S)
                _end(leftovers)


@contextlib.contextmanager
def _no_sigint() -> Iterator[None]:
    """SIGINT ignored while child processes start (main thread only; a no-op elsewhere)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)


def _memory_per(n: int) -> int:
    import psutil

    return max(MIN_WORKER_MEMORY, int(psutil.virtual_memory().total / n))


def _process_trees(client: Any) -> list[Any]:
    """The local workers' processes and their children (psutil handles), for :func:`_end`."""
    import psutil

    procs: list[Any] = []
    pids = _bounded(lambda: client.run(os.getpid, on_error="ignore")) or {}
    for pid in pids.values():
        with contextlib.suppress(psutil.Error):
            proc = psutil.Process(pid)
            procs += [proc, *proc.children(recursive=True)]
    return procs


def _end(procs: list[Any]) -> None:
    """Terminate, then kill, the processes of ``procs`` still running."""
    import psutil

    alive = [p for p in procs if _running(p)]
    for p in alive:
        with contextlib.suppress(psutil.Error):
            p.terminate()
    _, alive = psutil.wait_procs(alive, timeout=3)
    for p in alive:
        with contextlib.suppress(psutil.Error):
            p.kill()
    psutil.wait_procs(alive, timeout=3)


def _running(proc: Any) -> bool:
    import psutil

    try:
        return bool(proc.is_running()) and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


# --- the tasks -------------------------------------------------------------------------------


def _run_tasks(client: Any, inputs: list[Path], out: Path, opts: dict[str, Any],
               models_dir: str | None, report: Progress,
               cancel: Cancel | None) -> list[dict[str, Any]]:
    from distributed import Event

    run_id = uuid.uuid4().hex[:12]
    event_name = cancel_event_name(run_id)
    # Largest files first (Dask runs higher priorities first): the last tasks to start are the
    # small ones, so no worker is left alone with a long file at the end of the run.
    futures = [
        client.submit(analyse_file, str(p.resolve()), str(out.resolve()), opts, models_dir,
                      run_id, key=f"ids-batch-{run_id}-{i:05d}-{O.output_stem(p, '')}",
                      pure=False, priority=_size(p))
        for i, p in enumerate(inputs)
    ]
    records: dict[int, dict[str, Any]] = {}
    stage = "analysing files"
    report(0, len(inputs), stage)
    try:
        while len(records) < len(futures):
            check_cancel(cancel)
            for i, fut in enumerate(futures):
                if i not in records and fut.done():
                    records[i] = _outcome(fut, inputs[i])
                    fut.release()  # the scheduler need not keep (or recompute) its result
                    report(len(records), len(inputs), stage)
            time.sleep(POLL_S)
    except BaseException:  # a cancel, Ctrl+C or a lost scheduler: stop every task first
        _bounded(lambda: Event(event_name, client=client).set())
        deadline = time.monotonic() + CANCEL_GRACE_S
        while time.monotonic() < deadline and not all(f.done() for f in futures):
            time.sleep(POLL_S)
        with contextlib.suppress(Exception):
            client.cancel([f for f in futures if not f.done()], force=True)
        raise
    finally:
        _bounded(lambda: Event(event_name, client=client).clear())  # frees it on the scheduler
    return [records[i] for i in range(len(futures))]


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:  # gone or unreadable: the task reports it
        return 0


def _outcome(fut: Any, path: Path) -> dict[str, Any]:
    """The record of a finished future; a task that could not finish becomes a failure."""
    from distributed import KilledWorker

    if fut.status == "finished":
        try:
            result: dict[str, Any] = fut.result(timeout=30)
            return result
        except Exception as lost:  # noqa: BLE001 - a result lost in transit is one failure
            return _failure(path, CRASH, f"{type(lost).__name__}: {lost}")
    if fut.status == "cancelled":
        return _failure(path, WORKER_LOST, "the scheduler cancelled the task (connection lost?)")
    error: BaseException | None
    try:
        error = fut.exception(timeout=30)
    except Exception as err:  # noqa: BLE001 - as above
        error = err
    if isinstance(error, KilledWorker):
        return _failure(path, WORKER_LOST,
                        "the worker running it died twice (killed, or out of memory)")
    return _failure(path, CRASH, f"{type(error).__name__}: {error}")


def _bounded(call: Any, timeout: float = 5.0) -> Any:
    """``call()`` run on a daemon thread, waited for at most ``timeout`` s; ``None`` when it
    failed or did not answer in time. A scheduler that stopped answering must not hang a
    cancel (``Event.set`` and ``Client.run`` take no timeout)."""
    result: list[Any] = []

    def run() -> None:
        with contextlib.suppress(Exception):
            result.append(call())

    thread = threading.Thread(target=run, name="ids-batch-call", daemon=True)
    thread.start()
    thread.join(timeout)
    return result[0] if result else None


def _failure(path: Path, category: str, reason: str) -> dict[str, Any]:
    return {"path": str(path.resolve()), "status": "failed", "category": category,
            "reason": " ".join(reason.split())}


# --- the combined outputs --------------------------------------------------------------------


def _write_alerts(out: Path, records: list[dict[str, Any]],
                  joined: dict[tuple[str, str], str]) -> int:
    """``alerts.jsonl``: each file's EVE alerts in input order, each with its file and the
    id of its incident joined across files (``ids_desktop.batch_incident_id``)."""
    import json

    def events() -> Iterator[dict[str, Any]]:
        for rec in records:
            if rec.get("status") not in ("analysed", "skipped"):
                continue
            with O.alerts_part(out, rec["stem"]).open(encoding="utf-8") as fh:
                for line in fh:
                    event = json.loads(line)
                    extra = event.setdefault("ids_desktop", {})
                    extra["file"] = rec["path"]
                    extra["batch_incident_id"] = joined.get((rec["path"],
                                                             str(event.get("incident_id"))))
                    yield event

    return O.write_jsonl(out / O.ALERTS, events())


def _summary(records: list[dict[str, Any]], incidents: list[dict[str, Any]], alerts: int,
             scheduler: str | None, workers: int, options: AnalysisOptions,
             seconds: float) -> dict[str, Any]:
    ok = [r for r in records if r.get("status") in ("analysed", "skipped")]
    failed = [r for r in records if r.get("status") not in ("analysed", "skipped")]
    return {
        "captures": len(records),
        "analysed": sum(r["status"] == "analysed" for r in records),
        "skipped": sum(r["status"] == "skipped" for r in records),
        "failed": len(failed),
        "flows": sum(int(r.get("flows") or 0) for r in ok),
        "flagged": sum(int(r.get("flagged") or 0) for r in ok),
        "incidents": len(incidents),
        "alerts": alerts,
        "seconds": round(seconds, 3),
        "scheduler": scheduler or LOCAL,
        "workers": workers,
        "model": options.model,
        "failures": [{"path": r["path"], "category": r.get("category"),
                      "reason": r.get("reason")} for r in failed],
        "files": [{k: r.get(k) for k in (
            "path", "status", "category", "reason", "sha256", "format", "bundle",
            "model_sha256", "flows", "flagged", "parquet", "seconds", "worker",
            "worker_peak_rss_mb", "children_peak_rss_mb")} | {
            "incidents": len(r.get("incidents") or ())} for r in records],
    }
