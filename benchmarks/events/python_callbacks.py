#!/usr/bin/python3
"""Event callback throughput of a Python module: one connection registers a lifecycle callback
and runs the default event loop on a thread, a second one suspends and resumes 'test' N times;
prints the time of the actions, the time to the last of the 2N deliveries, and events/s. Run it
with virtpp's drop-in first on PYTHONPATH, then with python3-libvirt, on the same URI.

    python_callbacks.py URI [N]
"""
import sys
import threading
import time

import libvirt

uri = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
libvirt.virEventRegisterDefaultImpl()
received = [0]
all_in = threading.Event()


def lifecycle(conn, dom, event, detail, opaque):
    received[0] += 1
    if received[0] == 2 * n:
        all_in.set()


def run_loop():
    while True:
        libvirt.virEventRunDefaultImpl()


threading.Thread(target=run_loop, daemon=True).start()
listener = libvirt.open(uri)
actor = libvirt.open(uri)
listener.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, lifecycle, None)
dom = actor.lookupByName("test")
start = time.perf_counter()
for _ in range(n):
    dom.suspend()
    dom.resume()
acted = time.perf_counter()
all_in.wait(120)
end = time.perf_counter()
print("%s: %d of %d events, actions %.3f s, last delivery %.3f s, %.0f events/s"
      % ("virtpp" if hasattr(libvirt, "__virtpp__") else "python3-libvirt", received[0], 2 * n,
         acted - start, end - start, received[0] / (end - start)))
