"""libvirt-python's low-level module (libvirtmod), over virtpp.

libvirt-python's classes call libvirtmod.<C API>(object, args...); some programs and tests call it
directly (e.g. libvirtmod.virEventRegisterImpl). Each of its functions exists here: a C API that a
method of virtpp.libvirt implements runs that method on the object passed in, the module-level
ones run the module's function, and the rest raise libvirtError(VIR_ERR_NO_SUPPORT).
"""
from . import _names
from . import libvirt as _libvirt

# C API -> (class name or "" for module level, python name), from libvirt-python's own mapping.
_python_name_of = {}
for _owner, _methods in _names.CLASSES.items():
    for _method, _c_api in _methods.items():
        if _c_api is not None and _c_api not in _python_name_of:
            _python_name_of[_c_api] = (_owner, _method)
for _function, _c_api in _names.FUNCTIONS.items():
    if _c_api is not None:
        _python_name_of.setdefault(_c_api, ("", _function))
# Names libvirtmod spells differently from the C API.
_python_name_of["virRegisterErrorHandler"] = ("", "registerErrorHandler")
_python_name_of["virConnectListDomainsID"] = ("virConnect", "listDomainsID")
_python_name_of["virEventInvokeHandleCallback"] = ("", "_eventInvokeHandleCallback")
_python_name_of["virEventInvokeTimeoutCallback"] = ("", "_eventInvokeTimeoutCallback")


def _wrap(owner, obj):
    """The virtpp.libvirt object around a native handle, as libvirtmod's callers pass _o."""
    cls = getattr(_libvirt, owner)
    if owner == "virConnect":
        return cls(_obj=obj)
    return cls(None, _obj=obj)


def _entry(c_api):
    owner, name = _python_name_of.get(c_api, ("", None))
    # Module-level entries are bound now, to the implementation itself: callers that replace
    # libvirt.<name> (mock.patch in tests) still reach the real one through libvirtmod.
    target = getattr(_libvirt, name, None) if not owner and name else None

    def call(*args, **kwargs):
        if not owner:
            if target is None:
                _libvirt._unsupported(c_api)
            return target(*args, **kwargs)
        if not args:
            raise TypeError("%s needs the object it applies to" % c_api)
        return getattr(_wrap(owner, args[0]), name)(*args[1:], **kwargs)

    call.__name__ = c_api
    call.__qualname__ = c_api
    return call


for _c_api in _names.LIBVIRTMOD_FUNCTIONS:
    globals()[_c_api] = _entry(_c_api)

# libvirt-python's classes hand these its private callback data (cbData dicts, the connection
# itself), a shape the virConnect methods do not take: register through the methods instead.
for _c_api in ("virConnectDomainEventRegister", "virConnectDomainEventDeregister",
               "virConnectDomainEventRegisterAny", "virConnectNetworkEventRegisterAny",
               "virConnectRegisterCloseCallback"):
    def _refuse(*args, _api=_c_api, **kwargs):
        _libvirt._unsupported(_api)

    _refuse.__name__ = _refuse.__qualname__ = _c_api
    globals()[_c_api] = _refuse

del _owner, _methods, _method, _c_api, _function, _refuse
