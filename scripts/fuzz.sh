#!/usr/bin/env bash
# Nightly fuzzing (not part of CI): every libFuzzer target of the sanitizer build runs for
# VIRTPP_FUZZ_MINUTES (default 10) minutes from its seeds and its in-tree corpus. New coverage is
# merged into tests/fuzz/corpus/<kind>/ and every crash, leak, timeout or out-of-memory input is
# kept there as crash-*: commit both, and CI replays them (ctest -R '^fuzz\.', tests/fuzz/replay.sh).
# VIRTPP_FUZZ_TIMEOUT (default 10) is the per-input limit in seconds.
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
# A unit that runs longer than the timeout stops libFuzzer. On a loaded machine that can be the
# scheduler, not the input: the input is then run again alone, and only when it is slow there too
# is it a failure. Otherwise it stays as an ordinary corpus input and fuzzing goes on for the
# rest of the target's time.
timeout_s=${VIRTPP_FUZZ_TIMEOUT:-10}
for kind in "${kinds[@]}"; do
  bin=$build/tests/fuzz_$kind
  corpus=tests/fuzz/corpus/$kind
  mkdir -p "$corpus"
  work=$(mktemp -d)
  n=$(bash tests/fuzz/seed.sh "$kind" "$work/seeds")
  mkdir -p "$work/new" "$work/artifacts"
  echo "== fuzz $kind: $n seeds, $(find "$corpus" -type f | wc -l) corpus inputs, ${minutes} min"
  deadline=$((SECONDS + minutes * 60))
  ok=1
  runs=0
  while (( SECONDS < deadline - 5 )); do
    left=$((deadline - SECONDS))
    "$bin" -max_total_time=$left -timeout="$timeout_s" -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
      -artifact_prefix="$work/artifacts/" "$work/new" "$corpus" "$work/seeds" > "$work/log" 2>&1
    rc=$?
    runs=$((runs + $(awk '/stat::number_of_executed_units/ {print $2}' "$work/log")))
    (( rc == 0 )) && break
    artifact=$(ls -t "$work/artifacts"/* 2>/dev/null | head -1)
    if [[ $artifact == */timeout-* ]] && timeout "$((timeout_s * 3))" "$bin" -timeout="$timeout_s" "$artifact" > "$work/rerun" 2>&1; then
      echo "   $(grep -o 'in [0-9]* ms' "$work/rerun" | head -1) alone: a timeout of the loaded machine, not of the input; kept as corpus, fuzzing on"
      mv "$artifact" "$corpus/slow-${artifact##*/timeout-}"
      continue
    fi
    tail -25 "$work/log"
    [[ -n $artifact ]] && cp "$artifact" "$corpus/crash-${artifact##*/}"
    ok=0
    break
  done
  grep -E '^Done|stat::' "$work/log" | head -3
  echo "   $runs inputs run"
  # keep what reached new code, minimised against what the tree already has
  "$bin" -merge=1 "$corpus" "$work/new" > /dev/null 2>&1 || true
  (( ok )) || failed+=("$kind")
  rm -rf "$work"
done
if (( ${#failed[@]} > 0 )); then
  echo "fuzz: crashes in: ${failed[*]} (inputs kept as tests/fuzz/corpus/<kind>/crash-*)"
  exit 1
fi
echo "fuzz: ${#kinds[@]} targets ran ${minutes} min each without a crash"
