# Shared helpers for tests/scripts: a scratch directory, free loopback ports, and private
# virtppd / libvirtd / sshd instances that are stopped by PID when the script exits.
# Source it, then call svc_init once:
#
#   . "$VIRTPP_SOURCE_DIR/tests/scripts/lib/services.sh"
#   svc_init remote-tls                 # sets SVC_WORK, installs the EXIT trap
#   svc_start_daemon virtppd v1 "$VIRTPP_BINARY_DIR/tools/virtppd" 'listen_tls = 1' ...
#   echo "${SVC_TCP_PORT[v1]} ${SVC_TLS_PORT[v1]} ${SVC_SOCK[v1]} ${SVC_LOG[v1]}"
#   svc_stop v1
#
# Every service gets its own directory $SVC_WORK/<name>. Nothing is written outside SVC_WORK except
# what root libvirtd always writes (/run/libvirt/common/system.token, removed at exit) and
# /run/sshd, the privilege-separation directory sshd insists on.

declare -gA SVC_PID=() SVC_TCP_PORT=() SVC_TLS_PORT=() SVC_SOCK=() SVC_SOCK_RO=() SVC_LOG=() SVC_DIR=() SVC_PORT=()
declare -ga SVC_EXIT_HOOKS=()
SVC_WORK=
SVC_STARTED_LIBVIRTD=0

svc_init() {  # label
    SVC_WORK=$(mktemp -d "/tmp/virtpp-${1:-test}.XXXXXX")
    trap svc_cleanup EXIT
}

svc_cleanup() {
    local rc=$?
    local hook name
    for hook in "${SVC_EXIT_HOOKS[@]}"; do eval "$hook" || true; done
    for name in "${!SVC_PID[@]}"; do svc_stop "$name"; done
    ((SVC_STARTED_LIBVIRTD)) && rm -f /run/libvirt/common/system.token
    if [[ -n $SVC_WORK && ${VIRTPP_KEEP_WORK:-0} != 1 ]]; then rm -rf "$SVC_WORK"; fi
    return $rc
}

free_port() {
    /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# true when something listens on 127.0.0.1:port (asked of the kernel, so nothing connects to it)
svc_listening() { [[ -n $(ss -Hltn "sport = :$1" 2>/dev/null) ]]; }

svc_stop() {  # name: SIGTERM by PID, SIGKILL after 3 s
    local name=$1 pid=${SVC_PID[$1]:-}
    unset "SVC_PID[$name]"
    [[ -n $pid ]] || return 0
    kill "$pid" 2>/dev/null || return 0
    local _
    for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    return 0
}

# svc_start_daemon KIND NAME BINARY [CONF-LINE...]
# KIND is virtppd or libvirtd (the configuration is libvirtd.conf syntax for both). A plain TCP
# listener and the unix sockets always; the TLS listener when a CONF-LINE says "listen_tls = 1"
# (give key_file/cert_file/ca_file too). CONF-LINEs come after the defaults and may override them.
# Sets SVC_PID, SVC_TCP_PORT, SVC_TLS_PORT, SVC_SOCK, SVC_SOCK_RO, SVC_LOG, SVC_DIR for NAME.
# Returns non-zero (and prints the daemon's output) when it did not come up within 10 s.
svc_start_daemon() {
    local kind=$1 name=$2 bin=$3; shift 3
    local dir=$SVC_WORK/$name tcp tls line
    mkdir -p "$dir/run" "$dir/log" "$SVC_WORK/nodrivers"
    tcp=$(free_port); tls=$(free_port)
    {
        echo 'listen_tls = 0'
        echo 'listen_tcp = 1'
        echo "tcp_port = \"$tcp\""
        echo "tls_port = \"$tls\""
        echo 'listen_addr = "127.0.0.1"'
        echo 'auth_tcp = "none"'
        echo 'auth_tls = "none"'
        echo 'auth_unix_ro = "none"'
        echo 'auth_unix_rw = "none"'
        echo "unix_sock_dir = \"$dir/run\""
        echo 'unix_sock_group = "root"'
        echo 'unix_sock_ro_perms = "0777"'
        echo 'unix_sock_rw_perms = "0770"'
        echo 'log_level = 3'
        echo "log_outputs = \"3:file:$dir/log/daemon.log\""
    } > "$dir/base.conf"
    # a repeated key is an error for virtppd: drop the defaults the caller overrides
    cp "$dir/base.conf" "$dir/daemon.conf"
    for line in "$@"; do
        local key=${line%%=*}; key=${key// /}
        sed -i "/^$key = /d" "$dir/daemon.conf"
    done
    for line in "$@"; do echo "$line" >> "$dir/daemon.conf"; done
    : > "$dir/log/daemon.log"
    if [[ $kind == libvirtd ]]; then
        SVC_STARTED_LIBVIRTD=1
        LIBVIRT_DRIVER_DIR=$SVC_WORK/nodrivers "$bin" --listen -f "$dir/daemon.conf" -p "$dir/run/daemon.pid" \
            > "$dir/log/stdout" 2>&1 &
    else
        "$bin" --listen -f "$dir/daemon.conf" -p "$dir/run/daemon.pid" > "$dir/log/stdout" 2>&1 &
    fi
    SVC_PID[$name]=$!
    SVC_TCP_PORT[$name]=$tcp
    SVC_TLS_PORT[$name]=$tls
    SVC_SOCK[$name]=$dir/run/libvirt-sock
    SVC_SOCK_RO[$name]=$dir/run/libvirt-sock-ro
    SVC_LOG[$name]=$dir/log/daemon.log
    SVC_DIR[$name]=$dir
    local want_tls=0 _
    grep -q '^listen_tls = 1' "$dir/daemon.conf" && want_tls=1
    for _ in $(seq 100); do
        if [[ -S $dir/run/libvirt-sock ]] && svc_listening "$tcp" && { ((!want_tls)) || svc_listening "$tls"; }; then
            return 0
        fi
        kill -0 "${SVC_PID[$name]}" 2>/dev/null || break
        sleep 0.1
    done
    echo "$kind '$name' did not start:" >&2
    cat "$dir/log/stdout" "$dir/log/daemon.log" >&2 2>/dev/null
    svc_stop "$name"
    return 1
}

# svc_start_sshd NAME: a private OpenSSH server on a free loopback port that admits root with a
# key made here. Sets SVC_PORT[NAME], SVC_DIR[NAME] and SVC_LOG[NAME]; the client side is in
# SVC_DIR[NAME]: id_ed25519 (client key), known_hosts (the host key for [127.0.0.1]:PORT),
# ssh_config (an empty client configuration) and bin/ssh, an `ssh` for PATH that runs the real
# one with that known_hosts and configuration, so root's ~/.ssh is neither read nor written, and
# records each argument vector in argv.log (one line per run, arguments separated by tabs).
svc_start_sshd() {
    local name=$1 dir=$SVC_WORK/$1 port _
    mkdir -p "$dir/bin" && chmod 700 "$dir"
    port=$(free_port)
    ssh-keygen -q -t ed25519 -N '' -C "virtpp test host" -f "$dir/host_ed25519" || return 1
    ssh-keygen -q -t ed25519 -N '' -C "virtpp test client" -f "$dir/id_ed25519" || return 1
    cp "$dir/id_ed25519.pub" "$dir/authorized_keys"
    cat > "$dir/sshd_config" <<EOF
ListenAddress 127.0.0.1
Port $port
HostKey $dir/host_ed25519
PidFile $dir/sshd.pid
AuthorizedKeysFile $dir/authorized_keys
StrictModes no
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
X11Forwarding no
AllowTcpForwarding no
PrintMotd no
LogLevel VERBOSE
EOF
    mkdir -p /run/sshd
    /usr/sbin/sshd -t -f "$dir/sshd_config" || return 1
    /usr/sbin/sshd -D -f "$dir/sshd_config" -p "$port" -E "$dir/sshd.log" &
    SVC_PID[$name]=$!
    SVC_PORT[$name]=$port
    SVC_DIR[$name]=$dir
    SVC_LOG[$name]=$dir/sshd.log
    echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$dir/host_ed25519.pub")" > "$dir/known_hosts"
    : > "$dir/ssh_config"
    : > "$dir/argv.log"
    # libvirt runs ssh with a cleared environment (PATH kept), so the paths are written in
    cat > "$dir/bin/ssh" <<EOF
#!/bin/sh
# virtpp test: the real ssh, isolated from root's ~/.ssh; records the argument vector
( IFS='	'; printf '%s\n' "\$*" ) >> '$dir/argv.log'
exec /usr/bin/ssh -F '$dir/ssh_config' -o UserKnownHostsFile='$dir/known_hosts' -o GlobalKnownHostsFile=/dev/null "\$@"
EOF
    chmod +x "$dir/bin/ssh"
    for _ in $(seq 100); do
        svc_listening "$port" && return 0
        kill -0 "${SVC_PID[$name]}" 2>/dev/null || break
        sleep 0.1
    done
    echo "sshd '$name' did not start:" >&2
    cat "$dir/sshd.log" >&2 2>/dev/null
    svc_stop "$name"
    return 1
}
