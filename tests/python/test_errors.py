"""libvirtError and registerErrorHandler as libvirt-python has them."""
import os
import unittest

import libvirt

URI = os.environ.get("VIRTPP_TEST_URI", "test:///default")


class TestErrors(unittest.TestCase):
    def tearDown(self):
        libvirt.registerErrorHandler(None, None)

    def test_error_fields(self):
        libvirt.registerErrorHandler(lambda ctx, err: None, None)
        conn = libvirt.open(URI)
        with self.assertRaises(libvirt.libvirtError) as ctx:
            conn.lookupByName("no-such-domain")
        e = ctx.exception
        self.assertEqual(e.get_error_code(), libvirt.VIR_ERR_NO_DOMAIN)
        self.assertEqual(e.get_error_domain(), libvirt.VIR_FROM_TEST if URI.startswith("test:") else e.get_error_domain())
        self.assertEqual(e.get_error_level(), libvirt.VIR_ERR_ERROR)
        self.assertEqual(str(e), e.get_error_message())
        self.assertEqual(len(e.err), 9)
        self.assertEqual(libvirt.virGetLastErrorCode(), libvirt.VIR_ERR_NO_DOMAIN)
        self.assertEqual(libvirt.virGetLastError()[0], libvirt.VIR_ERR_NO_DOMAIN)
        libvirt.virResetLastError()
        self.assertIsNone(libvirt.virGetLastError())

    def test_handler_gets_context_and_error(self):
        seen = []
        self.assertEqual(libvirt.registerErrorHandler(lambda ctx, err: seen.append((ctx, err)), "context"), 1)
        conn = libvirt.open(URI)
        with self.assertRaises(libvirt.libvirtError):
            conn.lookupByName("no-such-domain")
        self.assertEqual(len(seen), 1)
        self.assertEqual(seen[0][0], "context")
        self.assertEqual(seen[0][1][0], libvirt.VIR_ERR_NO_DOMAIN)

    def test_read_only_refuses_changes(self):
        libvirt.registerErrorHandler(lambda ctx, err: None, None)
        conn = libvirt.openReadOnly(URI)
        dom = conn.lookupByName("test")
        with self.assertRaises(libvirt.libvirtError) as ctx:
            dom.suspend()
        self.assertEqual(ctx.exception.get_error_code(), libvirt.VIR_ERR_OPERATION_DENIED)
        self.assertEqual(dom.info()[0], libvirt.VIR_DOMAIN_RUNNING)

    def test_bad_arguments(self):
        libvirt.registerErrorHandler(lambda ctx, err: None, None)
        conn = libvirt.open(URI)
        with self.assertRaises(libvirt.libvirtError) as ctx:
            conn.lookupByUUID(b"short")
        self.assertEqual(ctx.exception.get_error_code(), libvirt.VIR_ERR_INVALID_ARG)
        with self.assertRaises(TypeError):
            conn.lookupByName(42)
        with self.assertRaises(libvirt.libvirtError) as ctx:
            conn.lookupByName("test").setSchedulerParameters({"nonsense": 1})
        self.assertEqual(ctx.exception.get_error_code(), libvirt.VIR_ERR_INVALID_ARG)

    def test_closed_connection(self):
        libvirt.registerErrorHandler(lambda ctx, err: None, None)
        conn = libvirt.open(URI)
        dom = conn.lookupByName("test")
        self.assertEqual(conn.close(), 0)
        self.assertEqual(conn.isAlive(), 0)
        with self.assertRaises(libvirt.libvirtError) as ctx:
            conn.listDomainsID()
        self.assertEqual(ctx.exception.get_error_code(), libvirt.VIR_ERR_INVALID_CONN)
        self.assertEqual(dom.name(), "test")  # a handle keeps what it needs

    def test_open_auth(self):
        conn = libvirt.openAuth(URI, [[libvirt.VIR_CRED_AUTHNAME], lambda creds, data: 0, None], 0)
        self.assertEqual(conn.lookupByName("test").name(), "test")
        with self.assertRaises(TypeError):
            libvirt.openAuth(URI, None, 0)


if __name__ == "__main__":
    unittest.main()
