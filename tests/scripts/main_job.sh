#!/usr/bin/env bash
# The README's main job prints the canonical form of the shipped example.
set -euo pipefail
src=${VIRTPP_SOURCE_DIR:?} bin=${VIRTPP_BINARY_DIR:?}
out=$("$bin/tools/virtpp-xml-validate" --format "$src/examples/xml/kvm-guest.xml")
grep -q "^<domain type='kvm'>" <<<"$out"
grep -q "<uuid>7b3a6c5e-9f1d-4a2b-8c0e-6f4d2a1b3c5d</uuid>" <<<"$out"
grep -q "<clock offset='utc'/>" <<<"$out"
echo "main job ok"
