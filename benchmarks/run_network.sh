#!/usr/bin/env bash
# Virtual networks, virtppd against libvirtd 9.0 in the same run: (1) network start until DHCP
# answers — `virsh net-start` of an isolated network with a DHCP range, then a DHCP client
# (busybox udhcpc on a veth enslaved to the bridge) until it holds a lease; (2) start of a guest
# with one <interface type='network'> (`virsh start`, TCG guest without OS). Each daemon runs as
# root in network + mount namespaces of its own (libvirtd's /etc/libvirt, /run, /var, passwd and
# group are private copies, as in benchmarks/qemu/libvirt_ns.sh): nothing on the host changes.
# Usage: benchmarks/run_network.sh [BUILD_DIR] [ROUNDS]   (root; writes benchmarks/results/network-<stamp>.md)
set -u
BUILD=$(realpath "${1:-build/release}")
ROUNDS=${2:-5}
HERE=$(dirname "$(realpath "$0")")
# shellcheck source=../tests/scripts/lib/libvirtd_root.sh
source "$HERE/../tests/scripts/lib/libvirtd_root.sh"
[[ $(id -u) == 0 ]] || { echo "run as root"; exit 1; }
for t in virsh busybox /usr/sbin/dnsmasq /usr/sbin/libvirtd qemu-system-x86_64; do command -v "$t" >/dev/null || { echo "missing $t"; exit 1; }; done

if [[ ${VIRTPP_BENCH_INNER:-} == "" ]]; then
    W=$(mktemp -d /tmp/netbench.XXXXXX)
    chmod 755 "$W"
    stamp=$(date -u +%Y%m%dT%H%M%SZ)
    for kind in virtppd libvirtd; do
        VIRTPP_BENCH_INNER=$kind VIRTPP_BENCH_WORK=$W/$kind unshare -n -m --propagation private -- bash "$0" "$BUILD" "$ROUNDS" \
            >"$W/$kind.out" 2>&1 || { echo "$kind run failed:"; tail -20 "$W/$kind.out"; }
    done
    out=$HERE/results/network-$stamp.md
    mkdir -p "$HERE/results"
    {
        echo "# Network benchmark $stamp ($ROUNDS rounds, median seconds)"
        echo
        echo "| figure | virtppd | libvirtd 9.0 |"
        echo "|---|---|---|"
        for fig in net_start_to_lease guest_start_one_nic; do
            v=$(grep "^$fig " "$W/virtppd.out" | awk '{print $2}')
            l=$(grep "^$fig " "$W/libvirtd.out" | awk '{print $2}')
            echo "| $fig | ${v:-?} | ${l:-?} |"
        done
    } >"$out"
    cat "$out"
    rm -rf "$W"
    exit 0
fi

# ---- inside one daemon's namespaces
kind=$VIRTPP_BENCH_INNER
W=$VIRTPP_BENCH_WORK
mkdir -p "$W/run"
mount -t sysfs sysfs /sys
mount -t tmpfs tmpfs /run
ip link set lo up
DPID=
if [[ $kind == virtppd ]]; then
    export VIRTPP_QEMU_STATE_DIR=$W/s VIRTPP_DEFAULT_NETWORK=no
    printf 'listen_tls = 0\nlisten_tcp = 0\nunix_sock_dir = "%s"\nauth_unix_rw = "none"\nauth_unix_ro = "none"\n' "$W/run" >"$W/conf"
    PATH=$PATH:/usr/sbin "$BUILD/tools/virtppd" -f "$W/conf" -p "$W/pid" 2>"$W/stderr" &
    DPID=$!
    SOCK=$W/run/libvirt-sock
else
    libvirtd_start_private "$W"
fi
for _ in $(seq 200); do [[ -S $SOCK ]] && break; sleep 0.05; done
V() { virsh -q -c "qemu+unix:///system?socket=$SOCK" "$@"; }
cleanup() {
    V destroy nb >/dev/null 2>&1
    V net-destroy nbench >/dev/null 2>&1
    kill "$DPID" 2>/dev/null
    wait "$DPID" 2>/dev/null
    for f in "$W"/s/run/network/*.pid /run/libvirt/network/*.pid; do [[ -f $f ]] && kill "$(cat "$f")" 2>/dev/null; done
}
trap cleanup EXIT
cat >"$W/net.xml" <<'EOF'
<network>
  <name>nbench</name>
  <bridge name='virbr9'/>
  <ip address='192.168.190.1' netmask='255.255.255.0'>
    <dhcp><range start='192.168.190.10' end='192.168.190.99'/></dhcp>
  </ip>
</network>
EOF
cat >"$W/g.xml" <<'EOF'
<domain type='qemu'>
  <name>nb</name>
  <memory unit='MiB'>32</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type></os>
  <devices>
    <interface type='network'><mac address='52:54:00:be:00:01'/><source network='nbench'/><model type='virtio'/></interface>
  </devices>
</domain>
EOF
V net-define "$W/net.xml" >/dev/null
V define "$W/g.xml" >/dev/null
ip netns add cl 2>/dev/null
ip link add vh type veth peer name vc
ip link set vc netns cl
ip netns exec cl ip link set vc up
printf '#!/bin/sh\nexit 0\n' >"$W/u.sh"; chmod +x "$W/u.sh"
now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
: >"$W/t1"; : >"$W/t2"
for _ in $(seq "$ROUNDS"); do
    t0=$(now)
    V net-start nbench >/dev/null || echo "net-start failed"
    ip link set vh master virbr9 up
    ip netns exec cl busybox udhcpc -i vc -n -q -f -t 20 -T 1 -A 1 -s "$W/u.sh" >/dev/null 2>&1 || echo "no lease"
    t1=$(now)
    echo "$t1 - $t0" | bc >>"$W/t1"
    t0=$(now)
    V start nb >/dev/null || echo "guest start failed"
    t1=$(now)
    echo "$t1 - $t0" | bc >>"$W/t2"
    V destroy nb >/dev/null
    V net-destroy nbench >/dev/null
done
echo "net_start_to_lease $(median <"$W/t1")"
echo "guest_start_one_nic $(median <"$W/t2")"
