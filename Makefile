# Two commands for a fresh machine:
#   make report   set up .venv, run the default pipeline to its report
#   make test     set up .venv, lint, run the tests
# Both are idempotent: set-up steps are skipped when their stamp is newer than their inputs.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CORES ?= all
SNAKEMAKE := $(BIN)/snakemake
APT_PACKAGES := $(shell grep -v '^\#' deps/apt-packages.txt)

.PHONY: setup report test lint stability compare clean-results clean-cache retry-failed

setup: $(VENV)/.deps-installed $(VENV)/.apt-installed

# Debian packages: only the missing ones, only when run as root (else say what to install).
$(VENV)/.apt-installed: deps/apt-packages.txt | $(VENV)/bin/python
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing) || exit 1; \
	  else echo "Missing Debian packages: $$missing -- install them (sudo apt-get install $$missing) and rerun."; exit 1; fi; \
	fi
	@touch $@

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

# requirements.txt pins what we ask for; requirements.lock pins everything pip resolved.
$(VENV)/.deps-installed: deps/requirements.txt deps/requirements.lock | $(VENV)/bin/python
	$(BIN)/pip install --quiet --disable-pip-version-check -r deps/requirements.txt -c deps/requirements.lock
	@touch $@

report: setup
	$(SNAKEMAKE) --cores $(CORES)

CXX_SOURCES := $(wildcard csrc/*/*.cpp csrc/*/*.h)

lint: setup
	$(SNAKEMAKE) --lint
	$(BIN)/snakefmt --check Snakefile workflow/rules
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	clang-format --dry-run --Werror $(CXX_SOURCES)

test: setup lint
	$(BIN)/pytest

# Do the verdicts survive a second run? Claims 2-3 measured twice back to back, compared.
stability: setup
	PYTHONPATH=workflow/scripts $(BIN)/python -m libtorch_bench.stability --cores $(CORES) --out results/stability

# Does this run reproduce an archived report? BASELINE=<report folder> [CANDIDATE=<folder>] [STRICT=1]:
# results/report (or CANDIDATE) against it, verdict by verdict, into results/compare/.
compare: setup
	PYTHONPATH=workflow/scripts $(BIN)/python -m libtorch_bench.compare "$(BASELINE)" \
	  $(if $(CANDIDATE),--candidate "$(CANDIDATE)") $(if $(filter 1,$(STRICT)),--strict)

# Redo what a run recorded as failed (a version that could not be provisioned or built).
retry-failed: setup
	$(SNAKEMAKE) --cores $(CORES) --forcerun $$(cat results/failed_targets.txt)

clean-results:
	rm -rf results .snakemake

# Reclaim the libtorch cache: keep only the releases CONFIG names (default: the default run's).
CONFIG ?= config/config.yaml
clean-cache: setup
	PYTHONPATH=workflow/scripts $(BIN)/python -m libtorch_bench.cache $(foreach c,$(CONFIG),--config $(c))
