#!/usr/bin/env bash
# virtppd serving the QEMU driver: stock virsh and virtpp's CLI against a private virtppd (its
# own sockets, VIRTPP_QEMU_STATE_DIR) drive a real guest (TCG, no OS) through define, start,
# suspend, resume, dominfo, domstate, destroy and undefine, and see the same state; a daemon
# restart with a running guest loses nothing; and, as an unprivileged user, `virtpp -c
# qemu:///session list` starts the per-user daemon itself, which exits after its idle timeout
# (VIRTPP_SESSION_DAEMON_TIMEOUT) only once no guest runs.
set -u
BIN=$(realpath "${VIRTPP_BINARY_DIR:?}/tools/virtppd")
CLI=$(realpath "$VIRTPP_BINARY_DIR/tools/virtpp")
[ -x "$BIN" ] && [ -x "$CLI" ] || { echo "virtppd/virtpp not built"; exit 77; }
command -v qemu-system-x86_64 >/dev/null || { echo "qemu-system-x86_64 not installed: skipped"; exit 77; }
command -v virsh >/dev/null || { echo "virsh not installed: skipped"; exit 77; }
W=$(mktemp -d /tmp/qv.XXXXXX)  # short: monitor sockets live under it
export VIRTPP_QEMU_STATE_DIR=$W/s
fail=0
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; fail=$((fail + 1)); }

daemon_pid() { cat "$W/pid" 2>/dev/null; }
start_daemon() {
    rm -f "$W/pid"
    "$BIN" -f "$W/conf" -p "$W/pid" 2>>"$W/stderr" &
    for _ in $(seq 100); do [ -s "$W/pid" ] && [ -S "$W/run/libvirt-sock" ] && return 0; sleep 0.05; done
    echo "virtppd did not start"; cat "$W/stderr"; return 1
}
stop_daemon() {
    local p; p=$(daemon_pid)
    [ -n "$p" ] || return 0
    kill "$p" 2>/dev/null
    for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || return 0; sleep 0.05; done
    kill -9 "$p" 2>/dev/null
}
guest_pids() {  # qemu processes of this test's state directories
    for f in "$W"/s/run/*.json "$W"/u/rt/libvirt/qemu/run/*.json; do
        [ -f "$f" ] && python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pid"])' "$f"
    done 2>/dev/null
}
session_daemons() {  # the virtppd serving the unprivileged user's socket
    ss -xlpn 2>/dev/null | awk -v p="$W/u/rt/libvirt/libvirt-sock" '$5 == p' | grep -o '"virtppd",pid=[0-9]*' | cut -d= -f2
}
cleanup() {
    stop_daemon
    for p in $(session_daemons); do kill "$p" 2>/dev/null; done
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
start_daemon || exit 1
URI="qemu+unix:///system?socket=$W/run/libvirt-sock"
V() { virsh -q -c "$URI" "$@" 2>&1; }
P() { "$CLI" -q -c "$URI" "$@" 2>&1; }

cat >"$W/g.xml" <<XML
<domain type='qemu'>
  <name>qv1</name>
  <memory unit='MiB'>32</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type></os>
  <features><acpi/></features>
  <devices><serial type='pty'/></devices>
</domain>
XML

# ---- lifecycle through virsh, state read back by both clients
out=$(V define "$W/g.xml") && ok "virsh define: $out" || bad "virsh define: $out"
[ "$(V domstate qv1)" = "shut off" ] && [ "$(P domstate qv1)" = "shut off" ] && ok "defined guest shut off for both" || bad "domstate after define: $(V domstate qv1) / $(P domstate qv1)"
out=$(V start qv1) && ok "virsh start" || bad "virsh start: $out"
[ "$(V domstate qv1)" = "running" ] && [ "$(P domstate qv1)" = "running" ] && ok "running for both" || bad "domstate after start: $(V domstate qv1) / $(P domstate qv1)"
[ -n "$(guest_pids)" ] && kill -0 $(guest_pids) && ok "qemu process is alive" || bad "no qemu process"
out=$(V suspend qv1) && ok "virsh suspend" || bad "virsh suspend: $out"
[ "$(V domstate --reason qv1)" = "paused (user)" ] && [ "$(P domstate --reason qv1)" = "paused (user)" ] && ok "paused (user) for both" || bad "domstate after suspend: $(V domstate --reason qv1) / $(P domstate --reason qv1)"
out=$(P resume qv1) && ok "virtpp resume" || bad "virtpp resume: $out"
[ "$(V domstate --reason qv1)" = "running (unpaused)" ] && ok "virsh sees running (unpaused)" || bad "domstate after resume: $(V domstate --reason qv1)"
# dominfo: everything but the CPU time (it moves between the two calls)
vi=$(V dominfo qv1 | grep -v '^CPU time'); pi=$(P dominfo qv1 | grep -v '^CPU time')
[ "$vi" = "$pi" ] && ok "dominfo identical (but CPU time)" || { bad "dominfo differs"; diff <(echo "$vi") <(echo "$pi"); }
echo "$vi" | grep -q '^State: *running' && echo "$vi" | grep -q '^Max memory: *32768 KiB' && echo "$vi" | grep -q '^OS Type: *hvm' &&
    ok "dominfo content" || bad "dominfo content: $vi"
[ "$(V list --name)" = "qv1" ] && [ "$(P list --name)" = "qv1" ] && ok "list --name" || bad "list: $(V list --name) / $(P list --name)"
V dumpxml qv1 | grep -q "<emulator>/usr/bin/qemu-system-x86_64</emulator>" && ok "dumpxml shows the emulator" || bad "dumpxml"

# ---- hot-plug into the running guest: a virtio disk (live + config) and a user-mode NIC (live)
truncate -s 1M "$W/d1.img"
cat >"$W/disk.xml" <<XML
<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='$W/d1.img'/><target dev='vdb' bus='virtio'/></disk>
XML
cat >"$W/nic.xml" <<XML
<interface type='user'><mac address='52:54:00:00:00:02'/><model type='virtio'/></interface>
XML
out=$(V attach-device qv1 "$W/disk.xml" --live --config) && ok "virsh attach-device disk --live --config" || bad "attach disk: $out"
out=$(P attach-device qv1 "$W/nic.xml" --live) && ok "virtpp attach-device nic --live" || bad "attach nic: $out"
[ "$(V domblklist qv1 | awk '{print $1, $2}')" = "vdb $W/d1.img" ] && ok "virsh domblklist shows vdb" || bad "domblklist: $(V domblklist qv1)"
[ "$(V domiflist qv1 | awk '{print $5}')" = "52:54:00:00:00:02" ] && ok "virsh domiflist shows the NIC" || bad "domiflist: $(V domiflist qv1)"
V dumpxml qv1 | grep -q "<address type='pci' domain='0x0000' bus='0x00' slot='0x0[3-9a-f]' function='0x0'/>" && ok "live XML has the hot-plugged PCI addresses" || bad "live XML: $(V dumpxml qv1)"
[ "$(V dumpxml --inactive qv1 | grep -c '<disk')" = 1 ] && [ "$(V dumpxml --inactive qv1 | grep -c '<interface')" = 0 ] && ok "definition got the disk (--config) but not the NIC (--live only)" || bad "inactive XML"
out=$(V attach-device qv1 "$W/disk.xml" --live); [[ $out == *"target vdb already exists"* ]] && ok "second attach of vdb refused" || bad "duplicate attach: $out"
out=$(V detach-device qv1 "$W/disk.xml" --config) && [ "$(V dumpxml --inactive qv1 | grep -c '<disk')" = 0 ] && [ "$(V domblklist qv1 | wc -l)" = 1 ] &&
    ok "detach-device --config: gone from the definition, still live" || bad "detach --config: $out"

# ---- daemon restart with a running guest: nothing lost
gp=$(guest_pids)
stop_daemon
kill -0 $gp 2>/dev/null && ok "guest survives the daemon's exit" || bad "guest died with the daemon"
start_daemon || exit 1
[ "$(V list --name)" = "qv1" ] && ok "restarted daemon lists qv1 running" || bad "after restart: $(V list --all)"
[ "$(P domstate --reason qv1)" = "running (unpaused)" ] && ok "state kept across the restart" || bad "state after restart: $(P domstate --reason qv1)"
out=$(V suspend qv1) && [ "$(P domstate qv1)" = "paused" ] && out=$(V resume qv1) && ok "re-attached monitor answers" || bad "control after restart: $out"
[ "$(V domblklist qv1 | awk '{print $1}')" = "vdb" ] && ok "hot-plugged disk kept across the restart" || bad "after restart: $(V domblklist qv1)"
# no OS in the guest: nobody ejects the device, so, as libvirt, the request stands after 5 s
out=$(V detach-device qv1 "$W/nic.xml" --live) && ok "detach-device --live returns after libvirt's 5 s wait" || bad "detach nic: $out"

# ---- destroy and undefine, through virtpp's CLI, seen by virsh
out=$(P destroy qv1) && ok "virtpp destroy" || bad "virtpp destroy: $out"
# the re-attached qemu is no longer the daemon's child: PID 1 reaps it (late), so a zombie is gone
alive() { [ -e "/proc/$1" ] && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }
alive "$gp" && bad "qemu still running after destroy" || ok "qemu gone after destroy"
[ "$(V domstate --reason qv1)" = "shut off (destroyed)" ] && ok "virsh sees shut off (destroyed)" || bad "after destroy: $(V domstate --reason qv1)"
out=$(V undefine qv1) && ok "virsh undefine" || bad "virsh undefine: $out"
[ -z "$(P list --all --name)" ] && [ -z "$(V list --all --name)" ] && ok "nothing left" || bad "list after undefine: $(V list --all)"
out=$(V domstate qv1); [[ $out == *"failed to get domain 'qv1'"* ]] && ok "lookup after undefine fails as in virsh" || bad "lookup after undefine: $out"
stop_daemon

# ---- qemu:///session autostart, as an unprivileged user
mkdir -p "$W/u/rt" && chown -R 65534:65534 "$W/u" && chmod 755 "$W"
# that user may not reach the build tree (a clone under a 0700 directory): it runs copies, and the
# CLI starts the virtppd beside itself
mkdir -p "$W/bin" && cp "$CLI" "$BIN" "$W/bin/" && chmod 755 "$W/bin"
UCLI=$W/bin/virtpp
U() {
    setpriv --reuid=65534 --regid=65534 --clear-groups env -i PATH=/usr/bin:/bin HOME="$W/u" XDG_RUNTIME_DIR="$W/u/rt" \
        VIRTPP_SESSION_DAEMON_TIMEOUT=5 "$@"
}
[ -z "$(session_daemons)" ] || bad "a session daemon was already running"
t0=$(date +%s.%N)
out=$(U "$UCLI" -c qemu:///session list --all 2>&1)
t1=$(date +%s.%N)
[[ $out == *"Id"*"Name"*"State"* ]] && ok "virtpp -c qemu:///session list started the daemon ($(python3 -c "print(round(($t1-$t0)*1000))") ms)" || bad "session list: $out"
[ -S "$W/u/rt/libvirt/libvirt-sock" ] && ok "user socket at \$XDG_RUNTIME_DIR/libvirt/libvirt-sock" || bad "no user socket"
sd=$(session_daemons)
[ -n "$sd" ] && ok "session daemon runs after the client exited (pid $sd)" || bad "no session daemon"
out=$(U virsh -c qemu:///session list --all 2>&1)
[[ $out == *"Id"*"Name"*"State"* ]] && [ "$(session_daemons)" = "$sd" ] && ok "stock virsh reaches the same session daemon" || { bad "virsh session: $out (daemon before: $sd, now: $(session_daemons))"; ps -u 65534 -o pid,ppid,stat,lstart,args; ss -xlpn | grep "$W"; }
sed 's/qv1/qs1/' "$W/g.xml" >"$W/u/g.xml" && chown 65534 "$W/u/g.xml"
out=$(U "$UCLI" -c qemu:///session create "$W/u/g.xml" 2>&1) && ok "session guest started" || bad "session create: $out"
sd=$(session_daemons)  # the same one, unless the steps above took longer than its timeout
sleep 6
[ -n "$sd" ] && [ "$(session_daemons)" = "$sd" ] && ok "daemon stays past its timeout while a guest runs" || bad "session daemon exited with a guest running"
out=$(U "$UCLI" -c qemu:///session destroy qs1 2>&1) && ok "session guest destroyed" || bad "session destroy: $out"
for _ in $(seq 150); do [ -z "$(session_daemons)" ] && break; sleep 0.1; done
[ -z "$(session_daemons)" ] && ok "idle session daemon exited after its timeout" || bad "session daemon still running"
out=$(LIBVIRT_AUTOSTART=0 U env LIBVIRT_AUTOSTART=0 "$UCLI" -c qemu:///session list 2>&1)
[[ $out == *"Failed to connect socket to '$W/u/rt/libvirt/libvirt-sock'"* ]] && [ -z "$(session_daemons)" ] &&
    ok "LIBVIRT_AUTOSTART=0: no daemon, libvirt's error" || bad "LIBVIRT_AUTOSTART=0: $out"

[ "$fail" = 0 ] && echo "all passed" || echo "$fail failed"
[ "$fail" = 0 ]
