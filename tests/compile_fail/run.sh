#!/usr/bin/env bash
# usage: run.sh CXX SOURCE_DIR [CONTROL UNSUPPORTED OPERATION POLICY]
# The control file must compile; the unsupported one must fail with a diagnostic that names
# both the operation and the policy. Without the last four: the toy policy's pair.
set -uo pipefail
cxx=$1 src=$2
control=${3:-supported_operation.cpp} unsupported=${4:-unsupported_operation.cpp}
operation=${5:-domain_resume} policy=${6:-toy::hypervisor}
flags=(-std=c++20 -fsyntax-only -I"$src/include" -I"$src/tests" -I"$src/src")
"$cxx" "${flags[@]}" "$src/tests/compile_fail/$control" || { echo "control case failed to compile" >&2; exit 1; }
out=$("$cxx" "${flags[@]}" "$src/tests/compile_fail/$unsupported" 2>&1) && { echo "unsupported operation compiled" >&2; exit 1; }
grep -q "$operation" <<<"$out" || { echo "diagnostic does not name the operation:"; echo "$out" | head -30; exit 1; } >&2
grep -q "$policy" <<<"$out" || { echo "diagnostic does not name the policy:"; echo "$out" | head -30; exit 1; } >&2
grep -q 'does not provide the operation' <<<"$out" || { echo "diagnostic lacks the explanation:"; echo "$out" | head -30; exit 1; } >&2
echo "unsupported operation refused at compile time:"
grep -m3 -E 'require_operation|static assertion' <<<"$out"
