#!/usr/bin/env bash
# The sanitizer build: arch/, compiler/, simulator/, smol/, tools/ and every
# test built with AddressSanitizer + UndefinedBehaviorSanitizer (GCC) in its
# own build directory, then the unit, lit, e2e, testbench and hardening
# suites run under it. docs/sanitizers.md describes it and its last run.
#
#   bash scripts/sanitize.sh              # configure, build, run the suite
#   TESSERA_JOBS=2 bash scripts/sanitize.sh -R harden   # extra ctest args
#   TESSERA_ASAN_TARGETS="ArchTests SimTests" bash scripts/sanitize.sh -R '^sim[.]'
#       # build only these targets (and what they need), run the tests named
#
# docs/sanitizers.md records each run: the command, its duration, the result.
#
# Environment: TESSERA_ASAN_BUILD_DIR (default build-asan), TESSERA_JOBS
# (default 1: the build is slow and memory-hungry).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${TESSERA_ASAN_BUILD_DIR:-$root/build-asan}
jobs=${TESSERA_JOBS:-1}
flags="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
# -O1 -g1: what ASan's documentation recommends, and about half the compile
# time of -O2 -g on the MLIR-heavy files. The libFuzzer targets are left out
# (TESSERA_FUZZ_CLANGXX unset): they are sanitized builds of their own.
cmake -G Ninja -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" \
  -DTESSERA_FUZZ_CLANGXX=TESSERA_FUZZ_CLANGXX-NOTFOUND \
  -DCMAKE_C_FLAGS="$flags" -DCMAKE_CXX_FLAGS="$flags" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" \
  -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=address,undefined"
# shellcheck disable=SC2086 # a list of targets
ninja -C "$build" -j "$jobs" ${TESSERA_ASAN_TARGETS:-}
# Any report is fatal; leaks are reported (suppressions: third-party
# libraries' process-lifetime allocations only).
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:detect_stack_use_after_return=0:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$root/scripts/lsan.supp:print_suppressions=0}
# The hardening tests limit the tools' address space; ASan's shadow memory
# needs more, so they leave the limit off under the sanitizer build.
export TESSERA_SANITIZER_BUILD=1
# The fuzz label is the libFuzzer targets (already sanitized; long); the
# budget label measures speed, which the sanitizers distort.
cd "$build"
ctest --output-on-failure -j "$jobs" -LE 'fuzz|budget' "$@"
