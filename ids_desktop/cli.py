"""Command line: a thin layer over the core. ``ids-desktop-cli --help`` lists the commands.

Exit codes: 0 success, 2 user error (bad or unsupported input; one line on stderr),
1 internal error (one line on stderr, the traceback goes to the crash log), 130 interrupted.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import multiprocessing
import signal
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from ids_desktop import APP_NAME, __version__
from ids_desktop.core.atomic import json_default
from ids_desktop.core.options import DEFAULT_ACTIVE_TIMEOUT, DEFAULT_IDLE_TIMEOUT, AnalysisOptions
from ids_desktop.errors import CancelledError, IdsError

PROG = "ids-desktop-cli"
EXIT_OK, EXIT_INTERNAL, EXIT_USER, EXIT_INTERRUPTED = 0, 1, 2, 130


class _UsageError(IdsError):
    """Bad command-line usage (argparse's own errors are turned into this)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # argparse would exit 2 with usage; one line
        raise _UsageError(f"{message} (see '{self.prog} --help')")


class ProgressBar:
    """A tqdm progress bar on stderr when it is a terminal; silent otherwise.

    Called as a core ``progress(done, total, stage)`` hook.
    """

    def __init__(self, enabled: bool | None = None) -> None:
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self._bar: Any = None
        self._stage: str | None = None

    def __call__(self, done: float, total: float | None, stage: str) -> None:
        if not self.enabled:
            return
        if stage != self._stage:
            self.close()
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=stage, file=sys.stderr, leave=False,
                             dynamic_ncols=True)
            self._stage = stage
        bar = self._bar
        if total is not None and bar.total != total:
            bar.total = total
        bar.n = done
        bar.refresh()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
            self._stage = None


def _print_json(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj, default=json_default) + "\n")


def _warn(lines: Sequence[str]) -> None:
    for line in lines:
        print(f"warning: {line}", file=sys.stderr)


# --- commands -----------------------------------------------------------------------------


def cmd_ingest(args: argparse.Namespace) -> int:
    from ids_desktop.core.ingest import ingest, write_flows

    bar = ProgressBar()
    start = time.perf_counter()
    try:
        result = ingest(
            args.path,
            args.format,
            progress=bar,
            idle_timeout=args.idle_timeout,
            active_timeout=args.active_timeout,
        )
        if args.out:
            write_flows(result, args.out)
    finally:
        bar.close()
    seconds = round(time.perf_counter() - start, 3)
    if args.json:
        _print_json(
            {
                "format": result.format,
                "flows": int(len(result.frame)),
                "labelled": result.labelled,
                "label_counts": result.label_counts(),
                "warnings": list(result.warnings),
                "seconds": seconds,
            }
        )
        return EXIT_OK
    _warn(result.warnings)
    print(f"{args.path}: {result.format}, {len(result.frame):,} flows in {seconds:.2f} s")
    counts = result.label_counts()
    if counts:
        from ids_desktop.core.ingest.tables.text import printable  # labels are the file's bytes

        print("labels:")
        shown = {printable(str(k)): n for k, n in counts.items()}
        width = max(len(k) for k in shown)
        for label, n in shown.items():
            print(f"  {label:<{width}}  {n:>10,}")
    if args.out:
        print(f"wrote {args.out}")
    return EXIT_OK


def cmd_formats(args: argparse.Namespace) -> int:
    from ids_desktop.core.ingest import list_formats

    formats = list_formats()
    if args.json:
        _print_json({"formats": formats})
        return EXIT_OK
    width = max(len(f["name"]) for f in formats)
    for f in formats:
        print(f"{f['name']:<{width}}  {f['kind']:<7}  {f['description']}")
    return EXIT_OK


def _options(args: argparse.Namespace) -> AnalysisOptions:
    """The analysis options a command's flags give (defaults for flags it lacks)."""
    given = {
        "model": getattr(args, "model", None),
        "threshold": getattr(args, "threshold", None),
        "idle_timeout": getattr(args, "idle_timeout", None),
        "active_timeout": getattr(args, "active_timeout", None),
        "lime_samples": getattr(args, "samples", None),
    }
    return AnalysisOptions.from_dict({k: v for k, v in given.items() if v is not None})


def cmd_analyze(args: argparse.Namespace) -> int:
    from ids_desktop.core.ingest import write_flows
    from ids_desktop.core.workflow import run_analysis
    from ids_desktop.errors import ModelError

    bar = ProgressBar()
    start = time.perf_counter()  # the whole command: reading, scoring, detectors, reports
    try:
        analysis = run_analysis(args.path, _options(args), progress=bar)
        summary = analysis.summary
        if summary is None:
            raise ModelError(analysis.note)
        if args.out:
            write_flows(dataclasses.replace(analysis.result, frame=analysis.flows), args.out)
        if args.report or args.csv or args.jsonl:
            from ids_desktop.core.report.export import ExportRequest, export_reports

            request = ExportRequest(
                pdf=Path(args.report) if args.report else None,
                csv=Path(args.csv) if args.csv else None,
                jsonl=Path(args.jsonl) if args.jsonl else None,
                all_flows=args.all_flows,
                top_n=args.top,
                explain_k=args.explain,
                page_size=args.page_size,
            )
            export_reports(analysis, request, progress=bar)
    finally:
        bar.close()
    wall = time.perf_counter() - start
    if args.json:
        _print_json({**summary, "wall_seconds": round(wall, 3)})
        return EXIT_OK
    _warn(analysis.result.warnings)
    print(
        f"{args.path}: {summary['flows']:,} flows, {summary['flagged']:,} flagged "
        f"by model '{summary['model']}' in {wall:.2f} s (scoring {summary['seconds']:.2f} s)"
    )
    for cls, n in summary["by_class"].items():
        print(f"  {cls:<16} {n:>10,}")
    for target in (args.out, args.report, args.csv, args.jsonl):
        if target:
            print(f"wrote {target}")
    return EXIT_OK


def cmd_explain(args: argparse.Namespace) -> int:
    from ids_desktop.core.explain.service import BundleExplainer
    from ids_desktop.core.workflow import run_analysis
    from ids_desktop.errors import InputError, ModelError

    bar = ProgressBar()
    start = time.perf_counter()
    try:
        analysis = run_analysis(args.path, _options(args), progress=bar)
        n = len(analysis.flows)
        if not 0 <= args.row < n:
            raise InputError(f"--row {args.row} is outside the file's {n:,} flows (0-based)")
        if analysis.run is None:
            raise ModelError(analysis.note)
        t0 = time.perf_counter()
        explainer = BundleExplainer.for_analysis(analysis)  # LIME queries the model itself
        exp = explainer.explain_row(args.row, seed=args.seed)
        seconds = time.perf_counter() - t0
        if args.png:
            from ids_desktop.core.explain.chart import chart_spec, render_png

            render_png(chart_spec(exp), args.png)
    finally:
        bar.close()
    if args.json:
        _print_json(
            {
                "row": args.row,
                "pred_class": exp.predicted_class,
                "probability": exp.probability,
                "contributions": [
                    {"feature": c.feature, "timestep": c.timestep, "weight": c.weight,
                     "condition": c.condition}
                    for c in exp.contributions
                ],
                "by_feature": exp.by_feature,
                "by_timestep": {str(k): v for k, v in exp.by_timestep.items()},
                "fidelity_r2": exp.fidelity_r2,
                "seconds": round(seconds, 3),
            }
        )
        return EXIT_OK
    print(exp.sentence)
    for c in exp.contributions:
        print(f"  {c.weight:+8.3f}  {c.display}")
    print(f"fidelity R² {exp.fidelity_r2:.2f}, {exp.num_samples} samples, seed {exp.seed}, "
          f"{seconds:.2f} s (total {time.perf_counter() - start:.1f} s)")
    if args.png:
        print(f"wrote {args.png}")
    return EXIT_OK


def cmd_evaluate(args: argparse.Namespace) -> int:
    from ids_desktop.core.workflow import run_analysis
    from ids_desktop.errors import ModelError

    bar = ProgressBar()
    try:
        analysis = run_analysis(args.path, _options(args), require_labels=True, progress=bar)
        report = analysis.evaluation
        if report is None:
            raise ModelError(analysis.note)
    finally:
        bar.close()
    if args.json:
        _print_json(report)
        return EXIT_OK
    b = report["binary"]
    print(f"model {report['model']} on {report['n']:,} flows")
    print(
        f"attack: precision {b['precision']:.4f}  recall {b['recall']:.4f}  f1 {b['f1']:.4f}  "
        f"accuracy {b['accuracy']:.4f}  FAR {b['far']:.4f}  ROC-AUC {b['roc_auc']:.4f}"
    )
    for name, m in report["per_class"].items():
        print(
            f"  {name:<14} P {m['precision']:.3f}  R {m['recall']:.3f}  F1 {m['f1']:.3f}  "
            f"n {m['support']:,}"
        )
    u = report.get("unusual", {})
    if u.get("flagged"):
        print(f"  flagged by the anomaly score alone (no family): {u['flagged']:,} flows, "
              f"{u['attacks']:,} of them attacks by the labels")
    return EXIT_OK


def cmd_train(args: argparse.Namespace) -> int:
    import importlib.util

    if importlib.util.find_spec("keras") is None:  # the installed (frozen) app leaves Keras out
        from ids_desktop.errors import ModelError

        raise ModelError("training needs the development install with TensorFlow/Keras "
                         "(pip install -e . from the source tree); the installed app only scores")
    if args.recipe:
        return _train_recipe(args)
    if not args.data or not args.out:
        raise _UsageError("train --format needs --data FILE... and --out DIR "
                          f"(see '{PROG} train --help')")
    from ids_desktop.training.trainer import train

    bar = ProgressBar()
    seed = 0 if args.seed is None else args.seed
    try:
        result = train(args.format, [Path(p) for p in args.data], Path(args.out), seed=seed,
                       progress=bar)
    finally:
        bar.close()
    if args.json:
        _print_json(result.metadata)
    else:
        print(f"wrote {args.out}")
    return EXIT_OK


def _train_recipe(args: argparse.Namespace) -> int:
    """``train --recipe NAME``: rebuild a shipped bundle from its recipe."""
    from ids_desktop.training import locations
    from ids_desktop.training.recipes import get_recipe

    recipe = get_recipe(args.recipe)
    if args.data and len(args.data) > 1:
        raise _UsageError("train --recipe takes one --data folder, the shared data "
                          f"(see '{PROG} train --help')")
    data = Path(args.data[0]) if args.data else locations.shared_data_dir()
    out = Path(args.out) if args.out else locations.models_dir() / recipe.name
    seed = recipe.seed if args.seed is None else args.seed
    if recipe.kind == "capture":
        from ids_desktop.training.console import logger
        from ids_desktop.training.pcap import SHIPPED_SOURCE, PcapRun, build_pcap_bundle

        run = PcapRun(lab=locations.lab_data_dir(), data=data, out=out, seed=seed,
                      sources=(SHIPPED_SOURCE,), apps_folds=True)
        outcome = build_pcap_bundle(run, logger(sys.stderr))
        if outcome.metadata is None:
            print(f"{PROG}: no seed passed the shipping gate; {out} left alone "
                  f"(attempts in {outcome.attempts_file})", file=sys.stderr)
            return EXIT_INTERNAL
        meta = outcome.metadata
    else:
        from ids_desktop.training.datasets import train_recipe

        bar = ProgressBar()
        try:
            meta = train_recipe(recipe, data, out, seed=seed, progress=bar).metadata
        finally:
            bar.close()
    if args.json:
        _print_json(meta)
    else:
        print(f"wrote {out}")
    return EXIT_OK


def cmd_batch(args: argparse.Namespace) -> int:
    """``batch``: every file on a Dask cluster (:mod:`ids_desktop.batch`). Exit 0 when every
    file succeeded, 2 when some were bad input, 1 when others failed (a crash, a lost worker)."""
    import importlib.util

    if importlib.util.find_spec("distributed") is None:  # the installed (frozen) app leaves it out
        raise _UsageError("batch needs the development or pip install with Dask "
                          "(pip install -e . from the source tree); the installed app "
                          "analyses one file at a time (analyze)")
    if args.workers is not None and args.workers < 1:
        raise _UsageError("--workers must be at least 1")
    from ids_desktop.batch import run_batch

    bar = ProgressBar()
    try:
        result = run_batch(args.paths, args.out, _options(args), scheduler=args.scheduler,
                           workers=args.workers, progress=bar)
    finally:
        bar.close()
    summary = result.summary
    for failure in summary["failures"]:
        print(f"{PROG}: {failure['path']}: {failure['category']}: {failure['reason']}",
              file=sys.stderr)
    if args.json:
        _print_json(result.cli_json())
    else:
        print(f"{summary['captures']:,} files ({summary['analysed']:,} analysed, "
              f"{summary['skipped']:,} already done, {summary['failed']:,} failed): "
              f"{summary['flows']:,} flows, {summary['flagged']:,} flagged, "
              f"{summary['incidents']:,} incidents in {summary['seconds']:.1f} s "
              f"on {summary['workers']} worker(s) ({summary['scheduler']})")
        print(f"wrote {result.out}")
    if result.bad_input:
        return EXIT_USER
    return EXIT_INTERNAL if result.failed else EXIT_OK


def cmd_models(args: argparse.Namespace) -> int:
    from ids_desktop.core.model.bundle import list_bundles

    bundles = list_bundles()
    if args.json:
        _print_json({"models": bundles})
        return EXIT_OK
    if not bundles:
        print("no model bundles found")
    for b in bundles:
        shown = "  ".join(
            f"{k} {b[k]:.4f}" for k in ("attack_f1", "far") if isinstance(b.get(k), (int, float))
        )
        print(f"{b['name']:<14} serves {b.get('feature_format', '?'):<12} "
              f"T={b.get('seq_len', '?'):<3} {shown}")
    return EXIT_OK


# --- parser and main ----------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description=f"{APP_NAME}: offline network intrusion detection.")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    parser.add_argument("--debug", action="store_true", help="print tracebacks of internal errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("ingest", help="read a capture or flow table into the canonical flow table")
    p.add_argument("path", help="a .pcap/.pcapng capture or a dataset CSV (see 'formats')")
    p.add_argument("--format", help="force an input format by name (default: detect)")
    p.add_argument("--out", help="write the flows to FILE.csv or FILE.parquet")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.add_argument(
        "--idle-timeout", type=float, default=DEFAULT_IDLE_TIMEOUT,
        help=f"capture flow idle timeout in seconds (default {DEFAULT_IDLE_TIMEOUT:g})",
    )
    p.add_argument(
        "--active-timeout", type=float, default=DEFAULT_ACTIVE_TIMEOUT,
        help=f"capture flow active timeout in seconds (default {DEFAULT_ACTIVE_TIMEOUT:g})",
    )
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("formats", help="list the supported input formats")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.set_defaults(func=cmd_formats)

    p = sub.add_parser("analyze", help="run the model bundle on a capture or flow table")
    p.add_argument("path")
    p.add_argument("--model", default="auto",
                   help="bundle name or folder (default: by input format)")
    p.add_argument("--threshold", type=float, help="decision threshold on the attack probability")
    p.add_argument("--out", help="write every flow with its verdict to FILE.csv or FILE.parquet")
    p.add_argument("--report", metavar="FILE.pdf", help="write the PDF report")
    p.add_argument("--csv", metavar="FILE.csv", help="write the flagged flows as an Excel-safe CSV")
    p.add_argument("--jsonl", metavar="FILE.jsonl", help="write EVE-style JSON Lines alerts")
    p.add_argument("--all-flows", action="store_true",
                   help="the CSV holds every flow, not only flagged")
    p.add_argument("--top", type=int, default=200,
                   help="flagged flows listed in the PDF (default 200)")
    p.add_argument("--explain", type=int, default=20, help="flagged flows explained (default 20)")
    p.add_argument("--page-size", choices=["A4", "letter"], default="A4")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.set_defaults(func=cmd_analyze)

    p = sub.add_parser("explain", help="explain one flow's verdict with LIME")
    p.add_argument("path")
    p.add_argument("--row", type=int, required=True,
                   help="0-based row of the flow in the file's flow table")
    p.add_argument("--model", default="auto",
                   help="bundle name or folder (default: by input format)")
    p.add_argument("--samples", type=int,
                   help="LIME samples (default: 4000 for T = 1 bundles, 10000 / T and at "
                        "least 3000 otherwise: core/explain/service.default_samples)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--png", help="draw the explanation chart to this PNG")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.set_defaults(func=cmd_explain)

    p = sub.add_parser("evaluate", help="score a bundle on a labelled file")
    p.add_argument("path")
    p.add_argument("--model", default="auto",
                   help="bundle name or folder (default: by input format)")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("train", help="train a model bundle (seeded, deterministic)")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--recipe", metavar="NAME",
                      help="rebuild a shipped bundle from its recipe: nsl-kdd, cic-ids2017, "
                           "unsw-nb15, ton-iot or pcap (which also needs a traffic-lab run, "
                           "$IDS_LAB_DATA or ../lab-data)")
    what.add_argument("--format",
                      help="feature format, e.g. unsw-nb15 (with --data FILE... and --out DIR)")
    p.add_argument("--data", nargs="+",
                   help="labelled training files (--format), or the shared data folder "
                        "(--recipe; default ../shared/data beside the source tree)")
    p.add_argument("--out", help="bundle folder to write, e.g. models/unsw-nb15 "
                                 "(--recipe: default models/NAME)")
    p.add_argument("--seed", type=int, help="default 0, or the recipe's own")
    p.add_argument("--json", action="store_true", help="print the metrics as one JSON object")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("batch", help="analyse many files at once on a Dask cluster "
                                     "(a local one by default)")
    p.add_argument("paths", nargs="+", metavar="PATH",
                   help="files, folders (searched recursively) or glob patterns")
    p.add_argument("--out", required=True, metavar="DIR",
                   help="output folder: flows/*.parquet, incidents.jsonl, alerts.jsonl, "
                        "summary.json; a rerun skips files already done there")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="tcp://HOST:PORT of an existing Dask scheduler (default: start a local "
                        "cluster for this run)")
    p.add_argument("--workers", type=int, metavar="N",
                   help="local worker processes (default: the number of cores)")
    p.add_argument("--model", default="auto",
                   help="bundle name or folder (default: by input format)")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.set_defaults(func=cmd_batch)

    p = sub.add_parser("models", help="list the model bundles and their headline metrics")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.set_defaults(func=cmd_models)
    return parser


def run(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run the command; return the exit code (never raises)."""
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        args = build_parser().parse_args(argv)
        if not getattr(args, "command", None):
            build_parser().print_help()
            return EXIT_USER
        return int(args.func(args))
    except CancelledError:
        print(f"{PROG}: cancelled", file=sys.stderr)
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except IdsError as exc:
        print(f"{PROG}: error: {_one_line(str(exc))}", file=sys.stderr)
        return EXIT_USER
    except SystemExit as exc:  # --help / --version
        return int(exc.code or 0) if isinstance(exc.code, int) else EXIT_OK
    except Exception as exc:  # noqa: BLE001 - the one place that turns bugs into exit 1
        log = _write_crash_log()
        if debug:
            traceback.print_exc()
        where = f"; details in {log}" if log else ""
        print(f"{PROG}: internal error: {type(exc).__name__}: {_one_line(str(exc))}{where}",
              file=sys.stderr)
        return EXIT_INTERNAL


def _one_line(text: str) -> str:
    return " ".join(text.split()) or "(no message)"


def _write_crash_log() -> Path | None:
    from ids_desktop.paths import crash_log_path

    path = crash_log_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as fh:
            fh.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} {PROG} {__version__}\n")
            fh.write(traceback.format_exc())
        return path
    except OSError:
        return None


def main(argv: Sequence[str] | None = None) -> int:
    """Console entry point (``ids-desktop-cli``)."""
    multiprocessing.freeze_support()  # nfstream starts worker processes; frozen builds need this
    code = run(argv)
    # The command is over (finished, or interrupted and reported). A Ctrl+C from here on, while
    # the interpreter and multiprocessing shut down, would only print a traceback and replace
    # the exit code with death by SIGINT (seen in tests/core/test_cancellation.py).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.stdout.flush()
    return code



if __name__ == "__main__":
    raise SystemExit(main())
