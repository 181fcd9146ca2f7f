"""The calls of libvirt-python's test_storage, test_domain_snapshot, test_domain_checkpoint,
test_interface and test_nodedev, in their style, on test:///default (or VIRTPP_TEST_URI)."""
import os
import unittest

import libvirt

URI = os.environ.get("VIRTPP_TEST_URI", "test:///default")


class TestStorage(unittest.TestCase):
    def setUp(self):
        self.conn = libvirt.open(URI)
        self.pool = self.conn.storagePoolLookupByName("default-pool")

    def tearDown(self):
        self.pool = None
        self.conn = None

    def testAttr(self):
        self.assertEqual(self.pool.name(), "default-pool")
        self.assertIsInstance(self.pool, libvirt.virStoragePool)

    def testVol(self):
        volxml = '''<volume type="file">
  <name>raw.img</name>
  <allocation unit="M">10</allocation>
  <capacity unit="M">1000</capacity>
</volume>'''
        vol = self.pool.createXML(volxml)
        try:
            self.assertIsInstance(vol, libvirt.virStorageVol)
            self.assertEqual(vol.info(), [libvirt.VIR_STORAGE_VOL_FILE, 1000 * 1024 * 1024, 10 * 1024 * 1024])
            self.assertIn("raw.img", self.pool.listVolumes())
            self.assertIs(vol.connect(), self.conn)
        finally:
            vol.delete(0)
        self.assertNotIn("raw.img", self.pool.listVolumes())


class TestDomainSnapshot(unittest.TestCase):
    def setUp(self):
        self.conn = libvirt.open(URI)
        self.dom = self.conn.lookupByName("test")

    def testSnapCreate(self):
        snap = self.dom.snapshotCreateXML("<domainsnapshot/>")
        self.assertIsInstance(snap, libvirt.virDomainSnapshot)
        self.assertEqual(snap.getDomain().name(), "test")
        self.assertEqual(self.dom.snapshotCurrent().getName(), snap.getName())
        snap.delete()
        self.assertEqual(self.dom.snapshotNum(), 0)


class TestDomainCheckpoint(unittest.TestCase):
    def setUp(self):
        self.conn = libvirt.open(URI)
        self.dom = self.conn.lookupByName("test")

    def testCheckpointCreate(self):
        cp = self.dom.checkpointCreateXML("<domaincheckpoint/>")
        self.assertIsInstance(cp, libvirt.virDomainCheckpoint)
        self.assertIn("<domaincheckpoint>", cp.getXMLDesc())
        cp.delete()
        self.assertEqual(self.dom.listAllCheckpoints(), [])


class TestInterface(unittest.TestCase):
    def setUp(self):
        self.conn = libvirt.open(URI)
        self.iface = self.conn.interfaceLookupByName("eth1")

    def testAttr(self):
        self.assertEqual(self.iface.name(), "eth1")
        self.assertEqual(self.iface.MACString(), "aa:bb:cc:dd:ee:ff")


class TestNodeDev(unittest.TestCase):
    def setUp(self):
        self.conn = libvirt.open(URI)
        self.nodedev = self.conn.nodeDeviceLookupByName("computer")

    def testAttr(self):
        self.assertEqual(self.nodedev.name(), "computer")
        self.assertIsNone(self.nodedev.parent())
        self.assertEqual(self.nodedev.listCaps(), ["system"])

    def testUnknown(self):
        libvirt.registerErrorHandler(lambda ctx, err: None, None)
        try:
            with self.assertRaises(libvirt.libvirtError) as ctx:
                self.conn.nodeDeviceLookupByName("nx")
            self.assertEqual(ctx.exception.get_error_code(), libvirt.VIR_ERR_NO_NODE_DEVICE)
        finally:
            libvirt.registerErrorHandler(None, None)


if __name__ == "__main__":
    unittest.main()
