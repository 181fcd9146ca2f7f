#!/usr/bin/env bash
# The README's main job: `virtpp -c test:///default list --all`, as virsh prints it; and the
# canonical form of the shipped example through virtpp-xml-validate.
set -euo pipefail
src=${VIRTPP_SOURCE_DIR:?} bin=${VIRTPP_BINARY_DIR:?}
out=$("$bin/tools/virtpp" -c test:///default list --all)
expected=$' Id   Name   State\n----------------------\n 1    test   running'
[[ "$out" == "$expected" ]] || { echo "list --all printed:"; echo "$out"; exit 1; } >&2
out=$("$bin/tools/virtpp-xml-validate" --format "$src/examples/xml/kvm-guest.xml" 2>/dev/null)
grep -q "^<domain type='kvm'>" <<<"$out"
grep -q "<uuid>7b3a6c5e-9f1d-4a2b-8c0e-6f4d2a1b3c5d</uuid>" <<<"$out"
grep -q "<clock offset='utc'/>" <<<"$out"
echo "main job ok"
