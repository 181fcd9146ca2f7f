#!/usr/bin/env bash
# CI's fuzz check: runs one libFuzzer target once over every input it is known for — the seeds
# and tests/fuzz/corpus/<kind>/ (the corpus scripts/fuzz.sh grew, and every crash it found,
# kept as crash-* regression inputs). No mutation: a deterministic replay, seconds long.
# usage: replay.sh FUZZER KIND
set -euo pipefail
bin=$1 kind=$2
src=${VIRTPP_SOURCE_DIR:?}
seeds=$(mktemp -d)
trap 'rm -rf "$seeds"' EXIT
n=$(bash "$src/tests/fuzz/seed.sh" "$kind" "$seeds")
corpus=$src/tests/fuzz/corpus/$kind
dirs=("$seeds")
[[ -d "$corpus" ]] && dirs+=("$corpus")
kept=$( [[ -d "$corpus" ]] && find "$corpus" -type f | wc -l || echo 0)
echo "replay $kind: $n seeds, $kept corpus and crash inputs"
(( n + kept > 0 )) || { echo "no inputs for $kind" >&2; exit 1; }
# -runs=0: every input of the directories is run once while loading, nothing more
"$bin" -runs=0 -timeout=10 -rss_limit_mb=2048 -max_len=4194304 "${dirs[@]}" 2>&1 | tail -5
exit "${PIPESTATUS[0]}"
