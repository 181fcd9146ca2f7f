#!/usr/bin/env bash
# Async benchmark (issue 11, item 7): calls per second on ONE connection, virtpp's pipelined async
# API (benchmarks/async/virtpp_async_bench: WINDOW calls in flight, one thread) against libvirt's
# threaded client (benchmarks/async/pythreads.py: python3-libvirt, N threads sharing the
# connection). Both clients talk to the same daemon in the same run: a private virtppd and a
# private libvirtd 9.0 (test:///default, unix socket). Each point runs BENCH_REPEAT times, the
# clients alternating; the best run counts (other load only slows a run down).
#
#   benchmarks/run_async.sh                 # as root (libvirtd), about 2 minutes
#
# Environment: VIRTPP_BUILD_DIR (build/release), BENCH_SECONDS (3), BENCH_WINDOWS ("1 4 16 64"),
# BENCH_THREADS ("1 8 16"), BENCH_CALLS ("count lookup"), BENCH_REPEAT (2), BENCH_OUT (results dir).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=${VIRTPP_BUILD_DIR:-$root/build/release}
seconds=${BENCH_SECONDS:-3}
windows=${BENCH_WINDOWS:-"1 4 16 64"}
thread_counts=${BENCH_THREADS:-"1 8 16"}
calls=${BENCH_CALLS:-"count lookup"}
repeats=${BENCH_REPEAT:-2}
out_dir=${BENCH_OUT:-$here/results}
python=/usr/bin/python3
virtppd=$build/tools/virtppd
async_bench=$build/benchmarks/virtpp_async_bench
libvirtd=/usr/sbin/libvirtd
for f in "$virtppd" "$async_bench"; do
  [[ -x $f ]] || { echo "run_async.sh: $f is missing: run scripts/build.sh release first" >&2; exit 2; }
done
"$python" -c 'import libvirt' 2>/dev/null || { echo "run_async.sh: python3-libvirt is missing" >&2; exit 2; }
[[ $(id -u) == 0 ]] || { echo "run_async.sh: libvirtd needs root here (interop.md §1)" >&2; exit 2; }

source "$here/lib/daemons.sh"
start_virtppd virtppd "$virtppd"
start_libvirtd

raw=$work/points.jsonl
: > "$raw"
for d in virtppd libvirtd; do "$async_bench" "$(daemon_uri $d unix)" 4 0.3 lookup > /dev/null; done  # warm-up
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for d in virtppd libvirtd; do
  uri=$(daemon_uri "$d" unix)
  for k in $calls; do
    for r in $(seq "$repeats"); do
      for w in $windows; do
        line=$("$async_bench" "$uri" "$w" "$seconds" "$k")
        echo "$d $k async window=$w: $line" >&2
        echo "{\"daemon\": \"$d\", \"call\": \"$k\", \"repeat\": $r, \"point\": $line}" >> "$raw"
      done
      for n in $thread_counts; do
        line=$("$python" "$here/async/pythreads.py" "$uri" "$n" "$seconds" "$k")
        echo "$d $k python threads=$n: $line" >&2
        echo "{\"daemon\": \"$d\", \"call\": \"$k\", \"repeat\": $r, \"point\": $line}" >> "$raw"
      done
    done
  done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

mkdir -p "$out_dir"
stamp=$(date -u +%Y%m%d-%H%M%S)
"$python" - "$raw" "$out_dir/async-$stamp.md" "$load_before" "$load_after" "$seconds" <<'PY'
import json, sys, collections, platform, os
raw, out, lb, la, seconds = sys.argv[1:6]
best = collections.defaultdict(float)
for line in open(raw):
    p = json.loads(line)
    pt = p["point"]
    size = pt.get("window", pt.get("threads"))
    key = (p["daemon"], p["call"], pt["client"], size)
    best[key] = max(best[key], pt["calls"] / pt["seconds"])
rows = ["| daemon | call | client | in flight | calls/s |", "|---|---|---|---|---|"]
for key in sorted(best):
    d, c, client, size = key
    rows.append(f"| {d} | {c} | {client} | {size} | {best[key]:,.0f} |")
ratios = ["| daemon | call | best virtpp async | best python3-libvirt threads | ratio |", "|---|---|---|---|---|"]
for d in ("virtppd", "libvirtd"):
    for c in sorted({k[1] for k in best}):
        a = max((v for k, v in best.items() if k[0] == d and k[1] == c and k[2] == "virtpp-async"), default=0)
        t = max((v for k, v in best.items() if k[0] == d and k[1] == c and k[2] != "virtpp-async"), default=0)
        ratios.append(f"| {d} | {c} | {a:,.0f} | {t:,.0f} | {a / t if t else 0:.1f}x |")
text = f"""# Async benchmark ({os.path.basename(out)[6:-3]} UTC)

Calls per second on one connection over the unix socket, best of the repeats, {seconds} s a point.
virtpp-async keeps "in flight" calls outstanding on one thread (benchmarks/async/virtpp_async_bench.cpp);
python3-libvirt-threads runs "in flight" threads on one shared connection (benchmarks/async/pythreads.py).
Machine: {platform.machine()}, {os.cpu_count()} CPUs; load average before {lb}, after {la}.

## Ratio (goal: at least 3x)

""" + "\n".join(ratios) + "\n\n## Every point\n\n" + "\n".join(rows) + "\n"
open(out, "w").write(text)
print(text)
PY
