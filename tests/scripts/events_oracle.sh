#!/usr/bin/env bash
# Events through the daemon, against Debian's libvirtd 9.0 as the oracle: stock `virsh event
# --all --loop --timestamp`, `virsh event --domain`, `virsh net-event --loop` and python3-libvirt's
# default event loop listen on test:///default while a second virsh defines, starts, suspends,
# resumes, reboots, shuts down, saves, restores, crash-dumps, destroys and undefines domains and
# networks. The listeners' output (timestamps masked) must be the same line for line for virtppd
# and libvirtd, and virtpp's own `event` / `net-event` (its remote client receiving either daemon's
# events) must print what virsh prints; so must a raw client's transcript of the legacy registration procedures (105/106,
# 167/168) and the registration errors. Skips (77) when libvirtd or virsh is missing.
set -u
BIN=${VIRTPP_BINARY_DIR:?}/tools/virtppd
VIRTPP=$VIRTPP_BINARY_DIR/tools/virtpp
[ -x "$BIN" ] && [ -x "$VIRTPP" ] || { echo "virtppd or virtpp not built"; exit 77; }
command -v virsh >/dev/null || { echo "no virsh"; exit 77; }
[ -x /usr/sbin/libvirtd ] || { echo "no libvirtd"; exit 77; }
[ "$(id -u)" = 0 ] || { echo "libvirtd oracle needs root"; exit 77; }
/usr/bin/python3 -c 'import libvirt' 2>/dev/null || { echo "no python3-libvirt"; exit 77; }

. "$VIRTPP_SOURCE_DIR/tests/scripts/lib/services.sh"
svc_init events
W=$SVC_WORK
LISTENERS=()
stop_listeners() { local p; for p in "${LISTENERS[@]}"; do kill -INT "$p" 2>/dev/null; done; for p in "${LISTENERS[@]}"; do wait "$p" 2>/dev/null; done; LISTENERS=(); }
SVC_EXIT_HOOKS+=(stop_listeners)

svc_start_daemon virtppd virtppd "$BIN" || exit 1
svc_start_daemon libvirtd libvirtd /usr/sbin/libvirtd || exit 1

# with a UUID, so the second define updates the definition
sed 's#<name>newdom</name>#&<uuid>6c1c0d4e-2a5b-4f0e-9d3c-0e1f2a3b4c5d</uuid>#' "$VIRTPP_SOURCE_DIR/tests/cli/newdom.xml" > "$W/dom.xml"
sed 's/<name>newdom</<name>transdom</' "$VIRTPP_SOURCE_DIR/tests/cli/newdom.xml" > "$W/trans.xml"
cat > "$W/net.xml" <<'XML'
<network>
  <name>newnet</name>
  <bridge name='virbr77'/>
  <ip address='192.168.177.1' netmask='255.255.255.0'/>
</network>
XML

cat > "$W/py_listen.py" <<'PY'
import libvirt, sys, time
libvirt.virEventRegisterDefaultImpl()
conn = libvirt.open(sys.argv[1])
lines = []
def dom_cb(c, dom, event, detail, opaque):
    lines.append("domain %s event %d detail %d" % (dom.name(), event, detail))
def net_cb(c, net, event, detail, opaque):
    lines.append("network %s event %d detail %d" % (net.name(), event, detail))
conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, dom_cb, None)
conn.networkEventRegisterAny(None, libvirt.VIR_NETWORK_EVENT_ID_LIFECYCLE, net_cb, None)
print("ready", flush=True)
deadline = time.time() + 30
# the last action stops newnet the second time
while sum(l == "network newnet event 3 detail 0" for l in lines) < 2 and time.time() < deadline:
    libvirt.virEventRunDefaultImpl()
for l in lines:
    print(l)
conn.close()
PY

# the sequence of actions (one virsh session); reboot keeps the guest running (on_reboot restart):
# no event, as in libvirt 9.0
ACTIONS="define $W/dom.xml; start newdom; suspend newdom; resume newdom; reboot newdom; shutdown newdom;\
 start newdom; save newdom $W/SAVE; restore $W/SAVE; dump --crash newdom $W/DUMP; define $W/dom.xml;\
 start newdom; undefine newdom; destroy newdom; create $W/trans.xml; destroy transdom;\
 net-define $W/net.xml; net-start newnet; net-destroy newnet; net-undefine newnet;\
 net-create $W/net.xml; net-destroy newnet"

wait_for() {  # file pattern count: up to 15 s for count lines matching pattern
    local _
    for _ in $(seq 150); do
        [ "$(grep -c -- "$2" "$1" 2>/dev/null)" -ge "$3" ] && return 0
        sleep 0.1
    done
    echo "timed out waiting for $3 x '$2' in $1"; return 1
}

# the count virsh prints at the end includes the sentinel rounds (see run_for): the event lines are compared
mask() { sed -E -e 's/^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:.]+\+0000: /TIMESTAMP: /' -e "s#$W/#WORK/#g" -e 's/^events received: [0-9]+$/events received: N/'; }
after_last() {  # pattern: the lines after the last one matching it (the sentinel's last event)
    awk -v pat="$1" '{ l[NR] = $0; if (index($0, pat)) last = NR } END { for (i = last + 1; i <= NR; i++) print l[i] }'
}

run_for() {  # daemon
    local d=$1 out=$W/out/$1 uri="test+unix:///default?socket=${SVC_SOCK[$1]}"
    local tcp="test+tcp://127.0.0.1:${SVC_TCP_PORT[$1]}/default"
    mkdir -p "$out"
    virsh -c "$uri" event --all --loop --timestamp > "$out/event_all" 2>&1 & LISTENERS+=($!)
    virsh -c "$tcp" event --loop --event lifecycle --domain test > "$out/event_domain" 2>&1 & LISTENERS+=($!)
    virsh -c "$uri" net-event --loop --event lifecycle > "$out/net_event" 2>&1 & LISTENERS+=($!)
    virsh -c "test+unix:///default?socket=${SVC_SOCK_RO[$1]}" event --loop --event lifecycle > "$out/event_ro" 2>&1 & LISTENERS+=($!)
    # virtpp's own client and CLI: the same lines as stock virsh's, from either daemon
    "$VIRTPP" -c "$uri" event --all --loop --timestamp > "$out/cli_event_all" 2>&1 & LISTENERS+=($!)
    "$VIRTPP" -c "$tcp" net-event --loop --event lifecycle > "$out/cli_net_event" 2>&1 & LISTENERS+=($!)
    /usr/bin/python3 "$W/py_listen.py" "$uri" > "$out/python" 2>&1 & local py=$!
    /usr/bin/python3 "$VIRTPP_SOURCE_DIR/tests/scripts/lib/event_wire.py" "${SVC_SOCK[$1]}" register 2 > "$out/wire" 2>&1 & local wire=$!
    # virsh says nothing once it listens: every listener has registered when it has seen the
    # sentinel ('test' suspended and resumed, the default network stopped and started); rounds
    # are repeated until all have, and only what follows the last round is compared
    wait_for "$out/python" ready 1 && wait_for "$out/wire" ready 1 || return 1
    local tries
    for tries in $(seq 20); do
        virsh -c "$uri" "suspend test; resume test; net-destroy default; net-start default" > /dev/null 2>&1
        sleep 0.3
        if grep -q "'test': Resumed" "$out/event_all" && grep -q Resumed "$out/event_domain" &&
           grep -q "'test': Resumed" "$out/cli_event_all" && grep -q "default: Started" "$out/cli_net_event" &&
           grep -q "'test': Resumed" "$out/event_ro" && grep -q "default: Started" "$out/net_event"; then break; fi
    done
    virsh -c "$uri" "$ACTIONS" > "$out/actions" 2>&1
    wait_for "$out/event_all" "'transdom': Stopped" 1 && wait_for "$out/net_event" "newnet: Stopped" 2 || return 1
    wait "$py"; wait "$wire"
    sleep 0.3  # anything that should not come would come now
    stop_listeners
    after_last "'test': Resumed" < "$out/event_all" | mask > "$out/event_all.m"
    after_last "'test': Resumed" < "$out/event_ro" | mask > "$out/event_ro.m"
    after_last "'test': Resumed" < "$out/event_domain" | mask > "$out/event_domain.m"
    after_last "network default: Started" < "$out/net_event" | mask > "$out/net_event.m"
    after_last "'test': Resumed" < "$out/cli_event_all" | mask > "$out/cli_event_all.m"
    after_last "network default: Started" < "$out/cli_net_event" | mask > "$out/cli_net_event.m"
    after_last "network default event 2" < "$out/python" | mask > "$out/python.m"
    mask < "$out/wire" > "$out/wire.m"
    mask < "$out/actions" > "$out/actions.m"
}

fail=0
run_for virtppd || fail=1
run_for libvirtd || fail=1
n=0
for f in event_all event_domain event_ro net_event cli_event_all cli_net_event python wire actions; do
    n=$((n + 1))
    if cmp -s "$W/out/libvirtd/$f.m" "$W/out/virtppd/$f.m"; then
        echo "ok [$f] $(wc -l < "$W/out/virtppd/$f.m") lines"
    else
        echo "MISMATCH [$f] (libvirtd < > virtppd)"; diff "$W/out/libvirtd/$f.m" "$W/out/virtppd/$f.m" | head -40; fail=1
    fi
done
# virtpp's CLI prints what stock virsh prints
for d in virtppd libvirtd; do
    for pair in "cli_event_all event_all" "cli_net_event net_event"; do
        set -- $pair; n=$((n + 1))
        if cmp -s "$W/out/$d/$1.m" "$W/out/$d/$2.m"; then echo "ok [$d: virtpp $1 = virsh $2]"
        else echo "MISMATCH [$d: virtpp $1 vs virsh $2]"; diff "$W/out/$d/$2.m" "$W/out/$d/$1.m" | head -20; fail=1; fi
    done
done
# the comparison proves nothing when both printed nothing
grep -q "Stopped Crashed" "$W/out/virtppd/event_all.m" || { echo "no events seen at all"; cat "$W/out/virtppd/event_all.m"; fail=1; }
grep -q "^message proc=107" "$W/out/virtppd/wire.m" || { echo "no legacy lifecycle message"; fail=1; }
if [ "${VIRTPP_EVENTS_SHOW:-0}" = 1 ]; then cat "$W/out/virtppd/event_all.m" "$W/out/virtppd/wire.m"; fi
echo "$n comparisons, $([ $fail = 0 ] && echo all identical || echo FAILED)"
exit $fail
