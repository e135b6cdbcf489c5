# Two commands set everything up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test setup lint clean bench train

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

DEMO := resources/demo/demo.pcap

$(DEMO): scripts/make_demo_capture.py scripts/make_capture.py
	$(BIN)/python scripts/make_demo_capture.py --out $(DEMO)

# With no ARGS the app opens the generated demo capture (web, DNS, TLS, a scan, SSH brute force).
run: $(STAMP) $(DEMO)
	$(BIN)/ids-desktop $(if $(ARGS),$(ARGS),$(DEMO))

lint: $(STAMP)
	$(BIN)/lint-imports

test: $(STAMP)
	$(BIN)/lint-imports
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q $(PYTEST_ARGS)

# Rebuild every model bundle from ../shared/data (seeded; about 15 min on 2 cores).
train: $(STAMP)
	$(BIN)/python scripts/train_all.py

bench: $(STAMP)
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/model.py
	$(BIN)/python bench/explain.py
	$(BIN)/python bench/report.py
	$(BIN)/python bench/gui.py

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache

# --- traffic lab (scripts/lab, issue 4): needs root and network namespaces ------------------
LAB_SEED ?= 1
LAB_PY    = $(abspath $(BIN))/python

.PHONY: lab lab-smoke lab-deps lab-clean

lab-deps:
	bash scripts/lab/install-deps.sh

# full dataset from a seed into $$IDS_LAB_DATA (default ../lab-data); rewrites scripts/lab/SUMMARY.md
lab: $(STAMP) lab-deps
	cd scripts && $(LAB_PY) -m lab full --seed $(LAB_SEED) --summary lab/SUMMARY.md

# smoke scenario alone; last stdout line: {"flows":..,"benign":..,"attack":..,"families":[..]}
lab-smoke: $(STAMP)
	@bash scripts/lab/install-deps.sh >&2
	@cd scripts && $(LAB_PY) -m lab smoke --seed $(LAB_SEED)

lab-clean:
	cd scripts && $(LAB_PY) -m lab cleanup
