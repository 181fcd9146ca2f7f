#!/usr/bin/env bash
# Nightly fuzzing (not part of CI): every libFuzzer target of the sanitizer build runs for
# VIRTPP_FUZZ_MINUTES (default 10) minutes from its seeds and its in-tree corpus. New coverage is
# merged into tests/fuzz/corpus/<kind>/ and every crash, leak, timeout or out-of-memory input is
# kept there as crash-*: commit both, and CI replays them (ctest -R '^fuzz\.', tests/fuzz/replay.sh).
# usage: scripts/fuzz.sh [KIND...]      (kinds: the fuzz_<kind>.cpp files of tests/fuzz)
set -uo pipefail
cd "$(dirname "$0")/.."
export VIRTPP_SOURCE_DIR=$PWD VIRTPP_SHARED_DIR=${VIRTPP_SHARED_DIR:-$(cd .. && pwd)/shared}
minutes=${VIRTPP_FUZZ_MINUTES:-10}
build=build/sanitize
[[ -d $build ]] || bash scripts/build.sh sanitize >/dev/null || exit 1
kinds=("$@")
if (( ${#kinds[@]} == 0 )); then
  for f in tests/fuzz/fuzz_*.cpp; do k=${f##*/fuzz_}; kinds+=("${k%.cpp}"); done
fi
ninja -C "$build" "${kinds[@]/#/fuzz_}" >/dev/null || exit 1
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
failed=()
for kind in "${kinds[@]}"; do
  bin=$build/tests/fuzz_$kind
  corpus=tests/fuzz/corpus/$kind
  mkdir -p "$corpus"
  work=$(mktemp -d)
  n=$(bash tests/fuzz/seed.sh "$kind" "$work/seeds")
  mkdir -p "$work/new"
  echo "== fuzz $kind: $n seeds, $(find "$corpus" -type f | wc -l) corpus inputs, ${minutes} min"
  "$bin" -max_total_time=$((minutes * 60)) -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
    -artifact_prefix="$corpus/crash-" "$work/new" "$corpus" "$work/seeds" > "$work/log" 2>&1
  rc=$?
  tail -15 "$work/log"
  # keep what reached new code, minimised against what the tree already has
  "$bin" -merge=1 "$corpus" "$work/new" > /dev/null 2>&1 || true
  (( rc == 0 )) || failed+=("$kind")
  rm -rf "$work"
done
if (( ${#failed[@]} > 0 )); then
  echo "fuzz: crashes in: ${failed[*]} (inputs kept as tests/fuzz/corpus/<kind>/crash-*)"
  exit 1
fi
echo "fuzz: ${#kinds[@]} targets ran ${minutes} min each without a crash"
