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
# the .pc is relocatable: moved elsewhere after installing, it still names its own tree
mv "$tmp/prefix" "$tmp/moved"
pcdir=${pcdir/#$tmp\/prefix/$tmp/moved}
grep -q '^prefix=${pcfiledir}/' "$pcdir/virtpp.pc" || { echo "virtpp.pc has no \${pcfiledir}-based prefix" >&2; exit 1; }
# Xerces-C and Botan are private requirements (no public header includes them), not public ones
grep -Eq '^Requires\.private:.*xerces-c >= 3\.2.*botan-2' "$pcdir/virtpp.pc" || { echo "virtpp.pc has no Requires.private on xerces-c and botan-2" >&2; exit 1; }
! grep -Eq '^Requires:' "$pcdir/virtpp.pc" || { echo "virtpp.pc makes its private libraries public Requires" >&2; exit 1; }
grep -Eq '^Libs:.*-lboost_json' "$pcdir/virtpp.pc" || { echo "virtpp.pc does not link Boost.JSON" >&2; exit 1; }
PKG_CONFIG_PATH="$pcdir" pkg-config --print-requires-private virtpp | grep -q '^botan-2' ||
  { echo "pkg-config does not see botan-2 as a private requirement" >&2; exit 1; }
# Boost.JSON is linked, never compiled into the archive (no strong boost::json symbols; inline
# template instances are weak): a consumer using it too gets no duplicates
lib=$(find "$tmp/moved" -name libvirtpp.a | head -1)
if nm -C --defined-only "$lib" | grep -E ' T boost::json::' | head -1 | grep -q .; then
  echo "libvirtpp.a defines Boost.JSON's implementation" >&2; exit 1
fi
[[ $(PKG_CONFIG_PATH="$pcdir" pkg-config --variable=includedir virtpp) -ef "$tmp/moved/include" ]] ||
  { echo "pkg-config includedir is not the moved tree's" >&2; exit 1; }
flags=$(PKG_CONFIG_PATH="$pcdir" pkg-config --cflags --libs virtpp)
g++ -o "$tmp/pc-consumer" "$src/examples/consumer/main.cpp" $flags
out=$("$tmp/pc-consumer")
[[ "$out" == "$expected" ]] || { echo "pkg-config consumer printed: $out" >&2; exit 1; }
echo "consumer built and ran through find_package and pkg-config"
