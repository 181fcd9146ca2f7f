"""Several Python threads on one connection: calls run with the GIL released and all succeed."""
import os
import threading
import time
import unittest

import libvirt

URI = os.environ.get("VIRTPP_TEST_URI", "test:///default")


class TestThreads(unittest.TestCase):
    def test_threads_share_a_connection(self):
        conn = libvirt.open(URI)
        errors = []
        counts = []

        def worker(n):
            try:
                done = 0
                for _ in range(200):
                    dom = conn.lookupByName("test")
                    self.assertEqual(dom.info()[0], libvirt.VIR_DOMAIN_RUNNING)
                    self.assertIn("<name>test</name>", dom.XMLDesc(0))
                    done += 1
                counts.append(done)
            except Exception as e:  # noqa: BLE001 -- reported below
                errors.append(e)

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        self.assertEqual(errors, [])
        self.assertEqual(counts, [200] * 8)

    def test_gil_is_released_during_calls(self):
        # A pure-Python thread keeps running while another thread makes library calls.
        conn = libvirt.open(URI)
        stop = threading.Event()
        ticks = [0]

        def spin():
            while not stop.is_set():
                ticks[0] += 1
                time.sleep(0)

        spinner = threading.Thread(target=spin)
        spinner.start()
        try:
            for _ in range(300):
                conn.lookupByName("test").info()
        finally:
            stop.set()
            spinner.join()
        self.assertGreater(ticks[0], 0)


    def test_threads_share_a_domain_object(self):
        # One virDomain used by several threads while one of them starts and stops it.
        xml = ("<domain type='test'><name>threaded</name><memory>65536</memory><vcpu>1</vcpu>"
               "<os><type>hvm</type></os></domain>")
        conn = libvirt.open(URI)
        dom = conn.defineXML(xml)
        errors = []
        stop = threading.Event()

        def toggler():
            try:
                for _ in range(50):
                    dom.create()
                    dom.destroy()
            except Exception as e:  # noqa: BLE001 -- reported below
                errors.append(e)
            finally:
                stop.set()

        def reader():
            try:
                while not stop.is_set():
                    self.assertIn(dom.info()[0], (libvirt.VIR_DOMAIN_RUNNING, libvirt.VIR_DOMAIN_SHUTOFF))
                    self.assertEqual(dom.name(), "threaded")
                    dom.ID()
            except Exception as e:  # noqa: BLE001
                errors.append(e)

        threads = [threading.Thread(target=toggler)] + [threading.Thread(target=reader) for _ in range(3)]
        try:
            for t in threads:
                t.start()
            for t in threads:
                t.join(120)
            self.assertEqual(errors, [])
            self.assertEqual(dom.ID(), -1)
            self.assertEqual(dom.isActive(), 0)
        finally:
            dom.undefine()


class TestCloseWhileInUse(unittest.TestCase):
    def test_close_under_running_calls(self):
        # Closing a connection other threads are calling on: their calls either complete or
        # raise VIR_ERR_INVALID_CONN; nothing crashes.
        libvirt.registerErrorHandler(lambda ctx, err: None, None)
        try:
            conn = libvirt.open(URI)
            outcomes = []

            def worker():
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline:
                    try:
                        conn.lookupByName("test").info()
                        outcomes.append("ok")
                    except libvirt.libvirtError as e:
                        outcomes.append(e.get_error_code())
                        if e.get_error_code() == libvirt.VIR_ERR_INVALID_CONN:
                            return

            threads = [threading.Thread(target=worker) for _ in range(4)]
            for t in threads:
                t.start()
            time.sleep(0.05)
            self.assertEqual(conn.close(), 0)
            for t in threads:
                t.join(60)
            self.assertEqual(set(outcomes) - {"ok", libvirt.VIR_ERR_INVALID_CONN}, set())
            self.assertEqual(outcomes.count(libvirt.VIR_ERR_INVALID_CONN), 4)
            self.assertIn("ok", outcomes)
        finally:
            libvirt.registerErrorHandler(None, None)


if __name__ == "__main__":
    unittest.main()
