#!/usr/bin/python3
"""DHCP probe for the network benchmark: sends a DHCPDISCOVER on INTERFACE every INTERVAL
seconds and exits 0 at the first DHCPOFFER for it (1 after TIMEOUT seconds without one).
Unlike a DHCP client it has no back-off, so the time it takes is the server's (and the
bridge's) time to answer, give or take INTERVAL. Raw AF_PACKET frames: the interface needs no
address. Usage: dhcp_probe.py INTERFACE [INTERVAL] [TIMEOUT]"""
import os
import select
import socket
import struct
import sys
import time

ETH_P_IP = 0x0800


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def discover(mac: bytes, xid: int) -> bytes:
    # BOOTREQUEST with the broadcast flag, so the OFFER comes to 255.255.255.255
    bootp = struct.pack("!BBBBIHH4s4s4s4s16s64s128s", 1, 1, 6, 0, xid, 0, 0x8000,
                        b"\0" * 4, b"\0" * 4, b"\0" * 4, b"\0" * 4, mac.ljust(16, b"\0"), b"", b"")
    options = b"\x63\x82\x53\x63" + b"\x35\x01\x01" + b"\x37\x03\x01\x03\x06" + b"\xff"
    payload = bootp + options
    udp = struct.pack("!HHHH", 68, 67, 8 + len(payload), 0) + payload  # checksum 0: none (IPv4)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, socket.IPPROTO_UDP, 0,
                     b"\0" * 4, b"\xff" * 4)
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    return ip + udp


def is_offer(packet: bytes, xid: int) -> bool:
    if len(packet) < 20 or packet[0] >> 4 != 4 or packet[9] != socket.IPPROTO_UDP:
        return False
    ihl = (packet[0] & 0xF) * 4
    udp = packet[ihl:]
    if len(udp) < 8 + 240 or struct.unpack("!H", udp[2:4])[0] != 68:
        return False
    bootp = udp[8:]
    if bootp[0] != 2 or struct.unpack("!I", bootp[4:8])[0] != xid or bootp[236:240] != b"\x63\x82\x53\x63":
        return False
    options = bootp[240:]
    i = 0
    while i < len(options) and options[i] != 0xFF:
        if options[i] == 0:
            i += 1
            continue
        if i + 1 >= len(options):
            break
        code, length = options[i], options[i + 1]
        if code == 53 and length == 1 and i + 2 < len(options):
            return options[i + 2] == 2
        i += 2 + length
    return False


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    interface = sys.argv[1]
    interval = float(sys.argv[2]) if len(sys.argv) > 2 else 0.02
    timeout = float(sys.argv[3]) if len(sys.argv) > 3 else 30.0
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_IP))
    sock.bind((interface, ETH_P_IP))
    with open("/sys/class/net/%s/address" % interface) as f:
        mac = bytes.fromhex(f.read().strip().replace(":", ""))
    xid = int.from_bytes(os.urandom(4), "big")
    frame = discover(mac, xid)
    broadcast = (interface, ETH_P_IP, 0, 0, b"\xff" * 6)
    deadline = time.monotonic() + timeout
    sent = 0
    while time.monotonic() < deadline:
        try:
            sock.sendto(frame, broadcast)
            sent += 1
        except OSError:
            pass  # the link may not be up yet
        next_send = time.monotonic() + interval
        while True:
            left = next_send - time.monotonic()
            if left <= 0:
                break
            ready, _, _ = select.select([sock], [], [], left)
            if ready:
                packet = sock.recv(2048)
                if is_offer(packet, xid):
                    print("offer after %d discovers" % sent)
                    return 0
    print("no offer in %.1f s (%d discovers)" % (timeout, sent), file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
