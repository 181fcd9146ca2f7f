#!/usr/bin/env bash
# Stock virsh against virtppd and against Debian's libvirtd, the same scripted sessions over TCP
# and unix sockets (read-write and read-only): stdout, stderr and exit codes must match, with the
# clock-derived numbers of the test driver and the version lines that name virtpp masked.
set -u
BIN=${VIRTPP_BINARY_DIR:?}/tools/virtppd
[ -x "$BIN" ] || { echo "virtppd not built"; exit 77; }
command -v virsh >/dev/null || { echo "no virsh"; exit 77; }
[ -x /usr/sbin/libvirtd ] || { echo "no libvirtd"; exit 77; }
[ "$(id -u)" = 0 ] || { echo "libvirtd oracle needs root"; exit 77; }

W=$(mktemp -d)
PIDS=()
# a root libvirtd writes /run/libvirt/common/system.token; ours goes again unless one was there
TOKEN=/run/libvirt/common/system.token
TOKEN_WAS_THERE=0; [ -e "$TOKEN" ] && TOKEN_WAS_THERE=1
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    sleep 0.3
    [ "$TOKEN_WAS_THERE" = 1 ] || rm -f "$TOKEN"
    rm -rf "$W"
}
trap cleanup EXIT
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

start_daemon() {  # name binary -> PORT (not run in a subshell: PIDS must reach the cleanup)
    local name=$1 bin=$2 port; port=$(free_port)
    mkdir -p "$W/$name/run" "$W/$name/log" "$W/nodrivers"
    cat > "$W/$name/conf" <<CONF
listen_tls = 0
listen_tcp = 1
tcp_port = "$port"
listen_addr = "127.0.0.1"
auth_tcp = "none"
auth_unix_ro = "none"
auth_unix_rw = "none"
unix_sock_dir = "$W/$name/run"
unix_sock_group = "root"
unix_sock_ro_perms = "0777"
unix_sock_rw_perms = "0770"
log_level = 3
log_outputs = "3:file:$W/$name/log/daemon.log"
CONF
    LIBVIRT_DRIVER_DIR=$W/nodrivers "$bin" --listen -f "$W/$name/conf" -p "$W/$name/pid" >"$W/$name/log/stdout" 2>&1 &
    PIDS+=($!)
    for _ in $(seq 50); do [ -S "$W/$name/run/libvirt-sock" ] && [ -s "$W/$name/pid" ] && break; sleep 0.1; done
    PORT=$port
}
start_daemon virtppd "$BIN"; VPORT=$PORT
start_daemon libvirtd /usr/sbin/libvirtd; LPORT=$PORT
sleep 0.5

cp "$VIRTPP_SOURCE_DIR/tests/cli/newdom.xml" "$W/dom.xml"  # the domain the sessions define
cat > "$W/net.xml" <<'XML'
<network>
  <name>newnet</name>
  <forward mode='nat'/>
  <bridge name='virbr77'/>
  <ip address='192.168.177.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='192.168.177.2' end='192.168.177.254'/>
    </dhcp>
  </ip>
</network>
XML

# each session is one virsh invocation (state lives while its connection is open)
SESSIONS=(
  "list --all"
  "list"
  "dominfo test"
  "domstate test"
  "domstate nosuchdom"
  "domid test; domuuid test; domname 1"
  "dumpxml test"
  "dumpxml --inactive test"
  "vcpuinfo test"
  "schedinfo test"
  "autostart test; dominfo test; autostart --disable test"
  "domblkstat test vda"
  "domblkstat test"
  "domifstat test testnet0"
  "setmem test 1048576; dominfo test"
  "setvcpus test 1 --live; vcpuinfo test"
  "suspend test; domstate test; resume test; domstate test"
  "suspend nosuchdom"
  "save test $W/test.save; list --all; restore $W/test.save; list --all"
  "domjobinfo test; domjobinfo test --completed; domjobabort test"
  "shutdown test; list --all; start test; list --all"
  "define $W/dom.xml; list --all; start newdom; list --all; destroy newdom; undefine newdom; list --all"
  "define $W/nosuchfile.xml"
  "start test"
  "undefine nosuchdom"
  "nodeinfo"
  "capabilities"
  "sysinfo"
  "domcapabilities"
  "domcapabilities --virttype kvm --arch x86_64"
  "hostname"
  "uri"
  "version"
  "net-list --all"
  "net-info default"
  "net-dumpxml default"
  "net-dumpxml --inactive default"
  "net-uuid default; net-name dd8fe884-6c02-601e-7551-cca97df1c5df"
  "net-autostart default; net-list --all"
  "net-define $W/net.xml; net-start newnet; net-list --all; net-destroy newnet; net-undefine newnet; net-list --all"
  "net-start nosuchnet"
  "domifaddr test; domifaddr test --full --source arp; domifaddr test --source bogus"
  "net-update default add ip-dhcp-host \"<host mac='52:54:00:00:00:01' name='h1' ip='192.168.122.5'/>\" --live --config; net-dumpxml default; net-dumpxml --inactive default"
  "net-update default add dns-host \"<host ip='192.168.122.7'><hostname>a</hostname></host>\"; net-update default delete dns-host \"<host ip='192.168.122.8'><hostname>b</hostname></host>\"; net-dumpxml default"
  "destroy test; list --all"
  "setmaxmem test 1000000 --config; dominfo test"
  "reboot test"
  "domstate test --reason"
  "nosuchcommand"
)
RO_SESSIONS=(
  "list --all"
  "sysinfo"
  "domcapabilities"
  "dominfo test"
  "suspend test"
  "destroy test"
  "define $W/dom.xml"
  "net-destroy default"
  "net-list --all"
  "setmem test 1048576"
)

mask() {
    sed -E -e 's/^(CPU time: +)[0-9.]+s$/\1MASKED/' \
           -e 's/^([0-9]+ +(rd_req|rd_bytes|wr_req|wr_bytes|errs|rx_bytes|rx_packets|rx_errs|rx_drop|tx_bytes|tx_packets|tx_errs|tx_drop) +)[0-9]+$/\1MASKED/' \
           -e 's/^(vda +(rd_req|rd_bytes|wr_req|wr_bytes|errs) +)[0-9]+$/\1MASKED/' \
           -e 's/^(testnet0 +(rx|tx)_[a-z]+ +)[0-9]+$/\1MASKED/' \
           -e 's/^(CPU time: +)[0-9.]+s/\1MASKED/' \
           -e 's/^(cpu_shares +: +)[0-9]+/\1\1/' \
           -e "s#$W/(virtppd|libvirtd)/#WORK/#g" -e "s#127.0.0.1:[0-9]+#127.0.0.1:PORT#g" \
           -e 's/^(Running against daemon: ).*/\1MASKED/'
}

run() {  # label uri session
    local out="$W/out/$1"; mkdir -p "$(dirname "$out")"
    virsh -c "$2" "$3" >"$out.stdout" 2>"$out.stderr"; echo "rc=$?" >"$out.rc"
    mask <"$out.stdout" >"$out.stdout.m"; mask <"$out.stderr" >"$out.stderr.m"
}

fail=0 n=0
compare() {  # label
    local v="$W/out/virtppd/$1" l="$W/out/libvirtd/$1"
    n=$((n+1))
    for s in stdout.m stderr.m rc; do
        if ! cmp -s "$v.$s" "$l.$s"; then
            echo "MISMATCH [$1] $s"; diff "$l.$s" "$v.$s" | head -20; fail=$((fail+1)); return
        fi
    done
    echo "ok [$1]"
}

i=0
for s in "${SESSIONS[@]}"; do
    i=$((i+1))
    for d in virtppd libvirtd; do
        port=$VPORT; [ $d = libvirtd ] && port=$LPORT
        run "$d/tcp-$i" "test+tcp://127.0.0.1:$port/default" "$s"
        run "$d/unix-$i" "test+unix:///default?socket=$W/$d/run/libvirt-sock" "$s"
    done
    compare "tcp-$i"; compare "unix-$i"
done
i=0
for s in "${RO_SESSIONS[@]}"; do
    i=$((i+1))
    for d in virtppd libvirtd; do run "$d/ro-$i" "test+unix:///default?socket=$W/$d/run/libvirt-sock-ro" "$s"; done
    compare "ro-$i"
done
# read-only over TCP (virsh -r)
for d in virtppd libvirtd; do
    port=$VPORT; [ $d = libvirtd ] && port=$LPORT
    out="$W/out/$d/tcp-ro"; virsh -r -c "test+tcp://127.0.0.1:$port/default" "suspend test; list" >"$out.stdout" 2>"$out.stderr"; echo "rc=$?" >"$out.rc"
    mask <"$out.stdout" >"$out.stdout.m"; mask <"$out.stderr" >"$out.stderr.m"
done
compare tcp-ro

# the daemon logged the read-only refusals
grep -q "refused virDomainSuspend" "$W/virtppd/log/daemon.log" || { echo "no refusal logged"; fail=$((fail+1)); }
echo "$n comparisons, $fail failures"
[ $fail = 0 ]
