#!/usr/bin/env bash
# Definitions completed as libvirtd 9.0's QEMU driver completes them: the same definitions
# (tests/data/qemu-define/*.xml) are defined in a private libvirtd (root, own mount namespace,
# lib/libvirtd_root.sh) and in virtppd, and `virsh dumpxml` must match: implicit controllers
# (usb piix3-uhci, pci-root, ide/scsi/sata/fdc), drive addresses, PCI addresses in libvirt's
# order, PS/2 inputs, disk drivers, NIC models, the default CPU, audio backend and video card,
# ISA serial targets, and given CPU models, topologies, features and video cards.
# Masked: only the generated <uuid>. The disk-less definitions are also started on both and their
# running definitions compared (aliases, pty paths, VNC listen, DAC label), then saved and
# restored (`virsh save` / `virsh restore`) and compared again, running and --inactive, masking runtime values
# (id, pty number, VNC port) and what virtppd does not do: cgroup placement (<resource>). The
# live <cpu> is compared as it is: check='full' with the features qemu gave or took away.
set -u
DATA=$(realpath "$(dirname "$0")/../data/qemu-define")
LIB=$(realpath "$(dirname "$0")/lib/libvirtd_root.sh")
BIN=$(realpath "${VIRTPP_BINARY_DIR:?}/tools/virtppd" 2>/dev/null)
[ -x "$BIN" ] || { echo "virtppd not built"; exit 77; }
[ "$(id -u)" = 0 ] || { echo "needs root (libvirtd's system QEMU driver): skipped"; exit 77; }
for t in virsh /usr/sbin/libvirtd qemu-system-x86_64; do command -v "$t" >/dev/null || { echo "$t missing: skipped"; exit 77; }; done
unshare -m true 2>/dev/null || { echo "cannot make a mount namespace here: skipped"; exit 77; }
W=$(mktemp -d /tmp/qdef.XXXXXX)
DPID=
cleanup() {
    if [ -n "$DPID" ]; then kill "$DPID" 2>/dev/null; wait "$DPID" 2>/dev/null; fi
    [ -n "${KEEP:-}" ] || rm -rf "$W"
}
trap cleanup EXIT
mkdir -p "$W/libvirtd" "$W/virtppd" "$W/o" "$W/run" "$W/s"
# the definitions without disks start on both daemons (TCG): their running definitions are compared too
LIVE="qv1 qcv"
names() { for f in "$DATA"/*.xml; do sed -n 's|.*<name>\(.*\)</name>.*|\1|p' "$f" | head -1; done; }

# ---- libvirtd
cat >"$W/oracle.sh" <<ORACLE
set -u
source "$LIB"
mount -t tmpfs tmpfs /run
libvirtd_start_private "$W/o"
for _ in \$(seq 100); do [ -S "\$SOCK" ] && break; sleep 0.1; done
for f in "$DATA"/*.xml; do virsh -q -c qemu:///system define "\$f" >/dev/null || echo "libvirtd refused \$f"; done
for n in $(names | tr '\n' ' '); do virsh -c qemu:///system dumpxml "\$n" >"$W/libvirtd/\$n.xml" 2>&1; done
for n in $LIVE; do
    virsh -q -c qemu:///system start "\$n" >/dev/null 2>&1 || echo "libvirtd could not start \$n"
    virsh -c qemu:///system dumpxml "\$n" >"$W/libvirtd/\$n.live.xml" 2>&1
    virsh -q -c qemu:///system save "\$n" "$W/o/\$n.save" >/dev/null 2>&1 || echo "libvirtd could not save \$n"
    virsh -q -c qemu:///system restore "$W/o/\$n.save" >/dev/null 2>&1 || echo "libvirtd could not restore \$n"
    virsh -c qemu:///system dumpxml "\$n" >"$W/libvirtd/\$n.restored.live.xml" 2>&1
    virsh -c qemu:///system dumpxml --inactive "\$n" >"$W/libvirtd/\$n.restored.xml" 2>&1
    virsh -q -c qemu:///system destroy "\$n" >/dev/null 2>&1
done
kill \$DPID; wait \$DPID
ORACLE
timeout 300 unshare -m --propagation private bash "$W/oracle.sh" >"$W/oracle.log" 2>&1 || { echo "libvirtd side failed:"; cat "$W/oracle.log"; exit 1; }

# ---- virtppd
printf 'listen_tls = 0\nunix_sock_dir = "%s"\n' "$W/run" >"$W/conf"
VIRTPP_QEMU_STATE_DIR=$W/s VIRTPP_DEFAULT_NETWORK=no "$BIN" -f "$W/conf" -p "$W/pid" 2>"$W/stderr" &
DPID=$!
for _ in $(seq 100); do [ -S "$W/run/libvirt-sock" ] && break; sleep 0.05; done
URI="qemu+unix:///system?socket=$W/run/libvirt-sock"
for f in "$DATA"/*.xml; do virsh -q -c "$URI" define "$f" >/dev/null || echo "virtppd refused $f"; done
for n in $(names); do virsh -c "$URI" dumpxml "$n" >"$W/virtppd/$n.xml" 2>&1; done
for n in $LIVE; do
    virsh -q -c "$URI" start "$n" >/dev/null 2>&1 || echo "virtppd could not start $n"
    virsh -c "$URI" dumpxml "$n" >"$W/virtppd/$n.live.xml" 2>&1
    virsh -q -c "$URI" save "$n" "$W/s/$n.save" >/dev/null 2>&1 || echo "virtppd could not save $n"
    virsh -q -c "$URI" restore "$W/s/$n.save" >/dev/null 2>&1 || echo "virtppd could not restore $n"
    virsh -c "$URI" dumpxml "$n" >"$W/virtppd/$n.restored.live.xml" 2>&1
    virsh -c "$URI" dumpxml --inactive "$n" >"$W/virtppd/$n.restored.xml" 2>&1
    virsh -q -c "$URI" destroy "$n" >/dev/null 2>&1
done

mask() {
    python3 - "$1" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
t = re.sub(r"<uuid>[^<]*</uuid>", "<uuid/>", t)
if sys.argv[1].endswith(".live.xml"):
    # runtime values: the domain id, the pty, the VNC port
    t = re.sub(r"<domain type='qemu' id='\d+'>", "<domain type='qemu' id='N'>", t)
    t = re.sub(r"/dev/pts/\d+", "/dev/pts/N", t)
    t = re.sub(r"port='59\d\d'", "port='59NN'", t)
    # what virtppd does not do (docs/qemu.md): cgroup placement
    t = re.sub(r"\n *<resource>.*?</resource>", "", t, flags=re.S)
sys.stdout.write(t)
PY
}
fail=0
for n in $(names) $(for l in $LIVE; do echo "$l.live $l.restored.live $l.restored"; done); do
    a=$W/libvirtd/$n.xml b=$W/virtppd/$n.xml
    if ! grep -q "<domain" "$a" || ! grep -q "<domain" "$b"; then
        echo "FAIL $n: no definition ($(head -2 "$a") / $(head -2 "$b"))"; fail=$((fail + 1)); continue
    fi
    if diff -u <(mask "$a") <(mask "$b") >"$W/diff"; then echo "ok   $n"; else echo "FAIL $n"; cat "$W/diff"; fail=$((fail + 1)); fi
done
echo "$fail failure(s)"
exit $((fail > 0))
