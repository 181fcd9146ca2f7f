#!/usr/bin/env bash
# Scale benchmark: the test driver grown to 1k, 10k and 100k domains, per-call cost of define,
# lookup by name and listing every domain, virtpp side by side with Debian's libvirt 9.0 in the
# same run:
#   in process   libvirt-inproc  python3-libvirt on test:///default (libvirt's driver in the client)
#                virtpp-inproc   virtpp_scale_bench (basic_connection<hypervisor::test>)
#   via daemon   libvirtd        python3-libvirt -> Debian's libvirtd over a unix socket
#                virtppd         the same python3-libvirt client -> virtppd
# Each client starts from a fresh driver (a fresh process, a fresh daemon). The two daemons run one
# after the other, each alone on the machine. Results: results/scale-<UTC stamp>.{json,md}.
#
# Builds nothing: run `scripts/build.sh release` first (tools/virtppd and
# benchmarks/virtpp_scale_bench). libvirtd needs root (interop.md §1); without root the daemon
# half is skipped with a note.
#
#   benchmarks/run_scale.sh                         # 1k, 10k, 100k; about 2 minutes
#   SCALE_SIZES=1000,10000 SCALE_CLIENTS="virtpp-inproc libvirt-inproc" benchmarks/run_scale.sh
#
# Environment: VIRTPP_BUILD_DIR (default build/release), SCALE_SIZES (1000,10000,100000),
# SCALE_LOOKUPS (5000 lookups a size), SCALE_CLIENTS (the four above), SCALE_VIRTPPD_ALT=<another
# virtppd> adds client "virtppd-alt" (an A/B of another build), BENCH_OUT (results directory,
# default benchmarks/results), BENCH_KEEP=1 keeps the work directory (daemon logs).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=${VIRTPP_BUILD_DIR:-$root/build/release}
sizes=${SCALE_SIZES:-1000,10000,100000}
lookups=${SCALE_LOOKUPS:-5000}
virtppd_alt=${SCALE_VIRTPPD_ALT:-}
clients=${SCALE_CLIENTS:-"libvirt-inproc virtpp-inproc libvirtd virtppd${virtppd_alt:+ virtppd-alt}"}
out_dir=${BENCH_OUT:-$here/results}
python=/usr/bin/python3
virtppd=$build/tools/virtppd
scale_bench=$build/benchmarks/virtpp_scale_bench
libvirtd=/usr/sbin/libvirtd

for f in "$virtppd" "$scale_bench" ${virtppd_alt:+"$virtppd_alt"}; do
  [[ -x $f ]] || { echo "run_scale.sh: $f is missing: run scripts/build.sh release first" >&2; exit 2; }
done
"$python" -c 'import libvirt' 2>/dev/null || { echo "run_scale.sh: python3-libvirt is missing" >&2; exit 2; }
if [[ $(id -u) != 0 ]]; then
  echo "run_scale.sh: not root: libvirtd cannot start here (interop.md §1), the daemon clients are skipped" >&2
  clients=$(echo "$clients" | tr ' ' '\n' | grep -v -e '^libvirtd$' -e '^virtppd' | tr '\n' ' ')
  [[ $clients == *libvirtd* ]] && { echo "run_scale.sh: libvirtd needs root here" >&2; exit 2; }
fi

work=$(mktemp -d /tmp/virtpp-scale.XXXXXX)
daemon_pid=""
stop_daemon() {
  [[ -n $daemon_pid ]] || return 0
  kill "$daemon_pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$daemon_pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$daemon_pid" 2>/dev/null || true
  wait "$daemon_pid" 2>/dev/null || true
  daemon_pid=""
}
cleanup() {
  stop_daemon
  if [[ ${BENCH_KEEP:-0} == 1 ]]; then echo "work directory kept: $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

wait_socket() {  # pid socket
  for _ in $(seq 100); do
    kill -0 "$1" 2>/dev/null || return 1
    [[ -S $2 ]] && return 0
    sleep 0.1
  done
  return 1
}

start_daemon() {  # name: a unix socket only, serving test:///default; sets daemon_pid, prints the socket
  local name=$1 dir=$work/$1
  mkdir -p "$dir/run" "$dir/nodrivers"
  cat > "$dir/conf" <<CONF
listen_tls = 0
listen_tcp = 0
auth_unix_ro = "none"
auth_unix_rw = "none"
unix_sock_dir = "$dir/run"
unix_sock_group = "root"
unix_sock_ro_perms = "0777"
unix_sock_rw_perms = "0770"
log_level = 3
log_outputs = "3:file:$dir/log"
CONF
  case $name in
    libvirtd) LIBVIRT_DRIVER_DIR=$dir/nodrivers "$libvirtd" -f "$dir/conf" -p "$dir/run/pid" > "$dir/stdout" 2>&1 & ;;
    virtppd) "$virtppd" -f "$dir/conf" > "$dir/stdout" 2>&1 & ;;
    virtppd-alt) "$virtppd_alt" -f "$dir/conf" > "$dir/stdout" 2>&1 & ;;
  esac
  daemon_pid=$!
  wait_socket "$daemon_pid" "$dir/run/libvirt-sock" ||
    { echo "run_scale.sh: $name did not start:" >&2; cat "$dir/stdout" "$dir/log" >&2 2>/dev/null; exit 1; }
}

raw=$work/points.jsonl
: > "$raw"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
for c in $clients; do
  echo "run_scale.sh: $c ($sizes)" >&2
  case $c in
    libvirt-inproc) "$python" "$here/scale/pyscale.py" test:///default "$sizes" "$lookups" "$c" | tee -a "$raw" >&2 ;;
    virtpp-inproc) "$scale_bench" "$sizes" "$lookups" "$c" | tee -a "$raw" >&2 ;;
    libvirtd | virtppd | virtppd-alt)
      start_daemon "$c"
      "$python" "$here/scale/pyscale.py" "test+unix:///default?socket=$work/$c/run/libvirt-sock" "$sizes" "$lookups" "$c" |
        tee -a "$raw" >&2
      stop_daemon ;;
    *) echo "run_scale.sh: unknown client '$c'" >&2; exit 2 ;;
  esac
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

mkdir -p "$out_dir"
stamp=$(date -u +%Y%m%d-%H%M%S)
"$python" "$here/scale/summarize.py" "$raw" "$out_dir/scale-$stamp" "$started" "$load_before" "$load_after"
echo "run_scale.sh: results in $out_dir/scale-$stamp.{json,md}" >&2
