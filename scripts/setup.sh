#!/usr/bin/env bash
# Installs what graphjit needs from Debian's packages (only what is missing),
# installs the data sets, and builds everything into build/.
# Usage: scripts/setup.sh [--no-data]
set -euo pipefail
cd "$(dirname "$0")/.."

# python3-numpy: the tests compare training losses with a NumPy reference.
# graphviz: the tests render graph pictures with dot; chromium: the tests load
# the HTML graph view headless (both tests say so and skip when they are absent).
# clang-19, libclang-rt-19-dev (libFuzzer, the sanitizers' runtimes), gcovr:
# scripts/test-sanitizers.sh.
packages=(cmake ninja-build g++ llvm-19-dev libfmt-dev doctest-dev libopenblas-dev zlib1g-dev pkg-config python3-numpy
          graphviz chromium clang-19 libclang-rt-19-dev gcovr)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
fi

if [ "${1:-}" != "--no-data" ]; then
  scripts/setup-data.sh
fi

cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE="${CMAKE_BUILD_TYPE:-RelWithDebInfo}" >/dev/null
ninja -C build -j"$(nproc)"
