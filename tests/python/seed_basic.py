#!/usr/bin/python3
# The seed's Python example ("Binding for Python", after basic.py in libvirt's python/tests),
# as the seed prints it but for Python 3 (print is a function) and with the domain to look up
# taken from argv (the seed's "Domain-0" is Xen's; the test driver's guest is "test").
import libvirt
import sys

conn = libvirt.openReadOnly(None)
if conn == None:
    print('Failed to open connection to the hypervisor')
    sys.exit(1)

try:
    dom0 = conn.lookupByName(sys.argv[1] if len(sys.argv) > 1 else "Domain-0")
except:
    print('Failed to find the main domain')
    sys.exit(1)

print("Domain 0: id %d running %s" % (dom0.ID(), dom0.OSType()))
print(dom0.info()[:4])
