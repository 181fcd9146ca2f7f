"""libvirt-python's libvirt_lxc module, over virtpp: its names and constants; every function raises
libvirtError(VIR_ERR_NO_SUPPORT) (see _side.py)."""
from . import _side
from . import libvirtmod_lxc  # noqa: F401  (libvirt-python's module imports its C module too)

globals().update(_side.python_module_names("libvirt_lxc"))
