#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs the Debian 12 packages libmla builds with (CPU and HIP backends,
# tests).  The CUDA toolkit is not a Debian package: the CUDA backend is built
# when nvcc is at /usr/local/cuda/bin (or on PATH), and skipped otherwise.
# Usage: bash tools/setup-deps.sh        (as root, or with sudo available)
set -euo pipefail

packages=(
  cmake make g++ git          # build
  pkgconf                     # the install test builds a consumer through libmla.pc
  python3                     # test scripts (fatbin check, docs' commands)
  python3-matplotlib          # tools/bench/plot_bench.py (mla-bench --plot)
  doctest-dev                 # unit tests
  libcli11-dev                # command-line parsing of the tools
  nlohmann-json3-dev          # JSON of mla-bench --json and mla-conformance --report
  libtbb-dev libomp-dev       # oneTBB; OpenMP (gcc's libgomp ships with g++)
  libdnnl-dev                 # oneDNN: the cpu plugin's op B GEMMs
  hipcc libamdhip64-dev rocm-device-libs   # HIP backend (Debian's ROCm 5.2)
  clang-15 clang-tools-15 llvm-15          # HIP device compiler and code-object tools
)

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then sudo_cmd=(sudo); else
    echo "setup-deps: not root and no sudo; install these yourself: ${packages[*]}" >&2
    exit 1
  fi
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ] && [ "${MLA_SETUP_FORCE_UPDATE:-0}" != 1 ]; then
  echo "setup-deps: all ${#packages[@]} packages already installed"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
echo "setup-deps: apt-get update"
if ! "${sudo_cmd[@]}" apt-get update -q; then
  # Offline with everything installed is fine; offline with packages missing is not.
  if [ ${#missing[@]} -ne 0 ]; then echo "setup-deps: apt-get update failed" >&2; exit 1; fi
  echo "setup-deps: apt-get update failed; every package is installed already, going on" >&2
fi
echo "setup-deps: apt-get install ${packages[*]}"
"${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${packages[@]}"
