#!/usr/bin/env bash
# Streams through virtppd on qemu:///system: a real guest (TCG, the tiny Linux guest of
# tests/guest/build.sh) with <bios useserial='yes'/> and a pty serial console.
#   - stock `virsh console` (driven through a pty) shows SeaBIOS's boot messages and the guest's
#     ready line, and a command typed into it reaches the guest's shell and answers;
#   - a second session without --force is refused with libvirt's error; --force takes over (the
#     first session ends with an error); ^] leaves the session and frees the console;
#   - virtpp's own `console` does the same against virtppd;
#   - stock `virsh screenshot` and virtpp's `screenshot` write a PNG (as libvirt 9.0 with this
#     qemu) of the guest's VGA text screen, 720x400, complete;
#   - a read-only connection is refused both;
#   - a firmware-only guest with <bootmenu enable='yes'/>: Esc typed into virsh console opens
#     SeaBIOS's boot menu.
# Passes with and without /dev/kvm (the guest is type='qemu').
set -u
BIN=$(realpath "${VIRTPP_BINARY_DIR:?}/tools/virtppd")
CLI=$(realpath "$VIRTPP_BINARY_DIR/tools/virtpp")
DRIVE="/usr/bin/python3 ${VIRTPP_SOURCE_DIR:?}/tests/scripts/lib/pty_console.py"
[ -x "$BIN" ] && [ -x "$CLI" ] || { echo "virtppd/virtpp not built"; exit 77; }
command -v qemu-system-x86_64 >/dev/null || { echo "qemu-system-x86_64 not installed: skipped"; exit 77; }
command -v virsh >/dev/null || { echo "virsh not installed: skipped"; exit 77; }
[ "$(id -u)" = 0 ] || { echo "qemu:///system needs root: skipped"; exit 77; }
GUEST=$VIRTPP_BINARY_DIR/qemu-guest
bash "$VIRTPP_SOURCE_DIR/tests/guest/build.sh" "$GUEST" >/dev/null || { echo "could not build the tiny guest"; exit 1; }

W=$(mktemp -d /tmp/qcon.XXXXXX)  # short: monitor sockets live under it
export VIRTPP_QEMU_STATE_DIR=$W/s
fail=0
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; fail=$((fail + 1)); }
DPID=
guest_pids() {
    for f in "$W"/s/run/*.json; do
        [ -f "$f" ] && python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pid"])' "$f"
    done 2>/dev/null
}
cleanup() {
    for p in ${BG_PIDS:-}; do kill "$p" 2>/dev/null; done
    if [ -n "$DPID" ]; then
        kill "$DPID" 2>/dev/null
        for _ in $(seq 50); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$DPID" 2>/dev/null
    fi
    for p in $(guest_pids); do kill -9 "$p" 2>/dev/null; done
    sleep 0.2
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
DPID=$!
for _ in $(seq 100); do [ -S "$W/run/libvirt-sock" ] && break; sleep 0.05; done
[ -S "$W/run/libvirt-sock" ] || { echo "virtppd did not start"; cat "$W/stderr"; exit 1; }
URI="qemu+unix:///system?socket=$W/run/libvirt-sock"
ROURI="qemu+unix:///system?socket=$W/run/libvirt-sock-ro"
V() { virsh -q -c "$URI" "$@" 2>&1; }

cat >"$W/g.xml" <<XML
<domain type='qemu'>
  <name>qcon1</name>
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
  </devices>
</domain>
XML
out=$(V define "$W/g.xml") && ok "define" || bad "define: $out"
V dumpxml qcon1 | grep -q "<bios useserial='yes'/>" && ok "<bios useserial='yes'/> kept" || bad "useserial lost: $(V dumpxml qcon1 | grep -A8 '<os>')"
out=$($DRIVE --timeout 20 --no-escape -- virsh -c "$URI" console qcon1 2>&1); [[ $out == *"domain is not running"* ]] && ok "console of a shut-off guest: $out" || bad "console while shut off: $out"

# ---- stock virsh console: boot messages, then a typed command reaches the guest's shell
out=$(V start --paused qcon1) && ok "start --paused" || bad "start: $out"
( for _ in $(seq 200); do [ -e "$W/ready1" ] && break; sleep 0.05; done; virsh -q -c "$URI" resume qcon1 >/dev/null 2>&1 ) &
BG_PIDS="$!"
t=$($DRIVE --ready "$W/ready1" --timeout 90 --expect "SeaBIOS (version" --expect VIRTPP-GUEST-READY \
    --send 'echo VIRTPP-$((6*7))-TYPED' --expect-after VIRTPP-42-TYPED -- virsh -c "$URI" console qcon1 2>&1)
rc=$?
[ $rc = 0 ] && ok "virsh console: SeaBIOS banner, guest ready line, typed command answered" || { bad "virsh console (rc $rc)"; echo "$t" | tail -20; }
[[ $t == *"Connected to domain 'qcon1'"* ]] && ok "virsh console's greeting" || bad "no greeting: $t"
wait $BG_PIDS 2>/dev/null; BG_PIDS=

# ---- one session at a time: refused without --force, taken over with it
rm -f "$W/hold"
$DRIVE --ready "$W/hold" --timeout 60 --expect NEVER-PRINTED -- virsh -c "$URI" console qcon1 >"$W/first.txt" 2>&1 &
HOLDER=$!
BG_PIDS="$HOLDER"
for _ in $(seq 200); do [ -e "$W/hold" ] && break; sleep 0.05; done
[ -e "$W/hold" ] && ok "first session open" || bad "first session did not open: $(cat "$W/first.txt")"
out=$($DRIVE --timeout 20 --no-escape -- virsh -c "$URI" console qcon1 2>&1)
[[ $out == *"error: operation failed: Active console session exists for this domain"* ]] && ok "second virsh console refused: $out" || bad "second console: $out"
out=$($DRIVE --timeout 20 --no-escape -- "$CLI" -c "$URI" console qcon1 2>&1)
[[ $out == *"Active console session exists for this domain"* ]] && ok "virtpp console refused too: $out" || bad "virtpp second console: $out"
t=$($DRIVE --timeout 30 --send 'echo VIRTPP-FORCED-$((2+3))' --expect-after VIRTPP-FORCED-5 -- virsh -c "$URI" console --force qcon1 2>&1)
rc=$?
[ $rc = 0 ] && ok "virsh console --force took the console over and the guest answers" || { bad "console --force (rc $rc)"; echo "$t" | tail -10; }
for _ in $(seq 100); do kill -0 "$HOLDER" 2>/dev/null || break; sleep 0.1; done
kill -0 "$HOLDER" 2>/dev/null && bad "the first session still runs after --force" || ok "the first session ended when taken over"
kill "$HOLDER" 2>/dev/null; wait "$HOLDER" 2>/dev/null; BG_PIDS=

# ---- virtpp's console against virtppd
t=$($DRIVE --timeout 30 --send 'echo VIRTPP-CLI-$((40+2))' --expect-after VIRTPP-CLI-42 -- "$CLI" -c "$URI" console qcon1 2>&1)
rc=$?
[ $rc = 0 ] && [[ $t == *"Escape character is ^] (Ctrl + ])"* ]] && ok "virtpp console: typed command answered, ^] leaves" || { bad "virtpp console (rc $rc)"; echo "$t" | tail -10; }
t=$($DRIVE --timeout 30 --send 'echo VIRTPP-AGAIN' --expect-after VIRTPP-AGAIN -- virsh -c "$URI" console qcon1 2>&1)
[ $? = 0 ] && ok "the console is free again after ^]" || { bad "console after ^]"; echo "$t" | tail -5; }

# ---- screenshots: the VGA text screen, 720x400, as a PPM
img_ok() {  # file: a PNG or PPM of the VGA text screen, 720x400, complete
    python3 - "$1" <<'PY'
import struct, sys, zlib
d = open(sys.argv[1], "rb").read()
if d[:8] == b"\x89PNG\r\n\x1a\n":
    w, h = struct.unpack(">II", d[16:24])
    ok = (w, h) == (720, 400) and d[-8:-4] == b"IEND"
    print("PNG", w, h, len(d))
else:
    parts = d.split(b"\n", 3)
    ok = parts[0] == b"P6" and parts[1] == b"720 400" and parts[2] == b"255" and len(parts[3]) == 720 * 400 * 3
    print("PPM", parts[0:3], len(d))
sys.exit(0 if ok else 1)
PY
}
out=$(cd "$W" && virsh -c "$URI" screenshot qcon1 --file "$W/v.ppm" 2>&1)
[[ $out == "Screenshot saved to $W/v.ppm, with type of image/png"* ]] && ok "virsh screenshot: $out" || bad "virsh screenshot: $out"
p=$(img_ok "$W/v.ppm") && ok "virsh's screenshot is a complete 720x400 image ($p)" || bad "virsh's screenshot: $p"
out=$(cd "$W" && "$CLI" -c "$URI" screenshot qcon1 2>&1)
f=$(ls "$W"/qcon1-*.png 2>/dev/null | head -1)
[[ $out == "Screenshot saved to qcon1-"*".png, with type of image/png"* ]] && [ -n "$f" ] && ok "virtpp screenshot: $out" || bad "virtpp screenshot: $out"
p=$(img_ok "$f") && ok "virtpp's screenshot is a complete 720x400 image ($p)" || bad "virtpp's screenshot: $p"
out=$(virsh -c "$URI" screenshot qcon1 --file "$W/s1.ppm" --screen 1 2>&1); [[ $out == *"no screen with index 1"* ]] && ok "screen 1 refused: $(echo "$out" | tail -1)" || bad "screen 1: $out"

# ---- read-only connections
out=$($DRIVE --timeout 20 --no-escape -- virsh -r -c "$ROURI" console qcon1 2>&1); [[ $out == *"read only access prevents virDomainOpenConsole"* ]] && ok "read-only console refused" || bad "read-only console: $out"
out=$(virsh -r -c "$ROURI" screenshot qcon1 --file "$W/ro.ppm" 2>&1); [[ $out == *"read only access prevents virDomainScreenshot"* ]] && ok "read-only screenshot refused" || bad "read-only screenshot: $out"

# ---- the guest goes away under a session: the session ends
rm -f "$W/ready2"
$DRIVE --ready "$W/ready2" --timeout 30 --no-escape --expect NEVER-PRINTED -- virsh -c "$URI" console qcon1 >"$W/gone.txt" 2>&1 &
S=$!
for _ in $(seq 200); do [ -e "$W/ready2" ] && break; sleep 0.05; done
out=$(V destroy qcon1) && ok "destroy with a console open" || bad "destroy: $out"
for _ in $(seq 100); do kill -0 "$S" 2>/dev/null || break; sleep 0.1; done
kill -0 "$S" 2>/dev/null && { bad "console session outlived the guest"; kill "$S"; } || ok "console session ended with the guest"
wait "$S" 2>/dev/null
out=$(V undefine qcon1) && ok "undefine" || bad "undefine: $out"
grep -q 'protocol error' "$W/log" && bad "daemon log has protocol errors: $(grep 'protocol error' "$W/log")" || ok "no protocol errors in the daemon's log"

# ---- firmware only: SeaBIOS's boot menu on the serial console, opened by a key typed into it
cat >"$W/m.xml" <<XML
<domain type='qemu'>
  <name>qcon2</name>
  <memory unit='MiB'>32</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64'>hvm</type>
    <bootmenu enable='yes' timeout='20000'/>
    <bios useserial='yes' rebootTimeout='0'/>
  </os>
  <devices><serial type='pty'><target port='0'/></serial><console type='pty'><target type='serial' port='0'/></console></devices>
</domain>
XML
out=$(V define "$W/m.xml") && ok "define a firmware-only guest" || bad "define qcon2: $out"
x=$(V dumpxml --inactive qcon2 | tr -d '\n')
[[ $x == *"<bootmenu enable='yes' timeout='20000'/>"*"<bios useserial='yes' rebootTimeout='0'/>"* ]] && ok "<bootmenu> and <bios rebootTimeout> kept" || bad "os of qcon2: $(V dumpxml --inactive qcon2 | grep -A6 '<os>')"
out=$(V start --paused qcon2) && ok "start --paused qcon2" || bad "start qcon2: $out"
( for _ in $(seq 200); do [ -e "$W/ready3" ] && break; sleep 0.05; done; virsh -q -c "$URI" resume qcon2 >/dev/null 2>&1 ) &
R=$!
t=$($DRIVE --ready "$W/ready3" --timeout 60 --expect "SeaBIOS (version" --expect "Press ESC for boot menu" \
    --key '\x1b' --expect-after "Select boot device" -- virsh -c "$URI" console qcon2 2>&1)
rc=$?
[ $rc = 0 ] && ok "Esc typed into virsh console opens SeaBIOS's boot menu" || { bad "boot menu (rc $rc)"; echo "$t" | tail -12; }
wait "$R" 2>/dev/null
pgrep -a -f 'guest=qcon2' | grep -q 'menu=on,reboot-timeout=0,splash-time=20000,strict=on' && ok "-boot menu=on,reboot-timeout=0,splash-time=20000,strict=on" || bad "qemu's -boot: $(pgrep -a -f 'guest=qcon2' | grep -o -- '-boot [^ ]*')"
V destroy qcon2 >/dev/null; V undefine qcon2 >/dev/null

[ "$fail" = 0 ] && echo "all passed" || echo "$fail failed"
[ "$fail" = 0 ]
