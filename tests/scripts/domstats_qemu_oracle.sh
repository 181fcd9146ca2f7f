#!/usr/bin/env bash
# domstats on qemu:///system against libvirtd 9.0's QEMU driver: the same guests
# (tests/data/domstats-qemu: raw virtio and IDE disks, an empty CD-ROM, a virtio balloon with a
# statistics period, a guest without a balloon, one left shut off) are defined and started (TCG) in
# a private libvirtd (own mount namespace, lib/libvirtd_root.sh) and in virtppd, and stock virsh's
# `domstats` must print the same fields in the same order, for every group and with --backing,
# --raw, the list filters and domain arguments. Masked: only values that are measured (CPU times,
# vcpu waits, RSS, I/O counters, the images' physical size) and the allocation lines (they depend on
# what the filesystem allocated to the sparse images when); the records of a listing are compared
# as a set (libvirtd lists in hash-table order). Never a field's presence or order otherwise. The running definitions are
# compared too (disk source indexes, balloon statistics period).
set -u
DATA=$(realpath "$(dirname "$0")/../data/domstats-qemu")
LIB=$(realpath "$(dirname "$0")/lib/libvirtd_root.sh")
BIN=$(realpath "${VIRTPP_BINARY_DIR:?}/tools/virtppd" 2>/dev/null)
[ -x "$BIN" ] || { echo "virtppd not built"; exit 77; }
[ "$(id -u)" = 0 ] || { echo "needs root (libvirtd's system QEMU driver): skipped"; exit 77; }
for t in virsh /usr/sbin/libvirtd qemu-system-x86_64; do command -v "$t" >/dev/null || { echo "$t missing: skipped"; exit 77; }; done
unshare -m true 2>/dev/null || { echo "cannot make a mount namespace here: skipped"; exit 77; }
W=$(mktemp -d /tmp/dsq.XXXXXX)
DPID=
cleanup() {
    if [ -n "$DPID" ]; then
        for n in qs1 qs2; do virsh -q -c "$URI" destroy "$n" >/dev/null 2>&1; done
        kill "$DPID" 2>/dev/null; wait "$DPID" 2>/dev/null
    fi
    [ -n "${KEEP:-}" ] || rm -rf "$W"
}
trap cleanup EXIT
mkdir -p "$W/libvirtd" "$W/virtppd" "$W/o" "$W/run" "$W/s" "$W/xml"
truncate -s 64M "$W/one.raw"
truncate -s 32M "$W/two.raw"
for f in "$DATA"/*.xml; do sed "s|@DIR@|$W|g" "$f" >"$W/xml/$(basename "$f")"; done

# the same session against a daemon: $1 = URI, $2 = output directory
cat >"$W/session.sh" <<'SESSION'
set -u
U=$1 OUT=$2 X=$3
for f in "$X"/*.xml; do virsh -q -c "$U" define "$f" >/dev/null || echo "refused $f"; done
for n in qs1 qs2; do virsh -q -c "$U" start "$n" >/dev/null || echo "could not start $n"; done
sleep 3  # the balloon's first statistics period, SeaBIOS's disk reads
i=0
run() { i=$((i + 1)); virsh -c "$U" "$@" >"$OUT/$i.out" 2>&1; echo "rc=$?" >>"$OUT/$i.out"; echo "$*" >"$OUT/$i.cmd"; }
run domstats qs1 qs2 qs3
run domstats --backing qs1
run domstats --raw --balloon --vcpu qs1 qs2 qs3
run domstats --state --cpu-total --block qs1 qs3
run domstats --dirtyrate qs1
run domstats --list-active --state
run domstats --list-inactive --balloon --block
run domstats --enforce --perf qs1
run domstats --enforce --balloon --interface qs2
for n in qs1 qs2; do virsh -c "$U" dumpxml "$n" >"$OUT/$n.live.xml" 2>&1; done
virsh -c "$U" dumpxml --inactive qs1 >"$OUT/qs1.inactive.xml" 2>&1
for n in qs1 qs2; do virsh -q -c "$U" destroy "$n" >/dev/null 2>&1; done
SESSION

# ---- libvirtd
cat >"$W/oracle.sh" <<ORACLE
set -u
source "$LIB"
mount -t tmpfs tmpfs /run
libvirtd_start_private "$W/o"
for _ in \$(seq 100); do [ -S "\$SOCK" ] && break; sleep 0.1; done
bash "$W/session.sh" qemu:///system "$W/libvirtd" "$W/xml"
kill \$DPID; wait \$DPID
ORACLE
timeout 180 unshare -m --propagation private bash "$W/oracle.sh" >"$W/oracle.log" 2>&1 || { echo "libvirtd side failed:"; cat "$W/oracle.log"; exit 1; }

# ---- virtppd
printf 'listen_tls = 0\nunix_sock_dir = "%s"\n' "$W/run" >"$W/conf"
VIRTPP_QEMU_STATE_DIR=$W/s VIRTPP_DEFAULT_NETWORK=no "$BIN" -f "$W/conf" -p "$W/pid" 2>"$W/stderr" &
DPID=$!
for _ in $(seq 100); do [ -S "$W/run/libvirt-sock" ] && break; sleep 0.05; done
URI="qemu+unix:///system?socket=$W/run/libvirt-sock"
bash "$W/session.sh" "$URI" "$W/virtppd" "$W/xml" >"$W/virtppd.log" 2>&1
cat "$W/oracle.log" "$W/virtppd.log"

mask() {  # file [sort: the records of a listing, which libvirtd gives in hash-table order]
    /usr/bin/python3 - "$1" "${2:-}" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
measured = (r"cpu\.(time|user|system)|vcpu\.\d+\.(time|wait|delay)|balloon\.rss"
            r"|block\.\d+\.(rd|wr|fl)\.(reqs|bytes|times)|block\.\d+\.physical")
t = re.sub(r"^(\s*(?:%s))=\d+$" % measured, r"\1=N", t, flags=re.M)
# what the filesystem has allocated to the sparse images depends on what touched them before
# (allocation is printed only when not 0; physical falls back to the size when qemu says 0)
t = re.sub(r"^\s*block\.\d+\.allocation=\d+\n", "", t, flags=re.M)
if sys.argv[2]:
    body, _, tail = t.rpartition("\n\nrc=")
    t = "\n\n".join(sorted(body.split("\n\n"))) + "\n\nrc=" + tail
if sys.argv[1].endswith(".xml"):
    t = re.sub(r"<uuid>[^<]*</uuid>", "<uuid/>", t)
    t = re.sub(r"<domain type='qemu' id='\d+'>", "<domain type='qemu' id='N'>", t)
    # what virtppd does not do (docs/qemu.md): cgroup placement
    t = re.sub(r"\n *<resource>.*?</resource>", "", t, flags=re.S)
    t = re.sub(r"\n *<seclabel type='dynamic'.*?</seclabel>", "", t, flags=re.S)
sys.stdout.write(t)
PY
}
fail=0
for f in "$W/libvirtd"/*.out "$W/libvirtd"/*.xml; do
    b=$(basename "$f")
    what=$b sorted=
    [ -f "$W/libvirtd/${b%.out}.cmd" ] && what="virsh $(cat "$W/libvirtd/${b%.out}.cmd")"
    [[ $what == *--list-* ]] && sorted=1
    if diff <(mask "$f" $sorted) <(mask "$W/virtppd/$b" $sorted) >"$W/diff" 2>&1; then
        echo "ok   $what"
    else
        echo "FAIL $what (< libvirtd, > virtppd)"; cat "$W/diff"; fail=$((fail + 1))
    fi
done
# the comparison is not vacuous: libvirtd reported the figures compared
grep -q '^  balloon.last-update=' "$W/libvirtd/1.out" && grep -q '^  block.0.backingIndex=3$' "$W/libvirtd/1.out" ||
    { echo "FAIL libvirtd's domstats lacks the balloon and block fields this test relies on"; fail=$((fail + 1)); }
echo "$fail failures"
exit $((fail > 0))
