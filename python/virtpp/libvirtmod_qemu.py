"""libvirt-python's libvirtmod_qemu C module, over virtpp: every function raises
libvirtError(VIR_ERR_NO_SUPPORT) (see _side.py)."""
from . import _side

globals().update(_side.c_module_names("libvirt_qemu"))
