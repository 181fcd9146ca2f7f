#!/usr/bin/env bash
# virtppd as a system service: getopt_long options, -V, log_level / log_filters / log_outputs on
# stderr, file, journald (a datagram socket standing in for the journal) and syslog (a private
# /dev/log in a mount namespace), the default output under -d, SIGHUP reloading the
# configuration, sd_notify, and systemd socket activation (systemd-socket-activate passes the
# listening sockets as systemd does). Every process is started here and stopped by PID.
set -u
BIN=${VIRTPP_BINARY_DIR:?}/tools/virtppd
[ -x "$BIN" ] || { echo "virtppd not built"; exit 77; }
W=$(mktemp -d)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
    rm -rf "$W"
}
trap cleanup EXIT
export VIRTPP_QEMU_STATE_DIR=$W/qemu  # the QEMU driver's state stays in here, also as root
fail=0
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; fail=$((fail + 1)); }
wait_for() {  # seconds command...: true once the command succeeds
    local n=$(($1 * 10)); shift
    while ((n-- > 0)); do "$@" && return 0; sleep 0.1; done
    return 1
}

# A unix datagram listener appending what it receives to a file (the journal, /dev/log, NOTIFY_SOCKET).
listen_dgram() {  # socket-path output-file
    /usr/bin/python3 - "$1" "$2" <<'PY' &
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
os.chmod(sys.argv[1], 0o666)
while True:
    data = s.recv(65536)
    with open(sys.argv[2], "ab") as f:
        f.write(data + b"\n--\n")
PY
    PIDS+=($!)
    wait_for 5 test -S "$1" || bad "listener on $1 did not start"
}

# ---- options: getopt_long, combined short options, -V
out=$("$BIN" -V)
[[ $out == *"virtppd (virtpp) "* && $out == *"Hypervisors: test QEMU"* && $out == *"Remote: Remote"* ]] &&
    ok "-V lists the drivers" || bad "-V: $out"
"$BIN" -x >"$W/o" 2>&1 && bad "-x accepted" || { grep -q "invalid option -- 'x'" "$W/o" && ok "-x refused as getopt does" || bad "-x: $(head -2 "$W/o")"; }
"$BIN" stray >"$W/o" 2>&1 && bad "stray argument accepted" || { grep -q "unexpected, non-option" "$W/o" && ok "stray argument refused" || bad "stray: $(cat "$W/o")"; }
"$BIN" -t >"$W/o" 2>&1 && bad "-t without value accepted" || { grep -q "requires an argument -- 't'" "$W/o" && ok "-t needs a value" || bad "-t: $(head -1 "$W/o")"; }
cat >"$W/opt.conf" <<EOF
unix_sock_dir = "$W/opt-run"
log_outputs = "2:file:$W/opt.log"
EOF
# -vt 1: verbose and a one second timeout in one word pair; the daemon exits by itself
if timeout 10 "$BIN" -vt 1 -f "$W/opt.conf" >"$W/o" 2>&1 && grep -q "for 1 seconds: exiting" "$W/opt.log"; then
    ok "-vt 1 (verbose, timeout 1) exits after a second"
else bad "-vt 1: $(cat "$W/o" "$W/opt.log")"; fi
# -ld: listen and daemonize in one word (TCP on a free port, plain)
PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$W/ld.conf" <<EOF
unix_sock_dir = "$W/ld-run"
listen_tls = 0
listen_tcp = 1
tcp_port = "$PORT"
listen_addr = "127.0.0.1"
auth_tcp = "none"
log_outputs = "2:file:$W/ld.log"
EOF
if "$BIN" -ld -t 3 -f "$W/ld.conf" -p "$W/ld.pid" && wait_for 5 test -s "$W/ld.pid"; then
    LDPID=$(cat "$W/ld.pid"); PIDS+=("$LDPID")
    out=$(virsh -c "test+tcp://127.0.0.1:$PORT/default" list --name 2>&1)
    [[ $out == test* ]] && ok "-ld: detached and listening on TCP" || bad "-ld: virsh says $out"
else bad "-ld did not start: $(cat "$W/ld.log" 2>/dev/null)"; fi

# ---- log_level, log_filters and log_outputs on file, stderr and journald
listen_dgram "$W/journal" "$W/journal.out"
cat >"$W/log.conf" <<EOF
unix_sock_dir = "$W/log-run"
log_level = 4
log_filters = "1:daemon"
log_outputs = "1:file:$W/log.file 4:stderr 2:journald"
EOF
VIRTPP_JOURNAL_SOCKET=$W/journal "$BIN" -f "$W/log.conf" 2>"$W/log.stderr" &
LPID=$!; PIDS+=($LPID)
wait_for 5 test -S "$W/log-run/libvirt-sock" || bad "log daemon did not start: $(cat "$W/log.stderr")"
virsh -c "test+unix:///default?socket=$W/log-run/libvirt-sock" list >/dev/null 2>&1
grep -q "info : listening on unix:$W/log-run/libvirt-sock" "$W/log.file" && ok "file output: info lines through the 1:daemon filter despite log_level 4" ||
    bad "file output: $(head -3 "$W/log.file")"
grep -q " info : " "$W/log.stderr" && bad "stderr output (level 4) got info lines" || ok "stderr output keeps to its level 4"
wait_for 3 grep -q "MESSAGE=listening on unix:$W/log-run" "$W/journal.out" && grep -q "PRIORITY=6" "$W/journal.out" &&
    grep -q "SYSLOG_IDENTIFIER=virtppd" "$W/journal.out" && ok "journald output: MESSAGE, PRIORITY=6 (info), SYSLOG_IDENTIFIER" ||
    bad "journald output: $(head -c 300 "$W/journal.out")"

# ---- SIGHUP reloads: the daemon lives on and the new log settings apply
sed -i "s|1:file:$W/log.file |1:file:$W/log.file.2 |; s|log_filters = \"1:daemon\"|log_filters = \"4:daemon\"|" "$W/log.conf"
kill -HUP $LPID
# the new file output is opened by the reload (its info line is dropped by the new 4:daemon filter)
if wait_for 5 test -e "$W/log.file.2"; then
    kill -0 $LPID 2>/dev/null && ok "SIGHUP: reloaded (the new output exists), still running" || bad "SIGHUP killed the daemon"
else bad "SIGHUP: not reloaded: $(tail -2 "$W/log.file")"; fi
before=$(wc -l <"$W/log.file")
virsh -c "test+unix:///default?socket=$W/log-run/libvirt-sock" list >/dev/null 2>&1
sleep 0.3
[[ $(wc -l <"$W/log.file") == "$before" ]] && ok "after SIGHUP the old output gets no more lines" ||
    bad "after SIGHUP the old output still gets lines"
grep -q "opened" "$W/log.file.2" && bad "after SIGHUP the 4:daemon filter still lets info through" || ok "after SIGHUP the new filter (4:daemon) applies"
echo 'log_outputs = "bogus"' >>"$W/log.conf"
kill -HUP $LPID
wait_for 5 grep -q "configuration not reloaded" "$W/log.file.2" && kill -0 $LPID 2>/dev/null &&
    ok "SIGHUP with a broken file: logged, previous settings kept" || bad "broken reload: $(cat "$W/log.file.2")"
kill -TERM $LPID; wait $LPID 2>/dev/null; rc=$?
[[ $rc == 0 ]] && ok "SIGTERM: clean exit" || bad "SIGTERM exit status $rc"

# ---- -d without log_outputs logs to the journal (here: the stand-in socket), never nowhere
cat >"$W/d.conf" <<EOF
unix_sock_dir = "$W/d-run"
log_level = 2
EOF
: >"$W/journal.out"
if VIRTPP_JOURNAL_SOCKET=$W/journal "$BIN" -d -t 2 -f "$W/d.conf" -p "$W/d.pid"; then
    DPID=$(cat "$W/d.pid"); PIDS+=("$DPID")
    wait_for 5 grep -q "MESSAGE=virtppd .* started" "$W/journal.out" && ok "-d logs to the journal by default" ||
        bad "-d: journal got $(head -c 200 "$W/journal.out")"
else bad "-d did not start"; fi

# ---- syslog output: a private /dev/log in a mount namespace
if [[ $(id -u) == 0 ]] && unshare -m true 2>/dev/null; then
    listen_dgram "$W/devlog" "$W/syslog.out"
    cat >"$W/s.conf" <<EOF
unix_sock_dir = "$W/s-run"
log_outputs = "2:syslog:virtpp-test"
EOF
    mkdir -p "$W/olddev"
    timeout 20 unshare -m bash -c '
        set -e
        mount --make-rprivate /
        mount --rbind /dev "$1/olddev"
        mount -t tmpfs tmpfs /dev
        for n in null zero urandom random; do touch /dev/$n; mount --bind "$1/olddev/$n" /dev/$n; done
        touch /dev/log; mount --bind "$1/devlog" /dev/log
        exec "$2" -t 1 -f "$1/s.conf"' _ "$W" "$BIN" >"$W/s.out" 2>&1
    grep -q "virtpp-test\[[0-9]*\]: virtppd .* started" "$W/syslog.out" && grep -q "^<30>" "$W/syslog.out" &&
        ok "syslog output: identity, pid and priority daemon.info" || bad "syslog: $(head -c 300 "$W/syslog.out") $(cat "$W/s.out")"
else
    echo "skip syslog output: needs root and mount namespaces"
fi

# ---- socket activation and sd_notify, as systemd starts virtppd.service
if command -v systemd-socket-activate >/dev/null; then
    listen_dgram "$W/notify" "$W/notify.out"
    mkdir -p "$W/sa-run"
    cat >"$W/sa.conf" <<EOF
unix_sock_dir = "$W/not-used"
log_outputs = "2:file:$W/sa.log"
EOF
    systemd-socket-activate -l "$W/sa-run/libvirt-sock" -l "$W/sa-run/libvirt-sock-ro" \
        --fdname=virtppd.socket:virtppd-ro.socket -E NOTIFY_SOCKET="$W/notify" -E VIRTPP_QEMU_STATE_DIR \
        "$BIN" --timeout 120 -f "$W/sa.conf" >"$W/sa.out" 2>&1 &
    SAPID=$!; PIDS+=($SAPID)
    wait_for 5 test -S "$W/sa-run/libvirt-sock-ro" || bad "systemd-socket-activate did not listen"
    out=$(virsh -c "test+unix:///default?socket=$W/sa-run/libvirt-sock" list --name 2>&1)
    [[ $out == test* ]] && ok "socket activation: the first connection started virtppd on the passed socket" || bad "activation: $out $(cat "$W/sa.out")"
    wait_for 5 grep -q "READY=1" "$W/notify.out" && grep -q "MAINPID=$SAPID" "$W/notify.out" &&
        ok "sd_notify: READY=1 with MAINPID" || bad "notify: $(cat "$W/notify.out")"
    [ -e "$W/not-used" ] && bad "activated daemon created its own socket directory" || ok "activated daemon made no sockets of its own"
    out=$(virsh -c "test+unix:///default?socket=$W/sa-run/libvirt-sock-ro" suspend test 2>&1)
    [[ $out == *"read only access prevents"* ]] && ok "the -ro socket passed by systemd is read-only" || bad "ro socket: $out"
    kill -HUP $SAPID
    wait_for 5 grep -q "RELOADING=1" "$W/notify.out" && ok "sd_notify: RELOADING=1 on SIGHUP" || bad "no RELOADING=1"
    kill -TERM $SAPID; wait $SAPID 2>/dev/null; rc=$?
    grep -q "STOPPING=1" "$W/notify.out" && [[ $rc == 0 ]] && ok "sd_notify: STOPPING=1, exit 0" || bad "stop: rc $rc, $(cat "$W/notify.out")"
    [ -S "$W/sa-run/libvirt-sock" ] && ok "the activated sockets stay (they are systemd's)" || bad "virtppd removed systemd's socket"
else
    echo "skip socket activation: systemd-socket-activate missing (package systemd)"
fi

echo "virtppd_service: $fail failure(s)"
exit $((fail > 0))
