#!/usr/bin/env bash
# Virtual networks for real, through a root virtppd in network + mount namespaces this test makes
# (nothing on the host changes): the default network (virbr0, 192.168.122.1/24, NAT, autostart)
# defined on first start; an isolated network whose dnsmasq hands a DHCP client on a veth its
# reserved lease and answers DNS for its <dns><host>; a client of `default` reaching an "uplink"
# namespace through NAT with the host's address as its source; a daemon restart that keeps both
# networks and the same dnsmasq processes; a killed dnsmasq restarted with a log line; a guest's
# tap on the bridge only while it runs; errors (overlapping subnet, bridge name taken); and
# net-destroy leaving no bridge and no dnsmasq. Every process started here is stopped by PID.
set -u
if [[ ${VIRTPP_NET_INNER:-} != 1 ]]; then
    BIN=$(realpath "${VIRTPP_BINARY_DIR:?}/tools/virtppd" 2>/dev/null)
    [[ -x $BIN ]] || { echo "virtppd not built"; exit 1; }
    [[ $(id -u) == 0 ]] || { echo "needs root: skipped"; exit 77; }
    command -v virsh >/dev/null || { echo "virsh not installed: skipped"; exit 77; }
    [[ -x /usr/sbin/dnsmasq ]] || { echo "dnsmasq not installed (dnsmasq-base): skipped"; exit 77; }
    command -v busybox >/dev/null || { echo "busybox (udhcpc, nslookup) not installed: skipped"; exit 77; }
    command -v socat >/dev/null || { echo "socat not installed: skipped"; exit 77; }
    unshare -n -m true 2>/dev/null || { echo "cannot make a network namespace here: skipped"; exit 77; }
    export VIRTPP_NET_INNER=1 VIRTPP_NET_BIN=$BIN
    exec unshare -n -m --propagation private -- bash "$0" "$@"
fi

# ---- inside: a network namespace with only lo, a private /sys and /run
mount -t sysfs sysfs /sys
mount -t tmpfs tmpfs /run
ip link set lo up
BIN=$VIRTPP_NET_BIN
W=$(mktemp -d /tmp/vnet.XXXXXX)
export VIRTPP_QEMU_STATE_DIR=$W/s
fail=0
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; fail=$((fail + 1)); }
mkdir -p "$W/run"
cat >"$W/conf" <<EOF
listen_tls = 0
listen_tcp = 0
unix_sock_dir = "$W/run"
auth_unix_ro = "none"
auth_unix_rw = "none"
log_level = 3
log_outputs = "3:file:$W/daemon.log"
EOF
V() { virsh -q -c "qemu+unix:///system?socket=$W/run/libvirt-sock" "$@" 2>&1; }
CLI=$(realpath "${VIRTPP_BINARY_DIR:?}/tools/virtpp")
same() {  # stock virsh and virtpp's CLI give the same stdout, stderr and status for one command string
    local uri="qemu+unix:///system?socket=$W/run/libvirt-sock" ref our
    ref=$(virsh -c "$uri" "$1" 2>"$W/ref.err"; echo "rc=$?"; cat "$W/ref.err")
    our=$("$CLI" -c "$uri" "$1" 2>"$W/our.err"; echo "rc=$?"; cat "$W/our.err")
    if [[ $ref == "$our" ]]; then ok "virtpp = virsh: $1"; else bad "virtpp != virsh: $1"; diff <(echo "$ref") <(echo "$our"); fi
}
run_as() {  # $1: virsh or virtpp; $2: a command string; its stdout, status and stderr
    local uri="qemu+unix:///system?socket=$W/run/libvirt-sock" prog=virsh
    [[ $1 == virtpp ]] && prog=$CLI
    "$prog" -c "$uri" "$2" 2>"$W/run_as.err"; echo "rc=$?"; cat "$W/run_as.err"
}
same_change() {  # a change and its undoing, each done by virsh then by virtpp: the same output
    local ref_do ref_undo our_do our_undo
    ref_do=$(run_as virsh "$1"); ref_undo=$(run_as virsh "$2")
    our_do=$(run_as virtpp "$1"); our_undo=$(run_as virtpp "$2")
    if [[ $ref_do == "$our_do" && $ref_undo == "$our_undo" && $ref_do == *rc=0* && $ref_undo == *rc=0* ]]; then
        ok "virtpp = virsh: $1, then $2"
    else
        bad "virtpp != virsh: $1, then $2"; diff <(echo "$ref_do"; echo "$ref_undo") <(echo "$our_do"; echo "$our_undo")
    fi
}
# the daemon finds dnsmasq in its PATH, as libvirtd does
DAEMON_PATH=$PATH:/usr/sbin
daemon_pid() { cat "$W/pid" 2>/dev/null; }
start_daemon() {
    rm -f "$W/pid"
    PATH=$DAEMON_PATH "$BIN" -f "$W/conf" -p "$W/pid" 2>>"$W/stderr" &
    for _ in $(seq 200); do [ -s "$W/pid" ] && [ -S "$W/run/libvirt-sock" ] && return 0; sleep 0.05; done
    echo "virtppd did not start"; cat "$W/stderr"; return 1
}
stop_daemon() {
    local p; p=$(daemon_pid)
    [ -n "$p" ] || return 0
    kill "$p" 2>/dev/null
    for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || return 0; sleep 0.05; done
    kill -9 "$p" 2>/dev/null
}
dnsmasq_of() {  # the pid of the dnsmasq serving network $1 (by its pid file, checked against its command line)
    local p; p=$(cat "$W/s/run/network/$1.pid" 2>/dev/null) || return 0
    [[ -n $p ]] && tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q "dnsmasq/$1.conf" && echo "$p"
}
BG_PIDS=()
cleanup() {
    stop_daemon
    for p in "${BG_PIDS[@]}"; do kill "$p" 2>/dev/null; done
    for f in "$W"/s/run/network/*.pid; do
        [ -f "$f" ] || continue
        p=$(cat "$f"); tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q "conf-file=$W" && kill "$p"
    done
    for f in "$W"/s/run/*.json; do
        [ -f "$f" ] && p=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pid"])' "$f" 2>/dev/null) && kill "$p" 2>/dev/null
    done
    for n in $(ip netns list 2>/dev/null | awk '{print $1}'); do ip netns del "$n"; done
    rm -rf "$W"
}
trap cleanup EXIT

start_daemon || exit 1

# ---- the default network, made because none was defined
[[ $(V net-list --all) =~ default[[:space:]]+active[[:space:]]+yes[[:space:]]+yes ]] && ok "default defined, active, autostart" || bad "net-list: $(V net-list --all)"
ip -4 addr show virbr0 | grep -q "inet 192.168.122.1/24" && ok "virbr0 carries 192.168.122.1/24" || bad "virbr0: $(ip addr show virbr0)"
[[ -n $(dnsmasq_of default) ]] && ok "dnsmasq serves default" || bad "no dnsmasq for default"
[[ -L $W/s/qemu/networks/autostart/default.xml && -f $W/s/qemu/networks/default.xml ]] && ok "definition and autostart link persisted" || bad "files: $(ls -R "$W/s/qemu")"
V net-dumpxml default | grep -q "<port start='1024' end='65535'/>" && ok "live XML shows the NAT port range" || bad "live xml: $(V net-dumpxml default)"
! V net-dumpxml --inactive default | grep -q "<nat>" && ok "inactive XML has no live-only NAT range" || bad "inactive xml"
nft list table inet virtpp | grep -q 'masquerade to :1024-65535' && ok "nftables table virtpp masquerades for default" || bad "nft: $(nft list ruleset)"
[[ $(cat /proc/sys/net/ipv4/ip_forward) == 1 ]] && ok "IPv4 forwarding on (in this namespace)" || bad "ip_forward off"

# ---- an isolated network with a reservation and a DNS host
cat >"$W/iso.xml" <<'EOF'
<network>
  <name>iso</name>
  <bridge name='virbr7'/>
  <domain name='example.org'/>
  <dns>
    <host ip='192.168.151.5'><hostname>web</hostname></host>
  </dns>
  <ip address='192.168.151.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='192.168.151.100' end='192.168.151.200'/>
      <host mac='52:54:00:aa:00:05' name='guest5' ip='192.168.151.5'/>
    </dhcp>
  </ip>
</network>
EOF
out=$(V net-define "$W/iso.xml") && ok "net-define iso" || bad "net-define: $out"
out=$(V net-start iso) && ok "net-start iso" || bad "net-start: $out"
info=$(V net-info iso)
[[ $info == *"Active:         yes"* && $info == *"Bridge:         virbr7"* ]] && ok "net-info iso" || bad "net-info: $info"
[[ $(V net-list --name --inactive) == "" && $(V net-list --name --persistent | sort | tr '\n' ' ') == "default iso " ]] && ok "net-list filters" || bad "filters: $(V net-list --all)"
ip link show virbr7 | grep -q "52:54:00" && ok "bridge has a generated 52:54:00 MAC" || bad "bridge mac"

cat >"$W/udhcpc.sh" <<'EOF'
#!/bin/sh
[ "$1" = bound ] || exit 0
ip addr add "$ip/${mask:-24}" dev "$interface"
[ -n "$router" ] && ip route add default via "${router%% *}"
echo "$ip" > "$LEASE_OUT"
EOF
chmod +x "$W/udhcpc.sh"
ip netns add c1
ip link add vh1 type veth peer name vc1
ip link set vc1 netns c1
ip netns exec c1 ip link set vc1 address 52:54:00:aa:00:05 up
ip netns exec c1 ip link set lo up
ip link set vh1 master virbr7 up
LEASE_OUT=$W/lease1 ip netns exec c1 busybox udhcpc -i vc1 -n -q -f -t 10 -T 1 -s "$W/udhcpc.sh" >"$W/udhcpc1.log" 2>&1
[[ $(cat "$W/lease1" 2>/dev/null) == 192.168.151.5 ]] && ok "DHCP client got its reserved lease 192.168.151.5" || bad "lease: $(cat "$W/lease1" "$W/udhcpc1.log" 2>&1)"
out=$(ip netns exec c1 busybox nslookup web.example.org 192.168.151.1 2>&1)
[[ $out == *"192.168.151.5"* ]] && ok "dnsmasq answers the <dns><host> web.example.org" || bad "nslookup: $out"
grep -q "52:54:00:aa:00:05 192.168.151.5 guest5" "$W/s/cache/dnsmasq/iso.leases" && ok "the lease is in iso's leases file" || bad "leases: $(cat "$W/s/cache/dnsmasq/iso.leases")"
out=$(V net-dhcp-leases iso)
[[ $out == *"52:54:00:aa:00:05"*"192.168.151.5/24"*"guest5"* ]] && ok "net-dhcp-leases lists it" || bad "net-dhcp-leases: $out"
# virtpp's own CLI prints the same table and errors (expiry in local time, sorted by MAC)
for c in "net-dhcp-leases iso" "net-dhcp-leases iso --mac 52:54:00:aa:00:05" "net-dhcp-leases iso --mac 52:54:00:aa:00:99" \
         "net-dhcp-leases default" "net-dhcp-leases nosuch" "net-dhcp-leases iso --mac ''"; do
    same "$c"
done
out=$("$CLI" -c "qemu+unix:///system?socket=$W/run/libvirt-sock" net-dhcp-leases iso)
[[ $out == *"52:54:00:aa:00:05"*"192.168.151.5/24"*"guest5"* ]] && ok "virtpp net-dhcp-leases lists the lease" || bad "virtpp net-dhcp-leases: $out"

# ---- net-update on the running network: a DHCP host and a DNS host, live and in the definition
out=$(V net-update iso add ip-dhcp-host "<host mac='52:54:00:aa:00:06' name='guest6' ip='192.168.151.6'/>" --live --config) && ok "net-update add ip-dhcp-host" || bad "net-update: $out"
grep -q "52:54:00:aa:00:06,192.168.151.6,guest6" "$W/s/cache/dnsmasq/iso.hostsfile" && V net-dumpxml --inactive iso | grep -q "guest6" && ok "hostsfile and definition have guest6" || bad "hostsfile: $(cat "$W/s/cache/dnsmasq/iso.hostsfile")"
out=$(V net-update iso add dns-host "<host ip='192.168.151.9'><hostname>db</hostname></host>" --live) && ok "net-update add dns-host" || bad "net-update dns: $out"
sleep 0.3
out=$(ip netns exec c1 busybox nslookup db.example.org 192.168.151.1 2>&1)
[[ $out == *"192.168.151.9"* ]] && ok "dnsmasq answers the added dns-host" || bad "nslookup db: $out"
out=$(V net-update iso add ip-dhcp-host "<host mac='52:54:00:aa:00:07' ip='10.9.9.9'/>" --live); [[ $out == *"not in the network"* ]] && ok "reservation outside the subnet refused" || bad "outside: $out"
out=$(V net-update iso delete ip-dhcp-host "<host mac='52:54:00:aa:00:06' name='guest6' ip='192.168.151.6'/>" --live --config) && ! grep -q guest6 "$W/s/cache/dnsmasq/iso.hostsfile" && ok "net-update delete ip-dhcp-host" || bad "delete: $out"
# the same updates through virtpp's CLI print what virsh prints
h8="<host mac='52:54:00:aa:00:08' name='guest8' ip='192.168.151.8'/>"
d8="<host ip='192.168.151.8'><hostname>app</hostname></host>"
for c in "net-update iso add ip-dhcp-host \"$h8\" --live --config|net-update iso delete ip-dhcp-host \"$h8\" --live --config" \
         "net-update iso add-first ip-dhcp-host \"$h8\"|net-update iso delete ip-dhcp-host \"$h8\"" \
         "net-update iso add dns-host \"$d8\" --live|net-update iso delete dns-host \"$d8\" --live" \
         "net-update iso add ip-dhcp-host \"<host mac='52:54:00:aa:00:07' ip='10.9.9.9'/>\" --live|" \
         "net-update iso modify dns-host \"$d8\"|" "net-update iso add ip-dcp-host \"$h8\"|" \
         "net-update iso add ip-dhcp-range \"<range start='192.168.151.200' end='192.168.151.210'/>\" --live|net-update iso delete ip-dhcp-range \"<range start='192.168.151.200' end='192.168.151.210'/>\" --live" \
         "net-update iso add-last dns-txt \"<txt name='t8' value='v8'/>\" --live|net-update iso delete dns-txt \"<txt name='t8'/>\" --live" \
         "net-update iso add ip-dhcp-host \"$h8\" --live|net-update iso delete ip-dhcp-host \"<host name='guest8'/>\" --live" \
         "net-update iso modify dns-txt \"<txt name='t8'/>\"|" "net-update iso add portgroup \"<portgroup name='p'/>\" --live|net-update iso delete portgroup \"<portgroup name='p'/>\" --live"; do
    do_it=${c%%|*} undo=${c#*|}
    if [[ -n $undo ]]; then same_change "$do_it" "$undo"; else same "$do_it"; fi
done
pid_before=$(cat "$W/s/run/network/iso.pid")
V net-update iso add-last ip-dhcp-range "<range start='192.168.151.220' end='192.168.151.230'/>" --live >/dev/null &&
    grep -q "^dhcp-range=192.168.151.220,192.168.151.230," "$W/s/cache/dnsmasq/iso.conf" &&
    [[ $(cat "$W/s/run/network/iso.pid") != "$pid_before" ]] && kill -0 "$(cat "$W/s/run/network/iso.pid")" &&
    ok "live ip-dhcp-range update restarts dnsmasq with the new range" || bad "live range update: $(grep dhcp-range "$W/s/cache/dnsmasq/iso.conf")"
V net-update iso delete ip-dhcp-range "<range start='192.168.151.220' end='192.168.151.230'/>" --live >/dev/null || bad "range delete"
"$CLI" -c "qemu+unix:///system?socket=$W/run/libvirt-sock" "net-update iso add ip-dhcp-host \"$h8\" --live" >/dev/null &&
    grep -q "52:54:00:aa:00:08,192.168.151.8,guest8" "$W/s/cache/dnsmasq/iso.hostsfile" && ok "virtpp net-update reaches dnsmasq's hostsfile" ||
    bad "virtpp net-update: $(cat "$W/s/cache/dnsmasq/iso.hostsfile")"
V net-update iso delete ip-dhcp-host "$h8" --live >/dev/null

# ---- NAT: a client of default reaches an uplink namespace as the host's address
ip netns add up
ip link add vu type veth peer name vu1
ip link set vu1 netns up
ip addr add 10.77.0.1/24 dev vu
ip link set vu up
ip netns exec up ip addr add 10.77.0.2/24 dev vu1
ip netns exec up ip link set vu1 up
ip netns exec up ip link set lo up
ip netns exec up socat TCP-LISTEN:8080,reuseaddr,fork SYSTEM:'echo peer=$SOCAT_PEERADDR' &
BG_PIDS+=($!)
ip netns add c2
ip link add vh2 type veth peer name vc2
ip link set vc2 netns c2
ip netns exec c2 ip link set vc2 up
ip link set vh2 master virbr0 up
LEASE_OUT=$W/lease2 ip netns exec c2 busybox udhcpc -i vc2 -n -q -f -t 10 -T 1 -s "$W/udhcpc.sh" >"$W/udhcpc2.log" 2>&1
[[ $(cat "$W/lease2" 2>/dev/null) == 192.168.122.* ]] && ok "client of default leased $(cat "$W/lease2")" || bad "lease2: $(cat "$W/udhcpc2.log")"
sleep 0.3
out=$(ip netns exec c2 socat -T 3 - TCP:10.77.0.2:8080 </dev/null 2>&1)
[[ $out == "peer=10.77.0.1" ]] && ok "NAT: the uplink sees the host's address 10.77.0.1" || bad "NAT: '$out'"

# ---- errors, and nothing changes
cat >"$W/clash.xml" <<'EOF'
<network><name>clash</name><bridge name='virbr9'/><ip address='192.168.122.10' netmask='255.255.255.0'/></network>
EOF
V net-define "$W/clash.xml" >/dev/null
out=$(V net-start clash); [[ $out == *"Network is already in use by interface virbr0"* ]] && ok "overlapping subnet names virbr0" || bad "overlap: $out"
ip link show virbr9 >/dev/null 2>&1 && bad "virbr9 left behind" || ok "failed start left no bridge"
V net-undefine clash >/dev/null
ip link add taken type bridge
cat >"$W/taken.xml" <<'EOF'
<network><name>taken</name><bridge name='taken'/><ip address='10.88.0.1' netmask='255.255.255.0'/></network>
EOF
V net-define "$W/taken.xml" >/dev/null
out=$(V net-start taken); [[ $out == *"Unable to create bridge taken"* ]] && ok "bridge name taken: $out" || bad "taken: $out"
V net-undefine taken >/dev/null
echo "<network><name>bad</name><ip address='10.1.1.1' netmask='255.255.255.0'><dhcp><range start='10.2.0.2' end='10.2.0.9'/></dhcp></ip></network>" >"$W/bad.xml"
out=$(V net-define "$W/bad.xml")
[[ $out == *"not entirely within network"* ]] && ok "range outside the subnet refused" || bad "range: $out"

# ---- a restart keeps both networks and their dnsmasq processes
d1=$(dnsmasq_of default); i1=$(dnsmasq_of iso)
stop_daemon
# a definition planted as a symbolic link is not followed (state files are opened O_NOFOLLOW)
ln -s /etc/hostname "$W/s/qemu/networks/planted.xml"
start_daemon || exit 1
[[ $(V net-list --all --name) != *planted* ]] && grep -q "ignoring network config file 'planted.xml'" "$W/daemon.log" "$W/stderr" &&
    ok "a symlinked definition is ignored, with a log line" || bad "planted: $(V net-list --all; tail -3 "$W/daemon.log")"
rm -f "$W/s/qemu/networks/planted.xml"
[[ $(V net-list --name | sort | tr '\n' ' ') == "default iso " ]] && ok "both networks active after a restart" || bad "after restart: $(V net-list --all)"
[[ -n $d1 && $(dnsmasq_of default) == "$d1" && $(dnsmasq_of iso) == "$i1" ]] && ok "same dnsmasq processes ($d1, $i1)" || bad "dnsmasq changed: $d1/$i1 -> $(dnsmasq_of default)/$(dnsmasq_of iso)"

# ---- a dead dnsmasq is restarted, with a log line
kill "$i1"
for _ in $(seq 100); do n=$(dnsmasq_of iso); [[ -n $n && $n != "$i1" ]] && break; sleep 0.05; done
[[ -n $n && $n != "$i1" ]] && ok "dnsmasq of iso restarted (pid $n)" || bad "not restarted"
grep -q "dnsmasq of network 'iso' (pid $i1) exited: restarting it" "$W/stderr" "$W/daemon.log" && ok "restart logged" || bad "log: $(tail -3 "$W/stderr")"

# ---- a guest's tap sits on the bridge while it runs
if command -v qemu-system-x86_64 >/dev/null && [[ -e /dev/net/tun ]]; then
    cat >"$W/g.xml" <<'EOF'
<domain type='qemu'>
  <name>netguest</name>
  <memory unit='MiB'>32</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type></os>
  <devices>
    <interface type='network'><mac address='52:54:00:aa:00:05'/><source network='iso'/><model type='virtio'/></interface>
  </devices>
</domain>
EOF
    V define "$W/g.xml" >/dev/null
    out=$(V start netguest) && ok "guest on iso started" || bad "start: $out"
    ports=$(ip -o link show master virbr7 | awk -F': ' '{print $2}' | cut -d@ -f1 | tr '\n' ' ')
    [[ $ports == *vnet0* ]] && ok "vnet0 enslaved to virbr7 ($ports)" || bad "ports: $ports"
    ip link show vnet0 | grep -q "fe:54:00:aa:00:05" && ok "tap MAC fe:54:00:aa:00:05" || bad "tap mac: $(ip link show vnet0)"
    out=$(V domiflist netguest); [[ $out == *vnet0*network*iso*virtio*52:54:00:aa:00:05* ]] && ok "domiflist" || bad "domiflist: $out"
    # the guest has no OS: its MAC is the one the veth client leased .5 with, so the lease lookup is what is shown
    out=$(V domifaddr netguest --source lease); [[ $out == *vnet0*52:54:00:aa:00:05*ipv4*192.168.151.5/24* ]] && ok "domifaddr --source lease" || bad "domifaddr: $out"
    out=$(V domifstat netguest vnet0); [[ $out == *"vnet0 rx_bytes"* ]] && ok "domifstat vnet0" || bad "domifstat: $out"
    for c in "domifaddr netguest" "domifaddr netguest --source lease --full" "domifaddr netguest --interface vnet0" \
             "domifaddr netguest --interface vnet9" "domifaddr netguest --source agent" "domifaddr netguest --source arp" \
             "domifaddr netguest --source bogus" "domifaddr nosuch"; do
        same "$c"
    done
    V destroy netguest >/dev/null
    ip link show vnet0 >/dev/null 2>&1 && bad "vnet0 left after destroy" || ok "tap gone after destroy"
    out=$(V net-destroy iso; V start netguest); [[ $out == *"network 'iso' is not active"* ]] && ok "guest on an inactive network refused" || bad "inactive: $out"
    V net-start iso >/dev/null
    V undefine netguest >/dev/null
fi

# ---- static <route>s: installed through the bridge at start, gone with it
cat >"$W/rt.xml" <<'EOF'
<network>
  <name>rt</name>
  <bridge name='virbr6'/>
  <ip address='192.168.153.1' netmask='255.255.255.0'/>
  <ip family='ipv6' address='fd00:153::1' prefix='64'/>
  <route address='192.168.222.0' prefix='24' gateway='192.168.153.2'/>
  <route address='192.168.223.0' netmask='255.255.255.0' gateway='192.168.153.3' metric='5'/>
  <route family='ipv6' address='fd00:222::' prefix='64' gateway='fd00:153::2' metric='2'/>
</network>
EOF
out=$(V net-define "$W/rt.xml") && out=$(V net-start rt) && ok "network with static routes started" || bad "rt: $out"
V net-dumpxml --inactive rt | grep -q "<route address='192.168.223.0' netmask='255.255.255.0' gateway='192.168.153.3' metric='5'/>" &&
    ok "routes kept in the definition" || bad "rt xml: $(V net-dumpxml --inactive rt)"
r4=$(ip -4 route show 192.168.222.0/24) r4b=$(ip -4 route show 192.168.223.0/24) r6=$(ip -6 route show fd00:222::/64)
[[ $r4 == *"via 192.168.153.2 dev virbr6"*"metric 1"* && $r4b == *"via 192.168.153.3 dev virbr6"*"metric 5"* &&
   $r6 == *"via fd00:153::2 dev virbr6"*"metric 2"* ]] && ok "routes via virbr6 (metric 1 by default)" || bad "routes: '$r4' '$r4b' '$r6'"
V net-destroy rt >/dev/null
[[ -z $(ip -4 route show 192.168.222.0/24) ]] && ok "routes gone with the bridge" || bad "route left: $(ip route)"
V net-undefine rt >/dev/null

# ---- dnsmasq missing from the daemon's PATH: libvirt's error, naming the package; nothing made
stop_daemon
SAVED_PATH=$DAEMON_PATH DAEMON_PATH=/usr/bin:/bin
start_daemon || exit 1
echo "<network><name>nodns</name><bridge name='virbr8'/><ip address='192.168.152.1' netmask='255.255.255.0'><dhcp><range start='192.168.152.2' end='192.168.152.9'/></dhcp></ip></network>" >"$W/nodns.xml"
V net-define "$W/nodns.xml" >/dev/null
out=$(V net-start nodns)
[[ $out == *"Unable to find 'dnsmasq' binary in \$PATH: No such file or directory (install the dnsmasq-base package)"* ]] &&
    ok "no dnsmasq in PATH: $out" || bad "no dnsmasq: $out"
ip link show virbr8 >/dev/null 2>&1 && bad "virbr8 made without dnsmasq" || ok "nothing made without dnsmasq"
V net-undefine nodns >/dev/null
stop_daemon
DAEMON_PATH=$SAVED_PATH
start_daemon || exit 1

# ---- not root: an unprivileged user's qemu:///session refuses to start a network
mkdir -p "$W/u/rt" "$W/bin" && cp "$CLI" "$BIN" "$W/bin/" && cp "$W/nodns.xml" "$W/u/" && chown -R 65534:65534 "$W/u" && chmod 755 "$W" "$W/bin"
U() { setpriv --reuid=65534 --regid=65534 --clear-groups env -i PATH=/usr/bin:/bin:/usr/sbin HOME="$W/u" XDG_RUNTIME_DIR="$W/u/rt" VIRTPP_SESSION_DAEMON_TIMEOUT=3 "$@"; }
out=$(U "$W/bin/virtpp" -c qemu:///session "net-define $W/u/nodns.xml; net-start nodns" 2>&1)
[[ $out == *"error: Failed to start network nodns"*"virtual networks need root"* ]] && ok "session (not root): $(echo "$out" | tail -1)" || bad "session: $out"
ip link show virbr8 >/dev/null 2>&1 && bad "virbr8 made by the session" || ok "the session made no bridge"
for d in /proc/[0-9]*; do  # its session daemon, by its uid and command line
    [[ $(stat -c %u "$d" 2>/dev/null) == 65534 ]] && tr '\0' ' ' <"$d/cmdline" 2>/dev/null | grep -q "^$W/bin/virtppd" && kill "${d#/proc/}"
done

# ---- net-destroy leaves no bridge and no dnsmasq
i2=$(dnsmasq_of iso)
out=$(V net-destroy iso) && ok "net-destroy iso" || bad "net-destroy: $out"
ip link show virbr7 >/dev/null 2>&1 && bad "virbr7 still there" || ok "no virbr7"
# (a dnsmasq daemonizes: once dead it may linger as a zombie of init here, with no command line)
[[ -n $i2 && -z $(tr -d '\0' <"/proc/$i2/cmdline" 2>/dev/null) ]] && ok "its dnsmasq is gone" || bad "dnsmasq $i2 still runs"
[[ -z $(pgrep -f "dnsmasq.*/iso\.conf") ]] && ok "no process names iso.conf" || bad "leftover: $(pgrep -af "dnsmasq.*/iso\.conf")"
nft list table inet virtpp | grep -q virbr7 && bad "rules for virbr7 left" || ok "its rules are gone"
out=$(V net-undefine iso) && ok "net-undefine iso" || bad "undefine: $out"
[[ ! -e $W/s/qemu/networks/iso.xml ]] && ok "definition removed" || bad "iso.xml left"

echo "$fail failure(s)"
exit $((fail > 0))
