#!/usr/bin/python3
"""Talks to a guest's serial console on a unix socket (qemu listening: <serial type='unix'>
with mode='bind').

  serial_console.py SOCKET --wait TEXT [--connected FILE]   connect, touch FILE, wait for TEXT
  serial_console.py SOCKET --send LINE --expect TEXT        send LINE, wait for TEXT after it

Exits 0 when TEXT was seen within --timeout seconds (default 30), 1 otherwise (printing what
the console did say)."""
import argparse
import os
import socket
import sys
import time

ap = argparse.ArgumentParser()
ap.add_argument("socket")
ap.add_argument("--wait")
ap.add_argument("--connected")
ap.add_argument("--send")
ap.add_argument("--expect")
ap.add_argument("--timeout", type=float, default=30)
a = ap.parse_args()

deadline = time.monotonic() + a.timeout
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
while True:
    try:
        s.connect(a.socket)
        break
    except OSError as e:
        if time.monotonic() > deadline:
            print(f"cannot connect to {a.socket}: {e}")
            sys.exit(1)
        time.sleep(0.05)
if a.connected:
    open(a.connected, "w").close()

want = a.wait if a.wait is not None else a.expect
if a.send is not None:
    s.sendall(a.send.encode() + b"\n")
seen = b""
while time.monotonic() < deadline:
    s.settimeout(max(0.01, deadline - time.monotonic()))
    try:
        chunk = s.recv(4096)
    except socket.timeout:
        break
    if not chunk:
        break
    seen += chunk
    # the echo of the sent line holds the command, not its output: look past the line itself
    text = seen.decode(errors="replace")
    if a.send is not None:
        text = text.replace(a.send, "", 1)
    if want in text:
        sys.exit(0)
print(f"console said: {seen.decode(errors='replace')[-400:]!r}")
sys.exit(1)
