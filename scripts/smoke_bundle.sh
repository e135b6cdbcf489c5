#!/usr/bin/env bash
# Smoke test of the frozen app (issue 9): run what `make bundle` built, with nothing from
# outside its folder. Every executable runs under `env -i` (no PATH, no PYTHONPATH, no
# virtualenv), from a scratch directory, with a fresh HOME.
#
#   scripts/smoke_bundle.sh [DIST_DIR]     # default dist/ids-desktop
#
# Checks, each timed:
#   - the bundle holds no TensorFlow/Keras;
#   - ids-desktop-cli --version, formats, models;
#   - a generated capture (scripts/make_demo_capture.py): ingest through nfstream, and analyze
#     when a bundle serves the 'pcap' feature format (until one exists, analyze must refuse
#     cleanly with exit 2);
#   - a generated UNSW-NB15 CSV (scripts/make_unsw_csv.py): analyze with the PDF, CSV and JSON
#     Lines reports;
#   - ids-desktop-cli train refuses cleanly (training needs the development install);
#   - ids-desktop-cli batch refuses cleanly (batch runs need the development install with Dask);
#   - ids-desktop --selftest CSV --screenshot PNG, offscreen (analysis and a LIME explanation).
# Exits non-zero on any failure. The inputs are generated with a host Python (stdlib only);
# the screenshot is kept in $SMOKE_OUT (default build/smoke/).
set -uo pipefail

REPO="$(cd "$(dirname "$0")/.." && pwd)"
DIST="$(cd "${1:-$REPO/dist/ids-desktop}" 2>/dev/null && pwd)" || { echo "smoke: no bundle at ${1:-dist/ids-desktop}; run make bundle" >&2; exit 1; }
CLI="$DIST/ids-desktop-cli"
GUI="$DIST/ids-desktop"
OUT="${SMOKE_OUT:-$REPO/build/smoke}"
HOST_PY="${HOST_PY:-$(command -v python3 || echo "$REPO/.venv/bin/python")}"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/ids-smoke.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/home" "$OUT"
cd "$WORK" || exit 1

failures=0
pass() { printf 'PASS  %-44s %6.2f s\n' "$1" "$2"; }
fail() { printf 'FAIL  %-44s %s\n' "$1" "$2"; failures=$((failures + 1)); }
note() { printf 'NOTE  %s\n' "$1"; }

# frozen NAME ARGS...: run a bundle executable with a stripped environment; sets RC, T, and
# leaves stdout/stderr in $WORK/out, $WORK/err.
frozen() {
    local exe="$1"; shift
    local t0; t0=$(date +%s.%N)
    timeout 300 env -i HOME="$WORK/home" LANG=C.UTF-8 QT_QPA_PLATFORM=offscreen \
        "$exe" "$@" >"$WORK/out" 2>"$WORK/err"
    RC=$?
    T=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{print b-a}')
}
why() { echo "exit $RC: $(tail -n 3 "$WORK/err" | tr '\n' ' ')"; }

[[ -x "$CLI" && -x "$GUI" ]] || { echo "smoke: $DIST lacks ids-desktop / ids-desktop-cli" >&2; exit 1; }
echo "smoke: bundle $DIST ($(du -sh "$DIST" | cut -f1)), inputs in $WORK"

# --- the bundle itself -------------------------------------------------------------------
leaked=$(find "$DIST" \( -iname 'tensorflow*' -o -iname 'keras' -o -iname 'libtensorflow*' \) -print -quit)
if [[ -z "$leaked" ]]; then pass "no TensorFlow/Keras in the bundle" 0; else fail "no TensorFlow/Keras in the bundle" "found $leaked"; fi

# --- inputs (host Python, stdlib only; modules of the source tree, run from its root) -----
(cd "$REPO" && "$HOST_PY" -m scripts.make_demo_capture --out "$WORK/capture.pcap" >/dev/null) \
    || { echo "smoke: could not generate the capture" >&2; exit 1; }
(cd "$REPO" && "$HOST_PY" -m scripts.make_unsw_csv --out "$WORK/unsw.csv" --repeat 5) \
    || { echo "smoke: could not generate the CSV" >&2; exit 1; }

# --- command line -------------------------------------------------------------------------
frozen "$CLI" --version
if [[ $RC -eq 0 ]] && grep -q "ids-desktop-cli" "$WORK/out"; then pass "cli --version" "$T"; else fail "cli --version" "$(why)"; fi

frozen "$CLI" formats
if [[ $RC -eq 0 ]] && grep -q "^pcap" "$WORK/out"; then pass "cli formats" "$T"; else fail "cli formats" "$(why)"; fi

frozen "$CLI" models --json
if [[ $RC -eq 0 ]] && grep -q '"unsw-nb15"' "$WORK/out"; then pass "cli models (bundled models/ found)" "$T"; else fail "cli models" "$(why)"; fi
pcap_model=0
grep -q '"feature_format": "pcap"' "$WORK/out" && pcap_model=1

frozen "$CLI" ingest capture.pcap --json
if [[ $RC -eq 0 ]] && grep -Eq '"flows": [1-9]' "$WORK/out"; then pass "cli ingest capture (nfstream engine)" "$T"
else fail "cli ingest capture" "$(why)"; fi

frozen "$CLI" analyze capture.pcap --json
if [[ $pcap_model -eq 1 ]]; then
    if [[ $RC -eq 0 ]] && grep -Eq '"flows": [1-9]' "$WORK/out"; then pass "cli analyze capture" "$T"
    else fail "cli analyze capture" "$(why)"; fi
elif [[ $RC -eq 2 ]] && grep -q "serves the 'pcap' format" "$WORK/err"; then
    pass "cli analyze capture: clean refusal" "$T"
    note "no bundle serves the 'pcap' format yet (issue 5): the capture was ingested, not scored"
else
    fail "cli analyze capture" "$(why)"
fi

frozen "$CLI" analyze unsw.csv --json --report report.pdf --csv flagged.csv --jsonl alerts.jsonl --explain 2
if [[ $RC -eq 0 ]] && grep -q '"model": "unsw-nb15"' "$WORK/out" \
    && [[ "$(head -c 4 report.pdf 2>/dev/null)" == "%PDF" && -s flagged.csv && -s alerts.jsonl ]]; then
    pass "cli analyze CSV + PDF/CSV/JSONL reports" "$T"
else
    fail "cli analyze CSV + reports" "$(why)"
fi

# cic-ids2017 ships the average of the hybrid and a tree (tree.onnx, issue 34): the frozen app
# must load and score it, explanations included. Its CSV layout is written by the source tree's
# generator, which needs pandas: the development venv's Python when there is one.
if [[ -x "$REPO/.venv/bin/python" ]] && (cd "$REPO" && .venv/bin/python -c "
import random, sys
from ids_desktop.synth.tables import synthetic_table
open(sys.argv[1], 'w').write(synthetic_table('cic-ids2017', 40, random.Random(5)))" "$WORK/cic.csv"); then
    frozen "$CLI" analyze cic.csv --json --explain 1
    if [[ $RC -eq 0 ]] && grep -q '"model": "cic-ids2017"' "$WORK/out"; then
        pass "cli analyze CSV with a blended bundle (cic-ids2017: hybrid + tree.onnx)" "$T"
    else fail "cli analyze CSV with a blended bundle" "$(why)"; fi
else
    note "no development venv to write a cic-ids2017 CSV: the blended bundle was not run"
fi

frozen "$CLI" train --format unsw-nb15 --data unsw.csv --out "$WORK/model"
if [[ $RC -eq 2 ]] && grep -q "development install" "$WORK/err"; then pass "cli train refuses cleanly" "$T"
else fail "cli train refuses cleanly" "$(why)"; fi

frozen "$CLI" batch capture.pcap unsw.csv --out "$WORK/batch"
if [[ $RC -eq 2 ]] && grep -q "development or pip install with Dask" "$WORK/err" && [[ ! -e "$WORK/batch" ]]; then
    pass "cli batch refuses cleanly (no Dask in the bundle)" "$T"
else fail "cli batch refuses cleanly" "$(why)"; fi
leaked=$(find "$DIST" \( -iname 'distributed' -o -iname 'dask' \) -print -quit)
if [[ -z "$leaked" ]]; then pass "no Dask in the bundle" 0; else fail "no Dask in the bundle" "found $leaked"; fi

# --- window ---------------------------------------------------------------------------------
rm -f "$OUT/selftest.png"
frozen "$GUI" --selftest unsw.csv --screenshot "$OUT/selftest.png"
if [[ $RC -eq 0 ]] && [[ $(stat -c %s "$OUT/selftest.png" 2>/dev/null || echo 0) -gt 10000 ]]; then
    pass "gui --selftest (analysis + LIME, offscreen)" "$T"
else
    fail "gui --selftest" "$(why)"
fi

if [[ $failures -gt 0 ]]; then
    echo "smoke: $failures check(s) failed"
    exit 1
fi
echo "smoke: all checks passed; screenshot $OUT/selftest.png"
