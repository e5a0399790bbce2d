#!/usr/bin/env bash
# Draws the seed's optimized train graph for docs/debugging.md: trains the
# seed for one epoch with --dump (build first: scripts/setup.sh) and keeps the
# train function's graph after the rewrites as docs/seed-train-graph.svg.
# Needs Graphviz's dot (scripts/setup.sh installs graphviz).
# Usage: scripts/seed-graph-picture.sh [more mnist_mlp flags]
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
build/examples/mnist_mlp --epochs 1 --dump "$dir" "$@" >/dev/null
test -s "$dir/train.after.svg" || { echo "seed-graph-picture: no SVG was drawn (is graphviz installed?)" >&2; exit 1; }
cp "$dir/train.after.svg" docs/seed-train-graph.svg
echo "wrote docs/seed-train-graph.svg"
