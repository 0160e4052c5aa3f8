# Two commands: `make run` serves the portal with demo data on SQLite; `make test` runs every test.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app app
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run serve test bench translations extract-messages lint clean security

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt $(VENV)/.runtime
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

# Compiled catalogs are build products: made from the .po files, never committed.
translations: $(VENV)/.runtime
	$(BIN)/pybabel compile -d translations -f --statistics >/dev/null

run: $(VENV)/.runtime translations
	PORTAL_ENV=development $(FLASK) db upgrade
	PORTAL_ENV=development $(FLASK) seed-demo --if-empty
	@echo ""
	@echo "Demo logins (all with the password demo-password-2026): admin, compliance, supervisor, rm, client"
	@echo "Serving on http://$(HOST):$(PORT)"
	PORTAL_ENV=development $(FLASK) run --host $(HOST) --port $(PORT)

serve: $(VENV)/.runtime translations
	PORTAL_ENV=production $(FLASK) db upgrade
	PORTAL_ENV=production $(BIN)/gunicorn --config gunicorn.conf.py --workers $${WORKERS:-4} --bind $(HOST):$(PORT) app:app

# The suite runs in TEST_WORKERS processes (pytest-xdist; each builds its own template databases); 0 runs it
# in this one process.
TEST_WORKERS ?= 2

test: $(VENV)/.dev translations
	$(BIN)/python -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

$(VENV)/.bench: requirements-bench.txt $(VENV)/.dev
	$(BIN)/pip install --quiet -r requirements-bench.txt
	touch $@

bench: $(VENV)/.bench translations
	$(BIN)/python -m bench

extract-messages: $(VENV)/.runtime
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k N_ -k lazy_pgettext:1c,2 -o translations/messages.pot --no-location --sort-output --omit-header .
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching --omit-header --ignore-obsolete

lint: $(VENV)/.dev
	$(BIN)/ruff check .

# Static security analysis (every medium or high finding fixed or explained with `# nosec`) and a
# known-vulnerability check of every pinned requirement (tools/audit_requirements.py says how).
security: $(VENV)/.dev
	$(BIN)/bandit -q -r portal models forms app.py --severity-level medium
	$(BIN)/python tools/audit_requirements.py requirements.txt requirements-dev.txt requirements-bench.txt

clean:
	rm -rf $(VENV) instance/*.db tests/e2e/artifacts
