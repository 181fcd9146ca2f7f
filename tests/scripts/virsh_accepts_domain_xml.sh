#!/usr/bin/env bash
# Real virsh (libvirt 9.0's test driver) must accept what virtpp writes: every seed example and
# fixture domain, formatted by the conformance test, retyped to 'test', is defined with
# `virsh -c test:///default define`. Exit 77 (skip) without virsh.
set -u
command -v virsh >/dev/null 2>&1 || { echo "virsh not installed"; exit 77; }
bin="${VIRTPP_BINARY_DIR:-build}/tests/virtpp_conformance_tests"
[ -x "$bin" ] || { echo "no conformance binary at $bin"; exit 77; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
VIRTPP_FORMAT_OUT="$out" "$bin" --gtest_filter='SharedData/DomainDocument.*' >/dev/null 2>&1 || {
    echo "conformance test failed"; exit 1; }
count=0; failed=0
for f in "$out"/*.xml; do
    [ -e "$f" ] || continue
    count=$((count + 1))
    # The test driver takes any guest as type='test'. Two known 9.0 refusals are rewritten:
    # the seed's multicast MAC (11:...) and <maxMemory> without slots (docs/xml-domain.md); the test
    # driver has no Xen input bus, so those inputs are removed.
    sed -e "0,/<domain type='[a-z]*'/s//<domain type='test'/" \
        -e "s/address='11:22:33:44:55:66'/address='12:22:33:44:55:66'/" \
        -e "/<maxMemory unit=/d" -e "/<input type='[a-z]*' bus='xen'\/>/d" "$f" > "$out/test-domain.in"
    name=$(sed -n 's:.*<name>\(.*\)</name>.*:\1:p' "$out/test-domain.in" | head -n1)
    if ! msg=$(virsh -q -c test:///default "define $out/test-domain.in; undefine $name" 2>&1); then
        echo "virsh refused $(basename "$f"): $msg"
        failed=$((failed + 1))
    fi
done
echo "$count documents, $failed refused"
[ "$count" -gt 0 ] && [ "$failed" -eq 0 ]
