# Award Service — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app award_service
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: run test install db admin demo bench clean worker beat

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit("Python 3.11 or newer is needed") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

db: install
	$(FLASK) db upgrade

admin: db
	$(FLASK) users ensure-admin

demo: admin
	$(FLASK) demo load --if-empty

run: demo
	$(FLASK) run --host $(HOST) --port $(PORT)

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Mail with a broker (AWARD_CELERY_BROKER_URL=redis://127.0.0.1:6379/0): the worker
# sends; beat sweeps due and retried messages every minute and queues reminders hourly.
worker: install
	$(BIN)/celery -A award_service.worker worker --loglevel=info

beat: install
	$(BIN)/celery -A award_service.worker beat --loglevel=info

bench: $(VENV)/.installed-test
	$(BIN)/python bench/registration.py

clean:
	rm -rf $(VENV) .pytest_cache
