# storywire: every target a person or CI needs. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
KAFKA_DIR := .kafka
RUN_DIR := .run
STAMP := $(VENV)/.installed
COMPILED := .compiled/services/cluster/SOURCES.json

.PHONY: help install lock broker-fetch broker-start broker-stop broker-status broker-secure-start \
        broker-secure-stop topics demo run \
        test test-unit test-faults test-integration lint typecheck schemas eval-cleaning eval-clustering \
        bench bench-cluster bench-gateway bench-board bench-story-size clean-state prometheus-install kcat-install \
        browser-install board board-stop up down up-status

help: ## list the targets
	@awk 'BEGIN{FS=":.*## "} /^[a-zA-Z_-]+:.*## /{printf "  \033[1m%-18s\033[0m %s\n",$$1,$$2}' $(MAKEFILE_LIST)

install: $(STAMP) $(COMPILED) ## build .venv with every pinned dependency, the storywire CLI and the compiled cluster core
$(STAMP): requirements.lock requirements-dev.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# Every file checked against the hash in the locks: a swapped package is refused.
	$(BIN)/pip install --quiet --require-hashes -r requirements.lock -r requirements-dev.lock
	$(BIN)/pip install --quiet --no-deps -e .
	@touch $@

lock: ## rewrite both lock files with sha256 hashes for the versions pinned in them (deploy/lock.sh)
	@deploy/lock.sh

# The cluster core compiled by mypyc (services/cluster/compiled.py, whose MODULES these are):
# rebuilt when its sources change; without a C compiler it says so and the core runs interpreted.
COMPILED_SOURCES := $(addprefix services/cluster/,fitted.py config.py vectors.py text.py \
                    features.py story.py roster.py index.py split.py core.py)
$(COMPILED): $(STAMP) $(COMPILED_SOURCES) services/cluster/compiled.py
	$(BIN)/python -m services.cluster.compiled

broker-fetch: ## resolve the Apache Kafka 3.9.2 jars from Maven Central into .kafka/libs
	@deploy/kafka/broker.sh fetch

broker-start: broker-fetch ## start the single-node KRaft broker on 127.0.0.1:9092 (idempotent)
	@deploy/kafka/broker.sh start

broker-stop: ## stop the local broker (idempotent)
	@deploy/kafka/broker.sh stop

broker-status: ## say whether the local broker is up
	@deploy/kafka/broker.sh status

broker-secure-start: broker-fetch ## a second, secured broker: SASL/SCRAM-SHA-512 over TLS with ACLs on 127.0.0.1:9094 (docs/operations.md)
	@deploy/kafka/broker.sh start-secure

broker-secure-stop: ## stop the secured broker (idempotent)
	@deploy/kafka/broker.sh stop-secure

topics: install broker-start ## create storywire's topics on the broker (idempotent)
	$(BIN)/storywire topics create

demo: install broker-start ## the whole pipeline on the seeds + unrelated ECB+ copy; prints the stories and the story board's address
	$(BIN)/storywire demo

board: install broker-start ## serve the live story board on STORYWIRE_BOARD_HOST:STORYWIRE_BOARD_PORT (127.0.0.1:8470) until Ctrl-C
	$(BIN)/storywire board

board-stop: ## stop the story board `make demo` left running (its pid is in .run/board.pid)
	@if [ -x $(BIN)/python ]; then $(BIN)/python -c 'from pathlib import Path; from lab.board import stop_recorded; \
	  pid = stop_recorded(Path("$(RUN_DIR)/board.pid")); print(f"board: stopped {pid}" if pid else "board: none running")'; fi

test: install broker-start prometheus-install kcat-install browser-install ## the whole suite: lint, types, schemas, unit and integration tests on the real broker
	$(MAKE) --no-print-directory lint typecheck
	$(BIN)/storywire schemas check
	$(BIN)/pytest tests/unit tests/lab -q; rc=$$?; if [ $$rc -eq 5 ]; then echo "no unit tests ran: failing" >&2; exit 1; fi; exit $$rc
	$(BIN)/pytest tests/integration -q -m integration; rc=$$?; if [ $$rc -eq 5 ]; then echo "no integration tests ran: failing" >&2; exit 1; fi; exit $$rc

test-faults: install broker-start ## the fault suite only: hostile input, killed workers, a second worker, a restarted private broker; figures in .run/faults-report.json
	$(BIN)/pytest tests/integration/faults -q -m faults; rc=$$?; if [ $$rc -eq 5 ]; then echo "no fault tests ran: failing" >&2; exit 1; fi; exit $$rc

test-unit: install ## unit tests of services/ and lab/ only (no broker)
	$(BIN)/pytest tests/unit tests/lab -q

lint: install ## ruff
	$(BIN)/ruff check .

typecheck: install ## mypy over services/, schemas/, lab/ and tests/
	$(BIN)/mypy services schemas lab tests

schemas: install ## regenerate the checked-in JSON Schema files from the pydantic models
	$(BIN)/storywire schemas write

SHARED ?= ../shared

eval-cleaning: install ## cleaning P/R/F1 on the extraction benchmark, plain-text and HTML input
	$(BIN)/storywire eval cleaning $(SHARED)/data/extraction --input text --out .run/predictions-cleaning-text.json
	$(BIN)/storywire eval cleaning $(SHARED)/data/extraction --input html --out .run/predictions-cleaning-html.json

eval-clustering: install ## story clustering B-cubed/pairwise P/R/F1 on ECB+ dev, three orders
	for seed in 1 2 3; do $(BIN)/storywire eval clustering $(SHARED)/data/ecbplus/articles.dev.jsonl \
	  --seed $$seed --extra $(SHARED)/seeds --out .run/predictions-clustering-$$seed.json || exit 1; done

bench: install broker-fetch ## pipeline throughput, latency, RSS and broker cost on a broker of its own (docs/benchmarks.md)
	$(BIN)/storywire bench pipeline --write-docs

bench-gateway: install broker-start ## HTTP gateway load test on loopback: records/s, p50/p99, errors
	$(BIN)/storywire bench gateway --shared $(SHARED) --records 20000 --batch 50 --concurrency 8 --max-seconds 60
	$(BIN)/storywire bench gateway --shared $(SHARED) --records 2000 --batch 1 --concurrency 8 --max-seconds 60

bench-story-size: install broker-start ## one story grown to 20,000 articles through the cluster worker
	$(BIN)/storywire bench story-size --shared $(SHARED)

bench-cluster: install ## cluster core cost at 1k, 10k and 100k live stories
	$(BIN)/storywire bench cluster --shared $(SHARED)

bench-board: install broker-start ## the story board's GET /api/stories latency with 1,000 live stories, on loopback
	$(BIN)/storywire bench board

prometheus-install: ## install Debian's prometheus (server + promtool) if missing; apt, as root or via sudo
	@if command -v prometheus >/dev/null && command -v promtool >/dev/null; then exit 0; fi; \
	  if [ "$$(id -u)" -eq 0 ]; then sudo=; else sudo=sudo; fi; \
	  echo "installing Debian's prometheus package (apt-get)"; \
	  $$sudo apt-get update -qq && \
	  $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus

kcat-install: ## install Debian's kcat (a librdkafka producer: the tests check copy from other partitioners) if missing
	@if command -v kcat >/dev/null; then exit 0; fi; \
	  if [ "$$(id -u)" -eq 0 ]; then sudo=; else sudo=sudo; fi; \
	  echo "installing Debian's kcat package (apt-get)"; \
	  $$sudo apt-get update -qq && \
	  $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends kcat

browser-install: ## install Debian's chromium and chromium-driver if missing (the board's browser tests); apt, as root or via sudo
	@if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then exit 0; fi; \
	  if [ "$$(id -u)" -eq 0 ]; then sudo=; else sudo=sudo; fi; \
	  echo "installing Debian's chromium and chromium-driver packages (apt-get)"; \
	  $$sudo apt-get update -qq && \
	  $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	    chromium chromium-driver

up: topics prometheus-install ## broker, the three workers (/metrics on 9401-9403) and Prometheus on 127.0.0.1:9090
	@deploy/local/up.sh start

down: ## stop what `make up` started: Prometheus, the workers, then the broker
	@deploy/local/up.sh stop
	@deploy/kafka/broker.sh stop

up-status: ## say whether the workers and Prometheus of `make up` run
	@deploy/local/up.sh status
