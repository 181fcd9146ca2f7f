#!/usr/bin/env bash
# Installs the built tree into a temporary prefix and builds examples/consumer against it,
# once with CMake's find_package and once with pkg-config.
set -euo pipefail
src=${VIRTPP_SOURCE_DIR:?} bin=${VIRTPP_BINARY_DIR:?}
if [[ ${VIRTPP_SANITIZE:-0} == 1 ]]; then
  echo "sanitizer build: the consumer is checked in the release build"; exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$bin" --prefix "$tmp/prefix" >/dev/null
test -f "$tmp/prefix/lib/cmake/virtpp/virtppConfig.cmake" || test -f "$tmp/prefix/lib/x86_64-linux-gnu/cmake/virtpp/virtppConfig.cmake"
expected=$'4dea22b3-1d52-d8f3-2516-782e98ab3fa0\nerror 8: invalid argument: malformed UUID \'not-a-uuid\''

cmake -S "$src/examples/consumer" -B "$tmp/cmake-build" -G Ninja -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null
ninja -C "$tmp/cmake-build" >/dev/null
out=$("$tmp/cmake-build/consumer")
[[ "$out" == "$expected" ]] || { echo "find_package consumer printed: $out" >&2; exit 1; }

pcdir=$(dirname "$(find "$tmp/prefix" -name virtpp.pc | head -1)")
# the .pc names the install prefix it was configured with; point it at the temporary one
flags=$(PKG_CONFIG_PATH="$pcdir" pkg-config --define-variable=prefix="$tmp/prefix" --cflags --libs virtpp)
g++ -o "$tmp/pc-consumer" "$src/examples/consumer/main.cpp" $flags
out=$("$tmp/pc-consumer")
[[ "$out" == "$expected" ]] || { echo "pkg-config consumer printed: $out" >&2; exit 1; }
echo "consumer built and ran through find_package and pkg-config"
