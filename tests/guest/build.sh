#!/usr/bin/env bash
# Builds the tiny test guest (Debian's kernel + a busybox initramfs) into a cache directory:
#   tests/guest/build.sh <dir>   ->  <dir>/vmlinux, <dir>/initrd.img
# Nothing is installed: the packages are fetched with `apt-get download` and unpacked. The guest
# prints VIRTPP-GUEST-READY on ttyS0 once its power button works, powers off when the ACPI
# button is pressed, and runs a shell on ttyS0. Exits 0 when the guest is (already) built.
set -euo pipefail
out=$(realpath -m "${1:?usage: build.sh <dir>}")
mkdir -p "$out"
if [[ -s $out/vmlinux && -s $out/initrd.img ]]; then exit 0; fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

kernel_pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
if [[ -z $kernel_pkg ]]; then
  apt-get update -qq >/dev/null 2>&1 || true
  kernel_pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
fi
[[ -n $kernel_pkg ]] || { echo "build.sh: cannot find Debian's kernel package" >&2; exit 1; }
apt-get download -qq "$kernel_pkg" busybox-static >/dev/null
dpkg-deb -x ./"$kernel_pkg"_*.deb kernel
dpkg-deb -x ./busybox-static_*.deb busybox

python3 - "$out" kernel busybox <<'PY'
import glob, gzip, io, lzma, os, stat, sys
out, kdir, bdir = sys.argv[1:4]

# vmlinux: the XZ stream inside the bzImage, booted through PVH (faster than the bzImage)
bz = open(glob.glob(f"{kdir}/boot/vmlinuz-*")[0], "rb").read()
start = bz.find(b"\xfd7zXZ\x00")
elf = lzma.LZMADecompressor().decompress(bz[start:])
assert elf[:4] == b"\x7fELF", "no ELF kernel inside the bzImage"
open(f"{out}/vmlinux.tmp", "wb").write(elf)

def module(name):
    hits = glob.glob(f"{kdir}/lib/modules/*/kernel/drivers/{name}*")
    data = open(hits[0], "rb").read()
    if hits[0].endswith(".xz"):
        data = lzma.decompress(data)
    return data

init = b"""#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
insmod /evdev.ko
insmod /button.ko
for ev in /sys/class/input/event*; do
  if grep -q "Power Button" $ev/device/name 2>/dev/null; then
    # opened before the ready line, so a press right after it is queued, not lost; evdev hands
    # out whole 24-byte events, and a failed read (a restored guest's interrupted one) is no press
    exec 3</dev/input/${ev##*/}
    ( until [ "$(dd bs=24 count=1 <&3 2>/dev/null | wc -c)" = 24 ]; do sleep 0.1; done
      echo VIRTPP-POWER-BUTTON; poweroff -f ) &
  fi
done
echo VIRTPP-GUEST-READY
while true; do setsid sh -c 'exec sh </dev/ttyS0 >/dev/ttyS0 2>&1'; done
"""

files = [  # (name, mode, data or None for a directory, (major, minor) for a device)
    ("bin", stat.S_IFDIR | 0o755, None, None),
    ("dev", stat.S_IFDIR | 0o755, None, None),
    ("proc", stat.S_IFDIR | 0o755, None, None),
    ("sys", stat.S_IFDIR | 0o755, None, None),
    ("dev/console", stat.S_IFCHR | 0o600, b"", (5, 1)),
    ("bin/busybox", stat.S_IFREG | 0o755, open(f"{bdir}/bin/busybox", "rb").read(), None),
    ("evdev.ko", stat.S_IFREG | 0o644, module("input/evdev.ko"), None),
    ("button.ko", stat.S_IFREG | 0o644, module("acpi/button.ko"), None),
    ("init", stat.S_IFREG | 0o755, init, None),
]
buf = io.BytesIO()
def entry(ino, name, mode, data, dev):
    data = data or b""
    nb = name.encode() + b"\0"
    major, minor = dev or (0, 0)
    hdr = "070701" + "".join(f"{v:08x}" for v in (ino, mode, 0, 0, 1, 0, len(data), 0, 0, major, minor, len(nb), 0))
    buf.write(hdr.encode() + nb)
    buf.write(b"\0" * ((4 - (110 + len(nb)) % 4) % 4))
    buf.write(data)
    buf.write(b"\0" * ((4 - len(data) % 4) % 4))
for i, (name, mode, data, dev) in enumerate(files, 1):
    entry(i, name, mode, data, dev)
entry(0, "TRAILER!!!", 0, b"", None)
open(f"{out}/initrd.img.tmp", "wb").write(gzip.compress(buf.getvalue()))
os.rename(f"{out}/initrd.img.tmp", f"{out}/initrd.img")
os.rename(f"{out}/vmlinux.tmp", f"{out}/vmlinux")
PY
echo "guest built in $out"
