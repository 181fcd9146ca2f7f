#!/usr/bin/env bash
# usage: run.sh CXX SOURCE_DIR
# The control file must compile; the unsupported one must fail with a diagnostic that names
# both the operation and the policy.
set -uo pipefail
cxx=$1 src=$2
flags=(-std=c++20 -fsyntax-only -I"$src/include" -I"$src/tests" -I"$src/src")
"$cxx" "${flags[@]}" "$src/tests/compile_fail/supported_operation.cpp" || { echo "control case failed to compile" >&2; exit 1; }
out=$("$cxx" "${flags[@]}" "$src/tests/compile_fail/unsupported_operation.cpp" 2>&1) && { echo "unsupported operation compiled" >&2; exit 1; }
grep -q 'domain_resume' <<<"$out" || { echo "diagnostic does not name the operation:"; echo "$out" | head -30; exit 1; } >&2
grep -q 'toy::hypervisor' <<<"$out" || { echo "diagnostic does not name the policy:"; echo "$out" | head -30; exit 1; } >&2
grep -q 'does not provide the operation' <<<"$out" || { echo "diagnostic lacks the explanation:"; echo "$out" | head -30; exit 1; } >&2
echo "unsupported operation refused at compile time:"
grep -m3 -E 'require_operation|static assertion' <<<"$out"
