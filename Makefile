# recycle - a thin driver over CMake and CTest (GNU make).
#
#   make demo         install the Debian packages needed, build, run the heap demo
#                     and the objects/collector tour
#   make test         install packages, then the whole test matrix (below)
#   make test-quick   normal build + ctest, nothing else
#   make build        configure and build in build/ (RelWithDebInfo)
#   make bench        bench-heap, bench-objects and bench-gc: bench/heap/run.sh,
#                     bench/objects/run.sh, bench/gc/run.sh (each installs what it
#                     compares against) -> docs/BENCHMARKS.md, BENCHMARKS-objects.md,
#                     BENCHMARKS-gc.md (bench/README.md)
#   make install      install build/ into PREFIX (default /usr/local)
#   make check        tools/check_layers.sh and tools/check_exports.sh
#   make clean        remove build/ and build-*/
#   make deps         only install the missing Debian packages, and tests/browser's
#                     npm packages (npm ci) when they are missing
#
# The test matrix, each step in its own build directory; the first failure
# stops it:
#   test-normal    build-test/   gcc, RC_WERROR=ON, ctest (every label)
#   test-asan      build-asan/   gcc, RC_SANITIZE=address,undefined, ctest
#   test-valgrind  build-test/   the tests labelled "unit" (not "novalgrind")
#                                under valgrind memcheck
#   test-tsan      build-tsan/   clang, RC_SANITIZE=thread, ctest -L threads
#                                (the tests that start threads)
#   test-clang     build-clang/  clang, RC_WERROR=ON, compile only
#   test-fuzz      build-fuzz/   clang, libFuzzer + ASan + UBSan: each target of
#                                tests/fuzz/ for FUZZ_TIME (30) seconds on a copy
#                                of its seed corpus (docs/fuzzing.md)
#
# Variables: JOBS (2), PREFIX (/usr/local), CC_CLANG (clang), BUILD_TYPE,
# FUZZ_TIME (seconds per fuzz target).
#
# The ctest labels (unit, oom, stress, misuse, threads, novalgrind, fuzz,
# example) and RC_TEST_FILTER, which runs only the test cases whose names
# match: tests/README.md.

SHELL       := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := build

JOBS       ?= 2
PREFIX     ?= /usr/local
BUILD_TYPE ?= RelWithDebInfo
CMAKE      ?= cmake
CTEST      ?= ctest
CC_CLANG   ?= clang
CTEST_ARGS ?= --output-on-failure -j$(JOBS) --timeout 600
# The build tool must not inherit this make's flags (it would print
# "Entering directory" for every step and could join a foreign jobserver).
BUILD      := env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL $(CMAKE) --build

# libclang-rt-14-dev: libFuzzer and the sanitizer run-times of clang 14 (only
# recommended by clang, so not installed with --no-install-recommends).
# libdw-dev: elfutils' libdw/libdwfl, which the symbolizer links.
DEPS := build-essential cmake pkg-config libcmocka-dev valgrind clang libclang-rt-14-dev
DEPS += libdw-dev libzstd-dev
# the profiler's tests: JSON checked with python3, counts compared with heaptrack
DEPS += python3 heaptrack
# the exports: SQLite (and its shell, for the tests), protobuf-c for pprof's
# profile.proto, Go's `go tool pprof` reading it back; Chromium
# for the browser test of the HTML pages (with the machine's Node.js and npm)
DEPS += libsqlite3-dev sqlite3 libprotobuf-c-dev protobuf-c-compiler golang-go zlib1g-dev
DEPS += chromium
# objgraph's SVG (rc_objgraph_write_svg runs Graphviz's dot)
DEPS += graphviz

# cmake arguments of each build directory. (Kept in variables: a comma in
# a $(call) argument would split it.)
NORMAL_ARGS := -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRC_WERROR=ON
# Sanitizer builds: optimised a little (-O1) but with assertions on.
SAN_BUILD   := -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS_DEBUG="-O1 -g"
ASAN_ARGS   := $(SAN_BUILD) -DRC_SANITIZE=address,undefined
TSAN_ARGS   := $(SAN_BUILD) -DCMAKE_C_COMPILER=$(CC_CLANG) -DRC_SANITIZE=thread -DRC_BUILD_EXAMPLES=OFF
CLANG_ARGS  := -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=$(CC_CLANG) -DRC_WERROR=ON
FUZZ_ARGS   := $(SAN_BUILD) -DCMAKE_C_COMPILER=$(CC_CLANG) -DRC_SANITIZE=address,undefined \
               -DRC_FUZZ=ON -DRC_BUILD_EXAMPLES=OFF -DRC_BUILD_SHARED=OFF
FUZZ_TARGETS := utf8 dict_set gc_graph heap snapshot_load trace_table capture_read lru
FUZZ_TIME    ?= 30
FUZZ_RSS_MB  ?= 2048

export ASAN_OPTIONS  ?= detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS ?= print_stacktrace=1:halt_on_error=1
export TSAN_OPTIONS  ?= halt_on_error=1:second_deadlock_stack=1

# configure <dir> <cmake args...>: (re)configure a build directory.
define configure
	@echo '==> configure $(1): $(strip $(2))'
	@$(CMAKE) -S . -B $(1) $(2)
endef

# The steps share the 2 cores through their own -j; never run them side by side.
.NOTPARALLEL:

.PHONY: bench-heap bench-objects bench-gc bench-trace
.PHONY: all deps build demo test test-quick test-normal test-asan test-valgrind \
        test-tsan test-clang test-fuzz bench install check clean distclean

all: build

# --- Debian packages --------------------------------------------------------
deps:
	@( \
	if ! command -v dpkg >/dev/null 2>&1; then \
	    echo "deps: not a Debian system; install by hand: $(DEPS)"; exit 0; \
	fi; \
	missing=""; \
	for p in $(DEPS); do \
	    dpkg -s "$$p" 2>/dev/null | grep -q '^Status: install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then echo "deps: all present ($(DEPS))"; exit 0; fi; \
	sudo=""; \
	if [ "$$(id -u)" -ne 0 ]; then \
	    if command -v sudo >/dev/null 2>&1; then sudo="sudo"; \
	    else echo "deps: missing$$missing; run make deps as root"; exit 1; fi; \
	fi; \
	echo "deps: installing$$missing"; \
	export DEBIAN_FRONTEND=noninteractive; \
	$$sudo apt-get update -qq; \
	log=$$(mktemp); \
	$$sudo apt-get install -y -qq --no-install-recommends -o Dpkg::Use-Pty=0 $$missing > "$$log" 2>&1 \
	    || { cat "$$log"; rm -f "$$log"; exit 1; }; \
	rm -f "$$log"; \
	echo "deps: done"; \
	); \
	if [ ! -d tests/browser/node_modules/playwright-core ]; then \
	    if command -v npm >/dev/null 2>&1; then \
	        echo "deps: npm ci in tests/browser (playwright-core, for the browser test)"; \
	        log=$$(mktemp); \
	        npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error > "$$log" 2>&1 \
	            || { cat "$$log"; rm -f "$$log"; exit 1; }; \
	        rm -f "$$log"; \
	    else \
	        echo "deps: npm is missing: no tests/browser/node_modules (the browser test is skipped)"; \
	    fi; \
	fi

# --- everyday targets ---------------------------------------------------------
build:
	$(CMAKE) -S . -B build -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)
	$(BUILD) build -j$(JOBS)

demo: deps
	@$(MAKE) --no-print-directory build
	./build/examples/heap_demo
	./build/examples/objects_tour
	@echo "==> recycle run: profiling an unmodified program (examples/leaky_service.c)"
	./build/bin/recycle run -o build/leaky_service.rcap -- ./build/examples/leaky_service
	@echo "==> recycle report build/leaky_service.rcap --leaks"
	./build/bin/recycle report build/leaky_service.rcap --leaks
	@echo "==> recycle lines build/leaky_service.rcap load_batch (memory_profiler's view of the peak)"
	./build/bin/recycle lines build/leaky_service.rcap load_batch
	./build/bin/recycle flamegraph build/leaky_service.rcap -o build/leaky_service.flame.html
	./build/bin/recycle plot build/leaky_service.rcap -o build/leaky_service.svg
	./build/bin/recycle html build/leaky_service.rcap -o build/leaky_service.html
	@echo "==> the whole report, one page: $(CURDIR)/build/leaky_service.html"
	@echo "    (and the flame graph alone: build/leaky_service.flame.html, memory over time: build/leaky_service.svg)"

test-quick: build
	cd build && $(CTEST) $(CTEST_ARGS)

install: build
	$(CMAKE) --install build --prefix "$(PREFIX)"

bench: bench-heap bench-objects bench-gc bench-trace bench-profile

bench-heap: deps
	bash bench/heap/run.sh

bench-objects: deps
	bash bench/objects/run.sh

bench-gc: deps
	bash bench/gc/run.sh

bench-trace: deps
	bash bench/trace/run.sh

bench-profile: deps
	bash bench/profile/run.sh

check: test-normal-build
	tools/check_layers.sh
	tools/check_exports.sh build-test

clean:
	rm -rf build build-*

distclean: clean

# --- the test matrix ------------------------------------------------------------
test: deps
	@start=$$(date +%s); \
	$(MAKE) --no-print-directory test-normal test-asan test-valgrind test-tsan test-clang test-fuzz; \
	echo "==> make test: all steps passed in $$(( $$(date +%s) - start )) s"

.PHONY: test-normal-build
test-normal-build:
	$(call configure,build-test,$(NORMAL_ARGS))
	@echo "==> build build-test"
	@$(BUILD) build-test -j$(JOBS)

test-normal: test-normal-build
	@echo "==> [1/6] ctest (gcc, RelWithDebInfo, -Werror)"
	cd build-test && $(CTEST) $(CTEST_ARGS) --no-tests=error

test-asan:
	$(call configure,build-asan,$(ASAN_ARGS))
	@echo "==> build build-asan"
	@$(BUILD) build-asan -j$(JOBS)
	@echo "==> [2/6] ctest (gcc, ASan + UBSan)"
	cd build-asan && $(CTEST) $(CTEST_ARGS) --no-tests=error

test-valgrind: test-normal-build
	@echo "==> [3/6] valgrind memcheck (label unit, not novalgrind)"
	$(CMAKE) -DBUILD_DIR=build-test -DLABEL=unit -DEXCLUDE_LABEL=novalgrind \
	    -P cmake/RecycleValgrind.cmake

test-tsan:
	$(call configure,build-tsan,$(TSAN_ARGS))
	@echo "==> build build-tsan"
	@$(BUILD) build-tsan -j$(JOBS)
	@echo "==> [4/6] ctest -L threads (clang, TSan)"
	@cd build-tsan && n=$$($(CTEST) -N -L threads | sed -n 's/^Total Tests: //p'); \
	if [ "$${n:-0}" -eq 0 ]; then echo "test-tsan: warning: no test carries the label 'threads'"; \
	else $(CTEST) $(CTEST_ARGS) -L threads; fi

test-clang:
	$(call configure,build-clang,$(CLANG_ARGS))
	@echo "==> [5/6] build (clang, -Werror)"
	@$(BUILD) build-clang -j$(JOBS)

# Each fuzz target runs on a copy of its corpus and regression inputs in
# build-fuzz/corpus/<name> (new inputs go there, never into tests/fuzz/). A
# failed check or sanitizer report stops the step: the end of the log is
# printed and the input is kept in build-fuzz/artifacts/<name>/.
test-fuzz:
	$(call configure,build-fuzz,$(FUZZ_ARGS))
	@echo "==> build build-fuzz (target fuzzers)"
	@$(BUILD) build-fuzz -j$(JOBS) --target fuzzers
	@echo "==> [6/6] libFuzzer (clang, ASan + UBSan), $(FUZZ_TIME) s per target: $(FUZZ_TARGETS)"
	@for t in $(FUZZ_TARGETS); do \
	    corpus=build-fuzz/corpus/$$t; art=build-fuzz/artifacts/$$t; log=build-fuzz/fuzz-$$t.log; \
	    rm -rf "$$corpus" "$$art"; mkdir -p "$$corpus" "$$art"; \
	    cp tests/fuzz/corpus/$$t/* "$$corpus/"; \
	    if [ -d tests/fuzz/regress/$$t ]; then cp tests/fuzz/regress/$$t/* "$$corpus/"; fi; \
	    start=$$(date +%s); \
	    if ! ./build-fuzz/tests/fuzz/fuzz_$$t -max_total_time=$(FUZZ_TIME) -rss_limit_mb=$(FUZZ_RSS_MB) \
	            -timeout=30 -print_final_stats=1 -artifact_prefix="$$art/" "$$corpus" > "$$log" 2>&1; then \
	        tail -n 60 "$$log"; \
	        echo "test-fuzz: fuzz_$$t failed; the input is in $$art/ (replay it: build-fuzz/tests/fuzz/fuzz_$$t FILE)"; \
	        exit 1; \
	    fi; \
	    runs=$$(sed -n 's/^stat::number_of_executed_units: *//p' "$$log"); \
	    echo "  fuzz_$$t: $${runs:-?} runs in $$(( $$(date +%s) - start )) s, corpus $$(ls "$$corpus" | wc -l) inputs"; \
	done
