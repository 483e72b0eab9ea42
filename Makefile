# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(PY) -m flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000
PO := $(wildcard portal/translations/*/LC_MESSAGES/messages.po)
MO := $(PO:.po=.mo)

.PHONY: run test test-fast bench install translations extract-messages clean

install: $(VENV)/.installed $(MO)

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

%.mo: %.po $(VENV)/.installed
	$(VENV)/bin/pybabel compile --use-fuzzy -i $< -o $@ >/dev/null

translations: $(MO)

# Refresh the catalogs after changing user-facing strings.
extract-messages: $(VENV)/.installed
	$(VENV)/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o portal/translations/messages.pot .
	$(VENV)/bin/pybabel update -i portal/translations/messages.pot -d portal/translations --no-fuzzy-matching

run: install
	$(FLASK) portal init --no-admin
	$(FLASK) portal demo
	@echo "Serving on http://$(HOST):$(PORT)/"
	PORTAL_BIND=$(HOST):$(PORT) $(VENV)/bin/gunicorn wsgi:app  # settings: gunicorn.conf.py

# The whole suite, in parallel (pytest-xdist, one worker per core).
test: install
	$(PY) -m pytest -n auto $(PYTEST_ARGS)

# The edit-test loop: everything but the browser tests and the long attack suite.
test-fast: install
	$(PY) -m pytest -n auto -m "not browser and not adversarial" $(PYTEST_ARGS)

# Every bench script on a fresh clone of HEAD; figures into docs/benchmarks.md
# (needs the machine's PostgreSQL and Redis, as CI has them).
bench: install $(VENV)/.bench-installed
	$(PY) bench/run_all.py

$(VENV)/.bench-installed: pyproject.toml
	$(PY) -m pip install --quiet -e '.[test,bench]'
	touch $@

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
