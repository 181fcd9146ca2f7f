#!/usr/bin/python3
"""Turns run_scale.sh's raw points into results/scale-<stamp>.json and a markdown table: per-call
cost at each size for each client, virtpp / libvirt ratios for the same path (in process, via
daemon; below 1 = virtpp faster), and each client's growth from the smallest to the largest size
(1.0 = flat).

    summarize.py POINTS.jsonl OUT_PREFIX STARTED LOAD_BEFORE LOAD_AFTER
"""
import json, os, platform, sys

points_file, prefix, started, load_before, load_after = sys.argv[1:6]
points = [json.loads(l) for l in open(points_file) if l.strip()]
by = {(p["client"], p["size"]): p for p in points}
clients = list(dict.fromkeys(p["client"] for p in points))
sizes = sorted({p["size"] for p in points})
pairs = [("virtpp-inproc", "libvirt-inproc"), ("virtppd", "libvirtd"), ("virtppd-alt", "libvirtd")]
metrics = [("define_us", "define (µs/call)"), ("lookup_us", "lookupByName (µs/call)"),
           ("list_all_ns_per_domain", "listAllDomains (ns/domain)")]

cpu = "unknown"
try:
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
except OSError:
    pass
machine = {"cpu": cpu, "cpus": os.cpu_count(), "kernel": platform.release(), "started": started,
           "loadavg_before": load_before, "loadavg_after": load_after}

def fmt(v):
    if v is None:
        return "—"
    return "%.2f" % v if v < 100 else "%.0f" % v

md = ["# Scale benchmark, %s" % started, "",
      "Machine: %s, %s CPUs, kernel %s; load average before %s, after %s." % (
          cpu, machine["cpus"], machine["kernel"], load_before, load_after), ""]
for key, title in metrics:
    md += ["## %s" % title, "", "| client | " + " | ".join("%d" % s for s in sizes) + " | growth %d→%d |" % (sizes[0], sizes[-1]),
           "|---|" + "---:|" * (len(sizes) + 1)]
    for c in clients:
        vals = [by.get((c, s), {}).get(key) for s in sizes]
        growth = (vals[-1] / vals[0]) if vals[0] and vals[-1] else None
        md.append("| %s | %s | %s |" % (c, " | ".join(fmt(v) for v in vals), fmt(growth) + "×" if growth else "—"))
    for a, b in pairs:
        if a in clients and b in clients:
            ratios = []
            for s in sizes:
                va, vb = by.get((a, s), {}).get(key), by.get((b, s), {}).get(key)
                ratios.append(va / vb if va and vb else None)
            md.append("| **%s / %s** | %s | |" % (a, b, " | ".join(fmt(r) + "×" if r else "—" for r in ratios)))
    md.append("")
errors = [(p["client"], p["size"], p["list_error"]) for p in points if p.get("list_error")]
if errors:
    md += ["listAllDomains refused:", ""]
    md += ["- %s at %d: %s" % e for e in errors]
    md.append("")

json.dump({"machine": machine, "points": points}, open(prefix + ".json", "w"), indent=1)
open(prefix + ".md", "w").write("\n".join(md))
print("\n".join(md))
