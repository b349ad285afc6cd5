# OmniHCP — two commands on a fresh machine: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
OMNIHCP := $(BIN)/omnihcp
HOST ?= 127.0.0.1
PORT ?= 8000
PG_URL ?=

.PHONY: demo test test-sqlite test-pg lint install messages browser-deps serve clean vendor

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,spark]'
	touch $@

install: $(BIN)/.installed

messages: install
	$(OMNIHCP) i18n_compile

demo: install messages
	$(OMNIHCP) migrate --noinput -v0
	$(OMNIHCP) demo --if-empty
	@echo "OmniHCP is serving on http://$(HOST):$(PORT)/"
	$(OMNIHCP) serve $(HOST):$(PORT)

serve: install messages
	$(OMNIHCP) serve $(HOST):$(PORT)

# Debian's Chromium drives the browser journeys (Playwright cannot download its own here).
browser-deps:
	@command -v chromium >/dev/null || { \
	  echo "Installing Debian's chromium for the browser tests…"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; }

# Front-end files come from the npm registry at the exact versions pinned in package-lock.json
# and are committed under core/static/vendor/: pages never load a CDN (customers' networks are
# closed). `make vendor` refreshes them after a version change in package.json.
VENDOR := src/omnihcp/core/static/vendor
vendor:
	npm ci --ignore-scripts --no-audit --no-fund
	rm -rf $(VENDOR) && mkdir -p $(VENDOR)/htmx.org $(VENDOR)/pico
	cp node_modules/htmx.org/dist/htmx.min.js node_modules/htmx.org/LICENSE $(VENDOR)/htmx.org/
	cp node_modules/@picocss/pico/css/pico.min.css node_modules/@picocss/pico/LICENSE.md $(VENDOR)/pico/
	node -p 'Object.entries(require("./package-lock.json").packages).filter(([k]) => k).map(([k, v]) => k.replace("node_modules/", "") + " " + v.version).join("\n")' > $(VENDOR)/VERSIONS.txt

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy src
	$(BIN)/lint-imports

test-sqlite: install messages browser-deps
	env -u DATABASE_URL $(BIN)/pytest

test-pg: install messages browser-deps
	DATABASE_URL="$${PG_URL:-$$(bash .ci/postgres-url)}" $(BIN)/pytest

test: lint test-sqlite

clean:
	rm -rf $(VENV) var
