#!/usr/bin/env bash
# virtppd on the wire, with a raw-socket client: PINGs answered while more than 5 slow calls are in
# flight on one connection (the test driver's virtpp_delay_ms hook), the daemon's own PINGs and
# the drop after keepalive_count, garbage on one connection while another keeps working, and
# python3-libvirt / Perl Sys::Virt sessions.
set -u
BIN=${VIRTPP_BINARY_DIR:?}/tools/virtppd
[ -x "$BIN" ] || { echo "virtppd not built"; exit 77; }
W=$(mktemp -d)
cleanup() { [ -s "$W/pid" ] && kill "$(cat "$W/pid")" 2>/dev/null; sleep 0.2; rm -rf "$W"; }
trap cleanup EXIT
PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$W/conf" <<CONF
listen_tls = 0
listen_tcp = 1
tcp_port = "$PORT"
listen_addr = "127.0.0.1"
unix_sock_dir = "$W/run"
keepalive_interval = 1
keepalive_count = 2
max_client_requests = 5
log_outputs = "2:file:$W/log"
CONF
"$BIN" -l -f "$W/conf" -p "$W/pid" 2>"$W/stderr" &
for _ in $(seq 50); do [ -s "$W/pid" ] && break; sleep 0.1; done
[ -s "$W/pid" ] || { echo "virtppd did not start"; cat "$W/stderr"; exit 1; }

/usr/bin/python3 - "$PORT" <<'PY' || exit 1
import socket, struct, sys, time
port = int(sys.argv[1])
PROG, KA = 0x20008086, 0x6b656570

def pkt(prog, proc, typ, serial, body=b""):
    return struct.pack(">IIIiIIi", 28 + len(body), prog, 1, proc, typ, serial, 0) + body

def xstr(s):
    b = s.encode(); return struct.pack(">I", len(b)) + b + b"\0" * ((4 - len(b) % 4) % 4)

class Client:
    def __init__(self):
        self.s = socket.create_connection(("127.0.0.1", port)); self.buf = b""
    def send(self, data): self.s.sendall(data)
    def recv(self, timeout):
        self.s.settimeout(timeout)
        while True:
            if len(self.buf) >= 4:
                n = struct.unpack(">I", self.buf[:4])[0]
                if len(self.buf) >= n:
                    m, self.buf = self.buf[:n], self.buf[n:]
                    return struct.unpack(">IIiiIi", m[4:28]), m[28:]
            d = self.s.recv(65536)
            if not d: return None
            self.buf += d
    def call(self, proc, serial, body=b""):
        self.send(pkt(PROG, proc, 0, serial, body))
        while True:
            h, b = self.recv(10)
            if h[0] == PROG: return h, b

failures = 0
def check(cond, what):
    global failures
    print(("ok   " if cond else "FAIL ") + what)
    if not cond: failures += 1

# 1. slow calls in flight, PINGs answered meanwhile
c = Client()
h, b = c.call(60, 0, struct.pack(">i", 10)); check(b == struct.pack(">i", 1), "keepalive feature offered")
h, b = c.call(1, 1, struct.pack(">I", 1) + xstr("test:///default?virtpp_delay_ms=1500") + struct.pack(">I", 0))
check(h[5] == 0, "open with the delay hook")
for serial in range(10, 18):  # 8 slow calls, more than max_client_requests
    c.send(pkt(PROG, 3, 0, serial))
time.sleep(0.1)
pongs, late, replies = 0, 0, set()
for i in range(6):
    t = time.time(); c.send(pkt(KA, 1, 2, 0))
    while True:
        h, b = c.recv(5)
        if h[0] == KA and h[2] == 2:
            pongs += 1
            if time.time() - t > 0.5: late += 1
            break
        if h[0] == PROG: replies.add(h[4])
    time.sleep(0.2)
check(pongs == 6 and late == 0, "6 PINGs answered within 0.5 s while 8 slow calls were in flight (%d late)" % late)
check(len(replies) < 8, "calls were still in flight while PINGs were answered (%d done)" % len(replies))
deadline = time.time() + 20
while len(replies) < 8 and time.time() < deadline:
    h, b = c.recv(20)
    if h[0] == PROG and h[5] == 0 and b[4:8] == b"Test"[:0] + b[4:8]: replies.add(h[4])
check(len(replies) == 8, "all 8 slow calls answered")

# 2. the daemon pings an idle keepalive client and drops it when it never answers
c2 = Client()
c2.call(60, 0, struct.pack(">i", 10))
pings, closed, t0 = 0, False, time.time()
while time.time() - t0 < 8:
    try:
        r = c2.recv(8)
    except socket.timeout:
        break
    if r is None: closed = True; break
    if r[0][0] == KA and r[0][2] == 1: pings += 1
check(pings == 2 and closed, "idle client got %d PINGs, then was dropped (%s) after %.1f s" % (pings, closed, time.time() - t0))

# 3. a client that never offered keepalive is not pinged
c3 = Client(); c3.call(66, 0)
try:
    r = c3.recv(2.5); check(False, "no PING for a client without keepalive")
except socket.timeout:
    check(True, "no PING for a client without keepalive")

# 4. garbage on one connection while another works
good = Client()
h, _ = good.call(1, 0, struct.pack(">I", 1) + xstr("test:///default") + struct.pack(">I", 0)); check(h[5] == 0, "good client opened")
for garbage in [b"\xff\xff\xff\xff", b"\x00\x00\x00\x05", b"GET / HTTP/1.0\r\n\r\n", pkt(PROG, 1, 1, 0)]:
    bad = Client(); bad.send(garbage)
    try:
        r = bad.recv(3); check(r is None, "garbage %r closes its connection" % garbage[:8])
    except (socket.timeout, ConnectionResetError):
        check(False, "garbage %r closes its connection" % garbage[:8])
    h, b = good.call(51, 1); check(h[5] == 0 and b == struct.pack(">i", 1), "other client still served")
h, b = good.call(9999, 2); check(h[5] == 1 and b"unknown procedure: 9999" in b, "unknown procedure gets libvirt's error")
# arguments that do not decode: libvirtd's RPC error, and the connection goes on
odd = Client(); odd.send(pkt(PROG, 1, 0, 0, struct.pack(">II", 1, 0x7fffffff)))
r = odd.recv(3); check(r is not None and r[0][5] == 1 and b"Unable to decode message payload" in r[1], "undecodable arguments get libvirtd's error")
h, _ = odd.call(1, 0, struct.pack(">I", 1) + xstr("test:///default") + struct.pack(">I", 0)); check(h[5] == 0, "and the same connection opens afterwards")
sys.exit(1 if failures else 0)
PY
rc=$?
grep -q "protocol error" "$W/log" || { echo "FAIL protocol errors not logged"; rc=1; }
grep -q "keepalive messages" "$W/log" || { echo "FAIL keepalive drop not logged"; rc=1; }

# python3-libvirt and Perl Sys::Virt against the daemon
if /usr/bin/python3 -c 'import libvirt' 2>/dev/null; then
    /usr/bin/python3 - "$PORT" <<'PY' || rc=1
import libvirt, sys
libvirt.registerErrorHandler(lambda *a: None, None)
c = libvirt.open("test+tcp://127.0.0.1:%s/default" % sys.argv[1])
assert c.numOfDomains() == 1
d = c.lookupByName("test"); assert d.info()[0] == libvirt.VIR_DOMAIN_RUNNING
d.suspend(); assert d.info()[0] == libvirt.VIR_DOMAIN_PAUSED; d.resume()
assert c.getType() == "TEST" and c.getLibVersion() == 9000000
assert [n.name() for n in c.listAllNetworks()] == ["default"]
try:
    c.lookupByName("nosuchdom"); raise SystemExit("lookup should fail")
except libvirt.libvirtError as e:
    assert e.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN
ro = libvirt.openReadOnly("test+tcp://127.0.0.1:%s/default" % sys.argv[1])
try:
    ro.lookupByName("test").destroy(); raise SystemExit("read-only destroy should fail")
except libvirt.libvirtError as e:
    assert e.get_error_code() == libvirt.VIR_ERR_OPERATION_DENIED, e
c.close(); ro.close()
print("ok   python3-libvirt session")
PY
fi
if perl -MSys::Virt -e 1 2>/dev/null; then
    perl -MSys::Virt -e '
        my $c = Sys::Virt->new(uri => "test+tcp://127.0.0.1:'"$PORT"'/default");
        my @d = $c->list_domains(); die "domains" unless @d == 1 && $d[0]->get_name eq "test";
        my $i = $d[0]->get_info(); die "state" unless $i->{state} == Sys::Virt::Domain::STATE_RUNNING;
        die "hostname" unless length $c->get_hostname();
        my @n = $c->list_networks(); die "networks" unless @n == 1;
        eval { $c->get_domain_by_name("nosuchdom") }; die "lookup should fail" unless $@;
        print "ok   Perl Sys::Virt session\n";' || rc=1
fi
exit $rc
