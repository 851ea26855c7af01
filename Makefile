# make setup | demo | test | bench  — see README.md
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
HTMX_VERSION   := 2.0.8
HTMX_INTEGRITY := sha512-fm297iru0iWsNJlBrjvtN7V9zjaxd+69Oqjh4F/Vq9Wwi2kFisLcrLCiv5oBX0KLfOX/zG8AUo9ROMU5XUB44Q==
HTMX_JS := kiosk/static/vendor/htmx.min.js

.PHONY: setup demo test bench soak system-deps clean

setup: $(VENV)/.installed $(HTMX_JS)

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e '.[test]'
	touch $@

# htmx comes from the npm registry, pinned and checked against its integrity hash.
$(HTMX_JS):
	@command -v npm >/dev/null || { echo "npm is needed to fetch htmx (apt-get install npm)"; exit 1; }
	@tmp=$$(mktemp -d) && \
	  (cd $$tmp && npm pack --silent htmx.org@$(HTMX_VERSION) >/dev/null) && \
	  got="sha512-$$(openssl dgst -sha512 -binary $$tmp/htmx.org-$(HTMX_VERSION).tgz | openssl base64 -A)" && \
	  if [ "$$got" != "$(HTMX_INTEGRITY)" ]; then echo "htmx integrity mismatch: $$got"; rm -rf $$tmp; exit 1; fi && \
	  tar -xzf $$tmp/htmx.org-$(HTMX_VERSION).tgz -C $$tmp && \
	  mkdir -p $(dir $(HTMX_JS)) && cp $$tmp/package/dist/htmx.min.js $(HTMX_JS).tmp && \
	  mv $(HTMX_JS).tmp $(HTMX_JS) && rm -rf $$tmp && echo "htmx $(HTMX_VERSION) fetched and verified"

demo: setup
	$(VENV)/bin/kiosk demo

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
soak: setup $(VENV)/.bench-installed
	KIOSK_SOAK_SECONDS=$${KIOSK_SOAK_SECONDS:-600} $(PY) -m pytest -q -p no:cacheprovider \
	  tests/bench/test_soak.py -s -o addopts=""

clean:
	rm -rf $(VENV) kiosk/static/vendor tests/artifacts

# axe-core (accessibility checks in the browser tests) from the npm registry, pinned and
# checked against its integrity hash, kept out of git.
AXE_VERSION   := 4.10.3
AXE_INTEGRITY := sha512-Xm7bpRXnDSX2YE2YFfBk2FnF0ep6tmG7xPh8iHee8MIcrgq762Nkce856dYtJYLkuIoYZvGfTs/PbZhideTcEg==
AXE_JS := tests/browser/vendor/axe.min.js

setup: $(AXE_JS)

$(AXE_JS):
	@command -v npm >/dev/null || { echo "npm is needed to fetch axe-core (apt-get install npm)"; exit 1; }
	@tmp=$$(mktemp -d) && \
	  (cd $$tmp && npm pack --silent axe-core@$(AXE_VERSION) >/dev/null) && \
	  got="sha512-$$(openssl dgst -sha512 -binary $$tmp/axe-core-$(AXE_VERSION).tgz | openssl base64 -A)" && \
	  if [ "$$got" != "$(AXE_INTEGRITY)" ]; then echo "axe-core integrity mismatch: $$got"; rm -rf $$tmp; exit 1; fi && \
	  tar -xzf $$tmp/axe-core-$(AXE_VERSION).tgz -C $$tmp && \
	  mkdir -p $(dir $(AXE_JS)) && cp $$tmp/package/axe.min.js $(AXE_JS).tmp && \
	  mv $(AXE_JS).tmp $(AXE_JS) && rm -rf $$tmp && echo "axe-core $(AXE_VERSION) fetched and verified"
