# make demo | setup | test | bench | wheelhouse  — see README.md
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
# make demo PORT=8081 DATA=/srv/kiosk-demo
PORT   ?= 8080
HOST   ?= 127.0.0.1
DATA   ?= data/demo
WHEELHOUSE ?= wheelhouse
# Third-party browser files are pinned and hash-checked in tools/vendor_assets.py.
HTMX_JS := kiosk/static/vendor/htmx.min.js
AXE_JS  := tests/browser/vendor/axe.min.js

.PHONY: setup demo test bench soak system-deps clean dist wheelhouse

# The product alone: what `make demo` needs (no test tools, no browser).
$(VENV)/.product: pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e .
	touch $@

# The test tools on top (pytest, Playwright, zxing-cpp, build) for make test / bench.
$(VENV)/.installed: $(VENV)/.product
	$(PIP) install --quiet -e '.[test]'
	touch $@

$(HTMX_JS): tools/vendor_assets.py
	$(PYTHON) tools/vendor_assets.py product

$(AXE_JS): tools/vendor_assets.py
	$(PYTHON) tools/vendor_assets.py test

setup: $(VENV)/.installed $(HTMX_JS) $(AXE_JS)

demo: $(VENV)/.product $(HTMX_JS)
	$(VENV)/bin/kiosk demo --port $(PORT) --host $(HOST) --data-dir $(DATA)

# Release files: the sdist (with deploy/ and docs/) and the wheel built from it, htmx inside.
dist: $(VENV)/.product
	$(PIP) install --quiet build
	rm -rf dist && $(PY) -m build --outdir dist .

# Offline install: the wheel and every dependency's wheel in one folder, plus the sdist
# (for deploy/ and docs/). On the target machine (same Debian and Python):
#   pip install --no-index --find-links wheelhouse kiosk-disclosure
wheelhouse: dist
	rm -rf $(WHEELHOUSE) && mkdir -p $(WHEELHOUSE)
	$(PIP) wheel --quiet --wheel-dir $(WHEELHOUSE) dist/*.whl
	cp dist/*.tar.gz $(WHEELHOUSE)/
	@echo "$(WHEELHOUSE)/: $$(ls $(WHEELHOUSE) | wc -l) files"

# Browser tests need Debian's chromium and CJK fonts; install them when we can.
system-deps:
	@bash tools/system-deps.sh

test: setup system-deps
	$(PY) -m pytest -q

# Benchmarks print a table with ratios (docs/benchmarks.md); pyinstrument and psutil come
# from the `bench` extra. The soak is skipped here: run `make soak`.
$(VENV)/.bench-installed: $(VENV)/.installed
	$(PIP) install --quiet -e '.[test,bench]'
	touch $@

bench: setup $(VENV)/.bench-installed
	$(PY) -m pytest -q -p no:cacheprovider tests/bench -s -o addopts=""

# 20 residents and 4 boards against a terminal-like instance; KIOSK_SOAK_SECONDS=30 for a short run.
# Then the county hub's publish rounds (6; KIOSK_HUB_SOAK_ROUNDS=96 for a day of them).
soak: setup $(VENV)/.bench-installed
	KIOSK_SOAK_SECONDS=$${KIOSK_SOAK_SECONDS:-600} $(PY) -m pytest -q -p no:cacheprovider \
	  tests/bench/test_soak.py tests/bench/test_hub_soak.py -s -o addopts=""

clean:
	rm -rf $(VENV) kiosk/static/vendor tests/browser/vendor tests/artifacts build dist $(WHEELHOUSE)
