#!/usr/bin/env bash
# The sanitizer build and the fuzzers (docs/reliability.md, section 5), run by
# scripts/test.sh after the ordinary suite:
#  1. build-asan/: everything built by clang-19 with AddressSanitizer (and
#     LeakSanitizer) and UBSan, any report fatal; the libraries also carry
#     libFuzzer's coverage instrumentation and gcov counters;
#  2. the whole suite there (ctest), then a line-coverage figure of it (gcovr);
#  3. each libFuzzer target for GRAPHJIT_FUZZ_SECONDS (default 60) seconds,
#     starting from its committed corpus in fuzz/corpus/<target>/ (new inputs
#     go to build-asan/fuzz-corpus/, never into the repository).
# Each phase prints its wall time and the CPU time (user+sys) of everything it
# ran so far (the children's line of `times`): on a loaded machine the CPU
# times are the figures to go by.
# Usage: scripts/test-sanitizers.sh [ctest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${GRAPHJIT_FUZZ_SECONDS:-60}"
cpu() { echo "sanitizers: CPU so far (user sys of child processes): $(times | tail -n 1)"; }
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)

start=$SECONDS
# -O1 -g1, as the sanitizers' documentation advises: fast enough to run, and
# the reports carry file:line stack traces. It compiles a little faster than
# -O2 -g (test_function.cpp: 14.4 to 15.4 s of CPU against 16.6 s; parsing
# the headers is most of it).
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" \
  -DCMAKE_CXX_COMPILER=clang++-19 \
  -DGRAPHJIT_SANITIZE=ON -DGRAPHJIT_FUZZ=ON -DGRAPHJIT_COVERAGE=ON -DGRAPHJIT_BUILD_EXAMPLES=OFF "${launcher[@]}" >/dev/null
ninja -C build-asan -j"$(nproc)"
echo "sanitizers: build took $((SECONDS - start)) s"
cpu

start=$SECONDS
find build-asan -name '*.gcda' -delete
# Some tests ask for terabytes on purpose and check the error graphjit reports.
export ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
# The random-graph test spends its time in the instrumented reference
# evaluator (several times slower here): 60 of its 200 graphs (the first 60 seeds,
# every op family) are enough to look for memory errors.
export GRAPHJIT_RANDOM_GRAPHS="${GRAPHJIT_RANDOM_GRAPHS:-60}"
ctest --test-dir build-asan --output-on-failure -j"$(nproc)" "$@"
echo "sanitizers: the suite under ASan+UBSan took $((SECONDS - start)) s"
cpu

start=$SECONDS
gcovr --root . --gcov-executable "llvm-cov-19 gcov" --filter 'frontend/' --filter 'compiler/' --filter 'runtime/' \
  --exclude-throw-branches --print-summary --output build-asan/coverage.txt build-asan
echo "sanitizers: coverage report (build-asan/coverage.txt) took $((SECONDS - start)) s"
cpu

for target in fuzz_graph fuzz_readers; do
  mkdir -p "build-asan/fuzz-corpus/$target"
  limits=(-rss_limit_mb=2048 -timeout=60)
  # A reader must not allocate what the file's bytes cannot hold.
  [ "$target" = fuzz_readers ] && limits+=(-malloc_limit_mb=256)
  echo "sanitizers: $target for $seconds s"
  log="build-asan/fuzz-corpus/$target.log"
  status=0
  "build-asan/fuzz/$target" -max_total_time="$seconds" -print_final_stats=1 "${limits[@]}" \
    -artifact_prefix="build-asan/fuzz-corpus/$target-" "build-asan/fuzz-corpus/$target" "fuzz/corpus/$target" \
    >"$log" 2>&1 || status=$?
  grep -E "^stat::(number_of_executed_units|new_units_added|peak_rss_mb)|^Done" "$log" || true
  if [ "$status" -ne 0 ]; then
    tail -n 60 "$log"
    echo "sanitizers: $target found a failure (the input is in build-asan/fuzz-corpus/$target-*)"
    exit 1
  fi
done
