"""Builds libvirt-python's QEMU and LXC modules (libvirt_qemu, libvirt_lxc) and their C modules
(libvirtmod_qemu, libvirtmod_lxc) from the name table: their constants with libvirt's values, and
their functions, which raise libvirtError(VIR_ERR_NO_SUPPORT) — virtpp has no QEMU monitor or
guest agent pass-through and no LXC driver."""
from typing import Any, Callable, Dict

from . import _names
from . import libvirt as _libvirt


def _unsupported_function(name: str, c_api: str) -> Callable:
    def unsupported(*args: Any, **kwargs: Any) -> Any:
        _libvirt._unsupported(c_api)

    unsupported.__name__ = name
    unsupported.__qualname__ = name
    unsupported.__doc__ = "Not implemented by virtpp: raises libvirtError(VIR_ERR_NO_SUPPORT) naming %s." % c_api
    return unsupported


def python_module_names(module: str) -> Dict[str, Any]:
    table = _names.SIDE_MODULES[module]
    names = dict(table["constants"])  # type: Dict[str, Any]
    for name, c_api in table["functions"].items():
        names[name] = _unsupported_function(name, c_api or "%s.%s" % (module, name))
    names["libvirt"] = _libvirt
    return names


def c_module_names(module: str) -> Dict[str, Any]:
    return {c_api: _unsupported_function(c_api, c_api) for c_api in _names.SIDE_MODULES[module]["c_functions"]}
