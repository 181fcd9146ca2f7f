#!/usr/bin/python3
"""Event fan-out: N listening clients (python3-libvirt, one process each, default event loop)
registered for lifecycle events on test:///default of one daemon; one more client suspends and
resumes 'test' K times. Prints the time from the first action to the last delivery of the last
event to every listener, and the events delivered.

    fanout.py SOCKET [LISTENERS=16] [EVENTS=1000]"""
import multiprocessing as mp
import sys
import time

import libvirt


def listen(uri, want, ready, done_q):
    libvirt.virEventRegisterDefaultImpl()
    conn = libvirt.open(uri)
    got = [0, 0.0]

    def cb(c, dom, event, detail, opaque):
        got[0] += 1
        got[1] = time.time()
    conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, cb, None)
    ready.release()
    deadline = time.time() + 120
    while got[0] < want and time.time() < deadline:
        libvirt.virEventRunDefaultImpl()
    done_q.put((got[0], got[1]))
    conn.close()


def main():
    sock = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 16
    k = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
    uri = "test+unix:///default?socket=" + sock
    ready = mp.Semaphore(0)
    done_q = mp.Queue()
    procs = [mp.Process(target=listen, args=(uri, k, ready, done_q)) for _ in range(n)]
    for p in procs:
        p.start()
    for _ in procs:
        ready.acquire()
    conn = libvirt.open(uri)
    dom = conn.lookupByName("test")
    t0 = time.time()
    for i in range(k // 2):
        dom.suspend()
        dom.resume()
    t_actions = time.time() - t0
    results = [done_q.get() for _ in procs]
    for p in procs:
        p.join()
    last = max(r[1] for r in results)
    delivered = sum(r[0] for r in results)
    print("listeners %d events %d delivered %d/%d actions %.3f s action-to-last-delivery %.3f s"
          % (n, k, delivered, n * k, t_actions, last - t0))


if __name__ == "__main__":
    main()
