"""Every name python3-libvirt 9.0 has exists in virtpp's module (the generated table), constants
carry libvirt's values, and a name the library does not implement raises libvirtError with
VIR_ERR_NO_SUPPORT, never AttributeError. Run with the drop-in folder first on PYTHONPATH."""
import os
import unittest

import libvirt
import libvirtmod
from virtpp import _names

URI = os.environ.get("VIRTPP_TEST_URI", "test:///default")


class TestNames(unittest.TestCase):
    def test_is_virtpp(self):
        self.assertTrue(hasattr(libvirt, "__virtpp__"), libvirt.__file__)

    def test_constants(self):
        self.assertGreater(len(_names.CONSTANTS), 900)
        for name, value in _names.CONSTANTS.items():
            self.assertEqual(getattr(libvirt, name), value, name)
        self.assertEqual(libvirt.VIR_ERR_NO_SUPPORT, 3)
        self.assertEqual(libvirt.VIR_DOMAIN_RUNNING, 1)
        self.assertEqual(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE, 1)

    def test_classes_and_methods(self):
        for cls, methods in _names.CLASSES.items():
            klass = getattr(libvirt, cls)
            self.assertIsInstance(klass, type, cls)
            for method in methods:
                self.assertTrue(callable(getattr(klass, method)), "%s.%s" % (cls, method))

    def test_functions(self):
        for name in _names.FUNCTIONS:
            self.assertTrue(callable(getattr(libvirt, name)), name)
        for name in _names.LIBVIRTMOD_FUNCTIONS:
            self.assertTrue(callable(getattr(libvirtmod, name)), name)
        self.assertIs(libvirt.libvirtmod, libvirtmod)

    def test_qemu_and_lxc_modules(self):
        import libvirt_lxc
        import libvirt_qemu
        import libvirtmod_lxc
        import libvirtmod_qemu
        for module, c_module in ((libvirt_qemu, libvirtmod_qemu), (libvirt_lxc, libvirtmod_lxc)):
            table = _names.SIDE_MODULES[module.__name__.split(".")[-1]]
            for name, value in table["constants"].items():
                self.assertEqual(getattr(module, name), value, name)
            for name in table["functions"]:
                self.assertTrue(callable(getattr(module, name)), name)
            for name in table["c_functions"]:
                self.assertTrue(callable(getattr(c_module, name)), name)
        conn = libvirt.open(URI)
        with self.assertRaises(libvirt.libvirtError) as ctx:
            libvirt_qemu.qemuMonitorCommand(conn.lookupByName("test"), '{"execute": "query-status"}', 0)
        self.assertEqual(ctx.exception.get_error_code(), libvirt.VIR_ERR_NO_SUPPORT)
        self.assertIn("virDomainQemuMonitorCommand", ctx.exception.get_error_message())

    def test_unimplemented_method_is_no_support(self):
        conn = libvirt.open(URI)
        dom = conn.lookupByName("test")
        for call, api in ((lambda: dom.screenshot(None, 0), "virDomainScreenshot"),
                          (lambda: conn.storagePoolLookupByName("default-pool").refresh(0), "virStoragePoolRefresh"),
                          (lambda: conn.storagePoolEventRegisterAny(None, 0, lambda *a: None, None),
                           "virConnectStoragePoolEventRegisterAny"),
                          (lambda: libvirtmod.virDomainScreenshot(dom._o, None, 0), "virDomainScreenshot"),
                          (lambda: dom.migrate3(conn, {libvirt.VIR_MIGRATE_PARAM_COMPRESSION: "xbzrle"}, 0),
                           "virDomainMigrate3 parameter compression")):
            with self.assertRaises(libvirt.libvirtError) as ctx:
                call()
            self.assertEqual(ctx.exception.get_error_code(), libvirt.VIR_ERR_NO_SUPPORT)
            self.assertIn(api, ctx.exception.get_error_message())

    def test_libvirtmod_runs_the_method(self):
        conn = libvirt.open(URI)
        dom = conn.lookupByName("test")
        self.assertEqual(libvirtmod.virDomainGetInfo(dom._o)[:4], dom.info()[:4])
        self.assertEqual(libvirtmod.virConnectListDomainsID(conn._o), conn.listDomainsID())
        self.assertEqual(libvirtmod.virGetVersion(), libvirt.getVersion())

    def test_shapes(self):
        conn = libvirt.open(URI)
        dom = conn.lookupByName("test")
        info = dom.info()
        self.assertIsInstance(info, list)
        self.assertEqual(len(info), 5)
        self.assertTrue(all(isinstance(v, int) for v in info))
        self.assertIsInstance(dom.UUID(), bytes)
        self.assertEqual(len(dom.UUID()), 16)
        self.assertEqual(type(conn.listAllDomains()[0]), libvirt.virDomain)
        self.assertIs(dom.connect(), conn)
        self.assertEqual(len(conn.getInfo()), 8)
        vcpus, maps = dom.vcpus()
        self.assertEqual(len(vcpus), info[3])
        self.assertEqual(len(maps), info[3])


if __name__ == "__main__":
    unittest.main()
