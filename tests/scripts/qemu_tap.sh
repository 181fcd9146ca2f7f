#!/usr/bin/env bash
# Tap-backed QEMU interfaces, inside a network namespace of the test's own (unshare -n) with a
# bridge br0, so no host interface is touched; a mount namespace too, so /sys shows that network.
set -uo pipefail
bin=${VIRTPP_BINARY_DIR:?}/tests/virtpp_unit_tests
command -v qemu-system-x86_64 >/dev/null || { echo "qemu-system-x86_64 not installed: skipped"; exit 77; }
[[ -x $bin ]] || { echo "no $bin"; exit 1; }
[[ -e /dev/net/tun ]] || { echo "no /dev/net/tun: skipped"; exit 77; }
unshare -n -m true 2>/dev/null || { echo "cannot make a network namespace here: skipped"; exit 77; }
exec unshare -n -m --propagation private -- bash -c '
  set -e
  mount -t sysfs sysfs /sys
  ip link set lo up
  ip link add br0 type bridge
  ip link set br0 up
  VIRTPP_QEMU_NETNS=1 exec "$0" --gtest_filter="QemuTap.*"
' "$bin"
