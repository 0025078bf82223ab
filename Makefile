# Two commands: `make run` (the back office with demo data) and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
export DATABASE_URL_TEST := $(or $(DATABASE_URL),postgres://postgres@127.0.0.1:5432/oms)
export REDIS_URL_TEST := $(or $(REDIS_URL),redis://127.0.0.1:6379/0)
# Two pytest workers (pytest-xdist): each has its own test database.
PYTEST_ARGS ?= -n 2

.PHONY: run test lint bench bench-full lock messages clean-data system-run system-test

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.base-installed: requirements/base.txt | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements/base.txt
	touch $@

$(VENV)/.dev-installed: requirements/base.txt requirements/dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements/base.txt -r requirements/dev.txt
	touch $(VENV)/.base-installed $@

# What the machine needs, before the venv: Debian packages, installed when root or
# passwordless sudo allows (else the command to run), and for the tests a local
# PostgreSQL and Redis answering (installed and started when they are not).
system-run:
	$(PYTHON) bin/setup-system run

system-test:
	DATABASE_URL=$(DATABASE_URL_TEST) REDIS_URL=$(REDIS_URL_TEST) $(PYTHON) bin/setup-system test

run: system-run $(VENV)/.base-installed
	$(BIN)/python -m oms.devserver

test: system-test $(VENV)/.dev-installed
	DATABASE_URL=$(DATABASE_URL_TEST) REDIS_URL=$(REDIS_URL_TEST) $(BIN)/python bin/check-services
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy
	DATABASE_URL=$(DATABASE_URL_TEST) REDIS_URL=$(REDIS_URL_TEST) DJANGO_SETTINGS_MODULE=oms.test_settings $(BIN)/python manage.py compilemessages --ignore=.venv -v 0
	DATABASE_URL=$(DATABASE_URL_TEST) REDIS_URL=$(REDIS_URL_TEST) $(BIN)/pytest $(PYTEST_ARGS)

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy

bench: $(VENV)/.dev-installed
	DATABASE_URL=$(DATABASE_URL_TEST) REDIS_URL=$(REDIS_URL_TEST) $(BIN)/python -m bench $(BENCH_ARGS)

# Regenerate the hashed locks from requirements/*.in (needs `pip install uv`).
lock:
	cd requirements && uv pip compile base.in --python-version 3.11 -q --generate-hashes -o base.txt --no-header
	cd requirements && uv pip compile dev.in --python-version 3.11 -q --generate-hashes -o dev.txt --no-header

messages: $(VENV)/.dev-installed
	DEBUG=true $(BIN)/python manage.py makemessages -l fr -l es -l nl -l ro -l ru --ignore=.venv --ignore=.data --no-obsolete
	DEBUG=true $(BIN)/python manage.py compilemessages --ignore=.venv

clean-data:
	rm -rf .data
