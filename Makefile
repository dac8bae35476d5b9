# The two contract commands: `make run` (the whole job on the embedded default) and `make test`.
# Both create .venv from the locked constraints on first use and skip the install while the lock
# (constraints.txt + pyproject.toml) is unchanged.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
LOCK_HASH := $(shell cat constraints.txt pyproject.toml | sha256sum | cut -c1-16)
INSTALLED := $(VENV)/.installed-$(LOCK_HASH)

export AIRFLOW_HOME ?= $(CURDIR)/.local/airflow
export AIRFLOW__CORE__DAGS_FOLDER := $(CURDIR)/dags
export AIRFLOW__CORE__LOAD_EXAMPLES := False
export AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION := True
export PYTHONPATH := $(CURDIR)

.PHONY: run test lint unit integration bench bench-retrain bench-uplift soak lock venv psql bi-login churn airflow airflow-stop airflow-status airflow-cli clean-local

venv: $(INSTALLED)

$(INSTALLED): constraints.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip==26.3"
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[local]'
	rm -f $(VENV)/.installed-* && touch $@

run: venv
	$(BIN)/python -m job.local.run

# make test on TEST_WORKERS pytest-xdist workers (1: one process). A module stays on one worker, so
# its fixtures are built once; tests/conftest.py starts the long modules first.
TEST_WORKERS ?= 3
XDIST := $(if $(filter 1,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder)

test: venv lint
	$(BIN)/python -m pytest $(XDIST)

# ruff's lint (incl. the Airflow rules) and format check, configured in pyproject.toml; first in make test
lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

unit: venv
	$(BIN)/python -m pytest -m unit

integration: venv
	$(BIN)/python -m pytest -m integration $(XDIST)

# The nightly path's phases and baselines at BENCH_CUSTOMERS (default 200000; 1000000 works):
# bench/results/<date>-<customers>.json. bench-retrain: monthly retraining at that size.
bench: venv
	$(BIN)/python -m bench.run

bench-retrain: venv
	$(BIN)/python -m bench.retrain

# Offers by value against the synthetic truth, no warehouse (ml/uplift/README.md):
# bench/results/<date>-uplift.json, each uplift learner over 20 seeds.
bench-uplift: venv
	$(BIN)/python -m bench.uplift

# NIGHTS small nights through the real scheduler (CeleryExecutor) with injected faults, in a
# warehouse of its own (.local/soak, wiped first): bench/results/<date>-soak.json, rows_lost must be 0.
NIGHTS ?= 30
soak: venv
	LOCAL_DIR=$(CURDIR)/.local/soak $(BIN)/python -m bench.soak --nights $(NIGHTS)

# A real local Airflow (scheduler, dag-processor, triggerer, API server + UI on 127.0.0.1) until
# Ctrl-C; AIRFLOW_PORT picks the port, AIRFLOW__CORE__EXECUTOR=CeleryExecutor adds a Celery worker.
airflow: venv
	$(BIN)/python -m job.deployment start --foreground

airflow-stop: venv
	$(BIN)/python -m job.deployment stop

# Each component of that deployment: running or stopped, and how often make airflow restarted it
airflow-status: venv
	$(BIN)/python -m job.deployment status

# The airflow CLI on that deployment, e.g. make airflow-cli ARGS='dags list-runs churn_score'
airflow-cli: venv
	$(BIN)/python -m job.deployment airflow $(ARGS)

# psql on the warehouse (WAREHOUSE_URL or the embedded server), e.g. make psql ARGS='-c "table mart.segment_summary"'
psql: venv
	$(BIN)/python -m etl.warehouse.server psql $(ARGS)

# A read-only BI login and its connection block (the password is shown once), e.g.
# WAREHOUSE_TCP_PORT=55432 make bi-login NAME=metabase  (the embedded server then listens on 127.0.0.1)
bi-login: venv
	@test -n "$(NAME)" || { echo "usage: make bi-login NAME=<login> [WAREHOUSE_TCP_PORT=55432]"; exit 2; }
	$(BIN)/churn bi-login $(NAME)

# The operator's command line, e.g. make churn ARGS=status, make churn ARGS='rescore 2026-11-27'
churn: venv
	$(BIN)/churn $(ARGS)

# Re-resolve the lock from the direct dependencies in pyproject.toml (needs network).
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet -e '.[local]'
	.lock-venv/bin/pip freeze --exclude-editable | grep -v '^-e' > constraints.txt
	rm -rf .lock-venv

# Stops the embedded warehouse and removes generated data, Airflow state and models.
clean-local:
	$(BIN)/python -m etl.warehouse.server stop || true
	rm -rf .local
