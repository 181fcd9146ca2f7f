"""The event loop API: the default implementation runs handles and timeouts for real; an
application's implementation receives them; domain event callbacks are NO_SUPPORT until the
library raises events (issue 11)."""
import asyncio
import os
import unittest

import libvirt
import libvirtaio


class TestEvents(unittest.TestCase):
    def test_default_impl_handles_and_timeouts(self):
        self.assertEqual(libvirt.virEventRegisterDefaultImpl(), 0)
        r, w = os.pipe()
        got = []

        def readable(watch, fd, events, opaque):
            os.read(fd, 1)
            got.append(("fd", fd, events, opaque))

        watch = libvirt.virEventAddHandle(r, libvirt.VIR_EVENT_HANDLE_READABLE, readable, "h")
        timer = libvirt.virEventAddTimeout(10, lambda timer, opaque: got.append(("timer", opaque)), "t")
        os.write(w, b"x")
        for _ in range(20):
            libvirt.virEventRunDefaultImpl()
            if ("timer", "t") in got and any(g[0] == "fd" for g in got):
                break
        self.assertIn(("fd", r, libvirt.VIR_EVENT_HANDLE_READABLE, "h"), got)
        self.assertIn(("timer", "t"), got)
        self.assertEqual(libvirt.virEventRemoveHandle(watch), 0)
        self.assertEqual(libvirt.virEventRemoveTimeout(timer), 0)
        os.close(r)
        os.close(w)

    def test_asyncio_impl(self):
        async def run():
            impl = libvirtaio.virEventRegisterAsyncIOImpl()
            self.assertIs(libvirtaio.getCurrentImpl(), impl)
            self.assertTrue(impl.is_idle())
            fired = asyncio.Event()
            timer = libvirt.virEventAddTimeout(5, lambda t, opaque: opaque.set(), fired)
            self.assertFalse(impl.is_idle())
            await asyncio.wait_for(fired.wait(), 2)
            libvirt.virEventRemoveTimeout(timer)
            await impl.drain()
            self.assertTrue(impl.is_idle())
        asyncio.run(run())
        libvirt.virEventRegisterDefaultImpl()  # leave the process on the default loop

    def test_domain_events_are_no_support(self):
        libvirt.registerErrorHandler(lambda ctx, err: None, None)
        try:
            conn = libvirt.open("test:///default")
            with self.assertRaises(libvirt.libvirtError) as ctx:
                conn.domainEventRegisterAny(conn.lookupByName("test"), libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                            lambda *a: None, None)
            self.assertEqual(ctx.exception.get_error_code(), libvirt.VIR_ERR_NO_SUPPORT)
        finally:
            libvirt.registerErrorHandler(None, None)


if __name__ == "__main__":
    unittest.main()
