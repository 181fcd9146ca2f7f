#!/usr/bin/env bash
# Set-up, both builds, and the whole test suite: the release build (g++) and the sanitizer
# build (clang, ASan + UBSan, with the fuzz targets). Ends with one summary line.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1
start=$(date +%s)
bash scripts/build.sh release || exit 1
bash scripts/build.sh sanitize || exit 1
echo "builds took $(( $(date +%s) - start ))s"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
passed=0 failed=0 skipped=0 rc=0
for flavour in release sanitize; do
  log=build/$flavour/ctest.log
  ctest --test-dir "build/$flavour" --output-on-failure -j "${VIRTPP_JOBS:-$(nproc)}" 2>&1 | tee "$log"
  (( ${PIPESTATUS[0]} == 0 )) || rc=1
  total=$(sed -nE 's/.* tests passed, ([0-9]+) tests failed out of ([0-9]+).*/\2/p' "$log" | tail -1)
  nfail=$(sed -nE 's/.* tests passed, ([0-9]+) tests failed out of ([0-9]+).*/\1/p' "$log" | tail -1)
  nskip=$(grep -c '\*\*\*Skipped\| Skipped ' "$log" || true)
  [[ -n "$total" ]] || { echo "no ctest summary for $flavour" >&2; rc=1; continue; }
  passed=$(( passed + total - nfail - nskip )); failed=$(( failed + nfail )); skipped=$(( skipped + nskip ))
done
echo "test run took $(( $(date +%s) - start ))s in all"
echo "virtpp: $passed passed, $failed failed, $skipped skipped"
exit $rc
