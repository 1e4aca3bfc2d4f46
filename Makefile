# Order-to-cash backend. `make run` serves the local stack; `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Where `make run` writes the running local stack's URLs and demo keys (git-ignored).
LOCAL_STACK := build/local-stack.json

.PHONY: install run test test-fast lint typecheck openapi package invoke bench collect snapshot journal lake-backfill clean

$(STAMP): pyproject.toml requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# make run [FRESH=1]: the state is saved in build/local-state/ on stop and restored on start;
# FRESH=1 starts empty.
run: $(STAMP)  ## the local stack: moto + infra/resources.yaml + the API on :8000 + the event pump
	$(BIN)/python -m infra.local --ready-file $(LOCAL_STACK) \
		$(if $(filter 1 true yes,$(FRESH)),--fresh)

# Scheduler never fires in moto: this starts the daily collection run on the running stack.
# make collect [DRY_RUN=1] [AS_OF=2026-12-01] [ARGS="--api-url URL --admin-key KEY"]
collect: $(STAMP)  ## the collection run on the running `make run` stack (POST /collection-runs)
	$(BIN)/python -m infra.local.collect --ready-file $(LOCAL_STACK) \
		$(if $(filter 1 true yes,$(DRY_RUN)),--dry-run) $(if $(AS_OF),--as-of $(AS_OF)) $(ARGS)

# Scheduler never fires in moto: this takes the nightly report snapshot on the running stack.
# make snapshot [DAY=2026-11-30]
snapshot: $(STAMP)  ## the nightly aging + KPI snapshot on the running `make run` stack
	$(BIN)/python -m infra.local.snapshot --ready-file $(LOCAL_STACK) $(if $(DAY),--day $(DAY))

# The nightly journal export on the running stack: journal/YYYY/MM/DD.csv in the documents bucket.
# make journal [DAY=2026-11-30]
journal: $(STAMP)  ## the nightly journal export (CSV per day) on the running `make run` stack
	$(BIN)/python -m infra.local.export_journal --ready-file $(LOCAL_STACK) $(if $(DAY),--day $(DAY))

# The books a stack held before the lake existed, written into the lake once.
lake-backfill: $(STAMP)  ## write the running `make run` stack's books into its lake (once)
	$(BIN)/python -m infra.local.lake_backfill --ready-file $(LOCAL_STACK)

test: $(STAMP)  ## lint, types, and every test layer (unit, functional, e2e, infra)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/pytest -n 2 --durations=15  # two workers: the 2-core machine the suite is sized for

test-fast: $(STAMP)
	$(BIN)/pytest tests/unit tests/functional -q

lint: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: $(STAMP)
	$(BIN)/mypy .

# openapi.yaml is generated: edit the routes, the models or tools/openapi/overlay.yaml instead.
openapi: $(STAMP)  ## write openapi.yaml from the routes, the models and the authored overlay
	$(BIN)/python -m tools.openapi

package: $(STAMP)  ## build/sam.json + build/deployment.zip for `sam deploy`
	$(BIN)/python -m infra.package

bench: $(STAMP)  ## benchmarks that print figures and write bench/RESULTS.md
	$(BIN)/python -m bench.run

clean:
	rm -rf build vendor .pytest_cache .mypy_cache .ruff_cache
