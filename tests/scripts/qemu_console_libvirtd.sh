#!/usr/bin/env bash
# virtpp's console and screenshot against the oracle: Debian's libvirtd 9.0 with its own QEMU
# driver (and virtlogd), as root in mount + network namespaces of their own (private
# /etc/libvirt, /run, /var, passwd and group), driving the tiny Linux guest with
# <bios useserial='yes'/>: virtpp console shows SeaBIOS's banner and a typed command is answered
# by the guest; a second session is refused with libvirtd's own error, which virtpp prints as
# virsh does; --force takes over; virtpp screenshot gets the same image type (PNG) and size as
# virsh's.
set -u
if [[ -z ${VIRTPP_ORACLE_INNER:-} ]]; then
    CLI=$(realpath "${VIRTPP_BINARY_DIR:?}/tools/virtpp" 2>/dev/null)
    [[ -x $CLI ]] || { echo "virtpp not built"; exit 1; }
    [[ $(id -u) == 0 ]] || { echo "needs root: skipped"; exit 77; }
    for t in virsh /usr/sbin/libvirtd /usr/sbin/virtlogd qemu-system-x86_64; do
        command -v "$t" >/dev/null || { echo "$t missing: skipped"; exit 77; }
    done
    unshare -n -m true 2>/dev/null || { echo "cannot make namespaces here: skipped"; exit 77; }
    GUEST=$VIRTPP_BINARY_DIR/qemu-guest
    bash "${VIRTPP_SOURCE_DIR:?}/tests/guest/build.sh" "$GUEST" >/dev/null || { echo "could not build the tiny guest"; exit 1; }
    W=$(mktemp -d /tmp/qconlv.XXXXXX)
    trap 'rm -rf "$W"' EXIT
    VIRTPP_ORACLE_INNER=1 VIRTPP_ORACLE_WORK=$W VIRTPP_CLI=$CLI VIRTPP_GUEST=$GUEST \
        unshare -n -m --propagation private -- bash "$0"
    exit $?
fi

# ---- inside the namespaces
W=$VIRTPP_ORACLE_WORK
CLI=$VIRTPP_CLI
GUEST=$VIRTPP_GUEST
DRIVE="/usr/bin/python3 ${VIRTPP_SOURCE_DIR:?}/tests/scripts/lib/pty_console.py"
fail=0
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; fail=$((fail + 1)); }
mount -t tmpfs tmpfs /run
ip link set lo up
mkdir -p "$W/etc" "$W/var"
cp -a /etc/libvirt/. "$W/etc/"
mount --bind "$W/etc" /etc/libvirt
rm -rf /etc/libvirt/qemu/*.xml /etc/libvirt/qemu/autostart /etc/libvirt/qemu/networks
mkdir -p /etc/libvirt/qemu/networks
printf 'user = "root"\ngroup = "root"\n' >/etc/libvirt/qemu.conf
mount --bind "$W/var" /var
mkdir -p /var/lib/libvirt/qemu /var/log/libvirt/qemu /var/cache/libvirt /var/lib/misc /run/libvirt
ln -sfn /run /var/run
mkdir -p /run/lock && ln -sfn /run/lock /var/lock  # libvirt locks ptys there (LCK.._pts_N)
cp /etc/passwd /etc/group "$W/"
echo "libvirt-qemu:x:64055:64055::/var/lib/libvirt:/usr/sbin/nologin" >>"$W/passwd"
echo "libvirt-qemu:x:64055:" >>"$W/group"
mount --bind "$W/passwd" /etc/passwd
mount --bind "$W/group" /etc/group
/usr/sbin/virtlogd 2>"$W/virtlogd.err" &
LPID=$!
/usr/sbin/libvirtd -p /run/libvirtd.pid 2>"$W/stderr" &
DPID=$!
cleanup() {
    virsh -q -c "qemu+unix:///system?socket=/run/libvirt/libvirt-sock" destroy qconlv >/dev/null 2>&1
    # libvirtd's qemu is not its child: if destroy did not get through, by its pid file
    [[ -f /run/libvirt/qemu/qconlv.pid ]] && kill -9 "$(cat /run/libvirt/qemu/qconlv.pid)" 2>/dev/null
    kill "$DPID" "$LPID" 2>/dev/null
    wait "$DPID" "$LPID" 2>/dev/null
    rm -f /run/libvirt/common/system.token
}
trap cleanup EXIT
SOCK=/run/libvirt/libvirt-sock
for _ in $(seq 200); do [[ -S $SOCK ]] && break; sleep 0.05; done
[[ -S $SOCK ]] || { echo "libvirtd did not start"; cat "$W/stderr"; exit 1; }
URI="qemu+unix:///system?socket=$SOCK"
V() { virsh -q -c "$URI" "$@" 2>&1; }
cat >"$W/g.xml" <<XML
<domain type='qemu'>
  <name>qconlv</name>
  <memory unit='MiB'>96</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64'>hvm</type>
    <kernel>$GUEST/vmlinux</kernel>
    <initrd>$GUEST/initrd.img</initrd>
    <cmdline>console=ttyS0 quiet panic=-1</cmdline>
    <bios useserial='yes'/>
  </os>
  <features><acpi/></features>
  <devices>
    <serial type='pty'/>
    <console type='pty'/>
    <graphics type='vnc' autoport='yes' listen='127.0.0.1'/>
    <memballoon model='none'/>
  </devices>
</domain>
XML
out=$(V define "$W/g.xml") && ok "libvirtd: define" || { bad "define: $out"; exit 1; }
out=$(V start --paused qconlv) && ok "libvirtd: start --paused" || { bad "start: $out"; cat /var/log/libvirt/qemu/qconlv.log 2>/dev/null | tail -5; exit 1; }
( for _ in $(seq 400); do [ -e "$W/ready" ] && break; sleep 0.05; done; virsh -q -c "$URI" resume qconlv >/dev/null 2>&1 ) &
RESUMER=$!
t=$($DRIVE --ready "$W/ready" --timeout 90 --expect "SeaBIOS (version" --expect VIRTPP-GUEST-READY \
    --send 'echo VIRTPP-$((6*7))-TYPED' --expect-after VIRTPP-42-TYPED -- "$CLI" -c "$URI" console qconlv 2>&1)
rc=$?
[ $rc = 0 ] && ok "virtpp console against libvirtd: SeaBIOS banner, ready line, typed command answered" || { bad "virtpp console (rc $rc)"; echo "$t" | tail -20; }
wait "$RESUMER"

rm -f "$W/hold"
$DRIVE --ready "$W/hold" --timeout 40 --expect NEVER-PRINTED -- virsh -c "$URI" console qconlv >"$W/first.txt" 2>&1 &
HOLDER=$!
for _ in $(seq 200); do [ -e "$W/hold" ] && break; sleep 0.05; done
vout=$($DRIVE --timeout 20 --no-escape -- virsh -c "$URI" console qconlv 2>&1 | grep '^error')
pout=$($DRIVE --timeout 20 --no-escape -- "$CLI" -c "$URI" console qconlv 2>&1 | grep '^error')
[ -n "$vout" ] && [ "$vout" = "$pout" ] && ok "second session refused, same error as virsh: $pout" || bad "second session: virsh '$vout' virtpp '$pout'"
t=$($DRIVE --timeout 30 --send 'echo VIRTPP-FORCED-$((2+3))' --expect-after VIRTPP-FORCED-5 -- "$CLI" -c "$URI" console --force qconlv 2>&1)
[ $? = 0 ] && ok "virtpp console --force took over from virsh" || { bad "console --force"; echo "$t" | tail -10; }
for _ in $(seq 100); do kill -0 "$HOLDER" 2>/dev/null || break; sleep 0.1; done
kill -0 "$HOLDER" 2>/dev/null && { bad "virsh's session still runs after --force"; kill "$HOLDER"; } || ok "virsh's session ended when taken over"
wait "$HOLDER" 2>/dev/null

out=$(cd "$W" && "$CLI" -c "$URI" screenshot qconlv --file "$W/p.ppm" 2>&1)
vshot=$(cd "$W" && virsh -c "$URI" screenshot qconlv --file "$W/v.ppm" 2>&1)
mime=${vshot##*with type of }
[[ $out == "Screenshot saved to $W/p.ppm, with type of $mime" ]] && ok "virtpp screenshot against libvirtd: $out" || bad "virtpp screenshot: '$out' (virsh: '$vshot')"
# the same format and dimensions (the first 24 bytes: PNG signature and IHDR, or the PPM header)
[ -s "$W/p.ppm" ] && [ "$(head -c 24 "$W/p.ppm" | od -An -tx1)" = "$(head -c 24 "$W/v.ppm" | od -An -tx1)" ] &&
    ok "same image format and dimensions as virsh's ($(stat -c %s "$W/p.ppm") / $(stat -c %s "$W/v.ppm") bytes, $mime)" || bad "image differs from virsh's: $(head -c 24 "$W/p.ppm" | od -c | head -2)"
V destroy qconlv >/dev/null; V undefine qconlv >/dev/null
[ "$fail" = 0 ] && echo "all passed" || echo "$fail failed"
[ "$fail" = 0 ]
