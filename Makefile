# Award Service — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app award_service
HOST   ?= 127.0.0.1
PORT   ?= 5000

# Installs come from the lock files (exact versions and hashes); pyproject.toml keeps the ranges.
# requirements/runtime.txt: the dependencies (make run); requirements/dev.txt: those plus the `test`
# and `lint` extras (make test, make lint).  `make lock` regenerates both after pyproject.toml changes.
LOCK_RUNTIME := requirements/runtime.txt
LOCK_DEV     := requirements/dev.txt
UV_VERSION   := $(shell sed -n 's/^uv==\([^ ;]*\).*/\1/p' $(LOCK_DEV))
COMPILE       = $(BIN)/uv pip compile pyproject.toml --universal --python-version 3.11 --generate-hashes --quiet

.PHONY: run test install db admin demo bench clean worker beat serve lint lock lock-upgrade

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit("Python 3.11 or newer is needed") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(LOCK_RUNTIME) pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r $(LOCK_RUNTIME)
	$(BIN)/pip install --quiet --no-deps -e .
	$(BIN)/python requirements/check.py
	touch $@

$(VENV)/.installed-test: $(LOCK_DEV) $(VENV)/.installed
	$(BIN)/pip install --quiet --require-hashes -r $(LOCK_DEV)
	$(BIN)/python requirements/check.py test lint
	touch $@

# Regenerate the lock files from pyproject.toml, keeping the versions already pinned where the
# ranges still admit them (uv reads the old file); lock-upgrade moves everything to the newest.
lock: | $(BIN)/python
	$(BIN)/pip install --quiet "uv==$(or $(UV_VERSION),0.13.9)"
	$(COMPILE) $(UPGRADE) --extra test --extra lint -o $(LOCK_DEV)
	$(COMPILE) $(UPGRADE) -c $(LOCK_DEV) -o $(LOCK_RUNTIME)

lock-upgrade:
	$(MAKE) lock UPGRADE=--upgrade

# ruff (lint and format) and mypy, as configured in pyproject.toml; all three run, then it fails if any did.
lint: $(VENV)/.installed-test
	@rc=0; \
	echo "ruff check"; $(BIN)/ruff check . || rc=1; \
	echo "ruff format --check"; $(BIN)/ruff format --check . || rc=1; \
	echo "mypy"; $(BIN)/mypy || rc=1; \
	exit $$rc

install: $(VENV)/.installed

db: install
	$(FLASK) db upgrade

admin: db
	$(FLASK) users ensure-admin

demo: db
	$(FLASK) demo load --if-empty

# The first administrator comes last, framed with the address and its one-time password,
# so that the install output above does not bury it.
run: demo
	$(FLASK) users ensure-admin --url http://$(HOST):$(PORT)/
	$(FLASK) run --host $(HOST) --port $(PORT)

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Mail with a broker (AWARD_CELERY_BROKER_URL=redis://127.0.0.1:6379/0): the worker
# sends; beat sweeps due and retried messages every minute and queues reminders hourly.
worker: install
	$(BIN)/celery -A award_service.worker worker --loglevel=info

beat: install
	$(BIN)/celery -A award_service.worker beat --loglevel=info

# The production profile on one machine: gunicorn (deploy/gunicorn.conf.py), the Celery
# worker and beat (deploy/Procfile), started together by deploy/serve.py and stopped
# together on Ctrl-C or SIGTERM.  The database: DATABASE_URL, else the SQLite file in
# instance/; the broker: AWARD_CELERY_BROKER_URL, else Redis on 127.0.0.1:6379.  Migrates
# first, then `production check` (what AWARD_ENV=production would refuse; it refuses only
# in production).  GUNICORN_BIND (127.0.0.1:8000) and GUNICORN_WORKERS set the web server.
serve: install
	$(FLASK) db upgrade
	$(FLASK) production check
	AWARD_CELERY_BROKER_URL=$${AWARD_CELERY_BROKER_URL:-redis://127.0.0.1:6379/0} exec $(BIN)/python deploy/serve.py

bench: $(VENV)/.installed-test
	$(BIN)/python bench/registration.py

clean:
	rm -rf $(VENV) .pytest_cache
