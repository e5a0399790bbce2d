#!/usr/bin/env bash
# Runs the whole doctest suite through ctest (build first: scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
# setup.sh installed the data sets and tools some tests need: their absence
# is a failure here, not a skip (tests/requirement.hpp).
export GRAPHJIT_REQUIRE_ALL=1
ctest --test-dir build --output-on-failure -j"$(nproc)" "$@"
