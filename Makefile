# CivicGrid — see README.md. Every target works on a fresh machine: it creates what it needs.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run install test lint typecheck pytest pytest-sqlite pytest-postgres demo serve worker messages clean bench-grid

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo
	$(PY) manage.py collectstatic --noinput -v 0
	$(PY) manage.py demo_logins
	@echo "Serving CivicGrid on http://$(HOST):$(PORT)/  (Ctrl-C stops)"
	@# The background worker (notifications, deadline sweeps) runs beside gunicorn. Whichever way this
	@# ends (Ctrl-C, gunicorn exiting, make being killed), the EXIT trap stops both; SIGTERM lets the
	@# worker finish its batch. gunicorn runs in the background so the shell's traps fire at once.
	@$(PY) manage.py run_worker & worker=$$!; \
	$(BIN)/gunicorn civicgrid.wsgi --bind $(HOST):$(PORT) --workers 2 --threads 4 --access-logfile - & server=$$!; \
	trap 'kill -TERM $$server $$worker 2>/dev/null; wait $$server $$worker 2>/dev/null' EXIT; \
	trap 'exit 130' INT; trap 'exit 143' TERM HUP; \
	wait $$server

install: $(STAMP) messages

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "CivicGrid needs Python 3.11 or newer")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Translations: compiled from locale/*.po at install time (.mo files are build output, not committed).
messages: $(STAMP)
	@command -v msgfmt >/dev/null || (apt-get update -qq && apt-get install -y -qq gettext >/dev/null)
	cd civicgrid && ../$(PY) ../manage.py compilemessages -v 0

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy civicgrid tests bench

# The suite runs in PYTEST_WORKERS processes (pytest-xdist), one test file per worker at a time, each with its
# own test database (and, for the browser tests, its own live server and Chromium). 0 runs it in one process.
PYTEST_WORKERS ?= 2
PYTEST := $(BIN)/pytest -q -p no:cacheprovider $(if $(filter 0,$(PYTEST_WORKERS)),,-n $(PYTEST_WORKERS) --dist loadfile)

pytest-sqlite: install
	CIVICGRID_TESTING=1 $(PYTEST)

# A throwaway PostgreSQL 15 on 127.0.0.1 unless DATABASE_URL is set (scripts/with-postgres.sh).
pytest-postgres: install
	CIVICGRID_TESTING=1 scripts/with-postgres.sh $(PYTEST)

# Node packages for the tests only (axe-core), exactly as package-lock.json pins them.
NODE_STAMP := node_modules/.installed
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

test: install $(NODE_STAMP)
	scripts/ensure-chromium.sh
	$(MAKE) --no-print-directory lint typecheck
	$(MAKE) --no-print-directory pytest-sqlite
	$(MAKE) --no-print-directory pytest-postgres

demo: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo

bench-grid: install
	$(PY) bench/grid_lookup.py

# Case intake over HTTP beside pgbench and django-helpdesk in three rounds, and a crash test (bench/intake.py, ~8 minutes).
.PHONY: bench-pages
# Server time of each role's main pages on the demo district (a fresh SQLite; load_demo takes a few minutes).
bench-pages: install
	$(PY) bench/pages.py

.PHONY: bench-intake
bench-intake: install
	scripts/with-postgres.sh $(PY) bench/intake.py

# Open311 GET requests over 1,000,000 stored cases beside pgbench and a plain Django list (bench/open311.py,
# ~20 minutes, ~3 of them loading; `$(PY) bench/open311.py --keep var/bench-open311` keeps the loaded cases).
.PHONY: bench-open311
bench-open311: install
	scripts/with-postgres.sh $(PY) bench/open311.py

clean:
	rm -rf $(VENV) var staticfiles .mypy_cache .ruff_cache test-artifacts

# The worker's deadline sweep over 100,000 due clocks, one worker and then two (bench/sweep.py, ~1 hour).
.PHONY: bench-sweep
bench-sweep: install
	scripts/with-postgres.sh $(PY) bench/sweep.py

# The statistics' dashboard and monthly report over 10,000,000 generated cases beside a plain full scan
# (bench/stats.py). The first run generates the cases and builds the statistics (hours) in a PostgreSQL
# cluster kept in var/bench-stats (tens of GB); a later run only measures. `--cases N` for a smaller city.
.PHONY: bench-stats
bench-stats: install
	$(PY) bench/stats.py
