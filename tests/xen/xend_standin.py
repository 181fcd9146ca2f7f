#!/usr/bin/python3
"""A stand-in for xend's HTTP interface, for tests (no Xen runs on these machines).

Serves, over TCP on 127.0.0.1 and/or a unix socket, what libvirt 0.3.x's xend driver asked of
xend: GET /xend/node/, GET /xend/domain[?detail=1[&state=halted]], GET /xend/domain/NAME?detail=1;
POST /xend/domain/NAME op=... and POST /xend/domain op=create|new|restore. Domains come from
S-expression files ((domain ...) records, libvirt fixture style with backslash-newline
continuations) plus a built-in Domain-0. Every request is appended to --log as one JSON line
({"method", "path", "form"}), so tests can check what reached xend.

  xend_standin.py --port-file P [--unix PATH] [--log FILE] [--domain FILE]... [--config-format N]
                  [--relocation-port-file R]
                  [--misbehave wrong-status|truncated|garbage|slow|xend-err-200|names-only]

Migration: op=migrate connects to destination:port (loopback only: this is a test) and sends the
domain's record as "(receive)" then the S-expression, as a stand-in for xend's relocation
protocol; a stand-in started with --relocation-port-file listens for that on a free loopback port
(written to R) and adds the domain, running. Devices: op=device_create config=(vbd|tap|vif ...)
adds a (device ...) entry; op=device_destroy type= dev= removes the vbd with that Xen device
number or the vif at that index. op=new for a domain of the same name and uuid updates its
definition (how autostart is set). op=domain_sched_credit_set weight= cap= sets the record's
cpu_weight and cpu_cap (every record has them, 256 and 0 by default, as xend 3.1's do).

Writes the TCP port it bound to --port-file once it listens (port 0 = any free port). Stops on
SIGTERM.
"""
import argparse
import http.server
import json
import os
import re
import signal
import socket
import socketserver
import sys
import threading
import time
import urllib.parse


class QAtom(str):
    """An atom that was written in quotes."""


def parse_sexpr(text):
    text = text.replace("\\\n", "")
    pos = 0
    n = len(text)

    def skip():
        nonlocal pos
        while pos < n and text[pos].isspace():
            pos += 1

    def value():
        nonlocal pos
        skip()
        if pos >= n:
            raise ValueError("unexpected end")
        c = text[pos]
        if c == "(":
            pos += 1
            items = []
            while True:
                skip()
                if pos >= n:
                    raise ValueError("missing )")
                if text[pos] == ")":
                    pos += 1
                    return items
                items.append(value())
        if c in "'\"":
            quote = c
            pos += 1
            out = []
            while pos < n and text[pos] != quote:
                if text[pos] == "\\" and pos + 1 < n:
                    pos += 1
                out.append(text[pos])
                pos += 1
            if pos >= n:
                raise ValueError("unterminated string")
            pos += 1
            return QAtom("".join(out))
        start = pos
        while pos < n and not text[pos].isspace() and text[pos] not in "()":
            pos += 1
        if start == pos:
            raise ValueError("unexpected ) at %d" % pos)
        return text[start:pos]

    v = value()
    skip()
    if pos != n:
        raise ValueError("trailing text at %d" % pos)
    return v


def format_sexpr(v):
    if isinstance(v, list):
        out = "("
        prev_atom = False
        for item in v:
            if prev_atom:
                out += " "
            out += format_sexpr(item)
            prev_atom = not isinstance(item, list)
        return out + ")"
    if isinstance(v, QAtom) or v == "" or re.search(r"[\s()'\"\\]", v):
        return "'" + v.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return v


def field(record, key):
    for item in record[1:]:
        if isinstance(item, list) and item and item[0] == key:
            return item[1] if len(item) > 1 else None
    return None


def set_field(record, key, value, quoted=False):
    atom = QAtom(value) if quoted else str(value)
    for item in record[1:]:
        if isinstance(item, list) and item and item[0] == key:
            item[1:] = [atom]
            return
    record.append([key, atom])


def drop_field(record, key):
    record[:] = [i for i in record if not (isinstance(i, list) and i and i[0] == key)]


def block_number(name):
    """Xen's device number of a block device name (blkif.blkdev_name_to_number)."""
    name = name.split(":")[0] if not name.startswith("ioemu:") else name[6:].split(":")[0]
    if name.isdigit():
        return int(name)
    m = re.match(r"^(xvd|sd|hd)([a-p])(\d*)$", name)
    if not m:
        return -1
    disk, part = ord(m.group(2)) - ord("a"), int(m.group(3) or 0)
    if m.group(1) == "xvd":
        return (202 << 8) + disk * 16 + part
    if m.group(1) == "sd":
        return (8 << 8) + disk * 16 + part
    if disk > 3:
        return -1
    return ((3 if disk < 2 else 22) << 8) + (disk % 2) * 64 + part


DOM0 = ("(domain (domid 0)(uuid '00000000-0000-0000-0000-000000000000')(name 'Domain-0')"
        "(memory 1024)(maxmem 4096)(vcpus 2)(online_vcpus 2)(state r-----)(cpu_time 1234.5)"
        "(on_poweroff destroy)(on_reboot restart)(on_crash restart)"
        "(image (linux (kernel '')))(console_autoconnect 1))")


class Xend:
    def __init__(self, args):
        self.lock = threading.Lock()
        self.args = args
        self.domains = [parse_sexpr(DOM0)]
        if args.misbehave == "names-only":
            drop_field(self.domains[0], "uuid")  # as some xend versions report Domain-0
        self.next_id = 1
        for path in args.domain:
            with open(path) as f:
                rec = parse_sexpr(f.read())
            if rec[0] == "vm":
                rec[0] = "domain"
            did = field(rec, "domid")
            if did is not None:
                self.next_id = max(self.next_id, int(did) + 1)
            if did is not None and field(rec, "state") is None:
                set_field(rec, "state", "-b----")
            self.credit_defaults(rec)
            self.domains.append(rec)

    @staticmethod
    def credit_defaults(rec):
        # xend 3.1's records carry the credit scheduler's parameters
        if field(rec, "cpu_weight") is None:
            set_field(rec, "cpu_weight", 256)
        if field(rec, "cpu_cap") is None:
            set_field(rec, "cpu_cap", 0)

    def find(self, name):
        for d in self.domains:
            if field(d, "name") == name:
                return d
        return None

    def node(self):
        return ("(node (host standin.example)(release 2.6.18-xen)(version '#1 SMP')(machine x86_64)"
                "(nr_cpus 4)(nr_nodes 1)(sockets_per_node 1)(cores_per_socket 2)(threads_per_core 2)"
                "(cpu_mhz 2992)(hw_caps 'bfebfbff:20100800:00000000:00000140:0000e3bd:00000000:00000001')"
                "(total_memory 8190)(free_memory 2048)(xen_major 3)(xen_minor 1)(xen_extra .0)"
                "(xen_caps 'xen-3.0-x86_64 xen-3.0-x86_32p hvm-3.0-x86_32 hvm-3.0-x86_32p hvm-3.0-x86_64')"
                "(platform_params 'virt_start=0xffff800000000000')(xen_changeset unavailable)"
                "(cc_compiler 'gcc version 4.1.2')(cc_compile_by standin)(cc_compile_domain example)"
                "(cc_compile_date 'Sat Dec 5 2026')(xen_scheduler credit)(xend_config_format %d))" % self.args.config_format)

    def new_record(self, config, running):
        rec = parse_sexpr(config)
        if not isinstance(rec, list) or not rec or rec[0] not in ("vm", "domain"):
            raise ValueError("config is not a (vm ...) S-expression")
        rec[0] = "domain"
        name = field(rec, "name")
        if not name:
            raise ValueError("config has no name")
        if field(rec, "uuid") is None:
            set_field(rec, "uuid", "11111111-2222-3333-4444-%012d" % self.next_id, True)
        self.credit_defaults(rec)
        if running:
            set_field(rec, "domid", self.next_id)
            self.next_id += 1
            set_field(rec, "state", "--p---")
        return rec

    def op(self, path, form):
        """Runs one POST; returns (status, body)."""
        op = form.get("op", "")
        if path.rstrip("/") == "/xend/domain":
            if op in ("create", "new"):
                rec = self.new_record(form.get("config", ""), op == "create")
                old = self.find(field(rec, "name"))
                if old is not None and op == "new" and field(old, "uuid") == field(rec, "uuid"):
                    # a new definition of a known domain: its configuration changes, its run state stays
                    for key in ("domid", "state"):
                        drop_field(rec, key)
                        if field(old, key) is not None:
                            set_field(rec, key, field(old, key))
                    old[:] = rec
                    return 200, ""
                if old is not None:
                    return 500, "(xend.err \"Domain '%s' already exists\")" % field(rec, "name")
                self.domains.append(rec)
                return 200, format_sexpr(rec)
            if op == "restore":
                try:
                    with open(form.get("file", "")) as f:
                        rec = parse_sexpr(f.read())
                except (OSError, ValueError) as e:
                    return 500, "(xend.err 'Restore failed: %s')" % str(e).replace("'", "")
                set_field(rec, "domid", self.next_id)
                self.next_id += 1
                set_field(rec, "state", "-b----")
                old = self.find(field(rec, "name"))
                if old is not None and field(old, "domid") is not None:
                    return 500, "(xend.err \"Domain '%s' is already running\")" % field(rec, "name")
                if old is not None:
                    self.domains.remove(old)
                self.domains.append(rec)
                return 200, format_sexpr(rec)
            return 500, "(xend.err 'Unknown operation %s')" % op
        m = re.match(r"^/xend/domain/([^/?]+)$", path)
        if not m:
            return 404, "(xend.err 'no such path')"
        name = urllib.parse.unquote(m.group(1))
        d = self.find(name)
        if d is None:
            return 404, "(xend.err \"Domain '%s' does not exist.\")" % name
        running = field(d, "domid") is not None
        managed = self.args.config_format >= 3 and field(d, "name") != "Domain-0"
        if op in ("pause", "unpause", "shutdown", "destroy", "mem_target_set", "maxmem_set", "set_vcpus",
                  "pincpu", "save", "dump", "migrate", "device_create", "device_destroy",
                  "domain_sched_credit_set") and not running:
            return 500, "(xend.err \"Domain '%s' is not running\")" % name
        if op == "pause":
            set_field(d, "state", "--p---")
        elif op == "unpause":
            set_field(d, "state", "-b----")
        elif op in ("shutdown", "destroy"):
            if name == "Domain-0":
                return 500, "(xend.err 'Cannot destroy privileged domain Domain-0')"
            if op == "shutdown" and form.get("reason") not in ("halt", "reboot", "poweroff", "suspend"):
                return 500, "(xend.err 'bad reason')"
            if op == "shutdown" and form.get("reason") == "reboot":
                pass
            elif managed:
                drop_field(d, "domid")
                drop_field(d, "state")
            else:
                self.domains.remove(d)
        elif op == "mem_target_set":
            set_field(d, "memory", int(form["target"]))
        elif op == "maxmem_set":
            set_field(d, "maxmem", int(form["memory"]))
        elif op == "set_vcpus":
            set_field(d, "vcpus", int(form["vcpus"]))
            set_field(d, "online_vcpus", int(form["vcpus"]))
        elif op == "pincpu":
            if not re.match(r"^\[\d+(,\d+)*\]$", form.get("cpumap", "")):
                return 500, "(xend.err 'bad cpumap')"
        elif op == "save":
            with open(form["file"], "w") as f:
                f.write(format_sexpr(d))
            if managed:
                drop_field(d, "domid")
                drop_field(d, "state")
            else:
                self.domains.remove(d)
        elif op == "dump":
            with open(form["file"], "w") as f:
                f.write("core of %s\n" % name)
        elif op == "migrate":
            dest, port = form.get("destination", ""), form.get("port", "")
            if form.get("live") not in ("0", "1") or form.get("resource") != "0" or not port.isdigit():
                return 500, "(xend.err 'bad migrate arguments')"
            if name == "Domain-0":
                return 500, "(xend.err 'Cannot migrate privileged domain')"
            if dest not in ("127.0.0.1", "localhost", "::1"):
                return 500, "(xend.err 'the stand-in migrates to loopback only, not %s')" % dest
            try:
                with socket.create_connection((dest, int(port)), timeout=5) as conn:
                    conn.sendall(("(receive)\n" + format_sexpr(d)).encode())
                    conn.shutdown(socket.SHUT_WR)
                    answer = conn.recv(100).decode(errors="replace")
            except OSError as e:
                return 500, "(xend.err 'Failed to connect to %s:%s: %s')" % (dest, port, str(e).replace("'", ""))
            if not answer.startswith("(ok)"):
                return 500, "(xend.err 'the destination refused the domain')"
            if managed:
                drop_field(d, "domid")
                drop_field(d, "state")
            else:
                self.domains.remove(d)
        elif op == "domain_sched_credit_set":
            weight, cap = form.get("weight", ""), form.get("cap", "")
            if not weight.isdigit() or not cap.isdigit() or not 1 <= int(weight) <= 65535:
                return 500, "(xend.err 'bad weight or cap')"
            set_field(d, "cpu_weight", int(weight))
            set_field(d, "cpu_cap", int(cap))
        elif op == "device_create":
            dev = parse_sexpr(form.get("config", ""))
            if not isinstance(dev, list) or not dev or dev[0] not in ("vbd", "tap", "vif"):
                return 500, "(xend.err 'device_create needs a (vbd|tap|vif ...) config')"
            d.append(["device", dev])
        elif op == "device_destroy":
            kind, devid = form.get("type", ""), form.get("dev", "")
            if kind not in ("vbd", "tap", "vif") or not devid.isdigit():
                return 500, "(xend.err 'bad device_destroy arguments')"
            devices = [i for i in d[1:] if isinstance(i, list) and i and i[0] == "device" and len(i) > 1
                       and isinstance(i[1], list) and i[1] and i[1][0] == kind]
            victim = None
            if kind == "vif":
                if int(devid) < len(devices):
                    victim = devices[int(devid)]
            else:
                victim = next((v for v in devices if block_number(field(v[1], "dev") or "") == int(devid)), None)
            if victim is None:
                return 500, "(xend.err 'Device %s not connected')" % devid
            d.remove(victim)
        elif op == "start":
            if running:
                return 500, "(xend.err \"Domain '%s' is already running\")" % name
            set_field(d, "domid", self.next_id)
            self.next_id += 1
            set_field(d, "state", "-b----")
        elif op == "delete":
            if running:
                return 500, "(xend.err 'Domain is running')"
            self.domains.remove(d)
        else:
            return 500, "(xend.err 'Unknown operation %s')" % op
        return 200, ""

    def get(self, path, query):
        if path in ("/xend/node", "/xend/node/"):
            return 200, self.node()
        if path.rstrip("/") == "/xend/domain":
            halted = query.get("state", [""])[0] == "halted"
            doms = [d for d in self.domains if (field(d, "domid") is None) == halted]
            if query.get("detail", ["0"])[0] == "1" and self.args.misbehave != "names-only":
                return 200, "(" + "".join(format_sexpr(d) for d in doms) + ")"
            return 200, "(" + " ".join(format_sexpr(QAtom(field(d, "name"))) for d in doms) + ")"
        m = re.match(r"^/xend/domain/([^/]+)$", path)
        if m:
            d = self.find(urllib.parse.unquote(m.group(1)))
            if d is None:
                return 404, "(xend.err \"Domain '%s' does not exist.\")" % urllib.parse.unquote(m.group(1))
            return 200, format_sexpr(d)
        return 404, "(xend.err 'no such path')"


def make_handler(xend):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def record(self, form):
            if xend.args.log:
                with xend.lock, open(xend.args.log, "a") as f:
                    f.write(json.dumps({"method": self.command, "path": self.path, "form": form}) + "\n")

        def misbehave(self):
            mode = xend.args.misbehave
            if mode == "garbage":
                self.wfile.write(b"\x00\x01 this is not HTTP at all\r\n\r\n")
                self.close_connection = True
                return True
            if mode == "truncated":
                self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n(node (host ")
                self.wfile.flush()
                self.close_connection = True
                return True
            if mode == "slow":
                time.sleep(30)
                return True
            if mode in ("", "xend-err-200", "names-only"):
                return False
            if mode == "wrong-status":
                self.reply(302, "(moved)")
                return True
            return False

        def reply(self, status, body):
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(data)
            self.close_connection = True

        def do_GET(self):
            url = urllib.parse.urlsplit(self.path)
            self.record({})
            if self.misbehave():
                return
            with xend.lock:
                status, body = xend.get(url.path, urllib.parse.parse_qs(url.query))
            self.reply(status, body)

        def do_POST(self):
            length = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(length).decode() if length > 0 else ""
            form = {k: v[0] for k, v in urllib.parse.parse_qs(raw, keep_blank_values=True).items()}
            self.record(form)
            if self.misbehave():
                return
            try:
                with xend.lock:
                    status, body = xend.op(urllib.parse.urlsplit(self.path).path, form)
            except (ValueError, KeyError) as e:
                status, body = 500, "(xend.err '%s')" % str(e).replace("'", "")
            if xend.args.misbehave == "xend-err-200" and status >= 300:
                status = 200  # some xend answers errors with 200 and an (xend.err ...) body
            self.reply(status, body)

    return Handler


class TCPServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def get_request(self):
        conn, _ = self.socket.accept()
        return conn, ("unix", 0)


def receive_migrations(xend, listener):
    """The stand-in relocation server: "(receive)" then a domain record; answers (ok) or (err)."""
    while True:
        conn, _ = listener.accept()
        with conn:
            conn.settimeout(5)
            data = b""
            try:
                while len(data) < 1 << 20:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                text = data.decode()
                if not text.startswith("(receive)\n"):
                    raise ValueError("not a relocation request")
                rec = parse_sexpr(text[len("(receive)\n"):])
                with xend.lock:
                    name = field(rec, "name")
                    old = xend.find(name)
                    if old is not None and field(old, "domid") is not None:
                        raise ValueError("domain %s is already running here" % name)
                    if old is not None:
                        xend.domains.remove(old)
                    set_field(rec, "domid", xend.next_id)
                    xend.next_id += 1
                    set_field(rec, "state", "-b----")
                    xend.domains.append(rec)
                    if xend.args.log:
                        with open(xend.args.log, "a") as f:
                            f.write(json.dumps({"method": "RELOCATE", "path": "", "form": {"name": name}}) + "\n")
                conn.sendall(b"(ok)")
            except (OSError, ValueError, UnicodeDecodeError) as e:
                try:
                    conn.sendall(("(err '%s')" % str(e).replace("'", "")).encode())
                except OSError:
                    pass


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file")
    p.add_argument("--unix")
    p.add_argument("--log")
    p.add_argument("--domain", action="append", default=[])
    p.add_argument("--config-format", type=int, default=4)
    p.add_argument("--misbehave", default="")
    p.add_argument("--relocation-port-file")
    args = p.parse_args()
    xend = Xend(args)
    handler = make_handler(xend)
    servers = []
    tcp = TCPServer(("127.0.0.1", args.port), handler)
    servers.append(tcp)
    if args.unix:
        if os.path.exists(args.unix):
            os.unlink(args.unix)
        servers.append(UnixServer(args.unix, handler))
    for s in servers:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    if args.relocation_port_file:
        relocation = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        relocation.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        relocation.bind(("127.0.0.1", 0))
        relocation.listen(4)
        threading.Thread(target=receive_migrations, args=(xend, relocation), daemon=True).start()
        tmp = args.relocation_port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(str(relocation.getsockname()[1]))
        os.rename(tmp, args.relocation_port_file)
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(str(tcp.server_address[1]))
        os.rename(tmp, args.port_file)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    for s in servers:
        s.shutdown()
    if args.unix and os.path.exists(args.unix):
        os.unlink(args.unix)


if __name__ == "__main__":
    main()
