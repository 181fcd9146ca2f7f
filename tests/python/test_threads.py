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


if __name__ == "__main__":
    unittest.main()
