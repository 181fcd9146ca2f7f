#!/usr/bin/python3
"""A script in libvirt-python's style that records what each call returns (or the error it
raises) on one URI, as JSON on stdout. tests/scripts/python_module.sh runs it once with virtpp's
drop-in module and once with Debian's python3-libvirt on the same URI (in process, or the same
daemon) and requires the same record. It leaves the driver's state as it found it.

    compare_api.py URI EXPECT [DIR]   (EXPECT: virtpp or libvirt, the module `import libvirt` must
                                       load; DIR: where the save image goes, default /tmp)
"""
import json
import os
import sys

import libvirt
from recording import recorder

uri, expect = sys.argv[1], sys.argv[2]
is_virtpp = hasattr(libvirt, "__virtpp__")
if is_virtpp != (expect == "virtpp"):
    sys.exit("compare_api.py: `import libvirt` loaded %s, expected %s" % (libvirt.__file__, expect))

libvirt.registerErrorHandler(lambda ctx, err: None, None)  # errors are recorded, not printed
record = []


step = recorder(record)


def no_time(info):  # cpu time moves between calls
    return info[:4]


NEWDOM = """<domain type='test'>
  <name>pydom</name>
  <uuid>2a1c37f6-8a2b-4a8e-9d5e-0f1b2c3d4e5f</uuid>
  <memory unit='KiB'>524288</memory>
  <currentMemory unit='KiB'>524288</currentMemory>
  <vcpu>2</vcpu>
  <os><type arch='x86_64'>hvm</type></os>
</domain>"""

NEWNET = """<network>
  <name>pynet</name>
  <uuid>7b0e4c1d-3f2a-4b5c-8d9e-1a2b3c4d5e6f</uuid>
  <bridge name='pybr0'/>
  <ip address='192.168.199.1' netmask='255.255.255.0'/>
</network>"""

# Both runs save to the same path (argv[3]: a scratch directory), so error texts naming it match.
SAVE_PATH = os.path.join(sys.argv[3] if len(sys.argv) > 3 else "/tmp", "virtpp-compare.save")

conn = libvirt.open(uri)
step("getType", conn.getType)
step("getHostname", lambda: conn.getHostname() != "")
step("getMaxVcpus", lambda: conn.getMaxVcpus(None))
step("getInfo", conn.getInfo)
step("getCapabilities", lambda: conn.getCapabilities().startswith("<capabilities>"))
step("getSecurityModel", conn.getSecurityModel)
step("numOfDomains", conn.numOfDomains)
step("listDomainsID", conn.listDomainsID)
step("numOfDefinedDomains", conn.numOfDefinedDomains)
step("listDefinedDomains", conn.listDefinedDomains)
step("listAllDomains", lambda: sorted(d.name() for d in conn.listAllDomains(0)))
step("listAllDomains(active)", lambda: [d.name() for d in conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE)])

dom = conn.lookupByName("test")
step("name", dom.name)
step("ID", dom.ID)
step("UUID", dom.UUID)
step("UUIDString", dom.UUIDString)
step("lookupByID", lambda: conn.lookupByID(dom.ID()).name())
step("lookupByUUID", lambda: conn.lookupByUUID(dom.UUID()).name())
step("lookupByUUIDString", lambda: conn.lookupByUUIDString(dom.UUIDString()).name())
step("info", lambda: no_time(dom.info()))
step("state", dom.state)
step("OSType", dom.OSType)
step("XMLDesc", dom.XMLDesc)
step("XMLDesc(inactive)", lambda: dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
step("isActive", dom.isActive)
step("isPersistent", dom.isPersistent)
step("autostart", dom.autostart)
step("maxMemory", dom.maxMemory)
step("maxVcpus", dom.maxVcpus)
step("vcpusFlags", lambda: dom.vcpusFlags(0))
step("vcpus", lambda: ([v[:2] for v in dom.vcpus()[0]], dom.vcpus()[1]))
step("schedulerType", dom.schedulerType)
step("schedulerParameters", dom.schedulerParameters)
step("securityLabel", dom.securityLabel)
step("connect", lambda: dom.connect() is conn)
step("getCPUMap", conn.getCPUMap)
step("hasManagedSaveImage", lambda: dom.hasManagedSaveImage(0))
step("blockStats", lambda: len(dom.blockStats("vda")))  # the counters move with time
step("interfaceStats", lambda: dom.interfaceStats("vnet0"))

# errors
step("lookupByName(missing)", lambda: conn.lookupByName("no-such-domain"))
step("lookupByID(missing)", lambda: conn.lookupByID(4242))
step("lookupByUUIDString(bad)", lambda: conn.lookupByUUIDString("not-a-uuid"))
step("networkLookupByName(missing)", lambda: conn.networkLookupByName("no-such-net"))
step("defineXML(bad)", lambda: conn.defineXML("<domain type='test'><name>x"))
ro = libvirt.openReadOnly(uri)
step("readonly suspend", lambda: ro.lookupByName("test").suspend())
step("readonly info", lambda: no_time(ro.lookupByName("test").info()))
ro.close()

# a transient domain's life
new = conn.createXML(NEWDOM, 0)
step("createXML", lambda: [new.name(), new.UUIDString(), new.isActive(), new.isPersistent()])
step("new info", lambda: no_time(new.info()))
step("suspend", lambda: [new.suspend(), new.state()])
step("resume", lambda: [new.resume(), new.state()])
step("setMemory", lambda: [new.setMemory(262144), no_time(new.info())])
step("destroy", lambda: [new.destroy(), new.ID()])
step("gone", lambda: conn.lookupByName("pydom"))

# a persistent domain's life
defined = conn.defineXML(NEWDOM)
step("defineXML", lambda: [defined.isActive(), defined.isPersistent(), defined.ID(), conn.listDefinedDomains()])
step("create", lambda: [defined.create(), defined.isActive(), defined.state()])
step("setAutostart", lambda: [defined.setAutostart(1), defined.autostart(), defined.setAutostart(0)])
step("setVcpusFlags(config)", lambda: [defined.setVcpusFlags(1, libvirt.VIR_DOMAIN_AFFECT_CONFIG),
                                       defined.vcpusFlags(libvirt.VIR_DOMAIN_AFFECT_CONFIG)])
step("setMemoryFlags(config)", lambda: [defined.setMemoryFlags(262144, libvirt.VIR_DOMAIN_AFFECT_CONFIG),
                                        defined.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)])
step("pinVcpu", lambda: [defined.pinVcpu(0, (True, False)), defined.vcpus()[1][0][:2]])
# (libvirt's test driver accepts a new weight but keeps reporting 50; virtpp's reports the new one)
step("setSchedulerParameters", lambda: defined.setSchedulerParameters({"weight": 7}))
step("save", lambda: [defined.save(SAVE_PATH), defined.state(), defined.isActive()])
step("restore", lambda: [conn.restore(SAVE_PATH), conn.lookupByName("pydom").state()])
step("restore again", lambda: conn.restore(SAVE_PATH + ".missing"))
step("destroy defined", lambda: [defined.destroy(), defined.state()])
step("undefine", lambda: [defined.undefine(), conn.listDefinedDomains()])

# networks
step("numOfNetworks", conn.numOfNetworks)
step("listNetworks", conn.listNetworks)
step("listDefinedNetworks", conn.listDefinedNetworks)
step("listAllNetworks", lambda: sorted(n.name() for n in conn.listAllNetworks(0)))
net = conn.networkLookupByName("default")
step("net name", net.name)
step("net UUID", net.UUID)
step("net lookupByUUIDString", lambda: conn.networkLookupByUUIDString(net.UUIDString()).name())
step("net XMLDesc", net.XMLDesc)
step("net bridgeName", net.bridgeName)
step("net flags", lambda: [net.isActive(), net.isPersistent(), net.autostart()])
pynet = conn.networkDefineXML(NEWNET)
step("networkDefineXML", lambda: [pynet.name(), pynet.isActive(), pynet.isPersistent(), conn.listDefinedNetworks()])
step("network create", lambda: [pynet.create(), pynet.isActive()])
step("network destroy", lambda: [pynet.destroy(), pynet.isActive()])
step("network undefine", lambda: [pynet.undefine(), conn.listDefinedNetworks()])
conn.close()
if os.path.exists(SAVE_PATH):
    os.unlink(SAVE_PATH)

json.dump(record, sys.stdout, indent=1, sort_keys=True)
sys.stdout.write("\n")
