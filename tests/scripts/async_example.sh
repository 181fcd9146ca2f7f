#!/usr/bin/env bash
# examples/async (docs/async.md) against a private virtppd, and against a private libvirtd 9.0
# when run as root: the same lines from both daemons' test:///default (pipelined info calls on
# one connection); a daemon that is gone is a clear error, not a hang.
set -euo pipefail
. "$VIRTPP_SOURCE_DIR/tests/scripts/lib/services.sh"
svc_init async-example
example=$VIRTPP_BINARY_DIR/virtpp_example_async
[[ -x $example ]] || { echo "missing $example"; exit 1; }

svc_start_daemon virtppd v "$VIRTPP_BINARY_DIR/tools/virtppd"
got=$(timeout 30 "$example" "test+unix:///default?socket=${SVC_SOCK[v]}")
echo "virtppd: $got"
expected='test: 2 vCPU, 2097152 KiB, state 1'
[[ $got == "$expected" ]] || { echo "FAIL: expected '$expected'"; exit 1; }

if [[ $(id -u) == 0 && -x /usr/sbin/libvirtd ]]; then
  svc_start_daemon libvirtd l /usr/sbin/libvirtd
  from_libvirtd=$(timeout 30 "$example" "test+unix:///default?socket=${SVC_SOCK[l]}")
  echo "libvirtd: $from_libvirtd"
  [[ $from_libvirtd == "$got" ]] || { echo "FAIL: virtppd and libvirtd differ"; exit 1; }
fi

svc_stop v
set +e
err=$(timeout 30 "$example" "test+unix:///default?socket=${SVC_SOCK[v]}" 2>&1)
rc=$?
set -e
echo "after stop: rc=$rc $err"
[[ $rc == 1 && $err == "error: Failed to connect socket to '${SVC_SOCK[v]}': No such file or directory" ]] ||
  { echo "FAIL: expected libvirt's connect error"; exit 1; }
echo "async_example: ok"
