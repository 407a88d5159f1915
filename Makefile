# urna: the two commands are `make demo` and `make test`; see README.md.
SHELL := /bin/bash
.DEFAULT_GOAL := help

BUILD_DIR ?= build
ASAN_BUILD_DIR ?= build-asan
JOBS ?= 2
URNA := $(BUILD_DIR)/bin/urna
PYTHON := /usr/bin/python3

.PHONY: help install build build-c build-asan web demo down status reset test test-unit \
	test-web test-deploy test-e2e test-fuzz test-sanitized test-valgrind test-load fuzz bench locust clean

help:
	@echo "make demo   install, build, start the local stack and send data/votes.json"
	@echo "make test   install, build and run every test (unit, sanitizers, end to end)"
	@echo "make down   stop the local stack"

install:
	@scripts/install-deps.sh
	@scripts/install-tools.sh

build: build-c web

build-c:
	@cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD_DIR) -j$(JOBS)

# The web app, served by the local ingress from web/dist.
web: web/node_modules/.package-lock.json
	@npm --prefix web run --silent build >/dev/null

web/node_modules/.package-lock.json: web/package-lock.json
	@npm --prefix web ci --no-audit --no-fund --loglevel=error

build-asan:
	@cmake -S . -B $(ASAN_BUILD_DIR) -DCMAKE_BUILD_TYPE=Debug -DURNA_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN_BUILD_DIR) -j$(JOBS)

# Starts the stack (or reuses it), empties the counters for a new round, sends
# the contest's 10,000 votes half through each route and reconciles.
demo: install build
	@scripts/stack.sh up
	@scripts/stack.sh reset
	@echo "demo: sending data/votes.json, half through /grpc/ and half through /rest/"
	@$(URNA) send data/votes.json --route both --concurrency 32 --reconcile > .run/demo-send.txt; \
	  status=$$?; \
	  $(URNA) results; echo; $(URNA) audit; echo; cat .run/demo-send.txt; \
	  echo; echo "The stack stays up: ingress http://127.0.0.1:8088 (votes at /grpc/vote, /rest/vote, /rust/vote),"; \
	  echo "results page http://127.0.0.1:8088/, logs in .run/logs/. 'make down' stops it."; \
	  exit $$status

down:
	@scripts/stack.sh down

status:
	@scripts/stack.sh status

reset:
	@scripts/stack.sh reset

test: install build build-asan
	@$(MAKE) --no-print-directory test-unit test-fuzz test-web test-deploy test-sanitized \
	  test-valgrind test-e2e test-load

test-unit:
	@echo "== unit tests (RelWithDebInfo)"
	@cd $(BUILD_DIR) && ctest --output-on-failure
	@echo "== unit tests (AddressSanitizer + UBSan)"
	@cd $(ASAN_BUILD_DIR) && ctest --output-on-failure
	@echo "== unit tests under valgrind (memcheck)"
	@for t in $(BUILD_DIR)/bin/test_*; do \
	  valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect \
	    --suppressions=tests/valgrind/urna.supp $$t >/dev/null || { echo "valgrind: $$t failed"; exit 1; }; \
	done; echo "valgrind: every unit test clean"

# A bounded fuzzing smoke (20 s per target); `make fuzz` runs 10 minutes each.
test-fuzz:
	@echo "== fuzzing smoke (libFuzzer, ASan + UBSan)"
	@tests/fuzz/run.sh 20

fuzz:
	@tests/fuzz/run.sh 600

# The services built with ASan + UBSan as a whole stack; any report fails.
test-sanitized:
	@echo "== services under AddressSanitizer + UBSan + LeakSanitizer"
	@tests/sanitized/run.sh 2000

# The services under valgrind as a whole stack; any error or definite leak fails.
test-valgrind:
	@echo "== services under valgrind (memcheck)"
	@tests/valgrind/run.sh 200

test-web:
	@echo "== web app unit tests (vitest)"
	@npm --prefix web test --silent

test-deploy:
	@echo "== deployment files, validated offline"
	@bash tests/deploy/run.sh

test-e2e:
	@echo "== end-to-end tests on a test stack (ports +1000, .run-test/)"
	@rm -f build/fault-table.txt
	@$(PYTHON) -m pytest -q tests/e2e; status=$$?; \
	  if [ -f build/fault-table.txt ]; then echo "== fault injection"; cat build/fault-table.txt; fi; \
	  exit $$status

# Bounded smokes of the benchmark and of Locust: they check that every
# acknowledged vote was counted and that the outputs exist, never a timing.
test-load:
	@echo "== benchmark and Locust smokes"
	@load/setup.sh
	@bench/run.sh --smoke
	@load/smoke.sh

# The full benchmark: both routes, saturation and fixed rates (about 8 minutes).
bench: build
	@load/setup.sh
	@bench/run.sh

# Locust's web UI on http://127.0.0.1:8089 against the demo stack.
locust:
	@load/setup.sh
	@load/run-locust-ui.sh

clean:
	rm -rf $(BUILD_DIR) $(ASAN_BUILD_DIR)
