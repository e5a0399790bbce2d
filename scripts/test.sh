#!/usr/bin/env bash
# Runs the whole doctest suite through ctest (build first: scripts/setup.sh),
# then the sanitizer stage (scripts/test-sanitizers.sh): the suite again under
# ASan+UBSan, a coverage summary and a bounded run of each fuzzer
# (docs/reliability.md). GRAPHJIT_SANITIZERS=0 skips that stage.
set -euo pipefail
cd "$(dirname "$0")/.."
# setup.sh installed the data sets and tools some tests need: their absence
# is a failure here, not a skip (tests/requirement.hpp).
export GRAPHJIT_REQUIRE_ALL=1
# 1,000 compile/destroy cycles of the seed's functions (issue 10: RSS flat);
# a plain ctest run does 20.
GRAPHJIT_SEED_COMPILE_CYCLES=1000 ctest --test-dir build --output-on-failure -j"$(nproc)" "$@"
if [ "${GRAPHJIT_SANITIZERS:-1}" != 0 ]; then
  scripts/test-sanitizers.sh "$@"
fi
