#!/usr/bin/env bash
# The QEMU driver with a real Linux guest: builds the tiny guest (tests/guest/build.sh, cached in
# the build tree) and runs the QemuGuest tests (ACPI shutdown, reboot, guest power-off, save/restore).
set -uo pipefail
bin=${VIRTPP_BINARY_DIR:?}/tests/virtpp_unit_tests
command -v qemu-system-x86_64 >/dev/null || { echo "qemu-system-x86_64 not installed: skipped"; exit 77; }
[[ -x $bin ]] || { echo "no $bin"; exit 1; }
guest=$VIRTPP_BINARY_DIR/qemu-guest
bash "${VIRTPP_SOURCE_DIR:?}/tests/guest/build.sh" "$guest" || { echo "could not build the tiny guest"; exit 1; }
VIRTPP_QEMU_GUEST_DIR=$guest exec "$bin" --gtest_filter='QemuGuest.*'
