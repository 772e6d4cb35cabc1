# Two commands a newcomer needs: `make demo` and `make test`. Everything else is a helper.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha256sum | cut -c1-16)
YEARS ?= 2023-2024 2024-2025

.PHONY: demo test test-slow lint typecheck sample check-sample bench clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "Cần Python 3.11 ($(PYTHON) not found)"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

## demo: set up .venv and run the whole pipeline on the committed sample inbox; outputs go to out/
## (its files are committed, not being written: no settle time)
demo: $(STAMP)
	@for y in $(YEARS); do \
	  CDS_INGEST_SETTLE_SECONDS=0 $(BIN)/cds run --inbox sample_exports/inbox --warehouse data/warehouse.duckdb --out out --year $$y || exit $$?; \
	done

## test: set up .venv and run the default test suite (no network, no secrets)
test: $(STAMP)
	$(BIN)/python -m pytest

## test-slow: the long acceptance tests (truth comparisons, kill test, round trip); CI runs them too
test-slow: $(STAMP)
	$(BIN)/python -m pytest -m slow -p no:cacheprovider \
	  --deselect tests/integration/test_generator_large.py::test_province_mountain

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## typecheck: mypy on the connectors and the warehouse layer (a target of issue 18; `cds-bench` reports its verdict)
typecheck: $(STAMP)
	$(BIN)/python -m mypy connectors warehouse

## sample: regenerate the committed sample inbox from the generator (small preset, contract files only: --real-exports 0)
sample: $(STAMP)
	rm -rf sample_exports/inbox
	$(BIN)/cds generate --preset small --seed 7 --years 2023-2024,2024-2025 --messiness 1 --real-exports 0 --out sample_exports/inbox

bench: $(STAMP)
	$(BIN)/cds-bench

clean:
	rm -rf out data .pytest_cache
