#!/usr/bin/env bash
# Runs one libFuzzer target for a bounded time over a corpus seeded from the fixtures.
# usage: run.sh FUZZER KIND SECONDS
set -euo pipefail
bin=$1 kind=$2 secs=$3
src=${VIRTPP_SOURCE_DIR:?} shared=${VIRTPP_SHARED_DIR:?}
corpus=$(mktemp -d)
trap 'rm -rf "$corpus"' EXIT
n=0
seed() { cp -- "$1" "$corpus/seed-$n"; n=$((n + 1)); }
case "$kind" in
  domain|network|capabilities|xml)
    while IFS= read -r -d '' f; do seed "$f"; done < <(find "$shared/seed/examples" "$shared/fixtures" "$src/tests/data" "$src/examples" -name '*.xml' -print0 2>/dev/null) ;;
  xm_config)
    while IFS= read -r -d '' f; do seed "$f"; done < <(find "$shared/fixtures-batch2" -name '*.cfg' -print0 2>/dev/null) ;;
  sexpr)
    while IFS= read -r -d '' f; do seed "$f"; done < <(find "$shared/fixtures" -name '*.sexpr' -print0 2>/dev/null) ;;
  *)
    # one seed a line in tests/fuzz/seeds/<kind>.txt, or binary seeds in tests/fuzz/seeds/<kind>/
    if [[ -f "$src/tests/fuzz/seeds/$kind.txt" ]]; then
      while IFS= read -r line; do printf '%s' "$line" > "$corpus/seed-$n"; n=$((n + 1)); done < "$src/tests/fuzz/seeds/$kind.txt"
    fi
    if [[ -d "$src/tests/fuzz/seeds/$kind" ]]; then
      for f in "$src/tests/fuzz/seeds/$kind"/*; do seed "$f"; done
    fi ;;
esac
echo "fuzz $kind: $n seeds, ${secs}s"
(( n > 0 )) || { echo "no seeds for $kind" >&2; exit 1; }
# libFuzzer exits non-zero on a crash, a leak, a timeout or an out-of-memory.
"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 "$corpus" 2>&1 | tail -25
exit "${PIPESTATUS[0]}"
