#!/usr/bin/env bash
# The default URI as virsh 9.0 chooses it, compared with Debian's virsh line by line: no -c and
# no LIBVIRT_DEFAULT_URI → libvirt.conf's uri_default, else the local daemon probes
# (qemu:///system for root); uri_aliases; the system file for root (bind-mounted over
# /etc/libvirt/libvirt.conf in a private mount namespace, so the host's file is untouched) and
# $XDG_CONFIG_HOME/libvirt/libvirt.conf for other users.
set -u
BIN=${VIRTPP_BINARY_DIR:?}/tools
[ -x "$BIN/virtpp" ] || { echo "virtpp not built"; exit 77; }
command -v virsh >/dev/null || { echo "skip: no virsh (libvirt-clients)"; exit 77; }
[[ $(id -u) == 0 ]] && unshare -m true 2>/dev/null || { echo "skip: needs root and mount namespaces"; exit 77; }
[ -f /etc/libvirt/libvirt.conf ] || { echo "skip: no /etc/libvirt/libvirt.conf to stand in for (libvirt-clients)"; exit 77; }
W=$(mktemp -d)
chmod 755 "$W"
DPID=
cleanup() {
    [ -n "$DPID" ] && kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
    rm -rf "$W"
}
trap cleanup EXIT
fail=0
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; fail=$((fail + 1)); }

# Runs virsh and virtpp with the same arguments, in a mount namespace where the given file is
# /etc/libvirt/libvirt.conf (and an empty directory is /run/libvirt unless a daemon is there).
# usage: both NAME CONF-FILE [env VAR=...] -- ARGS...
both() {
    local name=$1 conf=$2; shift 2
    local -a envs=()
    while [[ $1 != -- ]]; do envs+=("$1"); shift; done
    shift
    for tool in virsh "$BIN/virtpp"; do
        local tag; tag=$(basename "$tool")
        env -u LIBVIRT_DEFAULT_URI -u VIRSH_DEFAULT_CONNECT_URI "${envs[@]}" LIBVIRT_AUTOSTART=0 \
            unshare -m bash -c '
            mount --make-rprivate /
            mount --bind "$1" /etc/libvirt/libvirt.conf
            mount -t tmpfs tmpfs /run && mkdir /run/libvirt && mount --bind "$2" /run/libvirt
            shift 2; exec "$@"' _ "$conf" "$RUNDIR" "$tool" "$@" >"$W/$name.$tag.out" 2>"$W/$name.$tag.err"
        echo $? >"$W/$name.$tag.rc"
        # virtpp names itself where virsh does
        sed -i 's/virtpp/virsh/g' "$W/$name.$tag.out" "$W/$name.$tag.err"
    done
    if cmp -s "$W/$name.virsh.out" "$W/$name.virtpp.out" && cmp -s "$W/$name.virsh.err" "$W/$name.virtpp.err" &&
        cmp -s "$W/$name.virsh.rc" "$W/$name.virtpp.rc"; then
        ok "$name: $(head -1 "$W/$name.virsh.out")$(head -1 "$W/$name.virsh.err") (exit $(cat "$W/$name.virsh.rc"))"
    else
        bad "$name"
        for tag in virsh virtpp; do echo "  $tag (exit $(cat "$W/$name.$tag.rc")):"; sed 's/^/    /' "$W/$name.$tag.out" "$W/$name.$tag.err"; done
    fi
}

RUNDIR=$W/empty-run
mkdir -p "$RUNDIR"
printf 'uri_default = "test:///default"\n' >"$W/default.conf"
printf 'uri_aliases = [\n  "mytest=test:///default",\n  "other=test:///default",\n]\n' >"$W/aliases.conf"
cat "$W/default.conf" "$W/aliases.conf" >"$W/both.conf"
printf 'uri_default = "mytest"\n' >"$W/default-alias.conf"; cat "$W/aliases.conf" >>"$W/default-alias.conf"
printf 'uri_aliases = [ "bad alias=test:///default" ]\n' >"$W/bad-alias.conf"
printf 'uri_aliases = [ "noequals" ]\n' >"$W/noeq-alias.conf"

both uri-default "$W/default.conf" -- uri
both uri-default-list "$W/default.conf" -- list --all
both alias "$W/aliases.conf" -- -c mytest uri
both alias-unknown "$W/aliases.conf" -- -c nosuch uri
both env-beats-default "$W/default.conf" LIBVIRT_DEFAULT_URI=test:///default -- uri
both env-is-alias "$W/aliases.conf" LIBVIRT_DEFAULT_URI=other -- uri
both default-is-alias "$W/default-alias.conf" -- uri
both bad-alias "$W/bad-alias.conf" -- -c mytest uri
both alias-without-equals "$W/noeq-alias.conf" -- -c mytest uri
# root reads the system file only: a user file is ignored
mkdir -p "$W/cfg/libvirt"; cp "$W/default.conf" "$W/cfg/libvirt/libvirt.conf"
both root-ignores-user-file /dev/null XDG_CONFIG_HOME="$W/cfg" -- uri

# nothing configured: the local daemon's socket, where the daemon probes (qemu:///system)
RUNDIR=$W/run
mkdir -p "$RUNDIR" "$W/qemu"
printf 'unix_sock_dir = "/run/libvirt"\nlog_outputs = "2:file:%s/daemon.log"\n' "$W" >"$W/daemon.conf"
unshare -m bash -c '
    mount --make-rprivate /
    mount -t tmpfs tmpfs /run && mkdir /run/libvirt && mount --bind "$1" /run/libvirt
    exec env VIRTPP_QEMU_STATE_DIR="$2/qemu" "$3" -f "$2/daemon.conf"' _ "$RUNDIR" "$W" "$BIN/virtppd" >"$W/daemon.out" 2>&1 &
DPID=$!
for _ in $(seq 50); do [ -S "$RUNDIR/libvirt-sock" ] && break; sleep 0.1; done
out=$(env -u LIBVIRT_DEFAULT_URI unshare -m bash -c 'mount --make-rprivate /; mount --bind /dev/null /etc/libvirt/libvirt.conf; mount -t tmpfs tmpfs /run && mkdir /run/libvirt && mount --bind "$1" /run/libvirt; exec "$2" list --all' _ "$RUNDIR" "$BIN/virtpp" 2>&1)
[[ $out == *" Id "*"Name"*"State"* ]] && grep -q "opened '' read-write" "$W/daemon.log" &&
    ok "probe: virtpp (root, nothing configured) reaches the local daemon with a NULL name" ||
    bad "probe: virtpp list says '$out' ($(cat "$W/daemon.out"))"
out=$(env -u LIBVIRT_DEFAULT_URI unshare -m bash -c 'mount --make-rprivate /; mount --bind /dev/null /etc/libvirt/libvirt.conf; mount -t tmpfs tmpfs /run && mkdir /run/libvirt && mount --bind "$1" /run/libvirt; exec virsh uri' _ "$RUNDIR" 2>&1)
[[ $out == "qemu:///system" ]] && ok "probe: stock virsh against virtppd, nothing configured: qemu:///system" || bad "probe: virsh uri says '$out'"
# `uri` prints the URI the daemon chose, as virsh does (it asks the daemon: CONNECT_GET_URI)
out=$(env -u LIBVIRT_DEFAULT_URI unshare -m bash -c 'mount --make-rprivate /; mount --bind /dev/null /etc/libvirt/libvirt.conf; mount -t tmpfs tmpfs /run && mkdir /run/libvirt && mount --bind "$1" /run/libvirt; exec "$2" uri' _ "$RUNDIR" "$BIN/virtpp" 2>&1)
[[ $out == "qemu:///system" ]] && ok "probe: virtpp uri, nothing configured: qemu:///system" || bad "probe: virtpp uri says '$out'"
kill "$DPID"; wait "$DPID" 2>/dev/null; DPID=
# nothing configured and no daemon: virsh's error, word for word
RUNDIR=$W/empty-run
both probe-no-daemon /dev/null -- uri

# another user reads $XDG_CONFIG_HOME/libvirt/libvirt.conf
if id nobody >/dev/null 2>&1 && command -v runuser >/dev/null; then
    chmod -R a+rX "$W/cfg"
    # that user may not reach the build tree (a clone under a 0700 directory): it runs a copy
    mkdir -p "$W/bin" && cp "$BIN/virtpp" "$W/bin/" && chmod -R a+rX "$W/bin"
    for tool in virsh "$W/bin/virtpp"; do
        env -u LIBVIRT_DEFAULT_URI runuser -u nobody -- env HOME=/nonexistent XDG_CONFIG_HOME="$W/cfg" "$tool" uri \
            >"$W/user.$(basename "$tool")" 2>&1
    done
    if cmp -s "$W/user.virsh" "$W/user.virtpp" && grep -q "^test:///default" "$W/user.virsh"; then
        ok "user: \$XDG_CONFIG_HOME/libvirt/libvirt.conf's uri_default, as virsh"
    else bad "user config: virsh '$(cat "$W/user.virsh")' virtpp '$(cat "$W/user.virtpp")'"; fi
else
    echo "skip per-user file: no user nobody"
fi

echo "default_uri: $fail failure(s)"
exit $((fail > 0))
