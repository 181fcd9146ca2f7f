#!/usr/bin/python3
"""Scale benchmark client (python3-libvirt; run with /usr/bin/python3): grows a test driver to each
size in SIZES (domains defined through the URI), and at each size measures the per-call cost of
define (the last LAST_DEFINES defines that reached the size), lookupByName (LOOKUPS random names, in 5 batches, the fastest),
listAllDomains (the whole list, best of 3; through a daemon the protocol refuses more than 16,384
domains, and that refusal is recorded). Prints one JSON line per size.

    pyscale.py URI SIZES [LOOKUPS] [LABEL]       e.g. pyscale.py test:///default 1000,10000,100000
"""
import json, random, sys, time
import libvirt

uri = sys.argv[1]
sizes = [int(s) for s in sys.argv[2].split(",")]
lookups = int(sys.argv[3]) if len(sys.argv) > 3 else 5000
label = sys.argv[4] if len(sys.argv) > 4 else uri
last_defines = 1000
libvirt.registerErrorHandler(lambda ctx, err: None, None)

XML = ("<domain type='test'><name>bench-%d</name><memory>8192</memory>"
       "<os><type>hvm</type></os></domain>")

conn = libvirt.open(uri)
clock = time.perf_counter
defined = 0
rng = random.Random(42)
for size in sizes:
    t_all = clock()
    t_last = None
    first = defined
    while defined < size:
        if size - defined == last_defines:
            t_last = clock()
        conn.defineXML(XML % defined)
        defined += 1
    t_end = clock()
    n_last = min(last_defines, size - first)
    if t_last is None:
        t_last = t_all
    define_us = (t_end - t_last) / n_last * 1e6 if n_last else 0.0

    # 5 batches of LOOKUPS/5 random names, the fastest batch: other load only ever slows one down
    batch = max(1, lookups // 5)
    lookup_us = None
    for _ in range(5):
        names = ["bench-%d" % rng.randrange(size) for _ in range(batch)]
        t0 = clock()
        for n in names:
            conn.lookupByName(n)
        us = (clock() - t0) / batch * 1e6
        lookup_us = us if lookup_us is None else min(lookup_us, us)

    # listAllDomains: the whole list, 3 calls, best of them; a daemon refuses lists over 16,384
    list_ms, list_error = None, None
    best = None
    for _ in range(3):
        try:
            t0 = clock()
            doms = conn.listAllDomains(0)
            dt = clock() - t0
        except libvirt.libvirtError as e:
            list_error = e.get_error_message()
            break
        best = dt if best is None else min(best, dt)
        count = len(doms)
        del doms
    if best is not None:
        list_ms = best * 1e3
    print(json.dumps({
        "client": label, "size": size, "define_us": define_us, "lookup_us": lookup_us,
        "list_all_ms": list_ms, "list_all_ns_per_domain": (list_ms * 1e6 / count) if list_ms else None,
        "list_error": list_error,
    }), flush=True)
conn.close()
