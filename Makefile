# Two commands a newcomer needs: `make demo` and `make test`. Everything else is a helper.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha256sum | cut -c1-16)
YEARS ?= 2023-2024 2024-2025

# the product packages: what the type checker and the line-length rule hold to account
PRODUCT := pipelines connectors quality reports indicator_sets warehouse lakehouse

.PHONY: demo test test-slow check lint typecheck sqllint sample check-sample bench clean

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

## check: the conventions the machine checks (CI runs it, issue 23): ruff lint and format, mypy on the
## product packages, sqlfluff on the SQL models, and a fixture case for every SQL model
check: $(STAMP)
	$(MAKE) lint
	$(MAKE) typecheck
	$(MAKE) sqllint
	$(BIN)/python -m pytest -q -p no:cacheprovider "tests/sql/test_models.py::test_every_model_has_a_fixture_case"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## typecheck: mypy on the product packages (`cds-bench` reports its verdict on connectors/ and warehouse/)
typecheck: $(STAMP)
	$(BIN)/python -m mypy $(PRODUCT)

## sqllint: sqlfluff (DuckDB dialect, rules in .sqlfluff) on the SQL project
sqllint: $(STAMP)
	$(BIN)/sqlfluff lint dbt_like_sql

## sample: regenerate the committed sample inbox from the generator (small preset, contract files only: --real-exports 0)
sample: $(STAMP)
	rm -rf sample_exports/inbox
	$(BIN)/cds generate --preset small --seed 7 --years 2023-2024,2024-2025 --messiness 1 --real-exports 0 --out sample_exports/inbox

bench: $(STAMP)
	$(BIN)/cds-bench

clean:
	rm -rf out data .pytest_cache
