# Shared by the remote and async benchmarks: a private virtppd and a private libvirtd 9.0 serving
# test:///default on a unix socket and a free loopback tcp port each, stopped by PID on exit.
# The caller sets `python` and sources this file; it defines `work`, `pid[]`, `port[]`.
work=$(mktemp -d /tmp/virtpp-bench.XXXXXX)
declare -A pid port
cleanup() {
  # only the daemons this script started, by their PIDs
  for p in "${pid[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pid[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
  done
  if [[ ${BENCH_KEEP:-0} == 1 ]]; then echo "work directory kept: $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

free_port() {
  "$python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_ready() {  # pid, unix socket, tcp port
  local p=$1 sock=$2 tcp=$3
  for _ in $(seq 100); do
    kill -0 "$p" 2>/dev/null || return 1
    if [[ -S $sock ]] && "$python" -c "import socket,sys; socket.create_connection(('127.0.0.1',$tcp),1).close()" 2>/dev/null; then
      return 0
    fi
    sleep 0.1
  done
  return 1
}

start_virtppd() {  # name binary: unix rw socket and tcp on a free loopback port
  local name=$1 binary=$2 dir=$work/$1
  mkdir -p "$dir/run"
  port[$name]=$(free_port)
  cat > "$dir/conf" <<CONF
listen_tls = 0
listen_tcp = 1
tcp_port = "${port[$name]}"
listen_addr = "127.0.0.1"
auth_tcp = "none"
auth_unix_ro = "none"
auth_unix_rw = "none"
unix_sock_dir = "$dir/run"
log_level = 3
log_outputs = "3:file:$dir/log"
CONF
  "$binary" --listen -f "$dir/conf" > "$dir/stdout" 2>&1 &
  pid[$name]=$!
  wait_ready "${pid[$name]}" "$dir/run/libvirt-sock" "${port[$name]}" ||
    { echo "${0##*/}: $name ($binary) did not start:" >&2; cat "$dir/stdout" "$dir/log" >&2 2>/dev/null; exit 1; }
}

start_libvirtd() {  # interop.md §1, on its own free port, no driver modules (test:///default is built in)
  local dir=$work/libvirtd
  mkdir -p "$dir/run" "$dir/log" "$dir/nodrivers"
  port[libvirtd]=$(free_port)
  cat > "$dir/conf" <<CONF
listen_tls = 0
listen_tcp = 1
tcp_port = "${port[libvirtd]}"
listen_addr = "127.0.0.1"
auth_tcp = "none"
auth_unix_ro = "none"
auth_unix_rw = "none"
unix_sock_dir = "$dir/run"
unix_sock_group = "root"
unix_sock_ro_perms = "0777"
unix_sock_rw_perms = "0770"
log_level = 3
log_outputs = "3:file:$dir/log/libvirtd.log"
CONF
  LIBVIRT_DRIVER_DIR=$dir/nodrivers "$libvirtd" --listen -f "$dir/conf" -p "$dir/run/libvirtd.pid" \
    > "$dir/log/stdout" 2>&1 &
  pid[libvirtd]=$!
  wait_ready "${pid[libvirtd]}" "$dir/run/libvirt-sock" "${port[libvirtd]}" ||
    { echo "${0##*/}: libvirtd did not start:" >&2; cat "$dir/log/"* >&2 2>/dev/null; exit 1; }
}


daemon_uri() {  # daemon transport
  if [[ $2 == unix ]]; then echo "test+unix:///default?socket=$work/$1/run/libvirt-sock"
  else echo "test+tcp://127.0.0.1:${port[$1]}/default"; fi
}
