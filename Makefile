# Strata — every developer and CI command. `make` alone lists the targets.
#
# Each target installs what it needs, idempotently: a fresh machine needs only `make run` or
# `make test`. Builds go to a target dir outside the clone so CI and clean clones reuse them.

SHELL := /bin/bash
.DEFAULT_GOAL := help

export CARGO_TARGET_DIR ?= $(HOME)/.cache/strata/target
VENV ?= $(HOME)/.cache/strata/venv
PYTHON := $(VENV)/bin/python
# The JS ClickHouse client the conformance script runs with (npm, into a private folder).
NODE_DIR ?= $(HOME)/.cache/strata/node
# One build serves every target: run, test, conformance, bench, clippy and doc all use the
# release profile and the same RUSTFLAGS, so the data stack (Arrow, DataFusion, delta-rs, Lance)
# is compiled once and every later target reuses it. A second profile or other flags would
# compile the whole stack again (close to an hour on 2 cores).
CARGO_FLAGS ?= --locked --release
# x86-64-v3 (AVX2, FMA: every x86 server CPU since 2013): Lance's vector kernels and Arrow's
# compute kernels select their SIMD code at compile time and fall back to slow paths without it.
# `make run RELEASE_RUSTFLAGS=` builds for any x86-64 (then use it for every target alike).
RELEASE_RUSTFLAGS ?= -C target-cpu=x86-64-v3
export RUSTFLAGS := $(RELEASE_RUSTFLAGS)
export RUSTDOCFLAGS := -D warnings
BIN := $(CARGO_TARGET_DIR)/release/strata
RELEASE := cargo build $(CARGO_FLAGS) --bin strata
PORT ?= 8123
DATA_DIR ?= ./data
STRATA_ARGS ?=
SHARED ?=

##@ Running

.PHONY: run
run: deps-build ## Build in release mode and serve on 127.0.0.1:$(PORT), data kept in $(DATA_DIR)
	$(RELEASE)
	$(BIN) --port $(PORT) --hdb-dir $(DATA_DIR) $(STRATA_ARGS)

.PHONY: build
build: deps-build ## Build the release binary
	$(RELEASE)

##@ Checking

.PHONY: test
test: deps-build deps-python fmt-check clippy doc s3-up ## Everything CI runs: fmt, clippy, API docs, unit + integration tests (local and LocalStack S3), fuzz, conformance
	STRATA_TEST_PYTHON=$(PYTHON) STRATA_TEST_S3_ENDPOINT=http://127.0.0.1:4566 \
		cargo test $(CARGO_FLAGS) --workspace
	$(MAKE) --no-print-directory conformance

.PHONY: conformance
conformance: deps-python deps-node ## Run shared/conformance/zepto_api.py against fresh servers: SQL (pure, tiered, flushing at once), Agent Memory (in memory, persisted); then zepto_auth.py
	$(RELEASE)
	PYTHON=$(PYTHON) SHARED=$(SHARED) tests/conformance/run.sh $(BIN)
	PYTHON=$(PYTHON) SHARED=$(SHARED) tests/conformance/run.sh $(BIN) --tiered
	@echo "conformance again, every row flushed to the HDB within milliseconds of its INSERT:"
	PYTHON=$(PYTHON) SHARED=$(SHARED) tests/conformance/run.sh $(BIN) --tiered \
		--flush-rows 1 --flush-interval-ms 5
	@echo "Agent Memory, in memory and then persisted (Lance + WAL, a commit after every change):"
	ONLY=memory PYTHON=$(PYTHON) SHARED=$(SHARED) tests/conformance/run.sh $(BIN)
	ONLY=memory PYTHON=$(PYTHON) SHARED=$(SHARED) tests/conformance/run.sh $(BIN) --tiered \
		--agent-memory-flush-every 1 --agent-memory-ann on
	@echo "security: keys, JWT, roles, scope, tenants, rate limits, audit, query kill, TLS (its own servers):"
	ONLY=auth PYTHON=$(PYTHON) SHARED=$(SHARED) tests/conformance/run.sh $(BIN)
	@echo "ClickHouse HTTP protocol (raw HTTP, clickhouse-connect, @clickhouse/client), unmarked requests answered as ClickHouse:"
	ONLY=clickhouse NODE_DIR=$(NODE_DIR) PYTHON=$(PYTHON) SHARED=$(SHARED) tests/conformance/run.sh $(BIN) --default-protocol clickhouse

.PHONY: fmt
fmt: ## Format the code
	cargo fmt --all

.PHONY: fmt-check
fmt-check: ## Fail if the code is not formatted
	cargo fmt --all -- --check

.PHONY: clippy
clippy: deps-build ## Lints, warnings as errors
	cargo clippy $(CARGO_FLAGS) --workspace --all-targets -- -D warnings

.PHONY: doc
doc: deps-build ## API docs, warnings as errors
	cargo doc $(CARGO_FLAGS) --workspace --no-deps --document-private-items

##@ Benchmarks

.PHONY: bench
bench: deps-build deps-bench ## Strata vs DuckDB on a 10M-row tick table, every query class vs DuckDB and ClickHouse (memory and HDB) at 1M, 10M and 100M rows, then Agent Memory vs NumPy, the cost of authentication, Grafana's panel query vs DuckDB, clickhouse-connect's receive rate, and kdb+ joins vs DuckDB and ClickHouse; figures to stdout
	$(RELEASE)
	$(PYTHON) tests/bench/bench.py --strata $(BIN) $(BENCH_ARGS)
	$(PYTHON) tests/bench/growth.py --strata $(BIN) $(GROWTH_BENCH_ARGS)
	$(PYTHON) tests/bench/agent_memory.py --strata $(BIN) $(MEMORY_BENCH_ARGS)
	$(PYTHON) tests/bench/auth.py --strata $(BIN)
	$(PYTHON) tests/bench/clickhouse.py --strata $(BIN) $(CLICKHOUSE_BENCH_ARGS)
	$(PYTHON) tests/bench/joins.py --strata $(BIN) $(JOINS_BENCH_ARGS)
	$(PYTHON) tests/bench/small.py --strata $(BIN) $(SMALL_BENCH_ARGS)

.PHONY: bench-classes
bench-classes: deps-build deps-bench ## Every query class on 10M ticks: Strata (memory, HDB) vs DuckDB (memory, its own Delta, Strata's Delta) and ClickHouse (chdb MergeTree)
	$(RELEASE)
	$(PYTHON) tests/bench/classes.py --strata $(BIN) $(CLASSES_BENCH_ARGS)

.PHONY: bench-growth
bench-growth: deps-build deps-bench ## How every query class's time and each engine's bytes per row grow from 1M to 10M to 100M ticks (about 16 GiB and half an hour at 100M)
	$(RELEASE)
	$(PYTHON) tests/bench/growth.py --strata $(BIN) $(GROWTH_BENCH_ARGS)

.PHONY: bench-small
bench-small: deps-build deps-bench ## Small requests: 16 clients' single-row INSERTs (WAL synced), 1000-row INSERTs, SELECT 1 vs /ping
	$(RELEASE)
	$(PYTHON) tests/bench/small.py --strata $(BIN) $(SMALL_BENCH_ARGS)

.PHONY: bench-joins
bench-joins: deps-build deps-bench ## kdb+ joins (ASOF, WINDOW) of 10M trades with 10M quotes vs DuckDB and ClickHouse (chdb)
	$(RELEASE)
	$(PYTHON) tests/bench/joins.py --strata $(BIN) $(JOINS_BENCH_ARGS)

.PHONY: bench-memory
bench-memory: deps-build deps-bench ## Agent Memory search vs NumPy (100k and 1M memories of dimension 384), ANN recall
	$(RELEASE)
	$(PYTHON) tests/bench/agent_memory.py --strata $(BIN) $(MEMORY_BENCH_ARGS)

##@ Object storage

.PHONY: s3-up
s3-up: ## Start LocalStack's S3 on 127.0.0.1:4566 (no Docker; installs it on first use)
	localstack/start.sh

.PHONY: s3-down
s3-down: ## Stop the LocalStack started by s3-up
	localstack/stop.sh

##@ Setup (called by the targets above)

.PHONY: deps-build
deps-build: ## Install build tools: protoc (Lance needs it), a C compiler, openssl (test certificates)
	@command -v protoc >/dev/null || { echo "installing protobuf-compiler"; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq protobuf-compiler >/dev/null; }
	@command -v cc >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq build-essential >/dev/null; }
	@# The TLS tests and the security conformance script make their certificates with openssl.
	@command -v openssl >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq openssl >/dev/null; }

$(PYTHON):
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install -q --upgrade pip

.PHONY: deps-python
deps-python: $(PYTHON) ## Python packages the tests use (pyarrow; deltalake and DuckDB read the HDB)
	@$(PYTHON) -c "import pyarrow, deltalake, duckdb, duckdb_extension_delta, duckdb_extension_httpfs, pytz, lance, clickhouse_connect, lz4, pandas, clickhouse_cityhash, zstandard" 2>/dev/null \
		|| $(PYTHON) -m pip install -q -r tests/requirements.txt

.PHONY: deps-node
deps-node: ## Node.js and @clickhouse/client (the ClickHouse conformance script's JS client)
	@command -v node >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq nodejs npm >/dev/null; }
	@test -d $(NODE_DIR)/node_modules/@clickhouse/client || \
		{ mkdir -p $(NODE_DIR) && npm install --no-audit --no-fund --silent --prefix $(NODE_DIR) @clickhouse/client@1.23.1; }

.PHONY: deps-bench
deps-bench: deps-python ## Python packages the benchmark uses (DuckDB, ClickHouse's chdb, NumPy) and wrk (HTTP load)
	@command -v wrk >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq wrk >/dev/null; }
	@$(PYTHON) -c "import duckdb, numpy, duckdb_extension_delta, lance, chdb" 2>/dev/null || $(PYTHON) -m pip install -q -r tests/bench/requirements.txt

##@ Help

.PHONY: help
help: ## This list
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make <target>\n"} \
		/^[a-zA-Z_-]+:.*?##/ { printf "  %-14s %s\n", $$1, $$2 } \
		/^##@/ { printf "\n%s\n", substr($$0, 5) }' $(MAKEFILE_LIST)

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
