# The single entry point: `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
LAKEHOUSE ?= ./lakehouse
DOMAIN ?= ./domain
SCALE ?= 0.05
INSTALLED := $(VENV)/.installed
# actionlint checks .github/workflows in the tests; built from source once (needs Go).
ACTIONLINT_VERSION := v1.7.7
ACTIONLINT_STAMP := .tools/actionlint-$(ACTIONLINT_VERSION)

.DEFAULT_GOAL := help
.PHONY: help install run generate check test test-fast lint format typecheck pytest bench clean tools databases

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(INSTALLED): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "needs $(PYTHON) and Java 17"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip
	$(BIN)/pip install -e '.[spark,infra,dev]'
	touch $@

install: $(INSTALLED) ## Create .venv with the package, Spark, Pulumi and the dev tools

run: $(INSTALLED) ## Generate demo data (SCALE=0.05) and run every layer on LAKEHOUSE
	$(BIN)/medallion generate --lakehouse $(LAKEHOUSE) --scale $(SCALE) --domain $(DOMAIN)
	$(BIN)/medallion run --lakehouse $(LAKEHOUSE) --domain $(DOMAIN)

generate: $(INSTALLED) ## Only write the demo landing files (SCALE, LAKEHOUSE)
	$(BIN)/medallion generate --lakehouse $(LAKEHOUSE) --scale $(SCALE) --domain $(DOMAIN)

check: $(INSTALLED) ## Validate the declarations in DOMAIN (./domain) without Spark
	$(BIN)/medallion check --domain $(DOMAIN)

test: lint typecheck check pytest ## Lint, type-check, check the domain, run the whole test suite

test-fast: $(INSTALLED) tools ## Only the tests that need no Spark, moto or database server (the inner loop)
	$(BIN)/pytest -m "not spark and not s3 and not database"

lint: $(INSTALLED) ## ruff check and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(INSTALLED) ## Apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: $(INSTALLED) ## mypy over medallion/ and infra/
	$(BIN)/mypy

# Two workers, one Spark each: on two cores Spark's driver-side latency leaves room for both.
TEST_WORKERS ?= 2
pytest: $(INSTALLED) tools databases ## Only the tests (TEST_WORKERS=2 processes)
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadgroup

# The infer tests start their own PostgreSQL and MariaDB servers (tests/databases.py) from
# Debian's binaries; install them when absent (as root, or through sudo on a hosted runner).
APT := $(if $(filter 0,$(shell id -u)),,sudo) env DEBIAN_FRONTEND=noninteractive apt-get
databases: ## Install the PostgreSQL and MariaDB server binaries the tests start, if absent
	@{ command -v mariadbd >/dev/null || test -x /usr/sbin/mariadbd; } && \
	{ ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null; } || \
	{ $(APT) update && $(APT) install -y mariadb-server postgresql; }

tools: $(ACTIONLINT_STAMP) ## Build the pinned actionlint into .tools/bin (needs Go)

$(ACTIONLINT_STAMP):
	@command -v go >/dev/null || { echo "needs Go >= 1.22 to build actionlint"; exit 1; }
	GOBIN=$(CURDIR)/.tools/bin go install github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT_VERSION)
	touch $@

bench: $(INSTALLED) ## Benchmarks at SCALE (prints figures; see benchmarks/)
	$(BIN)/python benchmarks/bronze.py --scale $(SCALE)

clean: ## Remove the local lakehouse and caches (keeps .venv)
	rm -rf $(LAKEHOUSE) .pytest_cache .mypy_cache .ruff_cache build dist *.egg-info
