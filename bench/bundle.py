"""Frozen-app start-up and size (issue 9): what `make bundle` built, run with `env -i`.

- size of dist/ids-desktop (unpacked) and its largest parts;
- ids-desktop-cli: ``--version`` (bare start-up), ``analyze`` of a small UNSW-NB15 CSV and of
  the demo capture (ingest when no bundle serves captures), wall time from exec to exit;
- ids-desktop: wall time from exec until the main window is mapped on an X server (Xvfb and
  xwininfo; skipped without them). The window counts as visible when xwininfo reports
  ``IsViewable`` for the "IDS Desktop ..." top-level window.

Each command runs ``--runs`` times (default 5) after one warm-up run (page cache); the median and
maximum are printed. Stdlib only: ``python3 bench/bundle.py [--dist dist/ids-desktop]``.
Results go in bench/RESULTS.md ("Installer (issue 9)") by hand with the command.
"""

from __future__ import annotations

import argparse
import atexit
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def stripped_env(home: Path, **extra: str) -> dict[str, str]:
    """No PATH, no PYTHONPATH, no virtualenv: what `env -i` gives, plus HOME and a locale."""
    return {"HOME": str(home), "LANG": "C.UTF-8", **extra}


def timed(cmd: list[str], env: dict[str, str], cwd: Path) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=600)
    seconds = time.perf_counter() - t0
    if proc.returncode not in (0, 2):
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr[-500:]}")
    return seconds


def window_seconds(gui: Path, home: Path, display: str) -> float | None:
    """Exec to the main window being viewable on ``display``; None if it never shows."""
    env = stripped_env(home, DISPLAY=display)
    t0 = time.perf_counter()
    proc = subprocess.Popen([str(gui)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    try:
        while time.perf_counter() - t0 < 60:
            if proc.poll() is not None:
                print(f"ids-desktop exited with {proc.returncode}: {proc.stderr.read()[-400:]}")
                return None
            tree = subprocess.run(["xwininfo", "-display", display, "-root", "-tree"],
                                  capture_output=True, text=True).stdout
            ids = [line.split()[0] for line in tree.splitlines() if '"IDS Desktop ' in line]
            for wid in ids:
                info = subprocess.run(["xwininfo", "-display", display, "-id", wid],
                                      capture_output=True, text=True).stdout
                if "IsViewable" in info:
                    return time.perf_counter() - t0
            time.sleep(0.02)
        return None
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def summary(name: str, values: list[float]) -> None:
    print(f"{name:<46} median {statistics.median(values):6.2f} s   max {max(values):6.2f} s   "
          f"({', '.join(f'{v:.2f}' for v in values)})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dist", type=Path, default=REPO / "dist" / "ids-desktop")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    dist = args.dist.resolve()
    cli, gui = dist / "ids-desktop-cli", dist / "ids-desktop"
    if not cli.exists():
        raise SystemExit(f"no bundle at {dist}; run make bundle")

    du = subprocess.run(["du", "-sm", str(dist)], capture_output=True, text=True)
    size = du.stdout.split()[0]
    print(f"bundle {dist}: {size} MiB unpacked")
    parts = subprocess.run(f"du -sm '{dist}'/_internal/* | sort -rn | head -8", shell=True,
                           capture_output=True, text=True).stdout
    print("largest parts (MiB):",
          ", ".join(" ".join(line.split()[::-1]).replace(str(dist) + "/_internal/", "")
                    for line in parts.splitlines()))
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")

    work = Path(tempfile.mkdtemp(prefix="ids-bench-bundle-"))
    atexit.register(shutil.rmtree, work, True)
    home = work / "home"
    home.mkdir()
    csv = work / "unsw.csv"
    for generator in (["scripts.make_demo_capture", "--out", str(work / "demo.pcap")],
                      ["scripts.make_unsw_csv", "--out", str(csv), "--repeat", "5"]):  # fmt: skip
        # from the repository root: the generators run from the source tree, stdlib only
        subprocess.run([sys.executable, "-m", *generator], cwd=REPO, check=True,
                       capture_output=True)
    env = stripped_env(home)
    models = subprocess.run([str(cli), "models", "--json"], env=env, capture_output=True,
                            text=True).stdout
    capture_cmd = "analyze" if '"feature_format": "pcap"' in models else "ingest"
    cases = {
        "cli --version": [str(cli), "--version"],
        "cli analyze unsw.csv (20 flows)": [str(cli), "analyze", str(csv), "--json"],
        f"cli {capture_cmd} demo.pcap (909 flows)": [str(cli), capture_cmd,
                                                     str(work / "demo.pcap"), "--json"],
    }
    for name, cmd in cases.items():
        timed(cmd, env, work)  # warm-up
        summary(name, [timed(cmd, env, work) for _ in range(args.runs)])

    xvfb, xwininfo = shutil.which("Xvfb"), shutil.which("xwininfo")
    if not (xvfb and xwininfo):
        print("gui time to window: skipped (needs Xvfb and xwininfo)")
        return 0
    display = ":93"
    server = subprocess.Popen([xvfb, display, "-screen", "0", "1600x1000x24", "-nolisten", "tcp"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):  # until the server answers
            probe = ["xwininfo", "-display", display, "-root"]
            if subprocess.run(probe, capture_output=True).returncode == 0:
                break
            time.sleep(0.1)
        window_seconds(gui, home, display)  # warm-up (fontconfig cache, page cache)
        values = [window_seconds(gui, home, display) for _ in range(args.runs)]
        if any(v is None for v in values):
            print("gui time to window: the window never showed")
            return 1
        summary("gui exec -> main window viewable (Xvfb)", [v for v in values if v is not None])
    finally:
        server.terminate()
        server.wait(10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
