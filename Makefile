# Mitroo developer commands. `make run` and `make test` work on a fresh clone: they
# create the virtualenv and install what is missing first.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install run lint test bench package clean chromium

install: $(STAMP)

# Reinstall only when the requirement files change.
$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

run: install
	$(PY) -m devtools.run

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy chalicelib app.py devtools standins

# The browser tests drive Debian's Chromium (Playwright cannot download its own here).
CHROMIUM ?= /usr/bin/chromium
SUDO := $(shell test "$$(id -u)" = 0 || echo sudo)

chromium:
	@test -x $(CHROMIUM) || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium >/dev/null; }

test: lint chromium
	$(PY) -m pytest -n auto

bench: install
	$(PY) -m bench

package: install
	rm -rf dist/package && mkdir -p dist
	AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-eu-west-1} $(VENV)/bin/chalice package --stage dev dist/package
	cp dist/package/deployment.zip dist/deployment.zip
	@ls -l dist/deployment.zip

clean:
	rm -rf $(VENV) dist chalice.out .pytest_cache
