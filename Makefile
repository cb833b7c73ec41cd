# A thin front over CMake. `make run` and `make test` are all a new machine
# needs: both install what is missing first (scripts/deps.sh, idempotent).
BUILD      ?= build
JOBS       ?= $(shell nproc)
ARGS       ?=
FUZZ_SECONDS ?= 60
CMAKE_FLAGS ?=

.PHONY: all deps build run test test-asan fuzz bench format clean

all: build

deps:
	@scripts/deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

run: build
	$(BUILD)/sitebase serve $(ARGS)

test: build
	@cd $(BUILD) && ctest --output-on-failure -j$(JOBS) $(CTEST_ARGS)

# ASan + UBSan over the whole suite; a leak or any UB report fails it.
test-asan: deps
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DSITEBASE_SANITIZE=ON >/dev/null
	@cmake --build build-asan -j$(JOBS)
	@cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		ctest --output-on-failure -j$(JOBS) $(CTEST_ARGS)

# libFuzzer targets (clang); each runs FUZZ_SECONDS from its seed corpus.
fuzz: deps
	@CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DSITEBASE_FUZZ=ON >/dev/null
	@cmake --build build-fuzz -j$(JOBS)
	@scripts/fuzz.sh build-fuzz $(FUZZ_SECONDS)

bench: build
	@bench/http/run.sh
	@bench/auth/run.sh
	@bench/api/run.sh
	@bench/crdt/run.sh
	@bench/history/run.sh
	@bench/collab/run.sh
	@bench/tsdb/run.sh local

format:
	@clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) build-asan build-fuzz
