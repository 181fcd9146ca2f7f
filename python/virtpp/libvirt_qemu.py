"""libvirt-python's libvirt_qemu module, over virtpp: its names and constants; every function raises
libvirtError(VIR_ERR_NO_SUPPORT) (see _side.py)."""
from typing import IO, Any, Callable, Dict, List  # noqa: F401  (names libvirt-python's module has)

from . import _side
from . import libvirtmod_qemu  # noqa: F401  (libvirt-python's module imports its C module too)

globals().update(_side.python_module_names("libvirt_qemu"))
