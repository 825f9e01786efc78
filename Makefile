# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PORT   ?= 8000
EMULATOR_PORT ?= 8090

.PHONY: run test test-fast bench bench-smoke lint format check-deploy messages clean help

help:
	@echo "make run    - the whole portal with demo data on embedded defaults (http://127.0.0.1:$(PORT)/)"
	@echo "make test   - the test suite (SQLite by default; DATABASE_URL / REDIS_URL to use servers)"
	@echo "make bench  - benchmarks against the emulator, writes bench/results.json"
	@echo "make lint   - ruff and the layer contracts (import-linter)"

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

run: $(VENV)/.installed
	DEBUG=true $(PY) manage.py rundemo --port $(PORT) --emulator-port $(EMULATOR_PORT)

test: $(VENV)/.installed
	$(PY) -m pytest

test-fast: $(VENV)/.installed
	$(PY) -m pytest -m "not browser"

bench: $(VENV)/.installed
	$(PY) -m bench

bench-smoke: $(VENV)/.installed
	$(PY) -m bench --smoke

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: $(VENV)/.installed
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

check-deploy: $(VENV)/.installed
	DEBUG=false SECRET_KEY=$$($(PY) -c 'import secrets;print(secrets.token_urlsafe(50))') \
	ALLOWED_HOSTS=portal.example.com $(PY) manage.py check --deploy --fail-level WARNING

messages: $(VENV)/.installed
	DEBUG=true $(PY) manage.py makemessages -l zh_Hans --no-obsolete --ignore='.venv/*' --ignore='var/*' --ignore='staticfiles/*' --ignore='bench/*' --ignore='tests/*'
	DEBUG=true $(PY) manage.py compilemessages --ignore='.venv/*'
	DEBUG=true $(PY) manage.py messages_hant

clean:
	rm -rf var/* staticfiles .pytest_cache
	touch var/.gitkeep
