#!/usr/bin/env bash
# The QEMU driver's events through virtppd: stock `virsh event --all --loop` and virtpp's own
# `event --all --loop` on a private virtppd (its own sockets, VIRTPP_QEMU_STATE_DIR) while a real
# guest (TCG, no OS) is defined, started, given a disk (device-added), suspended, resumed, destroyed, started, stopped by a
# signal to qemu (SHUTDOWN from the host) and undefined. Both listeners must print the expected
# lines, and the same ones. No libvirtd oracle here (its QEMU driver would need its own setup):
# the lines are libvirt's numbers as docs/events.md lists them.
set -u
BIN=$(realpath "${VIRTPP_BINARY_DIR:?}/tools/virtppd")
CLI=$(realpath "$VIRTPP_BINARY_DIR/tools/virtpp")
[ -x "$BIN" ] && [ -x "$CLI" ] || { echo "virtppd/virtpp not built"; exit 77; }
command -v qemu-system-x86_64 >/dev/null || { echo "qemu-system-x86_64 not installed: skipped"; exit 77; }
command -v virsh >/dev/null || { echo "virsh not installed: skipped"; exit 77; }
W=$(mktemp -d /tmp/qe.XXXXXX)  # short: monitor sockets live under it
export VIRTPP_QEMU_STATE_DIR=$W/s
DAEMON= L1= L2=
guest_pids() {
    for f in "$W"/s/run/*.json; do
        [ -f "$f" ] && python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pid"])' "$f"
    done 2>/dev/null
}
cleanup() {
    for p in $L1 $L2; do kill -INT "$p" 2>/dev/null; done
    [ -n "$DAEMON" ] && kill "$DAEMON" 2>/dev/null
    for p in $(guest_pids); do kill -9 "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$W"
}
trap cleanup EXIT
mkdir -p "$W/run" "$W/s"
cat >"$W/conf" <<CONF
listen_tls = 0
unix_sock_dir = "$W/run"
log_outputs = "2:file:$W/log"
CONF
"$BIN" -f "$W/conf" -p "$W/pid" 2>>"$W/stderr" &
DAEMON=$!
for _ in $(seq 100); do [ -s "$W/pid" ] && [ -S "$W/run/libvirt-sock" ] && break; sleep 0.05; done
[ -S "$W/run/libvirt-sock" ] || { echo "virtppd did not start"; cat "$W/stderr"; exit 1; }
URI="qemu+unix:///system?socket=$W/run/libvirt-sock"
cat >"$W/g.xml" <<XML
<domain type='qemu'>
  <name>qe1</name>
  <memory unit='MiB'>32</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type></os>
  <features><acpi/></features>
</domain>
XML

virsh -c "$URI" event --all --loop > "$W/virsh.out" 2>&1 & L1=$!
"$CLI" -c "$URI" event --all --loop > "$W/virtpp.out" 2>&1 & L2=$!
# both listen once they see the sentinel (a define of the guest); repeat until they do
for _ in $(seq 40); do
    virsh -q -c "$URI" define "$W/g.xml" > /dev/null 2>&1
    sleep 0.25
    grep -q "Defined" "$W/virsh.out" && grep -q "Defined" "$W/virtpp.out" && break
done
truncate -s 1M "$W/plug.img"
cat >"$W/disk.xml" <<XML
<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='$W/plug.img'/><target dev='vdb' bus='virtio'/></disk>
XML
virsh -q -c "$URI" "start qe1; attach-device qe1 $W/disk.xml --live; suspend qe1; resume qe1; destroy qe1; start qe1" > "$W/actions" 2>&1
for _ in $(seq 100); do [ -n "$(guest_pids)" ] && break; sleep 0.05; done
kill -TERM $(guest_pids) 2>/dev/null  # qemu reports SHUTDOWN (host-signal), then exits
for _ in $(seq 100); do grep -q "Stopped Shutdown" "$W/virsh.out" && break; sleep 0.1; done
virsh -q -c "$URI" undefine qe1 >> "$W/actions" 2>&1
for _ in $(seq 100); do grep -q "Undefined" "$W/virsh.out" && grep -q "Undefined" "$W/virtpp.out" && break; sleep 0.1; done
sleep 0.3
kill -INT $L1 $L2; wait $L1 $L2 2>/dev/null; L1= L2=

after_sentinel() { awk '/Defined/ { n = NR } { l[NR] = $0 } END { for (i = n + 1; i <= NR; i++) print l[i] }' "$1" | grep -v '^events received'; }
expected="event 'lifecycle' for domain 'qe1': Started Booted
event 'device-added' for domain 'qe1': virtio-disk0
event 'lifecycle' for domain 'qe1': Suspended Paused
event 'lifecycle' for domain 'qe1': Resumed Unpaused
event 'lifecycle' for domain 'qe1': Stopped Destroyed
event 'lifecycle' for domain 'qe1': Started Booted
event 'lifecycle' for domain 'qe1': Shutdown Finished after host request
event 'lifecycle' for domain 'qe1': Stopped Shutdown
event 'lifecycle' for domain 'qe1': Undefined Removed
event loop interrupted"
fail=0
got=$(after_sentinel "$W/virsh.out")
if [ "$got" = "$expected" ]; then echo "ok   virsh event: $(echo "$got" | grep -c "for domain") lines as expected"
else echo "FAIL virsh event"; diff <(echo "$expected") <(echo "$got"); cat "$W/actions"; fail=1; fi
mine=$(after_sentinel "$W/virtpp.out")
if [ "$mine" = "$got" ]; then echo "ok   virtpp event prints what virsh prints"
else echo "FAIL virtpp event differs from virsh"; diff <(echo "$got") <(echo "$mine"); fail=1; fi
exit $fail
