"""virtpp's Python API in libvirt-python's shape.

The classes and functions libvirt-python offers, with the same names, arguments and return
shapes, on top of virtpp's native layer (virtpp._core, the C++ library linked in). Every name
libvirt-python has exists here: a function or method the library does not implement raises
libvirtError with VIR_ERR_NO_SUPPORT, as libvirt does for a driver without it. `import virtpp`
is the native name of this module; the drop-in folder makes `import libvirt` load it.
"""
import os as _os
import select as _select
import threading as _threading
import time as _time
import traceback as _traceback
from types import TracebackType  # noqa: F401  (libvirt-python's module has these names too)
from typing import Any, Callable, Dict, List, Optional, Tuple, Type, TypeVar, Union, overload  # noqa: F401

from . import _core
from . import _names

# The type aliases libvirt-python's annotations use (other code refers to them, e.g. libvirt._T).
_T = TypeVar('_T')
_EventCB = Callable[[int, int, int, _T], None]
_EventAddHandleFunc = Callable[[int, int, _EventCB, _T], int]
_EventUpdateHandleFunc = Callable[[int, int], None]
_EventRemoveHandleFunc = Callable[[int], int]
_TimerCB = Callable[[int, _T], None]
_EventAddTimeoutFunc = Callable[[int, _TimerCB, _T], int]
_EventUpdateTimeoutFunc = Callable[[int, int], None]
_EventRemoveTimeoutFunc = Callable[[int], int]
_DomainCB = Callable[['virConnect', 'virDomain', int, int, _T], Optional[int]]
_BlkioParameter = Dict[str, Any]
_MemoryParameter = Dict[str, Any]
_SchedParameter = Dict[str, Any]
_TypedParameter = Dict[str, Any]

# Every VIR_* constant, with libvirt's values.
globals().update(_names.CONSTANTS)

__virtpp__ = _core.version


class libvirtError(Exception):
    """An error from a libvirt call. `err` is libvirt's error as a tuple:
    (code, domain, message, level, str1, str2, str3, int1, int2)."""

    def __init__(self, defmsg: str) -> None:
        # The calling thread's last error is the one this exception reports.
        err = _core.last_error()
        Exception.__init__(self, defmsg if err is None else err[2])
        self.err = err

    def _field(self, index: int) -> Any:
        return None if self.err is None else self.err[index]

    def get_error_code(self) -> Optional[int]:
        return self._field(0)

    def get_error_domain(self) -> Optional[int]:
        return self._field(1)

    def get_error_message(self) -> Optional[str]:
        return self._field(2)

    def get_error_level(self) -> Optional[int]:
        return self._field(3)

    def get_str1(self) -> Optional[str]:
        return self._field(4)

    def get_str2(self) -> Optional[str]:
        return self._field(5)

    def get_str3(self) -> Optional[str]:
        return self._field(6)

    def get_int1(self) -> Optional[int]:
        return self._field(7)

    def get_int2(self) -> Optional[int]:
        return self._field(8)


_core.set_error_class(libvirtError)


def _error_domain_of(c_api: str) -> int:
    """Where libvirt's API layer reports an error of this API from."""
    if c_api.startswith("virDomain"):
        return VIR_FROM_DOMAIN
    if c_api.startswith("virNetwork"):
        return VIR_FROM_NETWORK
    return VIR_FROM_NONE


def _unsupported(c_api: str) -> None:
    """Raises libvirtError(VIR_ERR_NO_SUPPORT) naming the C API, reported like any other error."""
    _core.raise_error(VIR_ERR_NO_SUPPORT, _error_domain_of(c_api), c_api)


# ---- errors ------------------------------------------------------------------------------------

def registerErrorHandler(f: Optional[Callable[[_T, List], None]], ctx: _T) -> int:
    """Calls f(ctx, error) for every error instead of printing it (f None: print again).
    error is the tuple libvirtError.err holds. Returns 1."""
    if f is not None and not callable(f):
        raise TypeError("registerErrorHandler: the handler must be callable or None")
    _core.set_error_handler(f, ctx)
    return 1


def virGetLastError() -> Optional[Tuple]:
    return _core.last_error()


def virGetLastErrorCode() -> int:
    err = _core.last_error()
    return VIR_ERR_OK if err is None else err[0]


def virGetLastErrorDomain() -> int:
    err = _core.last_error()
    return VIR_FROM_NONE if err is None else err[1]


def virGetLastErrorMessage() -> str:
    err = _core.last_error()
    return "no error" if err is None else err[2]


def virResetLastError() -> None:
    _core.reset_last_error()


def virInitialize() -> int:
    return 0


# ---- connections -------------------------------------------------------------------------------

def open(name: Optional[str] = None) -> 'virConnect':
    """Opens a connection to the driver the URI names (None: $LIBVIRT_DEFAULT_URI)."""
    return virConnect(_obj=_core.Connection.open(name, 0))


def openReadOnly(name: Optional[str] = None) -> 'virConnect':
    """Opens a connection that refuses every call that changes anything."""
    return virConnect(_obj=_core.Connection.open(name, VIR_CONNECT_RO))


def openAuth(uri: Optional[str], auth: List, flags: int = 0) -> 'virConnect':
    """Opens a connection; auth is [credential types, callback, opaque]. virtpp's transports
    authenticate with unix credentials, TLS certificates or ssh, so the callback is never asked."""
    if not isinstance(auth, (list, tuple)) or len(auth) != 3:
        raise TypeError("openAuth: auth must be a list [credtypes, callback, opaque]")
    return virConnect(_obj=_core.Connection.open(uri, flags))


def getVersion(name: Optional[str] = None) -> Union[int, Tuple[int, int]]:
    """The library's version as libvirt numbers it; with a driver name, (library, driver)."""
    if name is None:
        return _core.libvirt_api_version
    return (_core.libvirt_api_version, _core.libvirt_api_version)


class virConnect(object):
    def __init__(self, _obj: Any = None) -> None:
        if _obj is None:
            raise Exception("Cannot create virConnect without an open connection: use libvirt.open()")
        self._o = _obj

    def __enter__(self) -> 'virConnect':
        return self

    def __exit__(self, *args: Any) -> None:
        self.close()

    def c_pointer(self) -> int:
        return id(self._o)

    def close(self) -> int:
        """Closes the connection; domains and networks obtained from it stay usable. Its event
        callbacks are dropped."""
        self._o.close()
        self._o = _ClosedConnection()
        _event_dispatcher.detach(self)
        return 0

    def isAlive(self) -> int:
        return 1 if self._o.is_open() else 0

    # -- host
    def getType(self) -> str:
        return self._o.getType()

    def getVersion(self) -> int:
        return self._o.getVersion()

    def getLibVersion(self) -> int:
        return _core.libvirt_api_version

    def getHostname(self) -> str:
        return self._o.getHostname()

    def getURI(self) -> str:
        return self._o.getURI()

    def getMaxVcpus(self, type: Optional[str]) -> int:
        return self._o.getMaxVcpus(type)

    def getCapabilities(self) -> str:
        return self._o.getCapabilities()

    def getInfo(self) -> List[Any]:
        return self._o.getInfo()

    def getSecurityModel(self) -> List[Any]:
        return self._o.getSecurityModel()

    def getCPUMap(self, flags: int = 0) -> Tuple[int, List[bool], int]:
        return self._o.getCPUMap()

    # -- domains
    def numOfDomains(self) -> int:
        return self._o.numOfDomains()

    def listDomainsID(self) -> List[int]:
        return self._o.listDomainsID()

    def numOfDefinedDomains(self) -> int:
        return self._o.numOfDefinedDomains()

    def listDefinedDomains(self) -> List[str]:
        return self._o.listDefinedDomains()

    def listAllDomains(self, flags: int = 0) -> List['virDomain']:
        return [virDomain(self, _obj=d) for d in self._o.listAllDomains(flags)]

    def lookupByID(self, id: int) -> 'virDomain':
        return virDomain(self, _obj=self._o.lookupByID(id))

    def lookupByName(self, name: str) -> 'virDomain':
        return virDomain(self, _obj=self._o.lookupByName(name))

    def lookupByUUID(self, uuid: bytes) -> 'virDomain':
        return virDomain(self, _obj=self._o.lookupByUUID(uuid))

    def lookupByUUIDString(self, uuidstr: str) -> 'virDomain':
        return virDomain(self, _obj=self._o.lookupByUUIDString(uuidstr))

    def createXML(self, xmlDesc: str, flags: int = 0) -> 'virDomain':
        return virDomain(self, _obj=self._o.createXML(xmlDesc, flags))

    def createLinux(self, xmlDesc: str, flags: int = 0) -> 'virDomain':
        return virDomain(self, _obj=self._o.createXML(xmlDesc, flags))

    def defineXML(self, xml: str) -> 'virDomain':
        return virDomain(self, _obj=self._o.defineXMLFlags(xml, 0))

    def defineXMLFlags(self, xml: str, flags: int = 0) -> 'virDomain':
        return virDomain(self, _obj=self._o.defineXMLFlags(xml, flags))

    def restore(self, frm: str) -> int:
        self._o.restore(frm)
        return 0

    # -- networks
    def numOfNetworks(self) -> int:
        return self._o.numOfNetworks()

    def listNetworks(self) -> List[str]:
        return self._o.listNetworks()

    def numOfDefinedNetworks(self) -> int:
        return self._o.numOfDefinedNetworks()

    def listDefinedNetworks(self) -> List[str]:
        return self._o.listDefinedNetworks()

    def listAllNetworks(self, flags: int = 0) -> List['virNetwork']:
        return [virNetwork(self, _obj=n) for n in self._o.listAllNetworks(flags)]

    def networkLookupByName(self, name: str) -> 'virNetwork':
        return virNetwork(self, _obj=self._o.networkLookupByName(name))

    def networkLookupByUUID(self, uuid: bytes) -> 'virNetwork':
        return virNetwork(self, _obj=self._o.networkLookupByUUID(uuid))

    def networkLookupByUUIDString(self, uuidstr: str) -> 'virNetwork':
        return virNetwork(self, _obj=self._o.networkLookupByUUIDString(uuidstr))

    def networkCreateXML(self, xmlDesc: str) -> 'virNetwork':
        return virNetwork(self, _obj=self._o.networkCreateXML(xmlDesc))

    def networkDefineXML(self, xml: str) -> 'virNetwork':
        return virNetwork(self, _obj=self._o.networkDefineXML(xml))

    # -- event callbacks (called from the application's event loop, see _EventDispatcher)
    def domainEventRegisterAny(self, dom: Optional['virDomain'], eventID: int, cb: Callable, opaque: _T) -> int:
        """Calls cb(conn, dom, <the event's values>, opaque) for each event eventID of dom (None:
        every domain), from the event loop. Returns the callback id."""
        if not isinstance(eventID, int) or not 0 <= eventID < _DOMAIN_EVENT_ID_COUNT:
            _unknown_event_id("virConnectDomainEventRegisterAny")
        _event_loop_required()
        if not hasattr(self, 'domainEventCallbackID'):
            self.domainEventCallbackID = {}  # type: Dict[int, Dict[str, Any]]
        cbData = {"cb": cb, "conn": self, "opaque": opaque}
        ret = self._o.eventRegister(_KIND_DOMAIN, eventID, None if dom is None else dom.UUID())
        self.domainEventCallbackID[ret] = cbData
        _event_dispatcher.attach(self)
        return ret

    def domainEventDeregisterAny(self, callbackID: int) -> None:
        """Removes a callback domainEventRegisterAny returned the id of."""
        self._o.eventDeregister(_KIND_DOMAIN, callbackID)
        self.__dict__.get('domainEventCallbackID', {}).pop(callbackID, None)
        _event_dispatcher.release(self)

    def domainEventRegister(self, cb: _DomainCB, opaque: _T) -> None:
        """The legacy form: cb(conn, dom, event, detail, opaque) for every lifecycle event."""
        callbacks = self.__dict__.get('domainEventCallbacks')
        if callbacks is not None:
            callbacks[cb] = opaque
            return
        _event_loop_required()
        self._o.eventRegister(_KIND_LEGACY, VIR_DOMAIN_EVENT_ID_LIFECYCLE, None)
        self.domainEventCallbacks = {cb: opaque}  # type: Dict[_DomainCB, _T]
        _event_dispatcher.attach(self)

    def domainEventDeregister(self, cb: _DomainCB) -> None:
        """Removes a legacy callback (KeyError when cb is not registered, as libvirt-python)."""
        callbacks = self.__dict__.get('domainEventCallbacks')
        if callbacks is None:
            return
        del callbacks[cb]
        if callbacks:
            return
        del self.domainEventCallbacks
        legacy = self._o.legacyEventRegistration()
        if legacy >= 0:
            self._o.eventDeregister(_KIND_LEGACY, legacy)
        _event_dispatcher.release(self)

    def networkEventRegisterAny(self, net: Optional['virNetwork'], eventID: int, cb: Callable, opaque: _T) -> int:
        """Calls cb(conn, net, event, detail, opaque) for each lifecycle event of net (None: every
        network), from the event loop. Returns the callback id."""
        if not isinstance(eventID, int) or not 0 <= eventID < _NETWORK_EVENT_ID_COUNT:
            _unknown_event_id("virConnectNetworkEventRegisterAny")
        _event_loop_required()
        if not hasattr(self, 'networkEventCallbackID'):
            self.networkEventCallbackID = {}  # type: Dict[int, _T]
        ret = self._o.eventRegister(_KIND_NETWORK, eventID, None if net is None else net.UUID())
        self.networkEventCallbackID[ret] = opaque
        self._network_callbacks()[ret] = {"cb": cb, "conn": self, "opaque": opaque}
        _event_dispatcher.attach(self)
        return ret

    def networkEventDeregisterAny(self, callbackID: int) -> None:
        self._o.eventDeregister(_KIND_NETWORK, callbackID)
        self.__dict__.get('networkEventCallbackID', {}).pop(callbackID, None)
        self._network_callbacks().pop(callbackID, None)
        _event_dispatcher.release(self)

    def registerCloseCallback(self, cb: Callable, opaque: _T) -> int:
        """cb(conn, reason, opaque) when the connection closes other than by close(). An
        in-process driver's connection never does (libvirt accepts the callback and never calls
        it); virtpp's remote driver does not report a lost daemon yet: NO_SUPPORT there."""
        if self._o.driverName() == "remote":
            _unsupported("virConnectRegisterCloseCallback")
        self._closeCallback = {"cb": cb, "conn": self, "opaque": opaque}
        return 0

    def unregisterCloseCallback(self) -> None:
        if self._o.driverName() == "remote":
            _unsupported("virConnectUnregisterCloseCallback")
        self.__dict__.pop('_closeCallback', None)

    def _network_callbacks(self) -> Dict[int, Dict[str, Any]]:
        # libvirt-python keeps only the opaque in networkEventCallbackID; the callback lives here.
        if '_networkEventCbData' not in self.__dict__:
            self._networkEventCbData = {}  # type: Dict[int, Dict[str, Any]]
        return self._networkEventCbData

    def _has_event_callbacks(self) -> bool:
        return bool(self.__dict__.get('domainEventCallbackID') or self.__dict__.get('domainEventCallbacks')
                    or self.__dict__.get('_networkEventCbData'))

    def _dispatch_event(self, callbackID: int, kind: int, obj: Any, args: Tuple) -> None:
        """Runs the callback of one queued event with libvirt-python's arguments."""
        if kind == _KIND_DOMAIN:
            cbData = self.__dict__.get('domainEventCallbackID', {}).get(callbackID)
            if cbData is not None:
                cbData["cb"](self, virDomain(self, _obj=obj), *args, cbData["opaque"])
        elif kind == _KIND_LEGACY:
            for cb, opaque in list(self.__dict__.get('domainEventCallbacks', {}).items()):
                cb(self, virDomain(self, _obj=obj), args[0], args[1], opaque)
        else:
            cbData = self._network_callbacks().get(callbackID)
            if cbData is not None:
                cbData["cb"](self, virNetwork(self, _obj=obj), *args, cbData["opaque"])

    # -- errors
    def virConnGetLastError(self) -> Optional[Tuple]:
        return _core.last_error()

    def virConnResetLastError(self) -> None:
        _core.reset_last_error()


class _ClosedConnection(object):
    """What a closed virConnect calls: every call fails with VIR_ERR_INVALID_CONN naming its C API,
    as libvirt's calls do on a closed connection."""

    def is_open(self) -> bool:
        return False

    def close(self) -> None:
        pass

    def __getattr__(self, method: str) -> Callable:
        c_api = _names.CLASSES["virConnect"].get(method) or "virConnect" + method[:1].upper() + method[1:]

        def closed(*args: Any) -> Any:
            _core.raise_error(VIR_ERR_INVALID_CONN, _error_domain_of(c_api), c_api)

        return closed


class virDomain(object):
    def __init__(self, conn: virConnect, _obj: Any = None) -> None:
        if _obj is None:
            raise Exception("Cannot create virDomain without a domain: use virConnect.lookupByName()")
        self._conn = conn
        self._o = _obj

    def c_pointer(self) -> int:
        return id(self._o)

    def connect(self) -> virConnect:
        return self._conn

    # -- identity (kept in the handle, no call)
    def name(self) -> str:
        return self._o.name()

    def ID(self) -> int:
        return self._o.ID()

    def UUID(self) -> bytes:
        return self._o.UUID()

    def UUIDString(self) -> str:
        return self._o.UUIDString()

    # -- lifecycle
    def create(self) -> int:
        self._o.create(0)
        return 0

    def createWithFlags(self, flags: int = 0) -> int:
        self._o.create(flags)
        return 0

    def undefine(self) -> int:
        self._o.undefine(0)
        return 0

    def undefineFlags(self, flags: int = 0) -> int:
        self._o.undefine(flags)
        return 0

    def suspend(self) -> int:
        self._o.suspend()
        return 0

    def resume(self) -> int:
        self._o.resume()
        return 0

    def shutdown(self) -> int:
        self._o.shutdown(0)
        return 0

    def shutdownFlags(self, flags: int = 0) -> int:
        self._o.shutdown(flags)
        return 0

    def reboot(self, flags: int = 0) -> int:
        self._o.reboot(flags)
        return 0

    def destroy(self) -> int:
        self._o.destroy(0)
        return 0

    def destroyFlags(self, flags: int = 0) -> int:
        self._o.destroy(flags)
        return 0

    def save(self, to: str) -> int:
        self._o.save(to)
        return 0

    def coreDump(self, to: str, flags: int = 0) -> int:
        self._o.coreDump(to, flags)
        return 0

    def hasManagedSaveImage(self, flags: int = 0) -> int:
        return self._o.hasManagedSaveImage(flags)

    def migrate(self, dconn: virConnect, flags: int = 0, dname: Optional[str] = None,
                uri: Optional[str] = None, bandwidth: int = 0) -> 'virDomain':
        return virDomain(dconn, _obj=self._o.migrate(dconn._o, flags, dname, uri, bandwidth, None))

    def migrate2(self, dconn: virConnect, dxml: Optional[str] = None, flags: int = 0,
                 dname: Optional[str] = None, uri: Optional[str] = None, bandwidth: int = 0) -> 'virDomain':
        return virDomain(dconn, _obj=self._o.migrate(dconn._o, flags, dname, uri, bandwidth, dxml))

    def migrate3(self, dconn: virConnect, params: Dict[str, Any], flags: int = 0) -> 'virDomain':
        known = {VIR_MIGRATE_PARAM_DEST_NAME, VIR_MIGRATE_PARAM_URI, VIR_MIGRATE_PARAM_BANDWIDTH,
                 VIR_MIGRATE_PARAM_DEST_XML}
        for key in params:
            if key not in known:
                _unsupported("virDomainMigrate3 parameter " + key)
        return virDomain(dconn, _obj=self._o.migrate(
            dconn._o, flags, params.get(VIR_MIGRATE_PARAM_DEST_NAME), params.get(VIR_MIGRATE_PARAM_URI),
            params.get(VIR_MIGRATE_PARAM_BANDWIDTH, 0), params.get(VIR_MIGRATE_PARAM_DEST_XML)))

    # -- properties
    def info(self) -> List[int]:
        return self._o.info()

    def state(self, flags: int = 0) -> List[int]:
        return self._o.state(flags)

    def OSType(self) -> str:
        return self._o.OSType()

    def XMLDesc(self, flags: int = 0) -> str:
        return self._o.XMLDesc(flags)

    def isActive(self) -> int:
        return self._o.isActive()

    def isPersistent(self) -> int:
        return self._o.isPersistent()

    def autostart(self) -> int:
        return self._o.autostart()

    def setAutostart(self, autostart: int) -> int:
        self._o.setAutostart(autostart)
        return 0

    def maxMemory(self) -> int:
        return self._o.maxMemory()

    def setMaxMemory(self, memory: int) -> int:
        self._o.setMaxMemory(memory)
        return 0

    def setMemory(self, memory: int) -> int:
        self._o.setMemoryFlags(memory, VIR_DOMAIN_AFFECT_LIVE)
        return 0

    def setMemoryFlags(self, memory: int, flags: int = 0) -> int:
        self._o.setMemoryFlags(memory, flags)
        return 0

    def maxVcpus(self) -> int:
        return self._o.maxVcpus()

    def setVcpus(self, nvcpus: int) -> int:
        self._o.setVcpusFlags(nvcpus, VIR_DOMAIN_AFFECT_LIVE)
        return 0

    def setVcpusFlags(self, nvcpus: int, flags: int = 0) -> int:
        self._o.setVcpusFlags(nvcpus, flags)
        return 0

    def vcpusFlags(self, flags: int = 0) -> int:
        return self._o.vcpusFlags(flags)

    def pinVcpu(self, vcpu: int, cpumap: Tuple[bool, ...]) -> int:
        self._o.pinVcpuFlags(vcpu, cpumap, 0)
        return 0

    def pinVcpuFlags(self, vcpu: int, cpumap: Tuple[bool, ...], flags: int = 0) -> int:
        self._o.pinVcpuFlags(vcpu, cpumap, flags)
        return 0

    def vcpus(self) -> Tuple[List[Tuple[int, int, int, int]], List[Tuple[bool, ...]]]:
        return self._o.vcpus()

    def schedulerType(self) -> Tuple[str, int]:
        return self._o.schedulerType()

    def schedulerParameters(self) -> Dict[str, Any]:
        return self._o.schedulerParametersFlags(0)

    def schedulerParametersFlags(self, flags: int = 0) -> Dict[str, Any]:
        return self._o.schedulerParametersFlags(flags)

    def setSchedulerParameters(self, params: Dict[str, Any]) -> int:
        self._o.setSchedulerParametersFlags(params, 0)
        return 0

    def setSchedulerParametersFlags(self, params: Dict[str, Any], flags: int = 0) -> int:
        self._o.setSchedulerParametersFlags(params, flags)
        return 0

    def blockStats(self, path: str) -> Tuple[int, int, int, int, int]:
        return self._o.blockStats(path)

    def interfaceStats(self, path: str) -> Tuple[int, int, int, int, int, int, int, int]:
        return self._o.interfaceStats(path)

    def attachDevice(self, xml: str) -> int:
        self._o.attachDeviceFlags(xml, VIR_DOMAIN_AFFECT_LIVE)
        return 0

    def attachDeviceFlags(self, xml: str, flags: int = 0) -> int:
        self._o.attachDeviceFlags(xml, flags)
        return 0

    def detachDevice(self, xml: str) -> int:
        self._o.detachDeviceFlags(xml, VIR_DOMAIN_AFFECT_LIVE)
        return 0

    def detachDeviceFlags(self, xml: str, flags: int = 0) -> int:
        self._o.detachDeviceFlags(xml, flags)
        return 0

    def securityLabel(self) -> List[Any]:
        return self._o.securityLabel()

    def snapshotNum(self, flags: int = 0) -> int:
        return self._o.snapshotNum(flags)

    def messages(self, flags: int = 0) -> List[str]:
        return self._o.getMessages(flags)


class virNetwork(object):
    def __init__(self, conn: virConnect, _obj: Any = None) -> None:
        if _obj is None:
            raise Exception("Cannot create virNetwork without a network: use virConnect.networkLookupByName()")
        self._conn = conn
        self._o = _obj

    def c_pointer(self) -> int:
        return id(self._o)

    def connect(self) -> virConnect:
        return self._conn

    def name(self) -> str:
        return self._o.name()

    def UUID(self) -> bytes:
        return self._o.UUID()

    def UUIDString(self) -> str:
        return self._o.UUIDString()

    def create(self) -> int:
        self._o.create()
        return 0

    def destroy(self) -> int:
        self._o.destroy()
        return 0

    def undefine(self) -> int:
        self._o.undefine()
        return 0

    def XMLDesc(self, flags: int = 0) -> str:
        return self._o.XMLDesc(flags)

    def bridgeName(self) -> str:
        return self._o.bridgeName()

    def autostart(self) -> int:
        return self._o.autostart()

    def setAutostart(self, autostart: int) -> int:
        self._o.setAutostart(autostart)
        return 0

    def isActive(self) -> int:
        return self._o.isActive()

    def isPersistent(self) -> int:
        return self._o.isPersistent()


# ---- events ------------------------------------------------------------------------------------
# The event loop API: a default implementation (poll(2) in Python, the GIL released while it
# waits) or one the application registers; domain and network event callbacks run on it.

class _DefaultEventLoop(object):
    _POLL_OF = {VIR_EVENT_HANDLE_READABLE: _select.POLLIN, VIR_EVENT_HANDLE_WRITABLE: _select.POLLOUT,
                VIR_EVENT_HANDLE_ERROR: _select.POLLERR, VIR_EVENT_HANDLE_HANGUP: _select.POLLHUP}

    def __init__(self) -> None:
        self._lock = _threading.Lock()
        self._next_id = 1
        self._handles = {}  # watch -> [fd, events, cb, opaque, ff]
        self._timeouts = {}  # timer -> [interval_ms, cb, opaque, ff, due]
        self._wake_r, self._wake_w = _os.pipe()
        _os.set_blocking(self._wake_r, False)
        _os.set_blocking(self._wake_w, False)

    def _wake(self) -> None:
        try:
            _os.write(self._wake_w, b"x")
        except BlockingIOError:
            pass  # a wake-up is already pending

    def _new_id(self) -> int:
        n = self._next_id
        self._next_id += 1
        return n

    def add_handle(self, fd: int, events: int, cb: Callable, opaque: Any, ff: Optional[Callable] = None) -> int:
        with self._lock:
            watch = self._new_id()
            self._handles[watch] = [fd, events, cb, opaque, ff]
        self._wake()
        return watch

    def update_handle(self, watch: int, events: int) -> None:
        with self._lock:
            if watch in self._handles:
                self._handles[watch][1] = events
        self._wake()

    def remove_handle(self, watch: int) -> int:
        with self._lock:
            h = self._handles.pop(watch, None)
        if h is None:
            return -1
        if h[4] is not None:
            h[4](h[3])
        self._wake()
        return 0

    def add_timeout(self, interval: int, cb: Callable, opaque: Any, ff: Optional[Callable] = None) -> int:
        with self._lock:
            timer = self._new_id()
            self._timeouts[timer] = [interval, cb, opaque, ff, _time.monotonic() + max(interval, 0) / 1000.0]
        self._wake()
        return timer

    def update_timeout(self, timer: int, interval: int) -> None:
        with self._lock:
            t = self._timeouts.get(timer)
            if t is not None:
                t[0] = interval
                t[4] = _time.monotonic() + max(interval, 0) / 1000.0
        self._wake()

    def remove_timeout(self, timer: int) -> int:
        with self._lock:
            t = self._timeouts.pop(timer, None)
        if t is None:
            return -1
        if t[3] is not None:
            t[3](t[2])
        self._wake()
        return 0

    def run_once(self) -> None:
        poller = _select.poll()
        poller.register(self._wake_r, _select.POLLIN)
        now = _time.monotonic()
        wait = None
        with self._lock:
            for watch, (fd, events, _, _, _) in self._handles.items():
                mask = 0
                for bit, pollbit in self._POLL_OF.items():
                    if events & bit:
                        mask |= pollbit
                if mask:
                    poller.register(fd, mask)
            for interval, _, _, _, due in self._timeouts.values():
                if interval >= 0:
                    left = max(0.0, due - now)
                    wait = left if wait is None else min(wait, left)
        ready = poller.poll(None if wait is None else int(wait * 1000 + 0.999))
        for fd, revents in ready:
            if fd == self._wake_r:
                try:
                    while _os.read(self._wake_r, 64):
                        pass
                except BlockingIOError:
                    pass
                continue
            with self._lock:
                targets = [(w, h) for w, h in self._handles.items() if h[0] == fd]
            for watch, (hfd, _, cb, opaque, _) in targets:
                got = 0
                for bit, pollbit in self._POLL_OF.items():
                    if revents & pollbit:
                        got |= bit
                cb(watch, hfd, got, opaque)
        now = _time.monotonic()
        with self._lock:
            due = [(timer, t) for timer, t in self._timeouts.items() if t[0] >= 0 and t[4] <= now]
            for _, t in due:
                t[4] = now + t[0] / 1000.0
        for timer, t in due:
            t[1](timer, t[2])


# What the native layer's registrations are (its registration_kind).
_KIND_DOMAIN, _KIND_LEGACY, _KIND_NETWORK = 0, 1, 2
# libvirt 9.0's VIR_DOMAIN_EVENT_ID_LAST and VIR_NETWORK_EVENT_ID_LAST.
_DOMAIN_EVENT_ID_COUNT = 27
_NETWORK_EVENT_ID_COUNT = 1


def _unknown_event_id(c_api: str) -> None:
    # libvirt-python refuses an id it has no callback shape for before calling libvirt: the
    # error carries no libvirt error, only the call's name.
    _core.reset_last_error()
    raise libvirtError("%s() failed" % c_api)


def _event_loop_required() -> None:
    if _event_impl is None:
        _core.raise_error(VIR_ERR_INTERNAL_ERROR, VIR_FROM_NONE, "could not initialize domain event timer")


class _EventDispatcher(object):
    """Delivers the events the native layer queued, on the application's event loop: while any
    connection has a callback, the wake-up pipe the library writes to is a handle of the
    registered loop (as libvirt's event timer is), and its callback runs the connections'
    callbacks in the order the events happened. Connections with callbacks are kept alive, as
    libvirt keeps the data of a registered callback."""

    def __init__(self) -> None:
        self._lock = _threading.Lock()
        self._listeners = {}  # type: Dict[int, virConnect]
        self._watch = None  # type: Optional[Tuple[int, Callable]]

    def attach(self, conn: virConnect) -> None:
        # The lock is held across the loop's add/remove calls so that two threads registering
        # at once add one handle (the loops take only their own locks inside).
        with self._lock:
            self._listeners[id(conn)] = conn
            if self._watch is None:
                remove = _impl(2)
                watch = virEventAddHandle(_core.event_wakeup_fd(), VIR_EVENT_HANDLE_READABLE, self._readable, None)
                self._watch = (watch, remove)

    def release(self, conn: virConnect) -> None:
        if not conn._has_event_callbacks():
            self.detach(conn)

    def detach(self, conn: virConnect) -> None:
        with self._lock:
            self._listeners.pop(id(conn), None)
            if not self._listeners and self._watch is not None:
                watch, remove = self._watch
                self._watch = None
                remove(watch)  # through the implementation it was added to

    def _readable(self, watch: int, fd: int, events: int, opaque: Any) -> None:
        _core.drain_event_wakeups()
        with self._lock:
            listeners = list(self._listeners.values())
        pending = []
        for conn in listeners:
            if conn._o.is_open():
                pending.extend((item, conn) for item in conn._o.takeEvents())
        pending.sort(key=lambda entry: entry[0][0])
        for (sequence, callbackID, kind, obj, args), conn in pending:
            try:
                conn._dispatch_event(callbackID, kind, obj, args)
            except Exception:
                # As libvirt-python: the callback's exception is printed, the loop goes on.
                _traceback.print_exc()


_event_dispatcher = _EventDispatcher()

_event_lock = _threading.Lock()
_default_loop = None  # type: Optional[_DefaultEventLoop]
_event_impl = None  # type: Optional[Tuple[Callable, Callable, Callable, Callable, Callable, Callable]]


def virEventRegisterDefaultImpl() -> int:
    """Installs the built-in event loop; drive it with virEventRunDefaultImpl()."""
    global _default_loop, _event_impl
    with _event_lock:
        if _default_loop is None:
            _default_loop = _DefaultEventLoop()
        loop = _default_loop
        # Like libvirt's, registering the default loop replaces any other implementation.
        _event_impl = (lambda fd, ev, cb, op: loop.add_handle(fd, ev, cb, op), loop.update_handle,
                       loop.remove_handle, lambda ms, cb, op: loop.add_timeout(ms, cb, op),
                       loop.update_timeout, loop.remove_timeout)
    return 0


def virEventRunDefaultImpl() -> int:
    """Runs one iteration of the built-in event loop: waits for a handle or a timeout, runs it."""
    if _default_loop is None:
        _core.raise_error(VIR_ERR_INTERNAL_ERROR, VIR_FROM_EVENT, "the default event loop is not registered")
    _default_loop.run_once()
    return 0


def virEventRegisterImpl(addHandle: _EventAddHandleFunc, updateHandle: _EventUpdateHandleFunc,
                         removeHandle: _EventRemoveHandleFunc, addTimeout: _EventAddTimeoutFunc,
                         updateTimeout: _EventUpdateTimeoutFunc, removeTimeout: _EventRemoveTimeoutFunc) -> None:
    """Makes the application's event loop the one handles and timeouts are added to."""
    global _event_impl
    with _event_lock:
        _event_impl = (addHandle, updateHandle, removeHandle, addTimeout, updateTimeout, removeTimeout)


def _impl(index: int) -> Callable:
    impl = _event_impl
    if impl is None:
        _core.raise_error(VIR_ERR_INTERNAL_ERROR, VIR_FROM_EVENT, "no event loop implementation is registered")
    return impl[index]


def virEventAddHandle(fd: int, events: int, cb: _EventCB, opaque: _T) -> int:
    # The loop calls back through _eventInvokeHandleCallback with opaque = (cb, opaque), as
    # libvirt-python's loops expect.
    return _impl(0)(fd, events, _eventInvokeHandleCallback, (cb, opaque))


def virEventUpdateHandle(watch: int, events: int) -> None:
    _impl(1)(watch, events)


def virEventRemoveHandle(watch: int) -> int:
    return _impl(2)(watch)


def virEventAddTimeout(timeout: int, cb: _TimerCB, opaque: _T) -> int:
    return _impl(3)(timeout, _eventInvokeTimeoutCallback, (cb, opaque))


def virEventUpdateTimeout(timer: int, timeout: int) -> None:
    _impl(4)(timer, timeout)


def virEventRemoveTimeout(timer: int) -> int:
    return _impl(5)(timer)


def _eventInvokeHandleCallback(watch: int, fd: int, event: int, opaque: Any, opaquecompat: Any = None) -> None:
    """Runs a handle's callback; opaque is (callback, opaque) (or, as libvirt 0.9.2 loops pass
    them, callback and opaque as two arguments)."""
    if opaquecompat:
        callback, data = opaque, opaquecompat
    else:
        callback, data = opaque
    callback(watch, fd, event, data)


def _eventInvokeTimeoutCallback(timer: int, opaque: Any, opaquecompat: Any = None) -> None:
    if opaquecompat:
        callback, data = opaque, opaquecompat
    else:
        callback, data = opaque
    callback(timer, data)


def _dispatchEventHandleCallback(watch: int, fd: int, events: int, cbData: Dict[str, Any]) -> int:
    cbData["cb"](watch, fd, events, cbData["opaque"])
    return 0


def _dispatchEventTimeoutCallback(timer: int, cbData: Dict[str, Any]) -> int:
    cbData["cb"](timer, cbData["opaque"])
    return 0


def virEventInvokeFreeCallback(opaque: Any) -> None:
    """Runs the free callback of a handle or timeout's opaque data, when it has one."""
    if isinstance(opaque, tuple) and len(opaque) == 3 and callable(opaque[2]):
        opaque[2](opaque[1])


# ---- storage pools and volumes, host interfaces, node devices, snapshots, checkpoints ----------

class _Object(object):
    """Common shape of the handle classes below: the connection and the native handle."""

    def __init__(self, conn: virConnect, _obj: Any = None) -> None:
        if _obj is None:
            raise Exception("Cannot create %s without an object: use a lookup method" % type(self).__name__)
        self._conn = conn
        self._o = _obj

    def c_pointer(self) -> int:
        return id(self._o)

    def connect(self) -> virConnect:
        return self._conn


class virStoragePool(_Object):
    def name(self) -> str:
        return self._o.name()

    def UUID(self) -> bytes:
        return self._o.UUID()

    def UUIDString(self) -> str:
        return self._o.UUIDString()

    def info(self) -> List[int]:
        return self._o.info()

    def XMLDesc(self, flags: int = 0) -> str:
        return self._o.XMLDesc(flags)

    def autostart(self) -> int:
        return self._o.autostart()

    def isActive(self) -> int:
        return self._o.isActive()

    def isPersistent(self) -> int:
        return self._o.isPersistent()

    def listAllVolumes(self, flags: int = 0) -> List['virStorageVol']:
        return [virStorageVol(self._conn, _obj=v) for v in self._o.listAllVolumes(flags)]

    def listVolumes(self) -> List[str]:
        return [v.name() for v in self._o.listAllVolumes(0)]

    def numOfVolumes(self) -> int:
        return len(self._o.listAllVolumes(0))

    def createXML(self, xmlDesc: str, flags: int = 0) -> 'virStorageVol':
        return virStorageVol(self._conn, _obj=self._o.createXML(xmlDesc, flags))

    def storageVolLookupByName(self, name: str) -> 'virStorageVol':
        return virStorageVol(self._conn, _obj=self._o.storageVolLookupByName(name))


class virStorageVol(_Object):
    def name(self) -> str:
        return self._o.name()

    def key(self) -> str:
        return self._o.key()

    def path(self) -> str:
        return self._o.path()

    def info(self) -> List[int]:
        return self._o.info()

    def XMLDesc(self, flags: int = 0) -> str:
        return self._o.XMLDesc(flags)

    def delete(self, flags: int = 0) -> int:
        self._o.delete(flags)
        return 0

    def storagePoolLookupByVolume(self) -> virStoragePool:
        return virStoragePool(self._conn, _obj=self._o.storagePoolLookupByVolume())


class virInterface(_Object):
    def name(self) -> str:
        return self._o.name()

    def MACString(self) -> str:
        return self._o.MACString()

    def XMLDesc(self, flags: int = 0) -> str:
        return self._o.XMLDesc(flags)

    def isActive(self) -> int:
        return self._o.isActive()


class virNodeDevice(_Object):
    def name(self) -> str:
        return self._o.name()

    def XMLDesc(self, flags: int = 0) -> str:
        return self._o.XMLDesc(flags)

    def parent(self) -> Optional[str]:
        return self._o.parent()

    def listCaps(self) -> List[str]:
        return self._o.listCaps()

    def numOfCaps(self) -> int:
        return len(self._o.listCaps())


class _Moment(object):
    """virDomainSnapshot and virDomainCheckpoint: a name within a domain."""

    def __init__(self, dom: virDomain, _obj: Any = None) -> None:
        if _obj is None:
            raise Exception("Cannot create %s without one: use a virDomain method" % type(self).__name__)
        self._dom = dom
        self._conn = dom.connect()
        self._o = _obj

    def c_pointer(self) -> int:
        return id(self._o)

    def connect(self) -> virConnect:
        return self._conn

    def getConnect(self) -> virConnect:
        return self._conn

    def domain(self) -> virDomain:
        return self._dom

    def getDomain(self) -> virDomain:
        return self._dom

    def getName(self) -> str:
        return self._o.getName()

    def getXMLDesc(self, flags: int = 0) -> str:
        return self._o.getXMLDesc(flags)

    def delete(self, flags: int = 0) -> int:
        self._o.delete(flags)
        return 0


class virDomainSnapshot(_Moment):
    def getParent(self, flags: int = 0) -> 'virDomainSnapshot':
        return virDomainSnapshot(self._dom, _obj=self._o.getParent(flags))

    def isCurrent(self, flags: int = 0) -> int:
        return self._o.isCurrent(flags)

    def hasMetadata(self, flags: int = 0) -> int:
        return self._o.hasMetadata(flags)


class virDomainCheckpoint(_Moment):
    def getParent(self, flags: int = 0) -> 'virDomainCheckpoint':
        return virDomainCheckpoint(self._dom, _obj=self._o.getParent(flags))


def _connect_methods() -> Dict[str, Callable]:
    def listAllStoragePools(self: virConnect, flags: int = 0) -> List[virStoragePool]:
        return [virStoragePool(self, _obj=p) for p in self._o.listAllStoragePools(flags)]

    def listStoragePools(self: virConnect) -> List[str]:
        return [p.name() for p in self._o.listAllStoragePools(VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE)]

    def numOfStoragePools(self: virConnect) -> int:
        return len(self._o.listAllStoragePools(VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE))

    def listDefinedStoragePools(self: virConnect) -> List[str]:
        return [p.name() for p in self._o.listAllStoragePools(VIR_CONNECT_LIST_STORAGE_POOLS_INACTIVE)]

    def numOfDefinedStoragePools(self: virConnect) -> int:
        return len(self._o.listAllStoragePools(VIR_CONNECT_LIST_STORAGE_POOLS_INACTIVE))

    def storagePoolLookupByName(self: virConnect, name: str) -> virStoragePool:
        return virStoragePool(self, _obj=self._o.storagePoolLookupByName(name))

    def storagePoolLookupByUUID(self: virConnect, uuid: bytes) -> virStoragePool:
        return virStoragePool(self, _obj=self._o.storagePoolLookupByUUID(uuid))

    def storagePoolLookupByUUIDString(self: virConnect, uuidstr: str) -> virStoragePool:
        return virStoragePool(self, _obj=self._o.storagePoolLookupByUUIDString(uuidstr))

    def storageVolLookupByKey(self: virConnect, key: str) -> virStorageVol:
        return virStorageVol(self, _obj=self._o.storageVolLookupByKey(key))

    def storageVolLookupByPath(self: virConnect, path: str) -> virStorageVol:
        return virStorageVol(self, _obj=self._o.storageVolLookupByPath(path))

    def listAllInterfaces(self: virConnect, flags: int = 0) -> List[virInterface]:
        return [virInterface(self, _obj=i) for i in self._o.listAllInterfaces(flags)]

    def listInterfaces(self: virConnect) -> List[str]:
        return [i.name() for i in self._o.listAllInterfaces(VIR_CONNECT_LIST_INTERFACES_ACTIVE)]

    def numOfInterfaces(self: virConnect) -> int:
        return len(self._o.listAllInterfaces(VIR_CONNECT_LIST_INTERFACES_ACTIVE))

    def listDefinedInterfaces(self: virConnect) -> List[str]:
        return [i.name() for i in self._o.listAllInterfaces(VIR_CONNECT_LIST_INTERFACES_INACTIVE)]

    def numOfDefinedInterfaces(self: virConnect) -> int:
        return len(self._o.listAllInterfaces(VIR_CONNECT_LIST_INTERFACES_INACTIVE))

    def interfaceLookupByName(self: virConnect, name: str) -> virInterface:
        return virInterface(self, _obj=self._o.interfaceLookupByName(name))

    def interfaceLookupByMACString(self: virConnect, macstr: str) -> virInterface:
        return virInterface(self, _obj=self._o.interfaceLookupByMACString(macstr))

    def listAllDevices(self: virConnect, flags: int = 0) -> List[virNodeDevice]:
        return [virNodeDevice(self, _obj=d) for d in self._o.listAllDevices(flags)]

    def listDevices(self: virConnect, cap: Optional[str], flags: int = 0) -> List[str]:
        return self._o.listDevices(cap, flags)

    def numOfDevices(self: virConnect, cap: Optional[str], flags: int = 0) -> int:
        return len(self._o.listDevices(cap, flags))

    def nodeDeviceLookupByName(self: virConnect, name: str) -> virNodeDevice:
        return virNodeDevice(self, _obj=self._o.nodeDeviceLookupByName(name))

    return {k: v for k, v in locals().items() if not k.startswith("_")}


def _domain_methods() -> Dict[str, Callable]:
    def snapshotCreateXML(self: virDomain, xmlDesc: str, flags: int = 0) -> virDomainSnapshot:
        return virDomainSnapshot(self, _obj=self._o.snapshotCreateXML(xmlDesc, flags))

    def snapshotLookupByName(self: virDomain, name: str, flags: int = 0) -> virDomainSnapshot:
        return virDomainSnapshot(self, _obj=self._o.snapshotLookupByName(name, flags))

    def listAllSnapshots(self: virDomain, flags: int = 0) -> List[virDomainSnapshot]:
        return [virDomainSnapshot(self, _obj=s) for s in self._o.listAllSnapshots(flags)]

    def snapshotListNames(self: virDomain, flags: int = 0) -> List[str]:
        return [s.getName() for s in self._o.listAllSnapshots(flags)]

    def hasCurrentSnapshot(self: virDomain, flags: int = 0) -> int:
        return self._o.hasCurrentSnapshot(flags)

    def snapshotCurrent(self: virDomain, flags: int = 0) -> virDomainSnapshot:
        return virDomainSnapshot(self, _obj=self._o.snapshotCurrent(flags))

    def checkpointCreateXML(self: virDomain, xmlDesc: str, flags: int = 0) -> virDomainCheckpoint:
        return virDomainCheckpoint(self, _obj=self._o.checkpointCreateXML(xmlDesc, flags))

    def checkpointLookupByName(self: virDomain, name: str, flags: int = 0) -> virDomainCheckpoint:
        return virDomainCheckpoint(self, _obj=self._o.checkpointLookupByName(name, flags))

    def listAllCheckpoints(self: virDomain, flags: int = 0) -> List[virDomainCheckpoint]:
        return [virDomainCheckpoint(self, _obj=c) for c in self._o.listAllCheckpoints(flags)]

    return dict(locals())


for _owner, _methods_of in ((virConnect, _connect_methods()), (virDomain, _domain_methods())):
    for _name, _fn in _methods_of.items():
        _fn.__qualname__ = "%s.%s" % (_owner.__name__, _name)
        setattr(_owner, _name, _fn)
del _owner, _methods_of, _name, _fn


# ---- every other name libvirt-python has -------------------------------------------------------

def _stub(owner: str, name: str, c_api: Optional[str]) -> Callable:
    api = c_api or "%s.%s" % (owner, name)

    def unsupported(*args: Any, **kwargs: Any) -> Any:
        _unsupported(api)

    unsupported.__name__ = name
    unsupported.__qualname__ = "%s.%s" % (owner, name) if owner else name
    unsupported.__doc__ = "Not implemented by virtpp: raises libvirtError(VIR_ERR_NO_SUPPORT) naming %s." % api
    return unsupported


class _Handle(object):
    """The classes of object kinds virtpp's library does not have yet (storage, interfaces, ...):
    no call returns one, and their methods raise NO_SUPPORT."""

    def __init__(self, conn: Any = None, _obj: Any = None) -> None:
        self._conn = conn
        self._o = _obj

    def c_pointer(self) -> int:
        return id(self._o)

    def connect(self) -> Any:
        return self._conn


for _class_name, _methods in _names.CLASSES.items():
    if _class_name == "libvirtError":
        continue
    _cls = globals().get(_class_name)
    if _cls is None:
        _cls = type(_class_name, (_Handle,), {"__module__": __name__})
        globals()[_class_name] = _cls
    for _method, _c_api in _methods.items():
        if not hasattr(_cls, _method):
            setattr(_cls, _method, _stub(_class_name, _method, _c_api))
    for _method, _c_api in _names.CLASS_CONSTANTS.get(_class_name, {}).items():
        setattr(_cls, _method, _c_api)  # class constants (name, value)

for _function, _c_api in _names.FUNCTIONS.items():
    if _function not in globals():
        globals()[_function] = _stub("", _function, _c_api)

del _class_name, _methods, _cls, _method, _c_api, _function

from . import libvirtmod  # noqa: E402  (libvirt-python exposes its C module as libvirt.libvirtmod)
