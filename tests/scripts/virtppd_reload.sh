#!/usr/bin/env bash
# SIGHUP reloads the QEMU driver's definitions, as libvirtd 9.0's reload re-reads them from disk
# (checked against libvirtd by hand: it behaves the same): a guest or network file that appeared
# is defined, an edited file replaces the inactive definition, a definition whose file was
# removed stays, and a running guest is untouched (same qemu process, still persistent). The
# daemon keeps serving throughout.
set -u
BIN=$(realpath "${VIRTPP_BINARY_DIR:?}/tools/virtppd" 2>/dev/null)
[ -x "$BIN" ] || { echo "virtppd not built"; exit 77; }
command -v virsh >/dev/null || { echo "virsh not installed: skipped"; exit 77; }
W=$(mktemp -d /tmp/vrl.XXXXXX)  # short: monitor sockets live under it
export VIRTPP_QEMU_STATE_DIR=$W/s VIRTPP_DEFAULT_NETWORK=no
S=$W/s/qemu
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
    if [ -n "$DPID" ]; then kill "$DPID" 2>/dev/null; wait "$DPID" 2>/dev/null; fi
    for p in $(guest_pids); do kill -9 "$p" 2>/dev/null; done
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
V() { virsh -q -c "$URI" "$@" 2>&1; }

guest() {  # name uuid memory-MiB
    printf "<domain type='qemu'>\n  <name>%s</name>\n  <uuid>%s</uuid>\n  <memory unit='MiB'>%s</memory>\n  <vcpu>1</vcpu>\n  <os><type arch='x86_64'>hvm</type></os>\n</domain>\n" "$1" "$2" "$3"
}
network() {  # name uuid
    printf "<network>\n  <name>%s</name>\n  <uuid>%s</uuid>\n  <bridge name='vrl%s'/>\n</network>\n" "$1" "$2" "$1"
}
guest keep 11111111-2222-3333-4444-000000000001 32 >"$W/keep.xml"
guest drop 11111111-2222-3333-4444-000000000002 32 >"$W/drop.xml"
guest runs 11111111-2222-3333-4444-000000000003 32 >"$W/runs.xml"
for g in keep drop runs; do V define "$W/$g.xml" >/dev/null || bad "define $g"; done
networks=no
if [ "$(id -u)" = 0 ]; then
    networks=yes
    network netdrop 11111111-2222-3333-4444-0000000000a1 >"$W/netdrop.xml"
    V net-define "$W/netdrop.xml" >/dev/null || bad "net-define netdrop"
fi
running=no
if command -v qemu-system-x86_64 >/dev/null && V start runs >/dev/null; then running=yes; fi
runpid=$(guest_pids)

# what an administrator does by hand between two reloads
guest fresh 11111111-2222-3333-4444-000000000004 48 >"$S/fresh.xml"
rm -f "$S/drop.xml"
guest keep 11111111-2222-3333-4444-000000000001 64 >"$S/keep.xml"
[ $running = yes ] && rm -f "$S/runs.xml"
if [ $networks = yes ]; then
    rm -f "$S/networks/netdrop.xml"
    network netnew 11111111-2222-3333-4444-0000000000a2 >"$S/networks/netnew.xml"
fi
# nothing is read before the signal
[ "$(V list --all --name | sort | tr '\n' ' ')" = "drop keep runs " ] && ok "before SIGHUP: the definitions as they were" || bad "before SIGHUP: $(V list --all --name | tr '\n' ' ')"

kill -HUP "$DPID"
for _ in $(seq 100); do grep -q "definitions reloaded" "$W/log" 2>/dev/null && break; sleep 0.05; done
grep -q "definitions reloaded" "$W/log" && ok "SIGHUP: reload logged" || { bad "no reload in the log"; cat "$W/log"; }
kill -0 "$DPID" 2>/dev/null && ok "daemon alive after SIGHUP" || bad "daemon died on SIGHUP"

names=$(V list --all --name | sort | tr '\n' ' ')
[ "$names" = "drop fresh keep runs " ] && ok "after SIGHUP: fresh appeared, drop (file removed) stays as in libvirtd ($names)" || bad "after SIGHUP: $names"
V dumpxml --inactive keep | grep -q "<memory unit='KiB'>65536</memory>" && ok "edited file replaced keep's definition" || bad "keep not re-read: $(V dumpxml --inactive keep | grep memory)"
V dumpxml fresh | grep -q "<uuid>11111111-2222-3333-4444-000000000004</uuid>" && ok "fresh has its file's UUID" || bad "fresh: $(V dumpxml fresh | head -5)"
if [ $running = yes ]; then
    [ "$(V domstate runs)" = "running" ] && [ "$(guest_pids)" = "$runpid" ] && kill -0 "$runpid" && ok "running guest untouched (pid $runpid)" || bad "running guest: $(V domstate runs), pids $(guest_pids) vs $runpid"
    V dominfo runs | grep -q '^Persistent: *yes' && ok "its file removed, it stays persistent as in libvirtd" || bad "runs: $(V dominfo runs | grep Persistent)"
    V destroy runs >/dev/null
    [ "$(V domstate runs)" = "shut off" ] && ok "destroyed, it stays defined" || bad "runs after destroy: $(V domstate runs)"
else
    echo "note: no qemu-system-x86_64 (or it cannot start): the running-guest half is not exercised"
fi
if [ $networks = yes ]; then
    nets=$(V net-list --all --name | sort | tr '\n' ' ')
    [ "$nets" = "netdrop netnew " ] && ok "networks: netnew appeared, netdrop (file removed) stays" || bad "networks after SIGHUP: $nets"
fi
# a second signal with nothing changed changes nothing
before=$(V list --all --name | sort | tr '\n' ' ')
kill -HUP "$DPID"
sleep 0.5
[ "$(V list --all --name | sort | tr '\n' ' ')" = "$before" ] && kill -0 "$DPID" && ok "a second SIGHUP: same definitions" || bad "second SIGHUP changed $(V list --all --name | tr '\n' ' ')"

echo "$fail failure(s)"
exit $((fail > 0))
