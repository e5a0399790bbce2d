#!/usr/bin/env bash
# Runs the whole doctest suite through ctest (build first: scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
ctest --test-dir build --output-on-failure -j"$(nproc)" "$@"
