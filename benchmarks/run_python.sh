#!/usr/bin/env bash
# Python module benchmark (issue 12): lookupByName + info + XMLDesc in a Python loop, virtpp's
# module (the drop-in, `import libvirt`) against Debian's python3-libvirt, on
#   test:///default in process (each module with its own library's test driver), and
#   one daemon over a unix socket, the same daemon for both modules (virtppd; and Debian's
#   libvirtd too when run as root).
# Each point runs BENCH_REPEAT times, the modules alternating; the best run is reported (other
# load on the machine only slows a run down). Goal: virtpp >= 2x python3-libvirt's calls/s.
#
#   scripts/build.sh release   (or: ninja -C build/release virtpp_python virtppd)
#   benchmarks/run_python.sh   # ~1 min; results in benchmarks/results/python-<UTC stamp>.{json,md}
#
# Environment: VIRTPP_BUILD_DIR (build/release), BENCH_SECONDS (3), BENCH_REPEAT (3), BENCH_OUT.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=${VIRTPP_BUILD_DIR:-$root/build/release}
seconds=${BENCH_SECONDS:-3}
repeat=${BENCH_REPEAT:-3}
out=${BENCH_OUT:-$here/results}
dropin=$build/python/virtpp/dropin
PY=/usr/bin/python3
[[ -f $dropin/libvirt.py ]] || { echo "build the Python module first (ninja -C $build virtpp_python)"; exit 1; }
mkdir -p "$out"
stamp=$(date -u +%Y%m%d-%H%M%S)
raw=$(mktemp)

. "$root/tests/scripts/lib/services.sh"
svc_init pybench
svc_start_daemon virtppd vd "$build/tools/virtppd"
targets=("inprocess|test:///default" "virtppd-unix|test+unix:///default?socket=${SVC_SOCK[vd]}")
if [[ $(id -u) -eq 0 && -x /usr/sbin/libvirtd ]]; then
  svc_start_daemon libvirtd ld /usr/sbin/libvirtd
  targets+=("libvirtd-unix|test+unix:///default?socket=${SVC_SOCK[ld]}")
fi

for target in "${targets[@]}"; do
  label=${target%%|*} uri=${target#*|}
  for ((i = 0; i < repeat; i++)); do
    PYTHONPATH=$dropin $PY "$here/python/pybench.py" "$uri" "$seconds" | sed "s/^{/{\"target\": \"$label\", /" >> "$raw"
    $PY "$here/python/pybench.py" "$uri" "$seconds" | sed "s/^{/{\"target\": \"$label\", /" >> "$raw"
  done
done

$PY - "$raw" "$out/python-$stamp" <<'PYEOF'
import json, os, platform, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
best = {}
for r in runs:
    key = (r["target"], r["module"])
    if key not in best or r["calls_per_s"] > best[key]["calls_per_s"]:
        best[key] = r
targets = []
for r in runs:
    if r["target"] not in targets:
        targets.append(r["target"])
rows, summary = [], []
for t in targets:
    v, l = best[(t, "virtpp")], best[(t, "python3-libvirt")]
    ratio = v["calls_per_s"] / l["calls_per_s"]
    summary.append({"target": t, "virtpp_calls_per_s": v["calls_per_s"], "libvirt_calls_per_s": l["calls_per_s"],
                    "ratio": round(ratio, 2),
                    "virtpp_cpu_us_per_call": round(v["client_cpu_s"] / v["calls"] * 1e6, 2),
                    "libvirt_cpu_us_per_call": round(l["client_cpu_s"] / l["calls"] * 1e6, 2)})
    rows.append("| %s | %.0f | %.0f | %.2fx | %.2f | %.2f |" % (t, v["calls_per_s"], l["calls_per_s"], ratio,
                summary[-1]["virtpp_cpu_us_per_call"], summary[-1]["libvirt_cpu_us_per_call"]))
machine = "%s, %d CPUs, %s" % (platform.node(), os.cpu_count(), platform.platform())
json.dump({"machine": machine, "summary": summary, "runs": runs}, open(sys.argv[2] + ".json", "w"), indent=1)
md = ["# Python module: lookupByName + info + XMLDesc (calls/s, best of the runs)", "", "machine: " + machine, "",
      "| target | virtpp module | python3-libvirt | ratio | virtpp client CPU us/call | python3-libvirt client CPU us/call |",
      "|---|---|---|---|---|---|"] + rows
open(sys.argv[2] + ".md", "w").write("\n".join(md) + "\n")
print("\n".join(md))
PYEOF
rm -f "$raw"
