#!/usr/bin/python3
"""A raw libvirt RPC client for the event procedures stock clients no longer use (the legacy
REGISTER 105 / REGISTER_ANY 167 forms) and for their errors. Prints one line per reply and per
event message it receives, so two daemons' transcripts can be compared line for line.

    event_wire.py SOCKET PHASE
PHASE "register": opens test:///default, registers, prints the replies, writes "ready" to
stdout, then prints the first N (argv[3]) messages that arrive (10 s at most), then deregisters.
Messages that arrive while it waits for a reply are not printed (their number depends on timing)."""
import socket
import struct
import sys
import time

PROG, VERS = 0x20008086, 1


def frame(proc, serial, body=b""):
    hdr = struct.pack(">IIiiIi", PROG, VERS, proc, 0, serial, 0)
    return struct.pack(">I", 4 + len(hdr) + len(body)) + hdr + body


def xstr(s):
    b = s.encode()
    return struct.pack(">I", len(b)) + b + b"\0" * ((4 - len(b) % 4) % 4)


class Conn:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX)
        self.s.connect(path)
        self.s.settimeout(10)
        self.buf = b""
        self.serial = 0

    def read_packet(self):
        while len(self.buf) < 4 or len(self.buf) < struct.unpack(">I", self.buf[:4])[0]:
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError
            self.buf += chunk
        n = struct.unpack(">I", self.buf[:4])[0]
        pkt, self.buf = self.buf[4:n], self.buf[n:]
        prog, vers, proc, typ, serial, status = struct.unpack(">IIiiIi", pkt[:24])
        return proc, typ, serial, status, pkt[24:]

    def call(self, proc, body=b""):
        self.serial += 1
        self.s.sendall(frame(proc, self.serial, body))
        while True:
            p = self.read_packet()
            if p[1] == 1:  # the reply
                return p
            # an event during a call: how many arrive by then depends on timing, so not printed


def describe_error(body):
    # remote_error: code, domain, message (optional string) ...
    code, domain, flag = struct.unpack(">iiI", body[:12])
    msg = ""
    if flag:
        (n,) = struct.unpack(">I", body[12:16])
        msg = body[16:16 + n].decode()
    return "error code=%d domain=%d message=%s" % (code, domain, msg)


def print_reply(label, p):
    proc, typ, serial, status, body = p
    if status == 1:
        print("%s: %s" % (label, describe_error(body)))
    else:
        print("%s: ok %s" % (label, body.hex()))


def print_message(p):
    proc, typ, serial, status, body = p
    # the callback id of modern messages differs between daemons: name it, do not print it
    print("message proc=%d type=%d serial=%d status=%d body=%s" % (proc, typ, serial, status, body.hex()))


def main():
    c = Conn(sys.argv[1])
    expect = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    print_reply("auth-list", c.call(66))
    print_reply("open", c.call(1, struct.pack(">I", 1) + xstr("test:///default") + struct.pack(">i", 0)))
    print_reply("register", c.call(105))
    print_reply("register-any reboot", c.call(167, struct.pack(">i", 1)))
    print_reply("register-any 16", c.call(167, struct.pack(">i", 16)))
    print_reply("register-any -1", c.call(167, struct.pack(">i", -1)))
    print_reply("callback-register-any 27", c.call(316, struct.pack(">iI", 27, 0)))
    print_reply("callback-deregister-any 999999", c.call(317, struct.pack(">i", 999999)))
    print_reply("network-register-any 1", c.call(313, struct.pack(">iI", 1, 0)))
    print_reply("network-deregister-any 999999", c.call(314, struct.pack(">i", 999999)))
    print_reply("deregister-any rtc-change", c.call(168, struct.pack(">i", 2)))
    print("ready", flush=True)
    deadline = time.time() + 10
    got = 0
    while got < expect and time.time() < deadline:
        try:
            p = c.read_packet()
        except (socket.timeout, EOFError):
            break
        print_message(p)
        got += 1
    print_reply("deregister", c.call(106))
    print_reply("deregister again", c.call(106))
    print_reply("deregister-any reboot", c.call(168, struct.pack(">i", 1)))
    print_reply("close", c.call(2))


main()
