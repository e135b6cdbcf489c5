"""One file of a batch, as a Dask worker runs it: the same core path as ``analyze``.

:func:`analyse_file` is a module-level function of plain arguments, so any worker with
ids-desktop installed can import and run it. It writes that file's outputs itself
(:mod:`.outputs`: Parquet, EVE alerts, then the manifest, each atomically) and returns a small
dict (counts, digests, the incidents as plain dicts, a one-line reason when it failed): the
flows never travel through the scheduler.

It never raises. Bad input (anything :class:`~ids_desktop.errors.IdsError` names, or a file
that cannot be read) is ``failed`` with category ``bad input``; a bug is ``failed`` with
category ``crash``. A worker that dies under it (killed, out of memory) is the driver's to
report (:mod:`.run`): the scheduler retries the file once on another worker first.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import multiprocessing
import os
import socket
import sys
import time
from pathlib import Path
from typing import Any

from ids_desktop.batch import outputs as O
from ids_desktop.core.tasks import check_cancel
from ids_desktop.errors import CancelledError, IdsError, InputError, ModelError

#: Test-only hook: ``PATTERN=SECONDS`` makes a task whose input's file name matches the
#: ``fnmatch`` pattern wait that long (checking cancel) before it starts, so tests can kill a
#: worker or cancel a run while a task is certainly running. Unset in normal use.
DELAY_ENV = "IDS_DESKTOP_BATCH_TEST_DELAY"
#: Categories of a failed file (``summary.json``).
BAD_INPUT, CRASH, WORKER_LOST = "bad input", "crash", "worker lost"
#: How often (s) a task asks the scheduler whether the run was cancelled.
CANCEL_POLL_S = 0.5

DAEMON_HINT = (
    "this Dask worker runs as a daemonic process, which may not start nfstream's meter "
    "processes; start the workers with DASK_DISTRIBUTED__WORKER__DAEMON=False (README, "
    "'Batch runs')"
)


class ClusterCancel:
    """The run's cancel flag, a ``distributed.Event`` named by the driver, as a core
    :class:`~ids_desktop.core.tasks.Cancel`: asked of the scheduler at most every
    :data:`CANCEL_POLL_S`, and set for good once seen set."""

    def __init__(self, name: str | None) -> None:
        self.name = name
        self._seen = False
        self._last = 0.0
        self._event: Any = None

    def is_set(self) -> bool:
        if self._seen or self.name is None:
            return self._seen
        now = time.monotonic()
        if now - self._last < CANCEL_POLL_S:
            return False
        self._last = now
        try:
            from distributed import Event

            if self._event is None:
                self._event = Event(self.name)
            self._seen = bool(self._event.is_set())
        except Exception:  # noqa: BLE001 - scheduler unreachable: the driver cancels the task
            pass
        return self._seen


def cancel_event_name(run_id: str) -> str:
    """The name of a run's cancel flag (a ``distributed.Event``)."""
    return f"ids-desktop-batch-cancel-{run_id}"


def analyse_file(path: str, out: str, options: dict[str, Any], models_dir: str | None = None,
                 run_id: str | None = None) -> dict[str, Any]:
    """Analyse ``path`` with ``options`` (:meth:`AnalysisOptions.to_dict`) and write its outputs
    under ``out``; return what the driver needs (module docstring). Never raises.

    ``run_id`` names the run: its cancel flag, and in the manifest, so that a task the
    scheduler runs again in the same run (its result was lost with a dead worker) reports the
    file as analysed, not as skipped."""
    start = time.perf_counter()
    cancel = ClusterCancel(None if run_id is None else cancel_event_name(run_id))
    record: dict[str, Any] = {"path": path, "status": "failed", "category": None, "reason": None,
                              "worker": f"{socket.gethostname()}:{os.getpid()}"}
    try:
        record.update(_analyse(Path(path), Path(out), options, models_dir, run_id, cancel))
    except CancelledError:
        record.update(status="cancelled", reason="cancelled")
    except (IdsError, OSError) as exc:
        record.update(category=BAD_INPUT, reason=_one_line(_reason(exc)))
    except Exception as exc:  # noqa: BLE001 - one file's bug must not stop the batch
        record.update(category=CRASH, reason=_one_line(f"{type(exc).__name__}: {exc}"))
    record["seconds"] = round(time.perf_counter() - start, 3)
    record.update(_peak_memory())
    return record


def _analyse(path: Path, out: Path, options: dict[str, Any], models_dir: str | None,
             run_id: str | None, cancel: ClusterCancel) -> dict[str, Any]:
    from ids_desktop.core.ingest import sniff_kind
    from ids_desktop.core.ingest.digest import sha256_file
    from ids_desktop.core.options import AnalysisOptions

    _test_delay(path, cancel)
    kind = sniff_kind(path)  # InputError for a missing, empty or unknown file
    opts = AnalysisOptions.from_dict(options)
    # Resume needs the digest before any work: one read of the file (~1 s per GiB), besides
    # the one the ingest makes (which hashes again as it reads, for the reports).
    sha = sha256_file(path)
    stem = O.output_stem(path, sha)
    done = O.read_manifest(out, stem)
    if done is not None and O.still_valid(done, sha, opts.model, _model_sha256(
            opts.model, done.get("feature_format"), models_dir)):
        again = run_id is not None and done.get("run") == run_id
        return {**done, "path": str(path), "status": "analysed" if again else "skipped"}
    if kind in ("pcap", "pcapng") and multiprocessing.current_process().daemon:
        raise ModelError(DAEMON_HINT)  # shown as bad setup, not a crash of the file

    from ids_desktop.core.ingest import write_flows
    from ids_desktop.core.report.eve import write_jsonl
    from ids_desktop.core.report.export import explain_unusual, unexpected_json
    from ids_desktop.core.workflow import run_analysis

    analysis = run_analysis(path, opts, models_dir=models_dir, cancel=cancel)
    O.flows_path(out, stem).parent.mkdir(parents=True, exist_ok=True)
    summary = analysis.summary
    if summary is None or analysis.run is None:
        raise ModelError(analysis.note or "no model scored this input")
    bundle = analysis.run.bundle
    write_flows(dataclasses.replace(analysis.result, frame=analysis.flows),
                O.flows_path(out, stem), cancel=cancel)
    unusual = unexpected_json(explain_unusual(analysis, cancel=cancel))
    write_jsonl(analysis.flows, O.alerts_part(out, stem), model=bundle.name, unexpected=unusual,
                cancel=cancel)
    check_cancel(cancel)
    manifest = {
        "version": O.MANIFEST_VERSION,
        "run": run_id,
        "path": str(path),
        "sha256": sha,
        "stem": stem,
        "format": summary["format"],
        "feature_format": analysis.result.feature_format,
        "model": opts.model,
        "bundle": bundle.name,
        "model_sha256": str(bundle.metadata.get("model_sha256", "")),
        "flows": summary["flows"],
        "flagged": summary["flagged"],
        "alerts": summary["alerts"],
        "unusual": summary["unusual"],
        "by_class": summary["by_class"],
        "incidents": [incident_record(i) for i in analysis.incidents],
        "warnings": list(analysis.result.warnings),
        "parquet": str(O.flows_path(out, stem).relative_to(out)),
    }
    O.write_json(O.manifest_path(out, stem), manifest)
    return {**manifest, "status": "analysed"}


def incident_record(incident: Any) -> dict[str, Any]:
    """An :class:`~ids_desktop.core.incidents.Incident` as plain JSON: ``analyze --json``'s
    fields plus the ports, the counts, packets and bytes that joining across files needs."""
    rec: dict[str, Any] = incident.to_json()
    rec.update(ports=list(incident.ports), target_count=incident.target_count,
               port_count=incident.port_count, packets=incident.packets, bytes=incident.bytes)
    return rec


def _model_sha256(model: str, feature_format: Any, models_dir: str | None) -> str | None:
    """The SHA-256 of the bundle ``model`` resolves to now for ``feature_format``, or ``None``."""
    from ids_desktop.core.model.bundle import read_metadata, resolve_bundle_path

    try:
        path = resolve_bundle_path(model, str(feature_format or ""), models_dir)
        return str(read_metadata(path)["model_sha256"])
    except (IdsError, OSError, KeyError, ValueError):
        return None


def _test_delay(path: Path, cancel: ClusterCancel) -> None:
    spec = os.environ.get(DELAY_ENV, "")
    pattern, _, seconds = spec.rpartition("=")
    if not pattern or not fnmatch.fnmatch(path.name, pattern):
        return
    try:
        until = time.monotonic() + float(seconds)
    except ValueError:
        return
    while time.monotonic() < until:
        check_cancel(cancel)
        time.sleep(0.1)


def _peak_memory() -> dict[str, float]:
    """Peak resident memory (MiB) of this worker process and of its largest finished child
    (nfstream's meters, the capture walk) so far; Linux reports KiB, macOS bytes."""
    try:
        import resource
    except ImportError:  # Windows
        return {}
    scale = 1 / 2**20 if sys.platform == "darwin" else 1 / 1024
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * scale
    return {"worker_peak_rss_mb": round(own, 1), "children_peak_rss_mb": round(children, 1)}


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and not isinstance(exc, IdsError):
        return str(InputError(f"{exc.filename or ''}: cannot be read ({exc.strerror or exc})"))
    return str(exc)


def _one_line(text: str) -> str:
    return " ".join(text.split()) or "(no message)"
