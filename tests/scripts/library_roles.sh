#!/usr/bin/env bash
# The library split by role (issue 9): a program that uses only the test driver, linked against
# virtpp::driver_test, runs, and holds no Asio, Botan (TLS), QEMU, Xen, remote-client or daemon
# code; and each role archive defines what its role says and nothing of the roles above it.
set -euo pipefail
bin=$VIRTPP_BINARY_DIR/tests/virtpp_role_test_driver_only
[[ -x $bin ]] || { echo "missing $bin"; exit 1; }
out=$("$bin")
echo "run: $out"
[[ $out == "test 2 vCPU" ]] || { echo "FAIL: unexpected output"; exit 1; }

symbols=$(nm -C "$bin")
fail=0
check_absent() {  # label pattern
  local hits
  hits=$(grep -E "$2" <<<"$symbols" | head -3 || true)
  if [[ -n $hits ]]; then echo "FAIL: $1 code in a test-driver-only program:"; echo "$hits"; fail=1
  else echo "ok: no $1 code"; fi
}
check_absent "Asio" 'boost::asio::'
check_absent "Botan/TLS" 'Botan::'
check_absent "QEMU driver" 'virtpp::hypervisor::qemu(_detail)?::'
check_absent "Xen driver" 'virtpp::(hypervisor::xen|xen)::'
check_absent "remote client" 'virtpp::rpc::client_session'
check_absent "daemon" 'virtpp::daemon::(server|client_session|session)'
# and the test driver itself is there (the check above would pass on an empty program)
grep -q 'virtpp::hypervisor::test' <<<"$symbols" || { echo "FAIL: no test driver code in the program"; fail=1; }

# each role archive: nothing of a role it must not depend on is defined in it
for role in core network driver_test; do
  lib=$VIRTPP_BINARY_DIR/libvirtpp_$role.a
  [[ -f $lib ]] || { echo "missing $lib"; fail=1; continue; }
  defined=$(nm -C --defined-only "$lib" 2>/dev/null | grep -E ' [TDB] ' || true)
  if grep -qE 'virtpp::(daemon::server|rpc::client_session|hypervisor::qemu::)' <<<"$defined"; then
    echo "FAIL: $role defines code of a higher role"; fail=1
  else
    echo "ok: $role ($(wc -l <<<"$defined") symbols) holds only its own layer"
  fi
done
exit $fail
