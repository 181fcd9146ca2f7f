"""An event loop implementation for virtpp's libvirt module on asyncio (libvirt-python's libvirtaio).

    import libvirtaio
    libvirtaio.virEventRegisterAsyncIOImpl()   # before opening connections

Handles become loop.add_reader/add_writer watches and timeouts loop.call_later callbacks; every
callback runs on the asyncio loop. getCurrentImpl() returns the registered implementation,
is_idle() tells whether it has nothing pending and drain() waits until it has not.
"""
import asyncio
from typing import Any, Callable, Dict, Optional

from . import libvirt

__all__ = ["getCurrentImpl", "virEventAsyncIOImpl", "virEventRegisterAsyncIOImpl"]


class _Handle(object):
    def __init__(self, impl: 'virEventAsyncIOImpl', watch: int, fd: int, events: int, cb: Callable, opaque: Any) -> None:
        self.impl, self.watch, self.fd, self.events, self.cb, self.opaque = impl, watch, fd, events, cb, opaque

    def _fire(self, event: int) -> None:
        self.cb(self.watch, self.fd, event, self.opaque)

    def apply(self) -> None:
        loop = self.impl.loop
        loop.remove_reader(self.fd)
        loop.remove_writer(self.fd)
        if self.events & libvirt.VIR_EVENT_HANDLE_READABLE:
            loop.add_reader(self.fd, self._fire, libvirt.VIR_EVENT_HANDLE_READABLE)
        if self.events & libvirt.VIR_EVENT_HANDLE_WRITABLE:
            loop.add_writer(self.fd, self._fire, libvirt.VIR_EVENT_HANDLE_WRITABLE)

    def close(self) -> None:
        self.impl.loop.remove_reader(self.fd)
        self.impl.loop.remove_writer(self.fd)


class _Timeout(object):
    def __init__(self, impl: 'virEventAsyncIOImpl', timer: int, interval: int, cb: Callable, opaque: Any) -> None:
        self.impl, self.timer, self.interval, self.cb, self.opaque = impl, timer, interval, cb, opaque
        self._pending = None  # type: Optional[asyncio.Handle]

    def _fire(self) -> None:
        self._pending = None
        self.schedule()  # repeats until disabled (interval -1) or removed
        self.cb(self.timer, self.opaque)

    def schedule(self) -> None:
        self.close()
        if self.interval >= 0:
            self._pending = self.impl.loop.call_later(self.interval / 1000.0, self._fire)

    def close(self) -> None:
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None


class virEventAsyncIOImpl(object):
    """libvirt's event loop callbacks, carried out on an asyncio loop."""

    def __init__(self, loop: Optional[asyncio.AbstractEventLoop] = None) -> None:
        self.loop = loop or asyncio.get_event_loop()
        self.callbacks = {}  # type: Dict[int, Any]
        self._next_id = 1

    def register(self) -> 'virEventAsyncIOImpl':
        libvirt.virEventRegisterImpl(self._add_handle, self._update_handle, self._remove_handle,
                                     self._add_timeout, self._update_timeout, self._remove_timeout)
        return self

    def schedule_ff_callback(self, opaque: Any) -> None:
        self.loop.call_soon_threadsafe(libvirt.virEventInvokeFreeCallback, opaque)

    def is_idle(self) -> bool:
        """True when no handle or timeout is registered."""
        return not self.callbacks

    async def drain(self) -> None:
        """Waits until every handle and timeout has been removed."""
        while self.callbacks:
            await asyncio.sleep(0.01)

    def _new_id(self) -> int:
        n = self._next_id
        self._next_id += 1
        return n

    def _add_handle(self, fd: int, events: int, cb: Callable, opaque: Any) -> int:
        watch = self._new_id()
        handle = _Handle(self, watch, fd, events, cb, opaque)
        self.callbacks[watch] = handle
        self.loop.call_soon_threadsafe(handle.apply)
        return watch

    def _update_handle(self, watch: int, events: int) -> None:
        handle = self.callbacks.get(watch)
        if isinstance(handle, _Handle):
            handle.events = events
            self.loop.call_soon_threadsafe(handle.apply)

    def _remove(self, ident: int) -> int:
        # Handles and timeouts share one numbering, so either removal finds either kind (a loop
        # wrapper that routes one to the other still leaves nothing behind).
        entry = self.callbacks.pop(ident, None)
        if entry is None:
            return -1
        self.loop.call_soon_threadsafe(entry.close)
        return 0

    def _remove_handle(self, watch: int) -> int:
        return self._remove(watch)

    def _add_timeout(self, interval: int, cb: Callable, opaque: Any) -> int:
        timer = self._new_id()
        timeout = _Timeout(self, timer, interval, cb, opaque)
        self.callbacks[timer] = timeout
        self.loop.call_soon_threadsafe(timeout.schedule)
        return timer

    def _update_timeout(self, timer: int, interval: int) -> None:
        timeout = self.callbacks.get(timer)
        if isinstance(timeout, _Timeout):
            timeout.interval = interval
            self.loop.call_soon_threadsafe(timeout.schedule)

    def _remove_timeout(self, timer: int) -> int:
        return self._remove(timer)


_current_impl = None  # type: Optional[virEventAsyncIOImpl]


def getCurrentImpl() -> Optional[virEventAsyncIOImpl]:
    """The implementation virEventRegisterAsyncIOImpl() registered, or None."""
    return _current_impl


def virEventRegisterAsyncIOImpl(loop: Optional[asyncio.AbstractEventLoop] = None) -> virEventAsyncIOImpl:
    """Registers asyncio as the event loop implementation (loop: the running or current loop by
    default). Call it before opening connections. Returns the implementation."""
    global _current_impl
    _current_impl = virEventAsyncIOImpl(loop=loop).register()
    return _current_impl
