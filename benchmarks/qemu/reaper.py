#!/usr/bin/python3
"""Run a command as the child of a child subreaper that reaps every orphan at once.

    reaper.py PIDFILE COMMAND [ARG...]

The QEMU benchmark starts libvirtd under this to stand in for an init that reaps promptly
(systemd on an ordinary host): libvirt daemonizes qemu, so a destroyed qemu is a zombie until its
new parent reaps it, and libvirt's destroy waits for kill(pid, 0) to fail. PIDFILE gets COMMAND's
pid; the reaper exits with COMMAND's status once it and every orphan handed to it are gone.
"""
import ctypes
import os
import subprocess
import sys

PR_SET_CHILD_SUBREAPER = 36


def main():
    pidfile, command = sys.argv[1], sys.argv[2:]
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        sys.exit(f"reaper.py: prctl(PR_SET_CHILD_SUBREAPER): {os.strerror(ctypes.get_errno())}")
    child = subprocess.Popen(command)
    with open(pidfile + ".tmp", "w") as f:
        f.write(f"{child.pid}\n")
    os.rename(pidfile + ".tmp", pidfile)
    status = 0
    while True:
        try:
            pid, wstatus = os.wait()
        except ChildProcessError:
            break
        if pid == child.pid:
            status = os.waitstatus_to_exitcode(wstatus)
            child.returncode = status
    sys.exit(status if status >= 0 else 128 - status)


if __name__ == "__main__":
    main()
