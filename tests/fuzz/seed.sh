#!/usr/bin/env bash
# Lays out the seeds of one fuzz target in a directory: fixture XML for the XML kinds, else one
# seed a line from tests/fuzz/seeds/<kind>.txt and the files of tests/fuzz/seeds/<kind>/.
# usage: seed.sh KIND DIR    (prints how many seeds it wrote)
set -euo pipefail
kind=$1 dir=$2
src=${VIRTPP_SOURCE_DIR:?} shared=${VIRTPP_SHARED_DIR:?}
mkdir -p "$dir"
n=0
seed() { cp -- "$1" "$dir/seed-$n"; n=$((n + 1)); }
case "$kind" in
  domain|network|capabilities|xml)
    while IFS= read -r -d '' f; do seed "$f"; done < <(find "$shared/seed/examples" "$shared/fixtures" "$src/tests/data" "$src/examples" -name '*.xml' -print0 2>/dev/null) ;;
  xm_config)
    while IFS= read -r -d '' f; do seed "$f"; done < <(find "$shared/fixtures-batch2" -name '*.cfg' -print0 2>/dev/null) ;;
  sexpr)
    while IFS= read -r -d '' f; do seed "$f"; done < <(find "$shared/fixtures" -name '*.sexpr' -print0 2>/dev/null) ;;
  *)
    if [[ -f "$src/tests/fuzz/seeds/$kind.txt" ]]; then
      while IFS= read -r line; do printf '%s' "$line" > "$dir/seed-$n"; n=$((n + 1)); done < "$src/tests/fuzz/seeds/$kind.txt"
    fi
    if [[ -d "$src/tests/fuzz/seeds/$kind" ]]; then
      for f in "$src/tests/fuzz/seeds/$kind"/*; do seed "$f"; done
    fi ;;
esac
echo "$n"
