# Two commands set everything up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# The versions the last green CI run installed on this platform and Python
# (scripts/lock_constraints.py writes them; `make lock`). Where no file matches, pip resolves
# pyproject.toml's ranges alone. `make CONSTRAINTS=` ignores the file.
PYTAG  := $(shell $(PYTHON) -c 'import sys; print(f"{sys.platform}-py{sys.version_info[0]}.{sys.version_info[1]}")' 2>/dev/null)
CONSTRAINTS ?= $(wildcard constraints/$(PYTAG).txt)
PIP_C  := $(if $(CONSTRAINTS),-c $(CONSTRAINTS))

.PHONY: run test setup lint clean bench train train-pcap bundle smoke-bundle lock

$(STAMP): pyproject.toml $(CONSTRAINTS)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(PIP_C) -e '.[dev]'
	touch $(STAMP)

# Resolve pyproject.toml's ranges afresh (every extra) into constraints/<platform>-py<X.Y>.txt;
# commit the new file only after `CI=true .ci/run` passed on a clean clone with it.
lock: $(STAMP)
	$(BIN)/python scripts/lock_constraints.py

setup: $(STAMP)

DEMO := resources/demo/demo.pcap
DEMO_SOURCES := scripts/make_demo_capture.py \
    $(addprefix ids_desktop/synth/,__init__.py demo_capture.py packets.py capture_writer.py)

# The generator is ids_desktop.synth (development only): it needs the installed package.
$(DEMO): $(DEMO_SOURCES) | $(STAMP)
	$(BIN)/python scripts/make_demo_capture.py --out $(DEMO)

# With no ARGS the app opens the generated demo capture (web, DNS, TLS, a scan, SSH brute force).
# First it names any system library the Qt window needs and this machine lacks (README).
run: $(STAMP) $(DEMO)
	$(BIN)/python scripts/check_system_libs.py
	$(BIN)/ids-desktop $(if $(ARGS),$(ARGS),$(DEMO))

# The import contracts, ruff (pyproject's [tool.ruff]) and mypy (strict on ids_desktop/core).
lint: $(STAMP)
	$(BIN)/lint-imports
	$(BIN)/ruff check
	$(BIN)/mypy

test: lint
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q $(PYTEST_ARGS)

# Rebuild every dataset bundle from ../shared/data (seeded; about 15 min on 2 cores) and the
# model section of bench/RESULTS.md; the recipes are in ids_desktop/training/recipes.py
# (`ids-desktop-cli train --recipe NAME` rebuilds one).
train: $(STAMP)
	$(BIN)/python scripts/train_all.py

# The capture (pcap) bundle: needs a traffic-lab run ($$IDS_LAB_DATA, `make lab`) and
# ../shared/data; validates the lab + everyday apps + shared captures source by folds that hold
# out each attack capture once and every everyday-application capture once (~20 min on 2
# cores with the captures' flows cached in ../flow-cache, longer on a first run), sets the
# alert threshold from the applications' out-of-fold false alarms, then ships the first seed
# whose bundle passes the shipping gate (1-5 min per seed, up to six; exit 1 if none).
# The same as `ids-desktop-cli train --recipe pcap`. `scripts/train_pcap.py --compare`
# measures the three training sources side by side.
train-pcap: $(STAMP) $(DEMO)
	$(BIN)/python scripts/train_pcap.py --source lab+apps+captures --apps-folds

bench: $(STAMP)
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/capture_model.py
	$(BIN)/python bench/model.py
	$(BIN)/python bench/explain.py
	$(BIN)/python bench/report.py
	$(BIN)/python bench/gui.py

# --- installer (issue 9): dist/ids-desktop/ with ids-desktop and ids-desktop-cli ---------------
BUNDLE_STAMP := $(VENV)/.bundle-installed

$(BUNDLE_STAMP): $(STAMP) pyproject.toml $(CONSTRAINTS)
	$(BIN)/python -m pip install --quiet $(PIP_C) -e '.[dev,bundle]'
	touch $(BUNDLE_STAMP)

# PyInstaller one-folder build from build.spec (TensorFlow left out); prints size and time.
bundle: $(BUNDLE_STAMP) $(DEMO)
	@start=$$(date +%s); \
	$(BIN)/python -m PyInstaller --noconfirm --clean --log-level WARN \
		--distpath dist --workpath build/pyinstaller build.spec || exit 1; \
	echo "bundle: dist/ids-desktop $$(du -sh dist/ids-desktop | cut -f1) unpacked" \
		"($$(du -sm dist/ids-desktop | cut -f1) MiB), built in $$(( $$(date +%s) - start )) s"

# Runs the frozen executables with PATH/PYTHONPATH stripped (scripts/smoke_bundle.sh).
smoke-bundle: bundle
	bash scripts/smoke_bundle.sh dist/ids-desktop

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache .mypy_cache

# --- traffic lab (scripts/lab, issue 4): needs root and network namespaces ------------------
LAB_SEED ?= 1
LAB_PY    = $(abspath $(BIN))/python

.PHONY: lab lab-p2p lab-smoke lab-deps lab-clean

lab-deps: $(STAMP)
	bash scripts/lab/install-deps.sh
	$(BIN)/python -m pip install --quiet $(PIP_C) -e '.[dev,lab]'

# full dataset from a seed into $$IDS_LAB_DATA (default ../lab-data); rewrites scripts/lab/SUMMARY.md
lab: $(STAMP) lab-deps
	$(LAB_PY) -m scripts.lab full --seed $(LAB_SEED) --summary scripts/lab/SUMMARY.md

# benign peer-to-peer run into ../lab-p2p, outside $$IDS_LAB_DATA: the shipped capture bundle does
# not train on it (scripts/lab/README.md says why); rewrites scripts/lab/SUMMARY-p2p.md
lab-p2p: $(STAMP) lab-deps
	$(LAB_PY) -m scripts.lab p2p --seed $(LAB_SEED) --out ../lab-p2p --summary scripts/lab/SUMMARY-p2p.md

# smoke scenario alone; last stdout line: {"flows":..,"benign":..,"attack":..,"families":[..]}
lab-smoke: $(STAMP)
	@bash scripts/lab/install-deps.sh >&2
	@$(LAB_PY) -m scripts.lab smoke --seed $(LAB_SEED)

lab-clean:
	$(LAB_PY) -m scripts.lab cleanup

# --- reliability (issue 10): the whole fuzz corpus; the 100 MB / 500 MB / 1 GB scale run -------
.PHONY: fuzz scale

fuzz: $(STAMP)
	nice -n 10 $(BIN)/python bench/fuzz.py --jobs 2

# captures go to $$IDS_SCALE_DATA (default ../scale-data), never into the repo; runs are niced
scale: $(STAMP)
	$(BIN)/python bench/scale.py
