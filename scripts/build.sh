#!/usr/bin/env bash
# Configures and builds one flavour of the tree: `release` (g++) or `sanitize` (clang with ASan,
# UBSan and the libFuzzer targets). Shared by main.sh and test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
flavour=${1:-release}
jobs=${VIRTPP_JOBS:-$(nproc)}
case "$flavour" in
  release)
    cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null ;;
  sanitize)
    cmake -S . -B build/sanitize -G Ninja -DCMAKE_BUILD_TYPE=Debug \
      -DCMAKE_CXX_COMPILER=clang++-14 -DVIRTPP_SANITIZE=ON -DVIRTPP_FUZZ=ON >/dev/null ;;
  *) echo "build.sh: unknown flavour '$flavour' (release|sanitize)" >&2; exit 2 ;;
esac
ninja -C "build/$flavour" -j "$jobs"
