#!/usr/bin/python3
"""Records the event callbacks a libvirt-python-style program receives on one URI, as JSON on
stdout: tests/scripts/python_module.sh runs it with virtpp's drop-in module and with Debian's
python3-libvirt on the same URI (in process, or the same daemon) and requires the same record.

A listening connection registers lifecycle callbacks (every domain, and one domain), the
reboot, rtc-change, device-added and device-removed ids, the legacy domainEventRegister and a
network lifecycle callback; the default event loop runs on a thread; a second connection
defines, starts, suspends, resumes, saves, restores, destroys and undefines a domain, does the
same to a network, and suspends/resumes the driver's 'test' domain. Each callback records its
arguments (the domain or network by name). The driver's state is left as it was found.

    compare_events.py URI EXPECT DIR   (EXPECT: virtpp or libvirt; DIR: where the save image goes)
"""
import json
import os
import sys
import threading
import time

import libvirt

uri, expect, scratch = sys.argv[1], sys.argv[2], sys.argv[3]
if hasattr(libvirt, "__virtpp__") != (expect == "virtpp"):
    sys.exit("compare_events.py: `import libvirt` loaded %s, expected %s" % (libvirt.__file__, expect))

libvirt.registerErrorHandler(lambda ctx, err: None, None)
libvirt.virEventRegisterDefaultImpl()
record = []
lock = threading.Lock()


def note(*entry):
    with lock:
        record.append(list(entry))


def run_loop():
    while True:
        libvirt.virEventRunDefaultImpl()


threading.Thread(target=run_loop, daemon=True).start()

NEWDOM = """<domain type='test'>
  <name>pyevdom</name>
  <uuid>5d3c1a2b-8a2b-4a8e-9d5e-0f1b2c3d4e60</uuid>
  <memory unit='KiB'>524288</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type></os>
</domain>"""
NEWNET = """<network>
  <name>pyevnet</name>
  <uuid>6e4d2b3c-3f2a-4b5c-8d9e-1a2b3c4d5e70</uuid>
  <bridge name='pyevbr0'/>
  <ip address='192.168.198.1' netmask='255.255.255.0'/>
</network>"""

listener = libvirt.open(uri)
actor = libvirt.open(uri)
test_dom = listener.lookupByName("test")
ids = [
    listener.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                    lambda c, d, ev, det, op: note(op, d.name(), ev, det, c is listener), "lifecycle"),
    listener.domainEventRegisterAny(test_dom, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                    lambda c, d, ev, det, op: note(op, d.name(), ev, det), "lifecycle-test"),
    listener.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_REBOOT,
                                    lambda c, d, op: note(op, d.name()), "reboot"),
    listener.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_RTC_CHANGE,
                                    lambda c, d, offset, op: note(op, d.name(), offset), "rtc-change"),
    listener.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_DEVICE_ADDED,
                                    lambda c, d, alias, op: note(op, d.name(), alias), "device-added"),
    listener.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED,
                                    lambda c, d, alias, op: note(op, d.name(), alias), "device-removed"),
]
net_id = listener.networkEventRegisterAny(None, libvirt.VIR_NETWORK_EVENT_ID_LIFECYCLE,
                                          lambda c, n, ev, det, op: note(op, n.name(), ev, det), "network")
listener.domainEventRegister(lambda c, d, ev, det, op: note(op, d.name(), ev, det), "legacy")
note("callback ids", [i - ids[0] for i in ids] + [net_id - ids[0]])

save_path = os.path.join(scratch, "virtpp-events.save")
dom = actor.defineXML(NEWDOM)
dom.create()
dom.suspend()
dom.resume()
dom.save(save_path)
actor.restore(save_path)
dom = actor.lookupByName("pyevdom")
dom.destroy()
dom.undefine()
os.unlink(save_path)
t = actor.lookupByName("test")
t.suspend()
t.resume()
net = actor.networkDefineXML(NEWNET)
net.create()
net.destroy()
net.undefine()


def settled(count, quiet=1.0, limit=15.0):
    """Waits until `count` entries arrived and then nothing more for `quiet` seconds."""
    start = last_change = time.monotonic()
    seen = -1
    while time.monotonic() - start < limit:
        with lock:
            n = len(record)
        if n != seen:
            seen, last_change = n, time.monotonic()
        elif n >= count and time.monotonic() - last_change >= quiet:
            return
        time.sleep(0.05)


settled(1 + 10 + 2 + 10 + 4)  # ids, lifecycle, lifecycle of 'test', legacy, network

# After deregistering, nothing more arrives.
for i in ids:
    listener.domainEventDeregisterAny(i)
listener.networkEventDeregisterAny(net_id)
listener.domainEventDeregister(listener.domainEventCallbacks and next(iter(listener.domainEventCallbacks)))
with lock:
    before = len(record)
t.suspend()
t.resume()
time.sleep(0.5)
with lock:
    late = len(record) - before
note("after deregistering", late)
try:
    listener.domainEventDeregisterAny(ids[0])
except libvirt.libvirtError as e:
    note("deregister again", e.get_error_code(), e.get_error_domain(), e.get_error_message().replace(str(ids[0]), "N"))
actor.close()
listener.close()
json.dump(record, sys.stdout, indent=0)
print()
