# Tongting: every target installs what it needs into .venv first.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAGE ?= dev
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION = 20

.PHONY: run test browser bench synth deploy schemas clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade "pip<26.3"

$(VENV)/.installed: pyproject.toml $(BIN)/python
	$(BIN)/pip install -q -e ".[local,test]"
	touch $@

$(VENV)/.installed-cdk: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install -q -e ".[local,test,cdk]"
	touch $@

run: $(VENV)/.installed
	$(BIN)/python -m infra.local.run $(if $(CLEAN),--clean)

# The browser tests (tests/web) need Debian's chromium and chromium-driver (and CJK fonts for the
# screenshots): installed here when missing and we are root; otherwise those tests skip, saying why.
browser:
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver fonts-noto-cjk >/dev/null; \
	  else echo "chromium/chromedriver missing and not root: the browser tests (tests/web) will skip"; fi; \
	fi

# PYTHONDONTWRITEBYTECODE emptied for the run: where a machine sets it (this one does), every pytest worker and
# every stack or CLI subprocess would compile the project and rewrite the test modules from source again.
test: $(VENV)/.installed-cdk browser
	PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest -q -n 2 --dist loadfile tests

bench: $(VENV)/.installed
	$(BIN)/python -m bench.run_all

schemas: $(VENV)/.installed
	$(BIN)/python -m tools.gen_schemas

synth: $(VENV)/.installed-cdk
	$(BIN)/python -m infra.cdk.synth --stage $(STAGE)

deploy: $(VENV)/.installed-cdk
	$(BIN)/python -m infra.cdk.deploy --stage $(STAGE)

clean:
	rm -rf $(VENV) cdk.out .pytest_cache
