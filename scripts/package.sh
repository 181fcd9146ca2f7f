#!/usr/bin/env bash
# Builds virtpp's Debian package: a release tree configured for the prefix /usr (so the paths
# compiled into the tools are the package's), then `cpack -G DEB`. Prints the .deb's path.
#   scripts/package.sh [BUILD_DIR]      (default build/package)
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$src/build/package}
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$(dirname "$src")}
cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
  -DVIRTPP_BUILD_TESTS=OFF -DVIRTPP_BUILD_BENCHMARKS=OFF >"$build.configure.log" 2>&1 ||
  { cat "$build.configure.log" >&2; exit 1; }
ninja -C "$build" >"$build.build.log" 2>&1 || { tail -40 "$build.build.log" >&2; exit 1; }
(cd "$build" && cpack -G DEB) >"$build.cpack.log" 2>&1 || { cat "$build.cpack.log" >&2; exit 1; }
ls "$build"/virtpp_*_amd64.deb
