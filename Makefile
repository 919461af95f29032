# The two set-up commands of the README: `make run` and `make test`.
# Each creates .venv on first use and reinstalls when pyproject.toml changes.
# `make unit` is the inner loop: the suite without the integration tests (emulator,
# subprocesses, tmux, the browser), with quick property tests; `make test` runs
# everything, the property tests thoroughly.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# setuptools announces every editable install of a flat layout ("Editable installation.
# Please be careful with folders ... same name as your package"); pip relays it as a
# warning. It is advice, not a problem: keep installs quiet.
PIP_INSTALL := $(BIN)/python -W "ignore:Editable installation:UserWarning" -m pip install --quiet

.PHONY: run test unit lint bench screenshot clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit("polyterm needs Python >= 3.11, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PIP_INSTALL) -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(PIP_INSTALL) -e '.[dev]'
	touch $(VENV)/.installed $@

run: $(VENV)/.installed
	$(BIN)/polyterm --offline

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

test: lint
	HYPOTHESIS_PROFILE=thorough PYTHONASYNCIODEBUG=1 $(BIN)/python -m pytest -q

unit: $(VENV)/.installed-dev
	HYPOTHESIS_PROFILE=quick $(BIN)/python -m pytest -q -n auto -m "not integration"

bench: $(VENV)/.installed
	$(BIN)/python benchmarks/bench_book.py
	$(BIN)/python benchmarks/bench_ingest.py
	$(BIN)/python benchmarks/bench_engine.py
	$(BIN)/python benchmarks/bench_backtest.py
	$(BIN)/python benchmarks/bench_latency.py
	$(BIN)/python benchmarks/bench_ledger.py
	$(BIN)/python benchmarks/bench_risk.py
	$(BIN)/python benchmarks/bench_strategies.py
	$(BIN)/python benchmarks/bench_sentiment.py
	$(BIN)/python benchmarks/bench_console.py

# The README's console picture (docs/console.svg, .png): the console on the seeded
# replay, rasterised by Chromium when installed. Regenerate after changing the console.
screenshot: $(VENV)/.installed
	$(BIN)/python scripts/console_screenshot.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
