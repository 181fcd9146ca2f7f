"""Drop-in for libvirt-python's `libvirtmod_qemu` module: with this folder first on PYTHONPATH,
`import libvirtmod_qemu` loads virtpp's (virtpp.libvirtmod_qemu), one module object under both names. The virtpp package
is the one this folder belongs to, whatever else sys.path holds."""
import importlib
import importlib.util
import os
import sys

if "virtpp" not in sys.modules:
    _package_dir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    _spec = importlib.util.spec_from_file_location("virtpp", os.path.join(_package_dir, "__init__.py"),
                                                   submodule_search_locations=[_package_dir])
    _package = importlib.util.module_from_spec(_spec)
    sys.modules["virtpp"] = _package
    _spec.loader.exec_module(_package)

sys.modules[__name__] = importlib.import_module("virtpp.libvirtmod_qemu")
