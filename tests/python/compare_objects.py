#!/usr/bin/python3
"""compare_api.py's companion for the test driver's other objects: the storage pool and its
volumes, the host interface, the node devices, and a domain's snapshots and checkpoints. It
records each call's result (or error) on one URI as JSON; tests/scripts/python_module.sh runs it
with virtpp's drop-in and with python3-libvirt on the same URI and requires the same record.
Snapshot and checkpoint names default to the creation second, so the record names them by role
and drops creation times; listings are sorted (libvirt lists in hash order). It leaves the
driver's state as it found it.

    compare_objects.py URI EXPECT   (EXPECT: virtpp or libvirt, the module `import libvirt` must load)
"""
import json
import re
import sys

import libvirt
from recording import recorder

uri, expect = sys.argv[1], sys.argv[2]
if hasattr(libvirt, "__virtpp__") != (expect == "virtpp"):
    sys.exit("compare_objects.py: `import libvirt` loaded %s, expected %s" % (libvirt.__file__, expect))

libvirt.registerErrorHandler(lambda ctx, err: None, None)
record = []
epoch_names = {}  # generated moment name -> its role in this script


def neutral(value):
    """Replaces generated names and creation times, so both runs record the same text."""
    if isinstance(value, str):
        # creation times first: a later moment's time can equal an earlier one's generated name
        value = re.sub(r"<creationTime>\d+</creationTime>", "<creationTime/>", value)
        for name, role in epoch_names.items():
            value = value.replace(name, role)
        return value
    if isinstance(value, list):
        return [neutral(v) for v in value]
    if isinstance(value, dict):
        return {k: neutral(v) for k, v in value.items()}
    return value


step = recorder(record, neutral)


conn = libvirt.open(uri)

# ---- storage
step("listAllStoragePools", lambda: sorted(p.name() for p in conn.listAllStoragePools()))
for flags in (1, 2, 4, 8, 16, 32, 64, 128, 64 | 128):
    step("listAllStoragePools(%d)" % flags, lambda: sorted(p.name() for p in conn.listAllStoragePools(flags)))
step("listAllStoragePools(bad flag)", lambda: conn.listAllStoragePools(1 << 25))
step("listStoragePools", conn.listStoragePools)
step("numOfStoragePools", conn.numOfStoragePools)
step("listDefinedStoragePools", conn.listDefinedStoragePools)
step("storagePoolLookupByName(nx)", lambda: conn.storagePoolLookupByName("nx"))
step("storagePoolLookupByUUIDString(nx)", lambda: conn.storagePoolLookupByUUIDString("dfe224cb-28fb-8dd0-c4b2-64eb3f0f4560"))
pool = conn.storagePoolLookupByName("default-pool")
step("pool.UUIDString", pool.UUIDString)
step("pool by uuid", lambda: conn.storagePoolLookupByUUID(pool.UUID()).name())
step("pool.info", pool.info)
step("pool.XMLDesc", lambda: pool.XMLDesc(0))
step("pool.XMLDesc(bad flag)", lambda: pool.XMLDesc(1))
step("pool.autostart", pool.autostart)
step("pool.isActive", pool.isActive)
step("pool.isPersistent", pool.isPersistent)
step("pool.listVolumes", pool.listVolumes)
step("pool.numOfVolumes", pool.numOfVolumes)
step("storageVolLookupByName(nx)", lambda: pool.storageVolLookupByName("nx"))
# (malformed XML is left out: libxml2's and Xerces' messages differ; tests/unit checks ours)
for bad in ("<volume><capacity>1</capacity></volume>", "<volume><name>a</name></volume>",
            "<pool><name>a</name></pool>", "<volume><name>a</name><capacity unit='XB'>1</capacity></volume>",
            "<volume><name>a</name><capacity>x1</capacity></volume>",
            "<volume type='file'><name>b.img</name><allocation unit='T'>1000</allocation><capacity unit='M'>1</capacity></volume>"):
    step("createXML %s" % bad, lambda: pool.createXML(bad))
VOL = """<volume type="file">
  <name>raw.img</name>
  <allocation unit="M">10</allocation>
  <capacity unit="M">1000</capacity>
</volume>"""
vol = step("createXML raw.img", lambda: pool.createXML(VOL))
if isinstance(vol, libvirt.virStorageVol):
    record[-1][1] = vol.name()
    step("createXML again", lambda: pool.createXML(VOL))
    step("vol2", lambda: pool.createXML("<volume><name>two.qcow2</name><capacity unit='KiB'>64</capacity>"
                                        "<target><format type='qcow2'/></target></volume>").name())
    step("vol.key", vol.key)
    step("vol.path", vol.path)
    step("vol.info", vol.info)
    step("vol.XMLDesc", lambda: vol.XMLDesc(0))
    step("vol2.XMLDesc", lambda: pool.storageVolLookupByName("two.qcow2").XMLDesc(0))
    step("pool of vol", lambda: vol.storagePoolLookupByVolume().name())
    step("pool.info with volumes", pool.info)
    step("pool.XMLDesc with volumes", lambda: pool.XMLDesc(0))
    step("listAllVolumes", lambda: sorted(v.name() for v in pool.listAllVolumes()))
    step("listVolumes", lambda: sorted(pool.listVolumes()))
    step("storageVolLookupByKey", lambda: conn.storageVolLookupByKey("/default-pool/raw.img").name())
    step("storageVolLookupByPath", lambda: conn.storageVolLookupByPath("/default-pool/two.qcow2").name())
    step("storageVolLookupByKey(nx)", lambda: conn.storageVolLookupByKey("/x"))
    step("storageVolLookupByPath(nx)", lambda: conn.storageVolLookupByPath("/x"))
    step("vol.delete(bad flag)", lambda: vol.delete(4))
    step("vol.delete", lambda: vol.delete(0))
    step("vol.delete again", lambda: vol.delete(0))
    step("vol.info after delete", vol.info)
    step("vol2.delete", lambda: pool.storageVolLookupByName("two.qcow2").delete(0))
step("pool.info at the end", pool.info)

# ---- host interfaces
step("listAllInterfaces", lambda: [(i.name(), i.MACString()) for i in conn.listAllInterfaces()])
for flags in (1, 2, 3):
    step("listAllInterfaces(%d)" % flags, lambda: [i.name() for i in conn.listAllInterfaces(flags)])
step("listInterfaces", conn.listInterfaces)
step("numOfInterfaces", conn.numOfInterfaces)
step("listDefinedInterfaces", conn.listDefinedInterfaces)
step("numOfDefinedInterfaces", conn.numOfDefinedInterfaces)
step("interfaceLookupByName(nx)", lambda: conn.interfaceLookupByName("nx"))
step("interfaceLookupByMACString(nx)", lambda: conn.interfaceLookupByMACString("00:00:00:00:00:00"))
iface = conn.interfaceLookupByName("eth1")
step("iface.name", iface.name)
step("iface.MACString", iface.MACString)
step("iface.isActive", iface.isActive)
step("iface.XMLDesc", lambda: iface.XMLDesc(0))
step("by mac", lambda: conn.interfaceLookupByMACString("aa:bb:cc:dd:ee:ff").name())

# ---- node devices
step("listAllDevices", lambda: sorted(d.name() for d in conn.listAllDevices()))
for bit in range(0, 23):
    step("listAllDevices(1<<%d)" % bit, lambda: sorted(d.name() for d in conn.listAllDevices(1 << bit)))
step("listDevices", lambda: sorted(conn.listDevices(None, 0)))
for cap in ("system", "scsi_host", "fc_host", "vports", "net"):
    step("listDevices(%s)" % cap, lambda: sorted(conn.listDevices(cap, 0)))
    step("numOfDevices(%s)" % cap, lambda: conn.numOfDevices(cap, 0))
step("nodeDeviceLookupByName(nx)", lambda: conn.nodeDeviceLookupByName("nx"))
for name in ("computer", "scsi_host1", "scsi_host2", "scsi_host11"):
    dev = conn.nodeDeviceLookupByName(name)
    step(name + ".name", dev.name)
    step(name + ".parent", dev.parent)
    step(name + ".listCaps", dev.listCaps)
    step(name + ".numOfCaps", dev.numOfCaps)
    step(name + ".XMLDesc", lambda: dev.XMLDesc(0))

# ---- snapshots
dom = conn.lookupByName("test")
step("snapshotNum", lambda: dom.snapshotNum(0))
step("snapshotLookupByName(nx)", lambda: dom.snapshotLookupByName("nx"))
step("hasCurrentSnapshot", lambda: dom.hasCurrentSnapshot(0))
step("snapshotCurrent none", lambda: dom.snapshotCurrent(0))
step("snapshotCreateXML wrong root", lambda: dom.snapshotCreateXML("<snap/>"))
step("snapshotCreateXML unknown disk", lambda: dom.snapshotCreateXML(
    "<domainsnapshot><name>q</name><disks><disk name='vdz'/></disks></domainsnapshot>"))
step("snapshotCreateXML bad flag", lambda: dom.snapshotCreateXML("<domainsnapshot/>", 1 << 4))
first = dom.snapshotCreateXML("<domainsnapshot/>")
epoch_names[first.getName()] = "FIRST"
step("first name is the creation second", lambda: first.getName().isdigit())
step("second", lambda: dom.snapshotCreateXML(
    "<domainsnapshot><name>s2</name><description>a &lt;b&gt;</description></domainsnapshot>").getName())
step("duplicate", lambda: dom.snapshotCreateXML("<domainsnapshot><name>s2</name></domainsnapshot>"))
step("third", lambda: dom.snapshotCreateXML("<domainsnapshot><name>s3</name></domainsnapshot>").getName())
step("checkpoint while snapshots exist", lambda: dom.checkpointCreateXML("<domaincheckpoint/>"))
step("snapshotNum", lambda: dom.snapshotNum(0))
for flags in (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2 | 16):
    step("listAllSnapshots(%d)" % flags, lambda: sorted(s.getName() for s in dom.listAllSnapshots(flags)))
    step("snapshotNum(%d)" % flags, lambda: dom.snapshotNum(flags))
step("snapshotListNames", lambda: sorted(dom.snapshotListNames(0)))
step("current", lambda: dom.snapshotCurrent(0).getName())
s2 = dom.snapshotLookupByName("s2")
step("s2.getXMLDesc", lambda: s2.getXMLDesc(0))
step("s2.getXMLDesc(bad flag)", lambda: s2.getXMLDesc(2))
step("s2.getParent", lambda: s2.getParent(0).getName())
step("first.getParent", lambda: first.getParent(0))
step("s2.isCurrent", lambda: s2.isCurrent(0))
step("s3.isCurrent", lambda: dom.snapshotLookupByName("s3").isCurrent(0))
step("s2.hasMetadata", lambda: s2.hasMetadata(0))
step("delete s2 (children move up)", lambda: s2.delete(0))
step("s3.getParent", lambda: dom.snapshotLookupByName("s3").getParent(0).getName())
step("delete s3 (current)", lambda: dom.snapshotLookupByName("s3").delete(0))
step("current after", lambda: dom.snapshotCurrent(0).getName())
step("s4", lambda: dom.snapshotCreateXML("<domainsnapshot><name>s4</name></domainsnapshot>").getName())
step("delete first with children", lambda: first.delete(libvirt.VIR_DOMAIN_SNAPSHOT_DELETE_CHILDREN))
step("snapshotNum at the end", lambda: dom.snapshotNum(0))
step("hasCurrentSnapshot at the end", lambda: dom.hasCurrentSnapshot(0))
step("delete gone", lambda: first.delete(0))

# ---- checkpoints
step("checkpointLookupByName(nx)", lambda: dom.checkpointLookupByName("nx"))
step("checkpointCreateXML wrong root", lambda: dom.checkpointCreateXML("<cp/>"))
c1 = dom.checkpointCreateXML("<domaincheckpoint/>")
epoch_names[c1.getName()] = "C1"
step("c2", lambda: dom.checkpointCreateXML(
    "<domaincheckpoint><name>c2</name><description>x</description></domaincheckpoint>").getName())
step("c duplicate", lambda: dom.checkpointCreateXML("<domaincheckpoint><name>c2</name></domaincheckpoint>"))
step("snapshot while checkpoints exist", lambda: dom.snapshotCreateXML("<domainsnapshot/>"))
for flags in (0, 1, 2, 4, 8):
    step("listAllCheckpoints(%d)" % flags, lambda: sorted(c.getName() for c in dom.listAllCheckpoints(flags)))
c2 = dom.checkpointLookupByName("c2")
step("c2.getXMLDesc", lambda: c2.getXMLDesc(0))
step("c2.getXMLDesc(no domain)", lambda: c2.getXMLDesc(libvirt.VIR_DOMAIN_CHECKPOINT_XML_NO_DOMAIN))
step("c2.getXMLDesc(size)", lambda: c2.getXMLDesc(libvirt.VIR_DOMAIN_CHECKPOINT_XML_NO_DOMAIN | libvirt.VIR_DOMAIN_CHECKPOINT_XML_SIZE))
step("c2.getParent", lambda: c2.getParent(0).getName())
step("c1.getParent", lambda: c1.getParent(0))
step("delete c1", lambda: c1.delete(0))
step("c2.getParent after", lambda: c2.getParent(0))
step("delete c2", lambda: c2.delete(0))
step("listAllCheckpoints at the end", lambda: dom.listAllCheckpoints(0))

# ---- a shut-off domain (defined here, so test's id stays as other scripts expect it)
OFFDOM = """<domain type='test'>
  <name>objdom</name>
  <uuid>5c0b9a1e-7f61-4c55-9b0e-3f3e8c2a9d11</uuid>
  <memory unit='KiB'>131072</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type></os>
  <devices><disk type='file' device='disk'><source file='/x.img'/><target dev='hda' bus='ide'/></disk></devices>
</domain>"""
off = conn.defineXML(OFFDOM)
step("checkpoint of a shut-off domain", lambda: off.checkpointCreateXML("<domaincheckpoint/>"))
step("snapshot of a shut-off domain", lambda: off.snapshotCreateXML("<domainsnapshot><name>off</name></domainsnapshot>").getXMLDesc(0))
step("listAllDomains(has snapshot)", lambda: sorted(d.name() for d in conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_HAS_SNAPSHOT)))
step("listAllDomains(no snapshot)", lambda: sorted(d.name() for d in conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_NO_SNAPSHOT)))
step("undefine with snapshots", off.undefine)
step("undefine with snapshots metadata", lambda: off.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA))
step("gone", lambda: conn.lookupByName("objdom"))

json.dump(record, sys.stdout, indent=0)
print()
