#!/usr/bin/env bash
# Live migration of a real Linux guest (the tiny guest, TCG) between two virtppd on loopback:
# a QMP migration over TCP (the destination's qemu runs with -incoming defer), driven by stock
# virsh and by virtpp's CLI, over unix and tcp. The guest's shell keeps its state across each
# move (a variable set before answers after). Also: migrating to the same daemon, a name clash on
# the destination and a destroy during a slow migration each fail with libvirt's error, leave the
# guest where it was (or cleanly gone) and no qemu behind. virtpp's migrate --verbose prints virsh's
# progress lines; a slow migration is watched with domjobinfo and aborted with stock domjobabort.
set -uo pipefail
bin=${VIRTPP_BINARY_DIR:?}
VIRTPPD=$bin/tools/virtppd
CLI=$bin/tools/virtpp
[[ -x $VIRTPPD && -x $CLI ]] || { echo "virtppd/virtpp not built"; exit 77; }
command -v qemu-system-x86_64 >/dev/null || { echo "qemu-system-x86_64 not installed: skipped"; exit 77; }
command -v virsh >/dev/null || { echo "virsh not installed: skipped"; exit 77; }
guest=$bin/qemu-guest
bash "${VIRTPP_SOURCE_DIR:?}/tests/guest/build.sh" "$guest" || { echo "could not build the tiny guest"; exit 1; }
. "$VIRTPP_SOURCE_DIR/tests/scripts/lib/services.sh"
console=$VIRTPP_SOURCE_DIR/tests/scripts/lib/serial_console.py
svc_init qemu-migrate
W=$SVC_WORK

fail=0
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; fail=$((fail + 1)); }

guest_pids() {  # qemu processes of one daemon's state directory
    local f
    for f in "$W/$1/state/run/"*.json; do
        [[ -f $f ]] && /usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pid"])' "$f"
    done 2>/dev/null
}
kill_guests() { local n p; for n in a b; do for p in $(guest_pids "$n"); do kill -9 "$p" 2>/dev/null; done; done; }
SVC_EXIT_HOOKS+=(kill_guests)

for n in a b; do
    mkdir -p "$W/$n/state"
    # the stream goes over loopback: qemu listens there and the source is told so
    printf 'migration_address = "127.0.0.1"\nmigration_host = "127.0.0.1"\n' >"$W/$n/state/qemu.conf"
    VIRTPP_QEMU_STATE_DIR=$W/$n/state svc_start_daemon virtppd "$n" "$VIRTPPD" || exit 1
done
A="qemu+unix:///system?socket=${SVC_SOCK[a]}"
B="qemu+unix:///system?socket=${SVC_SOCK[b]}"
A_TCP="qemu+tcp://127.0.0.1:${SVC_TCP_PORT[a]}/system"
B_TCP="qemu+tcp://127.0.0.1:${SVC_TCP_PORT[b]}/system"

xml_with_serial() {  # socket path -> the guest's definition with its console there
    cat <<XML
<domain type='qemu'>
  <name>tinymig</name>
  <uuid>6d1b52a8-6f8e-4a4c-9d77-5c4a0e0b6a01</uuid>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type><kernel>$guest/vmlinux</kernel><initrd>$guest/initrd.img</initrd>
    <cmdline>console=ttyS0 quiet panic=-1</cmdline></os>
  <features><acpi/><apic/></features>
  <devices><serial type='unix'><source mode='bind' path='$1'/><target port='0'/></serial></devices>
</domain>
XML
}
# every move gets its own console socket: both qemu processes exist while the guest moves
for i in 0 1 2 3 4; do xml_with_serial "$W/c$i.sock" >"$W/g$i.xml"; done

state_of() { virsh -q -c "$1" domstate --reason tinymig 2>&1 | head -1; }
answers() {  # socket, then a line to send and the text that must come back
    /usr/bin/python3 "$console" "$1" --send "$2" --expect "$3" --timeout 20
}

# ---- boot on A (paused, so the console is connected before the guest writes to it)
out=$(virsh -c "$A" create "$W/g0.xml" --paused 2>&1) && ok "created on A paused" || bad "create: $out"
rm -f "$W/connected"
/usr/bin/python3 "$console" "$W/c0.sock" --wait VIRTPP-GUEST-READY --connected "$W/connected" --timeout 60 >"$W/boot.out" 2>&1 &
booter=$!
for _ in $(seq 100); do [[ -f $W/connected ]] && break; sleep 0.05; done
virsh -q -c "$A" resume tinymig >/dev/null
wait "$booter" && ok "the guest booted" || { bad "the guest did not boot: $(cat "$W/boot.out")"; exit 1; }
answers "$W/c0.sock" 'X=remembered; echo set-$X' set-remembered && ok "shell state set on A" || bad "shell on A"
pid_a=$(guest_pids a)

# ---- stock virsh, unix sockets, live: A -> B
# the source announces the finished job (job-completed, after stopped-migrated) to stock virsh event
virsh -c "$A" event --domain tinymig --all --loop --timeout 60 >"$W/events.out" 2>&1 &
watcher=$!
sleep 0.5
out=$(virsh -c "$A" migrate --live tinymig "$B" --xml "$W/g1.xml" 2>&1) && ok "virsh migrate --live A -> B" || bad "virsh migrate A -> B: $out"
for _ in $(seq 30); do grep -q "job-completed" "$W/events.out" && break; sleep 0.1; done
kill "$watcher" 2>/dev/null; wait "$watcher" 2>/dev/null
if grep -q "Stopped Migrated" "$W/events.out" && grep -q "^event 'job-completed' for domain 'tinymig':" "$W/events.out" &&
   grep -q '^	operation: 5$' "$W/events.out" &&
   [[ $(grep -n "Stopped Migrated" "$W/events.out" | cut -d: -f1) -lt $(grep -n "job-completed" "$W/events.out" | cut -d: -f1) ]]; then
    ok "source events: stopped-migrated, then job-completed with the migration's statistics"
else
    bad "source events: $(cat "$W/events.out")"
fi
[[ $(state_of "$B") == "running (migrated)" ]] && ok "running (migrated) on B" || bad "state on B: $(state_of "$B")"
out=$(virsh -q -c "$A" list --all 2>&1)
[[ -z $out ]] && ok "gone from A (it was transient)" || bad "A still lists: $out"
sleep 0.3
kill -0 "$pid_a" 2>/dev/null && bad "A's qemu ($pid_a) still runs" || ok "A's qemu ended"
grep -q -- '-incoming defer' "$W/b/state/log/tinymig.log" && ok "B's qemu took an incoming stream" || bad "no -incoming on B"
answers "$W/c1.sock" 'echo value-$X' value-remembered && ok "the shell on B remembers" || bad "shell state lost on B"

# ---- virtpp's CLI over tcp, with --persistent: B -> A
"$CLI" -c "$B_TCP" migrate --live --verbose tinymig "$A_TCP" --persistent --xml "$W/g2.xml" >"$W/verbose.out" 2>"$W/verbose.err" &&
    ok "virtpp migrate --live --verbose --persistent B -> A over tcp" || bad "virtpp migrate B -> A: $(cat "$W/verbose.err")"
[[ $(state_of "$A") == "running (migrated)" ]] && ok "running (migrated) on A" || bad "state on A: $(state_of "$A")"
[[ $(virsh -q -c "$A" dominfo tinymig 2>/dev/null | awk '/^Persistent:/ {print $2}') == yes ]] && ok "persistent on A" || bad "not persistent on A"
[[ -f $W/a/state/qemu/tinymig.xml ]] && ok "A stored its definition" || bad "no definition file on A"
answers "$W/c2.sock" 'echo again-$X' again-remembered && ok "the shell on A remembers" || bad "shell state lost on A"
err=$(tr '\r' '\n' <"$W/verbose.err" | grep -c '^Migration: \[ *[0-9]\+ %\]')
grep -q $'\rMigration: \[100 %\]$' "$W/verbose.err" && ((err >= 1)) && ok "migrate --verbose: $err progress lines, the last [100 %]" ||
    bad "migrate --verbose output: $(cat -v "$W/verbose.err")"

# ---- a slow migration (1 MiB/s) watched with domjobinfo and aborted with stock virsh domjobabort:
#      virtpp's --verbose prints progress until the error, the guest runs on at A, B keeps nothing
xml_with_serial "$W/cab.sock" >"$W/gab.xml"
"$CLI" -c "$A" migrate --live --verbose --bandwidth 1 tinymig "$B" --xml "$W/gab.xml" >"$W/abort.out" 2>"$W/abort.err" &
migrator=$!
info=
for _ in $(seq 100); do
    info=$(virsh -c "$A" domjobinfo tinymig 2>&1)
    grep -q '^Operation: *Outgoing migration' <<<"$info" && break
    sleep 0.05
done
sleep 1.5
info=$(virsh -c "$A" domjobinfo tinymig 2>&1)
mine=$("$CLI" -c "$A" domjobinfo tinymig 2>&1)
echo "$info" | sed 's/^/     virsh: /'
grep -q '^Job type: *Unbounded' <<<"$info" && grep -q '^Operation: *Outgoing migration' <<<"$info" &&
    grep -q '^Memory processed: ' <<<"$info" && ok "stock virsh domjobinfo during the migration" || bad "domjobinfo during the migration: $info"
strip() { sed 's/[0-9.]\+ [KMG]\?i\?B\(\/s\)\?\|[0-9]\+ \+ms\|[0-9]\+ *$//' <<<"$1"; }
[[ $(strip "$mine") == $(strip "$info") ]] && ok "virtpp domjobinfo during the migration: the same lines" || bad "virtpp domjobinfo: $mine"
out=$(virsh -c "$A" domjobabort tinymig 2>&1) && ok "stock virsh domjobabort accepted" || bad "domjobabort: $out"
if wait "$migrator"; then bad "the aborted migration succeeded: $(cat "$W/abort.err")"; else
    grep -q "error: operation aborted: job 'migration out' canceled by client$" "$W/abort.err" &&
        ok "virtpp migrate reports libvirt's abort" || bad "abort message: $(cat -v "$W/abort.err")"
fi
tr '\r' '\n' <"$W/abort.err" | grep -q '^Migration: \[ *[0-9]\+ %\]' && ok "progress was printed before the abort" ||
    bad "no progress before the abort: $(cat -v "$W/abort.err")"
[[ $(state_of "$A") == running* ]] && ok "still running on A after the abort" || bad "state on A after the abort: $(state_of "$A")"
out=$(virsh -c "$A" domjobinfo tinymig 2>&1)
grep -q '^Job type: *None' <<<"$out" && ok "no job left on A" || bad "job after the abort: $out"
for _ in $(seq 60); do [[ -z $(guest_pids b) ]] && break; sleep 0.05; done
out=$(virsh -q -c "$B" list --all 2>&1)
[[ -z $out && -z $(guest_pids b) ]] && ok "nothing left on B after the abort" || bad "B after the abort: $out / $(guest_pids b)"
answers "$W/c2.sock" 'echo kept-$X' kept-remembered && ok "the shell on A answers after the abort" || bad "shell on A after the abort"

# ---- refusals: the same daemon; a name clash on B; neither disturbs the guest
out=$(virsh -c "$A" migrate tinymig "$A_TCP" 2>&1) && bad "migration into itself was accepted" || {
    [[ $out == *"Attempt to migrate guest to the same host"* ]] && ok "into the same daemon: refused" || bad "same-daemon message: $out"; }
clash=$(xml_with_serial "$W/clash.sock" | sed 's/6d1b52a8-6f8e-4a4c-9d77-5c4a0e0b6a01/6d1b52a8-6f8e-4a4c-9d77-5c4a0e0b6aff/')
virsh -q -c "$B" define <(echo "$clash") >/dev/null
out=$(virsh -c "$A" migrate --live tinymig "$B" --xml "$W/g3.xml" 2>&1) && bad "a name clash was accepted" || {
    [[ $out == *"already exists with uuid"* ]] && ok "name clash on B: $out" || bad "clash message: $out"; }
[[ $(state_of "$A") == running* ]] && ok "still running on A" || bad "state on A after refusals: $(state_of "$A")"
[[ $(virsh -q -c "$B" domstate tinymig) == "shut off" ]] && ok "B's own definition untouched" || bad "B's tinymig: $(virsh -q -c "$B" domstate tinymig)"
[[ -z $(guest_pids b) ]] && ok "no qemu left on B" || bad "qemu left on B: $(guest_pids b)"
virsh -q -c "$B" undefine tinymig >/dev/null
answers "$W/c2.sock" 'echo still-$X' still-remembered && ok "the shell on A still answers" || bad "shell on A after refusals"

# ---- a destroy during a slow migration (1 MiB/s) aborts it: the guest is gone from both
virsh -c "$A" migrate --live --bandwidth 1 tinymig "$B" --xml "$W/g4.xml" >"$W/slow.out" 2>&1 &
migrator=$!
for _ in $(seq 100); do [[ -n $(guest_pids b) ]] && break; sleep 0.05; done
sleep 0.5
virsh -q -c "$A" destroy tinymig >/dev/null 2>&1
if wait "$migrator"; then bad "the migration outlived the destroy: $(cat "$W/slow.out")"; else
    grep -q "operation aborted: migration out job: the domain was destroyed" "$W/slow.out" && ok "destroy aborted the migration: $(head -1 "$W/slow.out")" || bad "abort message: $(cat "$W/slow.out")"; fi
[[ $(state_of "$A") == "shut off (destroyed)" ]] && ok "shut off (destroyed) on A" || bad "state on A: $(state_of "$A")"
for _ in $(seq 40); do [[ -z $(guest_pids b) ]] && break; sleep 0.05; done
out=$(virsh -q -c "$B" list --all 2>&1)
[[ -z $out && -z $(guest_pids b) ]] && ok "nothing left on B" || bad "B after the abort: $out / $(guest_pids b)"

# ---- raw clients that prepare an incoming migration on B (REMOTE_PROC_DOMAIN_MIGRATE_PREPARE3)
# and then hang up, or see B killed under them: B never keeps that paused guest
raw_prepare() {  # xml [pid to SIGKILL once prepared]
    /usr/bin/python3 - "${SVC_SOCK[b]}" "$1" "${2:-0}" <<'PY'
import os, signal, socket, struct, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
def xstr(t):
    b = t.encode(); return struct.pack(">I", len(b)) + b + b"\0" * ((4 - len(b) % 4) % 4)
def call(proc, serial, body):
    h = struct.pack(">IIiiIi", 0x20008086, 1, proc, 0, serial, 0) + body
    s.sendall(struct.pack(">I", len(h) + 4) + h)
    n = struct.unpack(">I", s.recv(4, socket.MSG_WAITALL))[0]
    r = s.recv(n - 4, socket.MSG_WAITALL)
    return struct.unpack(">i", r[20:24])[0], r[24:]
assert call(1, 1, struct.pack(">I", 1) + xstr("qemu:///system") + struct.pack(">I", 0))[0] == 0
# cookie, uri_in, flags, dname, resource, dom_xml
assert call(214, 2, struct.pack(">IIQIQ", 0, 0, 0, 0, 0) + xstr(sys.argv[2]))[0] == 0
assert call(51, 3, b"") == (0, struct.pack(">i", 1))  # CONNECT_NUM_OF_DOMAINS: the paused incoming guest
if int(sys.argv[3]): os.kill(int(sys.argv[3]), signal.SIGKILL)
PY
}
nothing_on_b() {  # what
    local _ out
    for _ in $(seq 60); do [[ -z $(guest_pids b) ]] && break; sleep 0.05; done
    out=$(virsh -q -c "$B" list --all 2>&1)
    [[ -z $out && -z $(guest_pids b) ]] && ok "$1" || bad "$1: B has $out / $(guest_pids b)"
}
raw_prepare "$(xml_with_serial "$W/c5.sock")" && ok "prepare3 from a raw client: a paused guest waits on B" || bad "raw prepare3"
nothing_on_b "the client hung up: B ended the incoming guest"
raw_prepare "$(xml_with_serial "$W/c6.sock")" "${SVC_PID[b]}" && ok "prepared again, then B was killed" || bad "raw prepare3 before the kill"
orphan=$(guest_pids b)
wait "${SVC_PID[b]}" 2>/dev/null
unset "SVC_PID[b]"
VIRTPP_QEMU_STATE_DIR=$W/b/state svc_start_daemon virtppd b "$VIRTPPD" || exit 1
B="qemu+unix:///system?socket=${SVC_SOCK[b]}"
nothing_on_b "the restarted B ended the incoming guest it found"
[[ -n $orphan ]] && ! grep -qs "qemu-system" "/proc/$orphan/cmdline" && ok "its qemu ($orphan) is gone" || bad "qemu $orphan still runs"
grep -q "incoming migration abandoned by the daemon's restart" "$W/b/state/log/tinymig.log" && ok "B's guest log says why" || bad "no reason in B's guest log"

echo "$fail failures"
((fail == 0))
