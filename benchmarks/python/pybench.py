#!/usr/bin/python3
"""Python load generator: lookupByName('test') + info() + XMLDesc(0) in a loop on one connection
for SECONDS; prints one JSON line. Which module `import libvirt` loads (virtpp's drop-in or
python3-libvirt) is up to PYTHONPATH; the line says which.

    pybench.py URI SECONDS
"""
import json
import resource
import sys
import time

import libvirt

uri, seconds = sys.argv[1], float(sys.argv[2])
conn = libvirt.open(uri)
module = "virtpp" if hasattr(libvirt, "__virtpp__") else "python3-libvirt"
for _ in range(50):  # warm-up: first calls pay for lazy set-up
    conn.lookupByName("test").info()

loops = 0
cpu0 = resource.getrusage(resource.RUSAGE_SELF)
start = time.perf_counter()
deadline = start + seconds
while True:
    for _ in range(20):
        dom = conn.lookupByName("test")
        dom.info()
        dom.XMLDesc(0)
    loops += 20
    if time.perf_counter() >= deadline:
        break
elapsed = time.perf_counter() - start
cpu1 = resource.getrusage(resource.RUSAGE_SELF)
conn.close()
print(json.dumps({"module": module, "uri": uri, "loops": loops, "calls": loops * 3, "seconds": round(elapsed, 3),
                  "calls_per_s": round(loops * 3 / elapsed, 1),
                  "client_cpu_s": round(cpu1.ru_utime + cpu1.ru_stime - cpu0.ru_utime - cpu0.ru_stime, 3)}))
