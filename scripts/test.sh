#!/usr/bin/env bash
# Runs the whole doctest suite through ctest (build first: scripts/setup.sh).
# GRAPHJIT_SANITIZERS=1 then runs the sanitizer build, coverage and fuzzers
# (scripts/test-sanitizers.sh). It is off by default until the whole suite
# has been seen to pass under ASan+UBSan (docs/reliability.md).
set -euo pipefail
cd "$(dirname "$0")/.."
# setup.sh installed the data sets and tools some tests need: their absence
# is a failure here, not a skip (tests/requirement.hpp).
export GRAPHJIT_REQUIRE_ALL=1
# 1,000 compile/destroy cycles of the seed's functions (issue 10: RSS flat);
# a plain ctest run does 20.
GRAPHJIT_SEED_COMPILE_CYCLES=1000 ctest --test-dir build --output-on-failure -j"$(nproc)" "$@"
if [ "${GRAPHJIT_SANITIZERS:-0}" != 0 ]; then
  scripts/test-sanitizers.sh "$@"
fi
