# Two commands for a newcomer: `make run` and `make test` (see README.md).
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
# Django 6 needs Python 3.12+: take the first one found on PATH or under pyenv.
PYTHON ?= $(shell for p in python3.13 python3.12 $$HOME/.pyenv/versions/3.13*/bin/python3 $$HOME/.pyenv/versions/3.12*/bin/python3 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { command -v $$p; break; }; done)
DEMO_FIRMS ?= 1500
DEMO_SEED ?= 2025
HOST ?= 127.0.0.1:8000

.PHONY: run test bench soak lint format venv clean messages

$(BIN)/.installed: pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.12 or newer is required (Django 6). Install python3.12 and try again." >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

venv: $(BIN)/.installed

# The laptop demo: DEBUG on (plain http on 127.0.0.1, no HTTPS redirect) and a key of its
# own, since the settings start with neither (production-safe defaults, README).
run: export DEBUG := 1
run: export SECRET_KEY ?= make-run-laptop-demo-key-not-for-production
run: venv
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py createcachetable
	$(BIN)/python manage.py create_demo_users
	$(BIN)/python manage.py load_plan targets/plans/files/photonics-2024-2026.yaml --user steward
	$(BIN)/python manage.py seed_demo --firms $(DEMO_FIRMS) --seed $(DEMO_SEED)
	$(BIN)/python manage.py recompute_progress
	$(BIN)/python manage.py runserver $(HOST)

test: venv
	$(BIN)/python tests/run_with_services.py $(PYTEST_ARGS)

# Speed, measured (never asserted): make bench, make bench SCALE=national, or make bench
# SCALE=tiny (every scenario in a couple of minutes; CI runs it, tests/test_bench.py). Results go
# to bench/results/<date>-<scale>.json and .md.
SCALE ?= suzhou
bench: venv
	$(BIN)/python tests/run_with_services.py --exec $(BIN)/python bench/run.py --scale $(SCALE)

# Load: 20 officers and 5 stewards for SECONDS through gunicorn; lost updates must be 0.
# Report: bench/results/<date>-soak.json (CI runs a 15-second form in tests/test_soak.py).
SECONDS_SOAK ?= 180
soak: venv
	$(BIN)/python tests/run_with_services.py --exec $(BIN)/python bench/soak.py --seconds $(SECONDS_SOAK)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

messages: venv
	$(BIN)/python manage.py makemessages -l zh_Hans -l en --no-obsolete --ignore=.venv --ignore=tests
	$(BIN)/python manage.py compilemessages --ignore=.venv

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-* staticfiles
