#!/usr/bin/python3
"""Compares two records of compare_api.py. Where libvirt's message text comes from its own
parsers (libxml2's wording for malformed XML, its UUID parser), only the error code is compared;
everything else must be equal. Prints each difference."""
import json
import sys

CODE_ONLY = {"defineXML(bad)", "lookupByUUIDString(bad)"}

a, b = (json.load(open(p)) for p in sys.argv[1:3])
differences = 0
if [s[0] for s in a] != [s[0] for s in b]:
    print("the records list different steps")
    sys.exit(1)
for (label, x), (_, y) in zip(a, b):
    if label in CODE_ONLY and isinstance(x, dict) and isinstance(y, dict) and "error" in x and "error" in y:
        x, y = x["error"][0], y["error"][0]
    if x != y:
        differences += 1
        print("%s:\n  virtpp:  %s\n  libvirt: %s" % (label, json.dumps(x)[:400], json.dumps(y)[:400]))
sys.exit(1 if differences else 0)
