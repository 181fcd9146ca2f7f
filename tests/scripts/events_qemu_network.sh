#!/usr/bin/env bash
# Network lifecycle events of the QEMU driver's virtual networks through virtppd on qemu:///system,
# in network + mount namespaces this test makes (the bridges it starts exist only there): stock
# `virsh net-event --event lifecycle --loop` and virtpp's own `net-event` listen while a second virsh runs
# net-define, net-start, net-destroy, net-undefine, net-create and net-destroy. Both must print
# libvirt's lines (Defined, Started, Stopped, Undefined, Started, Stopped), the same ones.
set -u
if [[ ${VIRTPP_NET_INNER:-} != 1 ]]; then
    BIN=$(realpath "${VIRTPP_BINARY_DIR:?}/tools/virtppd" 2>/dev/null)
    CLI=$(realpath "$VIRTPP_BINARY_DIR/tools/virtpp" 2>/dev/null)
    [[ -x $BIN && -x $CLI ]] || { echo "virtppd/virtpp not built"; exit 77; }
    [[ $(id -u) == 0 ]] || { echo "needs root: skipped"; exit 77; }
    command -v virsh >/dev/null || { echo "virsh not installed: skipped"; exit 77; }
    [[ -x /usr/sbin/dnsmasq ]] || { echo "dnsmasq not installed (dnsmasq-base): skipped"; exit 77; }
    unshare -n -m true 2>/dev/null || { echo "cannot make a network namespace here: skipped"; exit 77; }
    export VIRTPP_NET_INNER=1 VIRTPP_NET_BIN=$BIN VIRTPP_NET_CLI=$CLI
    exec unshare -n -m --propagation private -- bash "$0" "$@"
fi

mount -t sysfs sysfs /sys
mount -t tmpfs tmpfs /run
ip link set lo up
BIN=$VIRTPP_NET_BIN
CLI=$VIRTPP_NET_CLI
W=$(mktemp -d /tmp/vne.XXXXXX)
export VIRTPP_QEMU_STATE_DIR=$W/s VIRTPP_DEFAULT_NETWORK=no
DAEMON= L1= L2=
cleanup() {
    for p in $L1 $L2; do kill -INT "$p" 2>/dev/null; done
    [ -n "$DAEMON" ] && kill "$DAEMON" 2>/dev/null
    wait 2>/dev/null
    rm -rf "$W"
}
trap cleanup EXIT
mkdir -p "$W/run" "$W/s"
cat >"$W/conf" <<CONF
listen_tls = 0
listen_tcp = 0
unix_sock_dir = "$W/run"
auth_unix_ro = "none"
auth_unix_rw = "none"
log_outputs = "2:file:$W/log"
CONF
"$BIN" -f "$W/conf" -p "$W/pid" 2>>"$W/stderr" &
DAEMON=$!
for _ in $(seq 100); do [ -s "$W/pid" ] && [ -S "$W/run/libvirt-sock" ] && break; sleep 0.05; done
[ -S "$W/run/libvirt-sock" ] || { echo "virtppd did not start"; cat "$W/stderr"; exit 1; }
URI="qemu+unix:///system?socket=$W/run/libvirt-sock"
cat >"$W/sentinel.xml" <<XML
<network><name>sentinel</name><bridge name='vpsent0'/></network>
XML
cat >"$W/net.xml" <<XML
<network>
  <name>evnet</name>
  <bridge name='vpev0'/>
  <ip address='192.168.231.1' netmask='255.255.255.0'/>
</network>
XML

virsh -c "$URI" net-event --event lifecycle --loop > "$W/virsh.out" 2>&1 & L1=$!
"$CLI" -c "$URI" net-event --event lifecycle --loop > "$W/virtpp.out" 2>&1 & L2=$!
# both listen once they see the sentinel (a define and undefine); repeat until they do
for _ in $(seq 40); do
    virsh -q -c "$URI" "net-define $W/sentinel.xml; net-undefine sentinel" > /dev/null 2>&1
    sleep 0.25
    grep -q "sentinel: Undefined" "$W/virsh.out" && grep -q "sentinel: Undefined" "$W/virtpp.out" && break
done
virsh -q -c "$URI" "net-define $W/net.xml; net-start evnet; net-destroy evnet; net-undefine evnet; net-create $W/net.xml; net-destroy evnet" > "$W/actions" 2>&1
for _ in $(seq 100); do
    [ "$(grep -c 'evnet: Stopped' "$W/virsh.out")" -ge 2 ] && [ "$(grep -c 'evnet: Stopped' "$W/virtpp.out")" -ge 2 ] && break
    sleep 0.1
done
sleep 0.3
kill -INT $L1 $L2; wait $L1 $L2 2>/dev/null; L1= L2=

after_sentinel() { awk '/sentinel: Undefined/ { n = NR } { l[NR] = $0 } END { for (i = n + 1; i <= NR; i++) print l[i] }' "$1" | grep -v '^events received'; }
expected="event 'lifecycle' for network evnet: Defined
event 'lifecycle' for network evnet: Started
event 'lifecycle' for network evnet: Stopped
event 'lifecycle' for network evnet: Undefined
event 'lifecycle' for network evnet: Started
event 'lifecycle' for network evnet: Stopped
event loop interrupted"
fail=0
got=$(after_sentinel "$W/virsh.out")
if [ "$got" = "$expected" ]; then echo "ok   virsh net-event: $(echo "$got" | grep -c 'for network') lines as expected"
else echo "FAIL virsh net-event"; diff <(echo "$expected") <(echo "$got"); cat "$W/actions"; fail=1; fi
mine=$(after_sentinel "$W/virtpp.out")
if [ "$mine" = "$got" ]; then echo "ok   virtpp net-event prints what virsh prints"
else echo "FAIL virtpp net-event differs from virsh"; diff <(echo "$got") <(echo "$mine"); fail=1; fi
exit $fail
