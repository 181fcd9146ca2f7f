#!/usr/bin/python3
"""Prints, as JSON, every public name of libvirt, libvirt_qemu, libvirt_lxc and libvirtmod, every
public member of their classes, and the value of every VIR_* constant. tests/scripts/python_module.sh
runs it with virtpp's drop-in and with python3-libvirt and requires the same output."""
import json

import libvirt
import libvirt_lxc
import libvirt_qemu
import libvirtmod

record = {}
for name, module in (("libvirt", libvirt), ("libvirt_qemu", libvirt_qemu), ("libvirt_lxc", libvirt_lxc),
                     ("libvirtmod", libvirtmod)):
    record[name] = sorted(n for n in dir(module) if not n.startswith("_"))
    record[name + " constants"] = {n: getattr(module, n) for n in dir(module) if n.startswith("VIR_")}
    for attr in dir(module):
        thing = getattr(module, attr)
        if not attr.startswith("_") and isinstance(thing, type) and thing.__module__.endswith("libvirt"):
            record[name + "." + attr] = sorted(m for m in dir(thing) if not m.startswith("_"))
            record[name + "." + attr + " callables"] = sorted(m for m in dir(thing) if not m.startswith("_")
                                                              and callable(getattr(thing, m)))
print(json.dumps(record, indent=1, sort_keys=True))
