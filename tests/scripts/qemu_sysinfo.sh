#!/usr/bin/env bash
# virConnectGetSysinfo on the QEMU driver: stock virsh against virtppd gives what libvirtd 9.0
# gives for the same dmidecode output (tests/data/smbios/dmidecode.txt, served by a stand-in
# dmidecode first on virtppd's PATH; sysinfo.virsh is libvirtd's answer, and when libvirtd can
# run here it is asked live, in a private mount namespace where the stand-in is bind-mounted over
# /usr/sbin/dmidecode). Without SMBIOS (dmidecode failing, as in containers) both refuse with
# CONFIG_UNSUPPORTED. Read-only connections read it too; domcapabilities is NO_SUPPORT on
# virtppd's QEMU driver and refused on a read-only connection, as libvirtd refuses it.
set -u
DATA=$(realpath "$(dirname "$0")/../data/smbios")
LIB=$(realpath "$(dirname "$0")/lib/libvirtd_root.sh")
# shellcheck source=lib/libvirtd_root.sh
source "$LIB"
BIN=$(realpath "${VIRTPP_BINARY_DIR:?}/tools/virtppd" 2>/dev/null)
[ -x "$BIN" ] || { echo "virtppd not built"; exit 77; }
command -v virsh >/dev/null || { echo "virsh not installed: skipped"; exit 77; }
W=$(mktemp -d /tmp/qsys.XXXXXX)
export VIRTPP_QEMU_STATE_DIR=$W/s
fail=0
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; fail=$((fail + 1)); }
DPID=
cleanup() {
    [ -n "$DPID" ] && kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
    rm -rf "$W"
}
trap cleanup EXIT

mkdir -p "$W/run" "$W/s" "$W/good" "$W/broken"
printf '#!/bin/sh\nexec cat %s/dmidecode.txt\n' "$DATA" >"$W/good/dmidecode"
printf '#!/bin/sh\necho "/dev/mem: No such file or directory" >&2\nexit 1\n' >"$W/broken/dmidecode"
chmod +x "$W/good/dmidecode" "$W/broken/dmidecode"
cat >"$W/conf" <<CONF
listen_tls = 0
unix_sock_dir = "$W/run"
log_outputs = "3:file:$W/log"
CONF
URI="qemu+unix:///system?socket=$W/run/libvirt-sock"

start_daemon() {  # $1: the directory whose dmidecode the daemon finds first
    rm -f "$W/pid" "$W/run/libvirt-sock"
    PATH=$1:$PATH "$BIN" -f "$W/conf" -p "$W/pid" 2>>"$W/stderr" &
    DPID=$!
    for _ in $(seq 100); do [ -S "$W/run/libvirt-sock" ] && return 0; sleep 0.05; done
    echo "virtppd did not start"; cat "$W/stderr"; return 1
}
stop_daemon() {
    kill "$DPID" 2>/dev/null
    wait "$DPID" 2>/dev/null
    DPID=
}

# ---- the oracle, live when it can run here
expected=$DATA/sysinfo.virsh
if [ "$(id -u)" = 0 ] && [ -x /usr/sbin/libvirtd ] && [ -e /usr/sbin/dmidecode ] && unshare -m true 2>/dev/null; then
    cat >"$W/oracle.sh" <<ORACLE
set -u
source "$LIB"
mount -t tmpfs tmpfs /run
mount --bind "$W/good/dmidecode" /usr/sbin/dmidecode
libvirtd_start_private "$W/o"
for _ in \$(seq 100); do [ -S "\$SOCK" ] && break; sleep 0.1; done
virsh -c qemu:///system sysinfo >"$W/oracle.out" 2>&1
kill \$DPID; wait \$DPID
ORACLE
    mkdir -p "$W/o"
    if timeout 120 unshare -m --propagation private bash "$W/oracle.sh" >"$W/oracle.log" 2>&1 && [ -s "$W/oracle.out" ]; then
        if diff -u "$DATA/sysinfo.virsh" "$W/oracle.out"; then ok "libvirtd 9.0 gives the recorded sysinfo"; else bad "libvirtd's sysinfo differs from the recording"; fi
        expected=$W/oracle.out
    else
        echo "note: libvirtd could not be asked here; comparing with the recording"; cat "$W/oracle.log"
    fi
fi

# ---- virtppd with SMBIOS
start_daemon "$W/good" || exit 1
virsh -c "$URI" sysinfo >"$W/ours.out" 2>&1
if diff -u "$expected" "$W/ours.out"; then ok "virsh sysinfo against virtppd: same as libvirtd"; else bad "virsh sysinfo differs"; fi
virsh -r -c "$URI" sysinfo >"$W/ours-ro.out" 2>&1
if diff -u "$expected" "$W/ours-ro.out"; then ok "read-only sysinfo: same"; else bad "read-only sysinfo differs"; fi
out=$(virsh -c "$URI" domcapabilities 2>&1)
want=$'error: failed to get emulator capabilities\nerror: this function is not supported by the connection driver: virConnectGetDomainCapabilities'
[ "$out" = "$want" ] && ok "domcapabilities: NO_SUPPORT" || bad "domcapabilities: $out"
out=$(virsh -r -c "$URI" domcapabilities 2>&1)
want=$'error: failed to get emulator capabilities\nerror: operation forbidden: read only access prevents virConnectGetDomainCapabilities'
[ "$out" = "$want" ] && ok "read-only domcapabilities refused as libvirtd refuses it" || bad "read-only domcapabilities: $out"
stop_daemon

# ---- virtppd without SMBIOS
start_daemon "$W/broken" || exit 1
virsh -c "$URI" sysinfo >"$W/none.out" 2>&1
if diff -u "$DATA/no-smbios.virsh" "$W/none.out"; then ok "no SMBIOS: libvirtd's error"; else bad "no SMBIOS: differs"; fi
stop_daemon

echo "$fail failure(s)"
exit $((fail > 0))
