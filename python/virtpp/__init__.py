"""virtpp: libvirt's API on virtpp's C++ library, in libvirt-python's shape.

    import virtpp
    conn = virtpp.open("test:///default")
    print(conn.lookupByName("test").info())

The same module is what `import libvirt` loads with the drop-in folder (virtpp/dropin) first on
PYTHONPATH. See docs/python.md.
"""
from .libvirt import *  # noqa: F401,F403
from .libvirt import libvirtError, __virtpp__  # noqa: F401
