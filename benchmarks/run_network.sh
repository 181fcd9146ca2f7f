#!/usr/bin/env bash
# Virtual networks, virtppd against libvirtd 9.0 in the same run, rounds alternating between the
# two daemons: (1) network start until DHCP answers — `virsh net-start` of an isolated network
# with a DHCP range and a <host> reservation for the client's MAC, a veth enslaved to its bridge,
# and benchmarks/network/dhcp_probe.py on the veth's peer sending a DHCPDISCOVER every 20 ms until
# the first DHCPOFFER (no client back-off in the figure; a reserved address is offered at once,
# where one from the range waits for dnsmasq's 3 s ping check); once with stp='off' and once with
# libvirt's default bridge (stp='on', which the kernel holds at a 2 s forward delay in listening
# and again in learning for each new port); (2) start of a guest with one
# <interface type='network'> (`virsh start`, TCG guest without OS). Each daemon runs as root in
# network + mount namespaces of its own (libvirtd's /etc/libvirt, /run, /var, passwd and group are
# private copies, tests/scripts/lib/libvirtd_root.sh): nothing on the host changes. Each round
# starts a fresh daemon, does one unmeasured warm-up pass, then one measured pass.
# Usage: benchmarks/run_network.sh [BUILD_DIR] [ROUNDS]   (root; writes benchmarks/results/network-<stamp>.md)
set -u
BUILD=$(realpath "${1:-build/release}")
ROUNDS=${2:-7}
HERE=$(dirname "$(realpath "$0")")
# shellcheck source=../tests/scripts/lib/libvirtd_root.sh
source "$HERE/../tests/scripts/lib/libvirtd_root.sh"
[[ $(id -u) == 0 ]] || { echo "run as root"; exit 1; }
for t in virsh /usr/bin/python3 /usr/sbin/dnsmasq /usr/sbin/libvirtd qemu-system-x86_64; do command -v "$t" >/dev/null || { echo "missing $t"; exit 1; }; done
FIGURES="net_start_to_offer net_start_to_offer_stp_on guest_start_one_nic"

if [[ ${VIRTPP_BENCH_INNER:-} == "" ]]; then
    W=$(mktemp -d /tmp/netbench.XXXXXX)
    chmod 755 "$W"
    stamp=$(date -u +%Y%m%dT%H%M%SZ)
    for round in $(seq "$ROUNDS"); do
        for kind in virtppd libvirtd; do
            rm -rf "${W:?}/$kind"
            VIRTPP_BENCH_INNER=$kind VIRTPP_BENCH_WORK=$W/$kind unshare -n -m --propagation private -- bash "$0" "$BUILD" \
                >"$W/$kind.out" 2>&1 || { echo "$kind run failed:"; tail -20 "$W/$kind.out"; }
            for fig in $FIGURES; do grep "^$fig " "$W/$kind.out" | awk '{print $2}' >>"$W/$kind.$fig"; done
            echo "round $round $kind: $(grep -E '^(net|guest)_' "$W/$kind.out" | tr '\n' ' ')" >&2
        done
    done
    median() { sort -n | awk '{a[NR]=$1} END {if (NR) printf "%.3f", a[int((NR+1)/2)]; else print "?"}'; }
    spread() { sort -n | awk '{a[NR]=$1} END {if (NR) printf "%.3f–%.3f", a[1], a[NR]}'; }
    out=$HERE/results/network-$stamp.md
    mkdir -p "$HERE/results"
    {
        echo "# Network benchmark $stamp ($ROUNDS alternating rounds, median seconds, min–max)"
        echo
        echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
        echo
        echo "| figure | virtppd | libvirtd 9.0 | virtppd / libvirtd |"
        echo "|---|---|---|---|"
        for fig in $FIGURES; do
            v=$(median <"$W/virtppd.$fig" 2>/dev/null)
            l=$(median <"$W/libvirtd.$fig" 2>/dev/null)
            r=$(awk -v v="$v" -v l="$l" 'BEGIN {if (l > 0 && v > 0) printf "%.2f", v / l; else print "?"}')
            echo "| $fig | $v ($(spread <"$W/virtppd.$fig")) | $l ($(spread <"$W/libvirtd.$fig")) | $r |"
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
    V net-destroy nbench0 >/dev/null 2>&1
    kill "$DPID" 2>/dev/null
    wait "$DPID" 2>/dev/null
    for f in "$W"/s/run/network/*.pid /run/libvirt/network/*.pid; do [[ -f $f ]] && kill "$(cat "$f")" 2>/dev/null; done
}
trap cleanup EXIT
network_xml() {  # NAME BRIDGE SUBNET-OCTET [BRIDGE-ATTRIBUTES]
    cat <<EOT
<network>
  <name>$1</name>
  <bridge name='$2' $4/>
  <ip address='192.168.$3.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='192.168.$3.10' end='192.168.$3.99'/>
      <host mac='52:54:00:be:00:0c' ip='192.168.$3.5'/>
    </dhcp>
  </ip>
</network>
EOT
}
network_xml nbench virbr9 190 "" >"$W/net.xml"
network_xml nbench0 virbr8 191 "stp='off'" >"$W/net0.xml"
cat >"$W/g.xml" <<'EOF2'
<domain type='qemu'>
  <name>nb</name>
  <memory unit='MiB'>32</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type></os>
  <devices>
    <interface type='network'><mac address='52:54:00:be:00:01'/><source network='nbench'/><model type='virtio'/></interface>
  </devices>
</domain>
EOF2
V net-define "$W/net.xml" >/dev/null
V net-define "$W/net0.xml" >/dev/null
V define "$W/g.xml" >/dev/null
ip netns add cl 2>/dev/null
ip link add vh type veth peer name vc
ip link set vc address 52:54:00:be:00:0c
ip link set vc netns cl
ip netns exec cl ip link set vc up
now() { date +%s.%N; }
start_to_offer() {  # NETWORK BRIDGE: seconds from net-start to the first DHCPOFFER on the veth
    local t0 t1
    t0=$(now)
    V net-start "$1" >/dev/null || touch "$W/failed"
    ip link set vh master "$2" up
    ip netns exec cl /usr/bin/python3 "$HERE/network/dhcp_probe.py" vc 0.02 30 >/dev/null || touch "$W/failed"
    t1=$(now)
    echo "$t1 - $t0" | bc
}
for pass in warmup measured; do
    a=$(start_to_offer nbench virbr9)
    t0=$(now)
    V start nb >/dev/null || touch "$W/failed"
    t1=$(now)
    g=$(echo "$t1 - $t0" | bc)
    V destroy nb >/dev/null
    V net-destroy nbench >/dev/null
    b=$(start_to_offer nbench0 virbr8)
    V net-destroy nbench0 >/dev/null
    # a failed operation is no figure (libvirtd's guest start once "measured" a virtlogd error)
    [[ -e $W/failed ]] && { echo "an operation failed in the $pass pass: no figures" >&2; exit 1; }
    if [[ $pass == measured ]]; then
        echo "net_start_to_offer $b"
        echo "net_start_to_offer_stp_on $a"
        echo "guest_start_one_nic $g"
    fi
done
