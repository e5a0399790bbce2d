#!/bin/sh
# Installs what the training-speed race (benchmarks/race.py) compares graphjit with:
# NumPy, PyTorch 1.13 (Python and LibTorch C++), matplotlib for the chart, the
# Fashion-MNIST data, and the compiler and OpenBLAS the C++ peers build against.
# All from Debian; safe to run again (apt-get skips what is installed).
# The peers run under Debian's /usr/bin/python3, not a python3 found first on PATH.
set -eu
if [ "$(id -u)" -ne 0 ]; then
  echo "setup-peers.sh: run as root (it calls apt-get install)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y \
  python3-numpy python3-torch libtorch-dev python3-matplotlib \
  dataset-fashion-mnist g++ libopenblas-dev zlib1g-dev
