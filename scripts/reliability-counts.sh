#!/usr/bin/env bash
# The figures docs/reliability.md gives per category of adversarial test:
# how many doctest cases each category's test files hold and, with --run, how
# many assertions they checked (each file is run once). Build first.
# Usage: scripts/reliability-counts.sh [--run] [build-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
run=0
[ "${1:-}" = --run ] && { run=1; shift; }
build="${1:-build}"
categories=(
  "bad input through the public API|test_error_paths test_function_api test_source_locations test_int64_exactness test_environment test_config"
  "overflow-prone shapes and sizes|test_shape_overflow test_tensor"
  "threads|test_threads test_thread_pool_env"
  "shared variables, updates, atomic saves|test_function test_atomic_file test_update_writes"
  "hostile files and data sets|test_npz_hostile test_npz test_idx test_datasets"
  "deep graphs and resources|test_deep_graphs test_compile_cycles test_storage_recycling"
  "numeric stability|test_passes_stabilize test_logistic_regression test_nan_guard"
  "compiled == reference (random graphs, debug mode)|test_jit_random test_debug_mode_mismatch"
)
if ((run)); then
  printf '| %s | %s | %s | %s |\n|---|---|---|---|\n' category files "test cases" assertions
else
  printf '| %s | %s | %s |\n|---|---|---|\n' category files "test cases"
fi
for entry in "${categories[@]}"; do
  name=${entry%%|*}
  cases=0 asserts=0
  for t in ${entry#*|}; do
    n=$("$build/tests/$t" --count 2>/dev/null | grep -o "filters: [0-9]*" | grep -o "[0-9]*")
    cases=$((cases + n))
    if ((run)); then
      a=$(GRAPHJIT_SOURCE_DIR=$PWD "$build/tests/$t" 2>/dev/null | grep -o "assertions: *[0-9]*" | grep -o "[0-9]*" || echo 0)
      asserts=$((asserts + a))
    fi
  done
  if ((run)); then
    printf '| %s | %s | %d | %d |\n' "$name" "${entry#*|}" "$cases" "$asserts"
  else
    printf '| %s | %s | %d |\n' "$name" "${entry#*|}" "$cases"
  fi
done
