#!/usr/bin/python3
"""libvirt's threaded client: N Python threads sharing ONE python3-libvirt connection, each calling
in a loop for a fixed time (libvirt's client then has N calls in flight on the connection).
usage: pythreads.py URI THREADS SECONDS count|lookup. Prints one JSON line."""
import json, resource, sys, threading, time
import libvirt

uri, threads, seconds, kind = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
libvirt.registerErrorHandler(lambda ctx, err: None, None)
conn = libvirt.open(uri)
counts = [0] * threads
barrier = threading.Barrier(threads + 1)
deadline = [0.0]

def work(i):
    barrier.wait()
    n = 0
    clock = time.perf_counter
    if kind == "count":
        while clock() < deadline[0]:
            conn.numOfDomains()
            n += 1
    else:
        while clock() < deadline[0]:
            conn.lookupByName("test")
            n += 1
    counts[i] = n

pool = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
for t in pool:
    t.start()
cpu0 = resource.getrusage(resource.RUSAGE_SELF)
t0 = time.perf_counter()
deadline[0] = t0 + seconds
barrier.wait()
for t in pool:
    t.join()
elapsed = time.perf_counter() - t0
cpu1 = resource.getrusage(resource.RUSAGE_SELF)
conn.close()
print(json.dumps({"client": "python3-libvirt-threads", "threads": threads, "calls": sum(counts), "seconds": elapsed,
                  "client_cpu_s": (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)}))
