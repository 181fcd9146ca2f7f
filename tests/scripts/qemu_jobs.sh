#!/usr/bin/env bash
# Jobs on a real QEMU guest (the tiny guest; TCG without /dev/kvm) through virtppd: a save slowed
# to a few MiB/s (qemu.conf's save_max_bandwidth) over guest memory filled with random data, so
# its progress is visible. While it runs: stock virsh's and virtpp's domjobinfo from a second
# client (Unbounded, Save, data figures); `save --verbose` prints virsh's "\rSave: [NNN %]" lines
# ending in [100 %]; domjobinfo --completed afterwards. Then aborts: stock virsh domjobabort and
# Ctrl-C typed into virtpp on a pseudo-terminal each stop a save with libvirt's error, the guest
# runs on (its shell answers) and no image file is left. Dump --verbose and its abort, restore's
# refusal to abort, and an idle guest's "Job type: None" compared with the same query to stock
# virsh.
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
svc_init qemu-jobs
W=$SVC_WORK

fail=0
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; fail=$((fail + 1)); }

guest_pids() {
    local f
    for f in "$W/j/state/run/"*.json; do
        [[ -f $f ]] && /usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pid"])' "$f"
    done 2>/dev/null
}
kill_guests() { local p; for p in $(guest_pids); do kill -9 "$p" 2>/dev/null; done; }
SVC_EXIT_HOOKS+=(kill_guests)

mkdir -p "$W/j/state"
printf 'save_max_bandwidth = 6\n' >"$W/j/state/qemu.conf"
VIRTPP_QEMU_STATE_DIR=$W/j/state svc_start_daemon virtppd j "$VIRTPPD" || exit 1
U="qemu+unix:///system?socket=${SVC_SOCK[j]}"

cat >"$W/g.xml" <<XML
<domain type='qemu'>
  <name>tinyjob</name>
  <uuid>6d1b52a8-6f8e-4a4c-9d77-5c4a0e0b6a33</uuid>
  <memory unit='MiB'>160</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type><kernel>$guest/vmlinux</kernel><initrd>$guest/initrd.img</initrd>
    <cmdline>console=ttyS0 quiet panic=-1</cmdline></os>
  <features><acpi/><apic/></features>
  <devices><serial type='unix'><source mode='bind' path='$W/c.sock'/><target port='0'/></serial></devices>
</domain>
XML
answers() { /usr/bin/python3 "$console" "$W/c.sock" --send "$1" --expect "$2" --timeout "${3:-30}"; }
state() { virsh -q -c "$U" domstate tinyjob 2>&1 | head -1; }

# ---- boot, then fill guest memory with random data: the save stream is then ~48 MiB
virsh -q -c "$U" create "$W/g.xml" --paused >/dev/null || { bad "create"; exit 1; }
rm -f "$W/connected"
/usr/bin/python3 "$console" "$W/c.sock" --wait VIRTPP-GUEST-READY --connected "$W/connected" --timeout 90 >"$W/boot.out" 2>&1 &
booter=$!
for _ in $(seq 100); do [[ -f $W/connected ]] && break; sleep 0.05; done
virsh -q -c "$U" resume tinyjob >/dev/null
wait "$booter" && ok "the guest booted" || { bad "the guest did not boot: $(cat "$W/boot.out")"; exit 1; }
answers 'head -c 48000000 /dev/urandom >/fill; echo fill-$?' fill-0 120 && ok "guest memory filled" || bad "fill"

# ---- idle: Job type None, as libvirt's QEMU driver answers
idle_virsh=$(virsh -c "$U" domjobinfo tinyjob 2>&1)
idle_virtpp=$("$CLI" -c "$U" domjobinfo tinyjob 2>&1)
[[ $idle_virsh == "Job type:         None        " && $idle_virtpp == "$idle_virsh" ]] && ok "idle: '$idle_virsh' from both" ||
    bad "idle domjobinfo: virsh '$idle_virsh' virtpp '$idle_virtpp'"
out=$(virsh -c "$U" domjobabort tinyjob 2>&1)
[[ $out == *"Requested operation is not valid: no job is active on the domain"* ]] && ok "abort with no job: refused" || bad "idle abort: $out"

wait_for_job() {  # until the daemon reports the job running
    for _ in $(seq 200); do
        [[ $(virsh -c "$U" domjobinfo tinyjob 2>/dev/null | head -1) == *Unbounded* ]] && return 0
        sleep 0.05
    done
    return 1
}

# ---- save --verbose, watched from a second client; stock virsh waits for the job-completed and
#      lifecycle events (libvirt sends job-completed, with the job's statistics, before stopped-saved)
virsh -c "$U" event --domain tinyjob --all --loop --timeout 120 >"$W/events.out" 2>&1 &
watcher=$!
sleep 0.5
"$CLI" -c "$U" save --verbose tinyjob "$W/one.save" >"$W/save.out" 2>"$W/save.err" &
saver=$!
if wait_for_job; then
    sleep 1.2
    info=$(virsh -c "$U" domjobinfo tinyjob 2>&1)
    mine=$("$CLI" -c "$U" domjobinfo tinyjob 2>&1)
    echo "$info" | sed 's/^/     virsh: /'
    grep -q '^Operation:        Save' <<<"$info" && grep -q '^Data total: ' <<<"$info" && grep -q '^Memory processed: ' <<<"$info" &&
        ok "stock virsh domjobinfo while saving" || bad "virsh domjobinfo: $info"
    [[ $(sed 's/[0-9.]\+ [KMG]\?i\?B\|[0-9]\+ \+ms\|[0-9]\+ *$//' <<<"$mine") == $(sed 's/[0-9.]\+ [KMG]\?i\?B\|[0-9]\+ \+ms\|[0-9]\+ *$//' <<<"$info") ]] &&
        ok "virtpp domjobinfo: the same lines" || bad "virtpp domjobinfo: $mine"
    raw=$("$CLI" -c "$U" domjobinfo tinyjob --rawstats 2>&1)
    grep -q '^operation: 2$' <<<"$raw" && grep -q '^memory_remaining: ' <<<"$raw" && ok "--rawstats: libvirt's field names" || bad "rawstats: $raw"
else
    bad "no job seen while saving"
fi
if wait "$saver"; then ok "save --verbose completed"; else bad "save failed: $(cat "$W/save.err")"; fi
err=$(tr '\r' '\n' <"$W/save.err" | grep -c '^Save: \[ *[0-9]\+ %\]')
grep -q $'\rSave: \[100 %\]$' "$W/save.err" && ((err >= 3)) && ok "progress: $err lines, the last [100 %]" ||
    bad "progress output: $(cat -v "$W/save.err")"
tr '\r' '\n' <"$W/save.err" | grep -q '^Save: \[ *[1-9][0-9]\? %\]' && ok "an intermediate percentage was printed" || bad "no intermediate percentage"
grep -q "^Domain 'tinyjob' saved to $W/one.save" "$W/save.out" && ok "saved message" || bad "save stdout: $(cat "$W/save.out")"
for _ in $(seq 50); do grep -q "Stopped Saved" "$W/events.out" && break; sleep 0.1; done
kill "$watcher" 2>/dev/null; wait "$watcher" 2>/dev/null
if grep -q "^event 'job-completed' for domain 'tinyjob':" "$W/events.out" && grep -q '^	operation: 2$' "$W/events.out" &&
   grep -q '^	memory_total: [1-9]' "$W/events.out" &&
   [[ $(grep -n "job-completed" "$W/events.out" | cut -d: -f1) -lt $(grep -n "Stopped Saved" "$W/events.out" | cut -d: -f1) ]]; then
    ok "stock virsh event: job-completed with the save's statistics, then stopped-saved"
else
    bad "events during the save: $(cat "$W/events.out")"
fi
out=$(virsh -q -c "$U" restore "$W/one.save" 2>&1) && ok "restored" || bad "restore: $out"
answers 'echo back-$(head -c 10 /fill | wc -c)' back-10 && ok "the guest runs after restore, memory intact" || bad "shell after restore"

# ---- stock virsh domjobabort mid-save: error, guest running, no file
virsh -c "$U" save tinyjob "$W/two.save" >"$W/abort.out" 2>&1 &
saver=$!
if wait_for_job; then
    sleep 0.5
    out=$(virsh -c "$U" domjobabort tinyjob 2>&1) && ok "virsh domjobabort accepted" || bad "domjobabort: $out"
fi
if wait "$saver"; then bad "the save outlived the abort"; else
    grep -q "operation aborted: job 'domain save' canceled by client" "$W/abort.out" && ok "save aborted: $(grep -m1 'operation aborted' "$W/abort.out")" ||
        bad "abort message: $(cat "$W/abort.out")"; fi
[[ $(state) == running ]] && ok "the guest runs on" || bad "state after abort: $(state)"
[[ ! -e $W/two.save ]] && ok "no partial image left" || bad "a partial image is left"
answers 'echo alive-1' alive-1 && ok "the guest's shell answers" || bad "shell after abort"

# ---- Ctrl-C typed into virtpp on a terminal aborts the save (virsh reads ^C as a key once the job runs)
/usr/bin/python3 - "$CLI" "$U" "$W/three.save" >"$W/pty.out" 2>&1 <<'PY'
import os, pty, select, sys, time
prog, uri, path = sys.argv[1:]
pid, fd = pty.fork()
if pid == 0:
    os.execv(prog, [prog, "-c", uri, "save", "--verbose", "tinyjob", path])
buf = b""
def pump(want, timeout):
    global buf
    end = time.monotonic() + timeout
    while want not in buf and time.monotonic() < end:
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            try:
                buf += os.read(fd, 4096)
            except OSError:
                break
    return want in buf
if not pump(b"Save: [", 30):
    print("no progress before Ctrl-C:", buf); sys.exit(1)
os.write(fd, b"\x03")
pump(b"canceled by client", 20)
_, status = os.waitpid(pid, 0)
print(buf.decode(errors="replace").replace("\r", "\\r"))
sys.exit(0 if os.WEXITSTATUS(status) == 1 and b"canceled by client" in buf else 1)
PY
[[ $? == 0 ]] && ok "Ctrl-C on the terminal aborted the save: $(grep -o 'error: operation aborted[^\]*' "$W/pty.out" | head -1)" || bad "Ctrl-C: $(cat "$W/pty.out")"
[[ $(state) == running && ! -e $W/three.save ]] && ok "running, no image after Ctrl-C" || bad "after Ctrl-C: $(state)"

# ---- SIGINT without a terminal: the same
"$CLI" -c "$U" save tinyjob "$W/four.save" >"$W/int.out" 2>&1 </dev/null &
saver=$!
wait_for_job && sleep 0.3 && kill -INT "$saver"
if wait "$saver"; then bad "the save outlived SIGINT"; else
    grep -q "canceled by client" "$W/int.out" && ok "SIGINT aborted the save" || bad "SIGINT: $(cat "$W/int.out")"; fi
[[ $(state) == running && ! -e $W/four.save ]] && ok "running, no image after SIGINT" || bad "after SIGINT: $(state)"

# ---- dump --verbose (a migration stream, as libvirt's non-memory-only dump), then an aborted one
"$CLI" -c "$U" dump --verbose tinyjob "$W/core" >"$W/dump.out" 2>"$W/dump.err" && ok "dump --verbose" || bad "dump: $(cat "$W/dump.err")"
grep -q $'\rDump: \[100 %\]$' "$W/dump.err" && ok "dump progress ends at [100 %]" || bad "dump progress: $(cat -v "$W/dump.err")"
[[ -s $W/core && $(state) == running ]] && ok "the core is written, the guest runs" || bad "after dump: $(state)"
done_info=$(virsh -c "$U" domjobinfo --completed --keep-completed tinyjob 2>&1)
grep -q '^Job type:         Completed' <<<"$done_info" && grep -q '^Operation:        Dump' <<<"$done_info" &&
    grep -q '^Memory total: ' <<<"$done_info" && ok "domjobinfo --completed after the dump (kept)" || bad "completed: $done_info"
mine=$("$CLI" -c "$U" domjobinfo --completed tinyjob 2>&1)
[[ $(grep -v '^Time elapsed' <<<"$mine") == $(grep -v '^Time elapsed' <<<"$done_info") ]] && ok "virtpp's --completed: the same" || bad "virtpp --completed: $mine"
again=$(virsh -c "$U" domjobinfo --completed tinyjob 2>&1)
[[ $again == "Job type:         None        " ]] && ok "read once without --keep-completed" || bad "completed kept: $again"
"$CLI" -c "$U" dump tinyjob "$W/core2" >"$W/dump2.out" 2>&1 &
dumper=$!
wait_for_job && sleep 0.3 && "$CLI" -c "$U" domjobabort tinyjob
if wait "$dumper"; then bad "the dump outlived the abort"; else
    grep -q "operation aborted: job 'domain core dump' canceled by client" "$W/dump2.out" && ok "dump aborted" || bad "dump abort: $(cat "$W/dump2.out")"; fi
[[ $(state) == running && ! -e $W/core2 ]] && ok "running, no partial core" || bad "after dump abort: $(state)"

# ---- restore cannot be aborted (libvirt: a VM start)
virsh -q -c "$U" save tinyjob "$W/five.save" >/dev/null 2>&1
"$CLI" -c "$U" restore "$W/five.save" >"$W/restore.out" 2>&1 &
restorer=$!
seen=""
for _ in $(seq 100); do
    out=$(virsh -c "$U" domjobinfo tinyjob 2>/dev/null)
    [[ $out == *Restore* ]] && { seen=$out; break; }
    sleep 0.02
done
[[ -n $seen ]] && ok "domjobinfo during restore: Restore" || echo "note: the restore finished before it could be watched"
wait "$restorer" && ok "restored again" || bad "restore: $(cat "$W/restore.out")"
answers 'echo alive-2' alive-2 && ok "the guest's shell answers" || bad "shell after restore"

virsh -q -c "$U" destroy tinyjob >/dev/null 2>&1
svc_stop j
if ((fail)); then echo "$fail failure(s)"; exit 1; fi
echo "all passed"
