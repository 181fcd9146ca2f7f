#!/usr/bin/python3
"""Drives an interactive console command (stock `virsh console`, `virtpp console`) through a
pseudo-terminal, as a user at a terminal would.

  pty_console.py [--expect TEXT] [--send LINE | --key KEY] [--expect-after TEXT] [--ready FILE]
                 [--timeout S] [--no-escape] -- COMMAND...

Starts COMMAND on a new pty, touches FILE once the command printed "Escape character" (the
session is open), waits for each --expect TEXT in order, then sends LINE (with a newline) and
waits for --expect-after TEXT in what follows, then types ^] (unless --no-escape) and waits for
the command to exit. Prints the transcript; exits with the command's status when every text was
seen, 3 when one was not (within --timeout seconds, default 60), 4 when the command did not exit.
"""
import argparse
import os
import pty
import select
import sys
import time

ap = argparse.ArgumentParser()
ap.add_argument("--expect", action="append", default=[])
ap.add_argument("--send")
ap.add_argument("--key", help="a key to type instead of a line, as a Python escape (\\x1b for Esc)")
ap.add_argument("--expect-after")
ap.add_argument("--ready")
ap.add_argument("--timeout", type=float, default=60)
ap.add_argument("--no-escape", action="store_true")
ap.add_argument("command", nargs="+")
a = ap.parse_args()

pid, fd = pty.fork()
if pid == 0:
    os.execvp(a.command[0], a.command)

seen = b""
exited = None


def pump(until, deadline):
    """Reads until until(seen) or the deadline; False on timeout or end of output."""
    global seen, exited
    while time.monotonic() < deadline:
        if until(seen):
            return True
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                chunk = b""
            if not chunk:
                return until(seen)
            seen += chunk
    return until(seen)


def done(status):
    sys.stdout.write(seen.decode(errors="replace").replace("\r", ""))
    sys.stdout.write("\n")
    sys.exit(status)


deadline = time.monotonic() + a.timeout
# nothing is typed before the session is open: the command switches the terminal to raw mode
# then, which drops what was typed before
if pump(lambda s: b"Escape character" in s or b"error:" in s, deadline) and b"Escape character" in seen:
    if a.ready:
        open(a.ready, "w").close()
    time.sleep(0.2)
ok = True
start = 0
for text in a.expect:
    want = text.encode()
    if not pump(lambda s: want in s[start:], deadline):
        print(f"pty_console: did not see {text!r}")
        ok = False
        break
    start = seen.index(want, start) + len(want)
if ok and a.key is not None:
    a.send = ""
    mark = len(seen)
    os.write(fd, a.key.encode().decode("unicode_escape").encode("latin-1"))
elif ok and a.send is not None:
    mark = len(seen)
    os.write(fd, a.send.encode() + b"\r")
if ok and a.send is not None:
    if a.expect_after:
        want = a.expect_after.encode()
        # the echo of the typed line holds the command, not its output: look past the line
        if not pump(lambda s: want in (s[mark:].replace(a.send.encode(), b"", 1) if a.send else s[mark:]), deadline):
            print(f"pty_console: did not see {a.expect_after!r} after sending {a.send!r}")
            ok = False
if not a.no_escape:
    try:
        os.write(fd, b"\x1d")
    except OSError:
        pass
end = time.monotonic() + 10
status = None
while time.monotonic() < end:
    pump(lambda s: False, time.monotonic() + 0.1)
    p, st = os.waitpid(pid, os.WNOHANG)
    if p == pid:
        status = os.waitstatus_to_exitcode(st)
        break
if status is None:
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    print("pty_console: the command did not exit")
    done(4)
try:
    while select.select([fd], [], [], 0)[0]:
        c = os.read(fd, 4096)
        if not c:
            break
        seen += c
except OSError:
    pass
done(status if ok else 3)
