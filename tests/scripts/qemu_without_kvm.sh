#!/usr/bin/env bash
# The QEMU driver where /dev/kvm is not usable: the lifecycle tests and the booted command lines
# again, in a private mount namespace whose /dev/kvm is /dev/null (so it opens, but is no KVM).
# type='kvm' must then be a clear error and capabilities must not offer kvm; type='qemu' must work
# as before. On a machine without /dev/kvm the normal run already covers this: skipped there.
set -uo pipefail
unit=${VIRTPP_BINARY_DIR:?}/tests/virtpp_unit_tests
conformance=$VIRTPP_BINARY_DIR/tests/virtpp_conformance_tests
command -v qemu-system-x86_64 >/dev/null || { echo "qemu-system-x86_64 not installed: skipped"; exit 77; }
[[ -c /dev/kvm ]] || { echo "no /dev/kvm here: the whole suite already runs without it"; exit 77; }
unshare -m true 2>/dev/null || { echo "cannot make a mount namespace here: skipped"; exit 77; }
exec unshare -m --propagation private -- bash -c '
  set -e
  mount --bind /dev/null /dev/kvm
  "$0" --gtest_filter="QemuLifecycle.*:QemuCommand*" --gtest_brief=1
  "$1" --gtest_filter="*QemuArgv*" --gtest_brief=1
' "$unit" "$conformance"
