# Two commands for a fresh machine (python3, node 20, npm): `make run` and `make test`.
# `install` is idempotent and fast when nothing changed: each step is a file target rebuilt only when its inputs
# change (pyproject.toml, package-lock.json, the contracts), and the chromium check is one `command -v`.

PYTHON ?= python3
VENV := .venv
SLITHER_VENV := .venv-slither
STAMP := $(VENV)/.installed

CONTRACTS := $(shell find contracts -name '*.sol' 2>/dev/null)

.PHONY: install chromium run test bench-gas slither clean

install: $(STAMP) node_modules/.package-lock.json artifacts/.compiled chromium

# Debian's chromium for the browser tests, which Playwright drives through executable_path: never
# `playwright install`, which downloads a browser and fails offline. As root with apt-get we install it (quiet;
# on failure apt's whole output is shown and make stops); otherwise one line says what to run, and the rest of the
# install goes on (`make run` does not need a browser).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "apt-get: installing chromium (for the browser tests)"; \
	    log=$$(mktemp); \
	    if ! { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; } >"$$log" 2>&1 </dev/null; then \
	      cat "$$log" >&2; rm -f "$$log"; echo "apt-get could not install chromium (output above)" >&2; exit 1; \
	    fi; \
	    rm -f "$$log"; \
	    command -v chromium >/dev/null 2>&1 || { echo "chromium is not on PATH after apt-get install" >&2; exit 1; }; \
	  else \
	    echo "chromium is missing; the browser tests need it: run 'sudo apt-get install -y chromium' (Debian)"; \
	  fi; \
	}

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(VENV)/bin/python pyproject.toml
	$(VENV)/bin/python -m pip install --quiet -e '.[dev]'
	touch $@

# npm itself writes node_modules/.package-lock.json: newer than package-lock.json means the install is current.
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

# Hardhat compiles offline with the pinned solcjs (hardhat.config.js); it skips unchanged sources itself.
artifacts/.compiled: node_modules/.package-lock.json hardhat.config.js $(CONTRACTS)
	node_modules/.bin/hardhat compile
	touch $@

run: install
	$(VENV)/bin/twinctl up

test: install
	$(VENV)/bin/pytest -q

bench-gas: install
	$(VENV)/bin/python scripts/bench_gas.py

# Slither in its own venv: it pins an older web3 than the backend uses. Hardhat mode, from the project root;
# any high or medium finding fails. It runs `hardhat compile --force` itself (node_modules/.bin on PATH, no npx):
# reusing artifacts/ can feed it a stale build-info left by an incremental compile.
$(SLITHER_VENV)/bin/slither:
	$(PYTHON) -m venv $(SLITHER_VENV)
	$(SLITHER_VENV)/bin/python -m pip install --quiet slither-analyzer

slither: install $(SLITHER_VENV)/bin/slither
	PATH="$(CURDIR)/$(SLITHER_VENV)/bin:$(CURDIR)/node_modules/.bin:$$PATH" $(SLITHER_VENV)/bin/slither . \
		--npx-disable \
		--exclude-informational --exclude-low --exclude-optimization \
		--filter-paths node_modules \
		--fail-medium

clean:
	rm -rf artifacts cache $(STAMP)
