#!/bin/bash
# The success paths virsh 9.0 cannot show on its test driver (it refuses hotplug and migration):
# attach-disk, attach-interface, detach-disk, detach-interface, attach-device, detach-device and
# migrate through virtpp on virtpp's test driver. Each session's stdout (domain XML cut down to
# its <devices> section), stderr and exit status must be exactly what is written here; the
# messages are virsh 9.0's wording (tools/virsh-domain.c), the devices what virsh would send.
set -u
VIRTPP="${VIRTPP_BINARY_DIR:?}/tools/virtpp"
[ -x "$VIRTPP" ] || { echo "missing $VIRTPP"; exit 1; }
export LC_ALL=C.UTF-8
unset LIBVIRT_DEFAULT_URI VIRSH_DEFAULT_CONNECT_URI
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1

# a device file for attach-device / detach-device, and an empty host to migrate to
printf "<disk type='file' device='disk'>\n  <source file='/var/lib/x.img'/>\n  <target dev='vdc' bus='virtio'/>\n</disk>\n" >disk.xml
printf '<node>\n</node>\n' >host.xml

only_devices() {  # keeps a domain dump's <devices> section, drops the rest of the domain
    sed -e '/^<domain /,/^  <devices>$/{/^  <devices>$/!d}' -e '/^  <\/devices>$/,/^<\/domain>$/{/^  <\/devices>$/!d}'
}

pass=0 fail=0
check() {  # name, session; the expected output on stdin
    local name=$1 session=$2
    "$VIRTPP" -c test:///default "$session" >out 2>err
    local rc=$?
    { only_devices <out; echo "--- stderr"; cat err; echo "--- rc=$rc"; } >got
    cat >want
    if cmp -s want got; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL: $name"
        diff -u want got
    fi
}

check "attach-disk and attach-interface, live" \
    "attach-disk test /tmp/new.img vdb --targetbus virtio; attach-interface test bridge br0 --mac 52:54:00:aa:bb:cc --model virtio; dumpxml test" <<'OUT'
Disk attached successfully

Interface attached successfully

  <devices>
    <disk type='file' device='disk'>
      <source file='/guest/diskimage1'/>
      <target dev='vda' bus='virtio'/>
      <address type='pci' domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>
    </disk>
    <disk type='file' device='disk'>
      <source file='/tmp/new.img'/>
      <target dev='vdb' bus='virtio'/>
    </disk>
    <interface type='network'>
      <mac address='aa:bb:cc:dd:ee:ff'/>
      <source network='default'/>
      <target dev='testnet0'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x01' function='0x0'/>
    </interface>
    <interface type='bridge'>
      <mac address='52:54:00:aa:bb:cc'/>
      <source bridge='br0'/>
      <target dev='testnet1'/>
      <model type='virtio'/>
    </interface>
    <memballoon model='virtio'>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x02' function='0x0'/>
    </memballoon>
  </devices>

--- stderr
--- rc=0
OUT

check "detach-disk and detach-interface take them out again" \
    "attach-disk test /tmp/new.img vdb; attach-interface test bridge br0 --mac 52:54:00:aa:bb:cc; detach-disk test vdb; detach-interface test bridge; detach-interface test network --mac AA:BB:CC:DD:EE:FF; dumpxml test" <<'OUT'
Disk attached successfully

Interface attached successfully

Disk detached successfully

Interface detached successfully

Interface detached successfully

  <devices>
    <disk type='file' device='disk'>
      <source file='/guest/diskimage1'/>
      <target dev='vda' bus='virtio'/>
      <address type='pci' domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>
    </disk>
    <memballoon model='virtio'>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x02' function='0x0'/>
    </memballoon>
  </devices>

--- stderr
--- rc=0
OUT

check "--config changes the definition only" \
    "attach-disk test /tmp/cfg.img vdd --config; dumpxml --inactive test; detach-disk test vdd --config; detach-disk test vdd" <<'OUT'
Disk attached successfully

  <devices>
    <disk type='file' device='disk'>
      <source file='/guest/diskimage1'/>
      <target dev='vda' bus='virtio'/>
      <address type='pci' domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>
    </disk>
    <disk type='file' device='disk'>
      <source file='/tmp/cfg.img'/>
      <target dev='vdd' bus='virtio'/>
    </disk>
    <interface type='network'>
      <mac address='aa:bb:cc:dd:ee:ff'/>
      <source network='default'/>
      <target dev='testnet0'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x01' function='0x0'/>
    </interface>
    <memballoon model='virtio'>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x02' function='0x0'/>
    </memballoon>
  </devices>

Disk detached successfully


--- stderr
error: No disk found whose source path or target is vdd
--- rc=1
OUT

check "attach-device and detach-device from a file" \
    "attach-device test disk.xml; detach-device test disk.xml; detach-device test disk.xml" <<'OUT'
Device attached successfully

Device detached successfully


--- stderr
error: Failed to detach device from disk.xml
error: device not found: no target device vdc
--- rc=1
OUT

check "the driver's refusals come after virsh's context line" \
    "attach-disk test /tmp/x.img vda; attach-interface test network default --mac aa:bb:cc:dd:ee:ff; destroy test; attach-disk test /tmp/x.img vdb --live" <<'OUT'


Domain 'test' destroyed


--- stderr
error: Failed to attach disk
error: operation failed: target vda already exists
error: Failed to attach interface
error: operation failed: interface with MAC address aa:bb:cc:dd:ee:ff already exists
error: Failed to attach disk
error: Requested operation is not valid: domain is not running
--- rc=1
OUT

check "migrate moves the domain off the source" \
    "migrate test test://$work/host.xml; domstate --reason test; list --all" <<'OUT'

shut off (migrated)

 Id   Name   State
-----------------------
 -    test   shut off

--- stderr
--- rc=0
OUT

# bogus:///x goes to the remote driver, which finds no daemon socket (what virsh says too)
[ -e /var/run/libvirt/libvirt-sock ] && { echo "a libvirt daemon is listening: skipping"; exit 77; }
check "migrate --verbose reports progress on stderr; errors" \
    "migrate --verbose --live test test://$work/host.xml; migrate test test://$work/host.xml; migrate test bogus:///x; domid test" <<OUT



-

--- stderr
$(printf '\r')Migration: [100 %]error: Requested operation is not valid: domain is not running
error: Failed to connect socket to '/var/run/libvirt/libvirt-sock': No such file or directory
--- rc=0
OUT

echo "cli hotplug: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
