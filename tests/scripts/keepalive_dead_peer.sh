#!/usr/bin/env bash
# Keepalive against a dead peer, both ways (a peer is made dead with SIGSTOP: its socket stays
# open, it just never answers):
#  1. virtpp's client, `virtpp -k 1 -K 2`, with a call pending and an `event --loop` listener on a
#     virtppd that is stopped: both fail with libvirt's keepalive error within interval x (count+1)
#     (+ slack), never hang; the same with libvirtd 9.0 as the stopped daemon when it is installed.
#  2. virtppd (keepalive_interval = 1, keepalive_count = 2) drops a stock `virsh -k 1 -K 2` client
#     that was stopped, and logs why, within interval x (count+1) (+ slack).
set -u
BIN=${VIRTPP_BINARY_DIR:?}/tools/virtppd
VIRTPP=$VIRTPP_BINARY_DIR/tools/virtpp
[ -x "$BIN" ] && [ -x "$VIRTPP" ] || { echo "virtppd or virtpp not built"; exit 77; }

. "$VIRTPP_SOURCE_DIR/tests/scripts/lib/services.sh"
svc_init keepalive
W=$SVC_WORK
CHILDREN=()
stop_children() { local p; for p in "${CHILDREN[@]}"; do kill -CONT "$p" 2>/dev/null; kill "$p" 2>/dev/null; done; for p in "${CHILDREN[@]}"; do wait "$p" 2>/dev/null; done; CHILDREN=(); }
SVC_EXIT_HOOKS+=(stop_children)
LIMIT=3   # interval 1 s x (count 2 + 1)
SLACK=3   # scheduling on a loaded machine
fail=0

wait_for_line() {  # file pattern seconds
    local _
    for _ in $(seq $(($3 * 10))); do grep -q -- "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
    return 1
}

# 1. the client side: a stopped daemon
client_side() {  # daemon-name
    local d=$1 uri="test+unix:///default?socket=${SVC_SOCK[$1]}" out=$W/$1 t0 t_call t_event
    mkdir -p "$out"
    mkfifo "$out/in"
    "$VIRTPP" -k 1 -K 2 -c "$uri" < "$out/in" > "$out/shell" 2>&1 & local shell=$!
    exec 7> "$out/in"
    CHILDREN+=("$shell")
    "$VIRTPP" -k 1 -K 2 -c "$uri" event --all --loop > "$out/event" 2>&1 & local event=$!
    CHILDREN+=("$event")
    echo "domstate test" >&7
    wait_for_line "$out/shell" running 10 || { echo "FAIL [$d] the shell never answered"; cat "$out/shell"; fail=1; exec 7>&-; return; }
    sleep 1.5  # the listener has registered (it prints nothing until an event comes)
    kill -STOP "${SVC_PID[$d]}"
    t0=$(date +%s.%N)
    echo "list --all" >&7   # pending: the daemon never answers
    t_call="" t_event=""
    for _ in $(seq $(((LIMIT + SLACK) * 10 + 10))); do
        [ -z "$t_call" ] && grep -q "keepalive" "$out/shell" && t_call=$(date +%s.%N)
        [ -z "$t_event" ] && ! kill -0 "$event" 2>/dev/null && t_event=$(date +%s.%N)
        [ -n "$t_call" ] && [ -n "$t_event" ] && break
        sleep 0.1
    done
    exec 7>&-
    kill -CONT "${SVC_PID[$d]}"
    wait "$shell" 2>/dev/null
    wait "$event" 2>/dev/null; local event_rc=$?
    local secs
    if [ -n "$t_call" ]; then
        secs=$(echo "$t_call - $t0" | bc)
        if (( $(echo "$secs <= $LIMIT + $SLACK" | bc) )); then echo "ok [$d] pending call failed after ${secs}s: $(grep -m1 keepalive "$out/shell")"
        else echo "FAIL [$d] pending call failed only after ${secs}s"; fail=1; fi
    else
        echo "FAIL [$d] pending call did not fail with the keepalive error"; cat "$out/shell"; fail=1
    fi
    if [ -n "$t_event" ]; then
        secs=$(echo "$t_event - $t0" | bc)
        if (( $(echo "$secs <= $LIMIT + $SLACK" | bc) )) && [ "$event_rc" != 0 ]; then
            echo "ok [$d] event listener ended (exit $event_rc) after ${secs}s: $(head -c 200 "$out/event" | tr '\n' ' ')"
        else echo "FAIL [$d] event listener ended after ${secs}s with exit $event_rc"; cat "$out/event"; fail=1; fi
    else
        echo "FAIL [$d] event listener still running with a dead daemon"; cat "$out/event"; fail=1
    fi
}

svc_start_daemon virtppd virtppd "$BIN" 'keepalive_interval = 1' 'keepalive_count = 2' || exit 1
client_side virtppd
if [ -x /usr/sbin/libvirtd ] && [ "$(id -u)" = 0 ]; then
    svc_start_daemon libvirtd libvirtd /usr/sbin/libvirtd || exit 1
    client_side libvirtd
    svc_stop libvirtd
else
    echo "skip [libvirtd] not installed or not root"
fi
stop_children
svc_stop virtppd

# 2. the daemon side: a stopped stock virsh is dropped
if command -v virsh >/dev/null; then
    svc_start_daemon virtppd v2 "$BIN" 'keepalive_interval = 1' 'keepalive_count = 2' 'log_level = 1' \
        "log_outputs = \"1:file:$W/v2.log\"" || exit 1
    virsh -k 1 -K 2 -c "test+unix:///default?socket=${SVC_SOCK[v2]}" event --all --loop > "$W/virsh_event" 2>&1 & vpid=$!
    CHILDREN+=("$vpid")
    sleep 2  # virsh has connected and registered
    kill -STOP "$vpid"
    t0=$(date +%s.%N)
    if wait_for_line "$W/v2.log" "no response after 2 keepalive messages" $((LIMIT + SLACK + 2)); then
        secs=$(echo "$(date +%s.%N) - $t0" | bc)
        if (( $(echo "$secs <= $LIMIT + $SLACK + 1" | bc) )); then echo "ok [virtppd] dropped the stopped virsh after ${secs}s"
        else echo "FAIL [virtppd] dropped the stopped virsh only after ${secs}s"; fail=1; fi
    else
        echo "FAIL [virtppd] a stopped virsh was not dropped"; tail -5 "$W/v2.log"; fail=1
    fi
    kill -CONT "$vpid"
    stop_children
else
    echo "skip [virsh] not installed"
fi
echo "$([ $fail = 0 ] && echo all passed || echo FAILED)"
exit $fail
