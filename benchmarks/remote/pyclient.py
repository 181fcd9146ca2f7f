#!/usr/bin/python3
"""python3-libvirt load generator: N client connections, each on its own thread, calling one
cheap operation in a loop for a fixed time. Prints one JSON line: calls, seconds, latency
percentiles, the client's own CPU time and context switches. Run with /usr/bin/python3 (it needs the bindings)."""
import json, resource, sys, threading, time
import libvirt

uri, clients, seconds, kind = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
libvirt.registerErrorHandler(lambda ctx, err: None, None)

conns = [libvirt.open(uri) for _ in range(clients)]
latencies = [[] for _ in range(clients)]
start_barrier = threading.Barrier(clients + 1)
deadline = [0.0]

def work(i):
    c = conns[i]
    lat = latencies[i]
    start_barrier.wait()
    clock = time.perf_counter
    if kind == "count":
        while True:
            t0 = clock()
            c.numOfDomains()
            t1 = clock()
            lat.append(t1 - t0)
            if t1 >= deadline[0]:
                break
    else:
        while True:
            t0 = clock()
            c.lookupByName("test").info()
            t1 = clock()
            lat.append(t1 - t0)
            if t1 >= deadline[0]:
                break

threads = [threading.Thread(target=work, args=(i,)) for i in range(clients)]
for t in threads:
    t.start()
cpu0 = resource.getrusage(resource.RUSAGE_SELF)
t0 = time.perf_counter()
deadline[0] = t0 + seconds
start_barrier.wait()
for t in threads:
    t.join()
elapsed = time.perf_counter() - t0
cpu1 = resource.getrusage(resource.RUSAGE_SELF)
for c in conns:
    c.close()
all_lat = sorted(x for l in latencies for x in l)
n = len(all_lat)
print(json.dumps({
    "client": "python3-libvirt", "calls": n, "seconds": elapsed,
    "p50_us": all_lat[n // 2] * 1e6 if n else 0, "p99_us": all_lat[min(n - 1, int(n * 0.99))] * 1e6 if n else 0,
    "client_cpu_s": (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime),
    "client_csw": (cpu1.ru_nvcsw - cpu0.ru_nvcsw) + (cpu1.ru_nivcsw - cpu0.ru_nivcsw),
}))
