#!/usr/bin/env bash
# Remote-access benchmark: virtppd against Debian's libvirtd, python3-libvirt against virtpp's own
# client, over unix and tcp, for a cheap call (numOfDomains) and lookupByName('test').info(), with
# 1 and 8 concurrent connections. Both daemons serve test:///default and run side by side; each
# point of the matrix runs the two daemons back to back, so drifting background load hits both.
#
# Builds nothing: run `scripts/build.sh release` first (or point VIRTPP_BUILD_DIR at a release
# build holding tools/virtppd and benchmarks/virtpp_client_bench). Needs root for libvirtd, as in
# /work/shared/design/interop.md §1.
#
#   benchmarks/run_remote.sh                       # the whole matrix, 2 x 3 s a point (about 3.5 min)
#   BENCH_SECONDS=5 BENCH_OUT=/tmp/r benchmarks/run_remote.sh
#
# Environment: VIRTPP_BUILD_DIR (default build/release), BENCH_SECONDS (3), BENCH_CLIENTS ("1 8"),
# BENCH_DAEMONS ("virtppd libvirtd"), BENCH_TRANSPORTS ("unix tcp"), BENCH_CALLS ("count lookup_info"),
# BENCH_CLIENT_KINDS ("python virtpp"), BENCH_REPEAT (2: each point runs this many times, the
# daemons alternating, and the run with the most calls/s is reported — other load on the machine
# only ever slows a run down), BENCH_OUT (results directory, default benchmarks/results),
# BENCH_KEEP=1 keeps the work directory (daemon logs), BENCH_PERF=1 also counts the daemon's system
# calls and context switches per call with `perf stat` (adds a little overhead to every syscall).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=${VIRTPP_BUILD_DIR:-$root/build/release}
seconds=${BENCH_SECONDS:-3}
counts=${BENCH_CLIENTS:-"1 8"}
# A/B runs: BENCH_VIRTPPD_ALT=<another virtppd> adds daemon "virtppd-alt", BENCH_CLIENT_ALT=<another
# virtpp_client_bench> adds client "virtpp-alt", both measured in the same run as the others.
virtppd_alt=${BENCH_VIRTPPD_ALT:-}
virtpp_bench_alt=${BENCH_CLIENT_ALT:-}
daemons=${BENCH_DAEMONS:-"virtppd ${virtppd_alt:+virtppd-alt }libvirtd"}
transports=${BENCH_TRANSPORTS:-"unix tcp"}
calls=${BENCH_CALLS:-"count lookup_info"}
client_kinds=${BENCH_CLIENT_KINDS:-"python virtpp${virtpp_bench_alt:+ virtpp-alt}"}
repeats=${BENCH_REPEAT:-2}
out_dir=${BENCH_OUT:-$here/results}
python=/usr/bin/python3

virtppd=$build/tools/virtppd
virtpp_bench=$build/benchmarks/virtpp_client_bench
libvirtd=/usr/sbin/libvirtd
for f in "$virtppd" "$virtpp_bench" ${virtppd_alt:+"$virtppd_alt"} ${virtpp_bench_alt:+"$virtpp_bench_alt"}; do
  [[ -x $f ]] || { echo "run_remote.sh: $f is missing: run scripts/build.sh release first" >&2; exit 2; }
done
[[ -x $libvirtd ]] || { echo "run_remote.sh: $libvirtd is missing (Debian package libvirt-daemon)" >&2; exit 2; }
"$python" -c 'import libvirt' 2>/dev/null || { echo "run_remote.sh: python3-libvirt is missing" >&2; exit 2; }
[[ $(id -u) == 0 ]] || { echo "run_remote.sh: libvirtd needs root here (interop.md §1)" >&2; exit 2; }

source "$here/lib/daemons.sh"

for d in $daemons; do
  case $d in
    virtppd) start_virtppd virtppd "$virtppd" ;;
    virtppd-alt) start_virtppd virtppd-alt "$virtppd_alt" ;;
    libvirtd) start_libvirtd ;;
    *) echo "run_remote.sh: unknown daemon '$d' (virtppd, virtppd-alt, libvirtd)" >&2; exit 2 ;;
  esac
done

# utime + stime of every thread of the process, in clock ticks (fields 14 and 15; comm has no spaces)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
clk_tck=$(getconf CLK_TCK)
# voluntary + involuntary context switches of the threads alive now (the daemons' pools persist)
ctx_switches() { cat /proc/"$1"/task/*/status 2>/dev/null | awk '/ctxt_switches/ {s += $2} END {print s + 0}'; }

run_client() {  # kind uri clients seconds call
  case $1 in
    python) "$python" "$here/remote/pyclient.py" "$2" "$3" "$4" "$5" ;;
    virtpp) "$virtpp_bench" "$2" "$3" "$4" "$5" ;;
    virtpp-alt) "$virtpp_bench_alt" "$2" "$3" "$4" "$5" ;;
    *) echo "run_remote.sh: unknown client '$1' (python, virtpp, virtpp-alt)" >&2; return 2 ;;
  esac
}

# warm-up: the daemons create their test:///default and fault in their code once
for d in $daemons; do
  for t in $transports; do run_client virtpp "$(daemon_uri "$d" "$t")" 1 0.3 lookup_info > /dev/null; done
done

raw=$work/points.jsonl
: > "$raw"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
total=0
for t in $transports; do for c in $client_kinds; do for k in $calls; do for n in $counts; do for d in $daemons; do
  total=$((total + repeats))
done; done; done; done; done
i=0
for t in $transports; do
  for c in $client_kinds; do
    for k in $calls; do
      for n in $counts; do
        for r in $(seq "$repeats"); do for d in $daemons; do
          i=$((i + 1))
          dpid=${pid[$d]}
          uri=$(daemon_uri "$d" "$t")
          before=$(cpu_ticks "$dpid")
          csw_before=$(ctx_switches "$dpid")
          perf_pid=""
          if [[ ${BENCH_PERF:-0} == 1 ]]; then
            perf stat -x, -e raw_syscalls:sys_enter,context-switches -p "$dpid" -o "$work/perf.txt" &
            perf_pid=$!
            sleep 0.2
          fi
          line=$(run_client "$c" "$uri" "$n" "$seconds" "$k")
          syscalls=0
          if [[ -n $perf_pid ]]; then
            kill -INT "$perf_pid"; wait "$perf_pid" || true
            syscalls=$(awk -F, '$3 == "raw_syscalls:sys_enter" {print $1}' "$work/perf.txt")
          fi
          after=$(cpu_ticks "$dpid")
          csw_after=$(ctx_switches "$dpid")
          daemon_cpu=$("$python" -c "print(($after - $before) / $clk_tck)")
          printf '[%2d/%d] %-8s %-4s %-6s %-11s %d: %s daemon_cpu_s=%s\n' "$i" "$total" "$d" "$t" "$c" "$k" "$n" "$line" "$daemon_cpu" >&2
          "$python" - "$line" "$d" "$t" "$c" "$k" "$n" "$daemon_cpu" "$((csw_after - csw_before))" "${syscalls:-0}" "$r" >> "$raw" <<'PY'
import json, sys
point = json.loads(sys.argv[1])
point.update(daemon=sys.argv[2], transport=sys.argv[3], client_kind=sys.argv[4], call=sys.argv[5],
             clients=int(sys.argv[6]), daemon_cpu_s=float(sys.argv[7]), daemon_csw=int(sys.argv[8]),
             repeat=int(sys.argv[10]))
if sys.argv[9] not in ("", "0", "<not counted>"):
    point["daemon_syscalls"] = int(sys.argv[9])
print(json.dumps(point))
PY
        done; done
      done
    done
  done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

mkdir -p "$out_dir"
stamp=$(date -u +%Y%m%d-%H%M%S)
"$python" "$here/remote/summarize.py" "$raw" "$out_dir/remote-$stamp" \
  --started "$started" --seconds "$seconds" --load-before "$load_before" --load-after "$load_after" \
  --virtppd "$virtppd" --build "$build" --repeats "$repeats"
