#!/usr/bin/env bash
# The oracle, live: libvirtd 9.0's own network driver and virtppd, each as root in network +
# mount namespaces of its own (libvirtd's /etc/libvirt, /run, /var, passwd and group are private
# copies), define and start the same networks (tests/data/network-driver/*.xml); net-dumpxml
# (live and --inactive), net-info and each network's dnsmasq configuration and hosts files must
# be the same, once the generated UUID / MAC and the state directory are set aside. Then both run
# the net-update cases of tests/data/network-driver/updates.txt on the running network 'upd':
# every answer (status and error) and the definitions and dnsmasq files after them must be the same.
set -u
DATA=$(realpath "$(dirname "$0")/../data/network-driver")
# shellcheck source=lib/libvirtd_root.sh
source "$(dirname "$0")/lib/libvirtd_root.sh"
NETS="private iso6 nodns dnsfull route upd pg"
# defined, never started: virtppd cannot apply a network <bandwidth> (tc) and refuses to start it
DEFONLY="qos"
if [[ -z ${VIRTPP_ORACLE_INNER:-} ]]; then
    BIN=$(realpath "${VIRTPP_BINARY_DIR:?}/tools/virtppd" 2>/dev/null)
    [[ -x $BIN ]] || { echo "virtppd not built"; exit 1; }
    [[ $(id -u) == 0 ]] || { echo "needs root: skipped"; exit 77; }
    for t in virsh /usr/sbin/libvirtd /usr/sbin/dnsmasq; do command -v "$t" >/dev/null || { echo "$t missing: skipped"; exit 77; }; done
    unshare -n -m true 2>/dev/null || { echo "cannot make namespaces here: skipped"; exit 77; }
    W=$(mktemp -d /tmp/vnetoracle.XXXXXX)
    trap 'rm -rf "$W"' EXIT
    for kind in libvirtd virtppd; do
        VIRTPP_ORACLE_INNER=$kind VIRTPP_ORACLE_WORK=$W/$kind VIRTPP_NET_BIN=$BIN \
            unshare -n -m --propagation private -- bash "$0" >"$W/$kind.log" 2>&1 || { echo "$kind side failed:"; cat "$W/$kind.log"; exit 1; }
    done
    fail=0
    for n in $NETS upd-updated $DEFONLY; do
        for f in live.xml inactive.xml info conf hostsfile addnhosts; do
            a=$W/libvirtd/out/$n.$f b=$W/virtppd/out/$n.$f
            if [[ ! -e $a && ! -e $b ]]; then continue; fi
            # an empty answer on both sides proves nothing
            if [[ $f == live.xml || $f == info || $f == conf ]] && [[ ! -s $a || ! -s $b ]]; then
                echo "FAIL $n $f: empty ($(wc -c <"$a" 2>/dev/null) / $(wc -c <"$b" 2>/dev/null) bytes)"; fail=$((fail + 1)); continue
            fi
            if diff -u "$a" "$b" >"$W/diff" 2>&1; then echo "ok   $n $f"; else echo "FAIL $n $f"; cat "$W/diff"; fail=$((fail + 1)); fi
        done
    done
    if [[ $(cat "$W/virtppd/out/qos.start-refused") == *"this function is not supported"*"cannot apply bandwidth limits"* ]]; then
        echo "ok   virtppd refuses to start a network with <bandwidth> (NO_SUPPORT)"
    else
        echo "FAIL network with <bandwidth> started: $(cat "$W/virtppd/out/qos.start-refused")"; fail=$((fail + 1))
    fi
    if diff -u "$W/libvirtd/out/bad.log" "$W/virtppd/out/bad.log" >"$W/diff" 2>&1 && [[ -s $W/virtppd/out/bad.log ]]; then
        echo "ok   refused <bandwidth>/<portgroup> definitions ($(grep -c '^rc=1' "$W/virtppd/out/bad.log") of $(grep -c '^rc=' "$W/virtppd/out/bad.log"))"
    else
        echo "FAIL refused definitions"; cat "$W/diff"; fail=$((fail + 1))
    fi
    if diff -u "$W/libvirtd/out/updates.log" "$W/virtppd/out/updates.log" >"$W/diff" 2>&1 && [[ -s $W/virtppd/out/updates.log ]]; then
        echo "ok   net-update answers ($(grep -c '^rc=0' "$W/virtppd/out/updates.log") done, $(grep -c '^rc=1' "$W/virtppd/out/updates.log") refused)"
    else
        echo "FAIL net-update answers"; cat "$W/diff"; fail=$((fail + 1))
    fi
    echo "$fail failure(s)"
    exit $((fail > 0))
fi

# ---- inside one daemon's namespaces
kind=$VIRTPP_ORACLE_INNER
W=$VIRTPP_ORACLE_WORK
mkdir -p "$W/run" "$W/out"
mount -t sysfs sysfs /sys
mount -t tmpfs tmpfs /run
ip link set lo up
ip link add eth9 type bridge   # dnsfull's forward dev
ip link set eth9 up
ip link add eth8 type bridge   # added to upd's forward interfaces
ip link set eth8 up
if [[ $kind == virtppd ]]; then
    export VIRTPP_QEMU_STATE_DIR=$W/s VIRTPP_DEFAULT_NETWORK=no
    printf 'listen_tls = 0\nlisten_tcp = 0\nunix_sock_dir = "%s"\nauth_unix_rw = "none"\nauth_unix_ro = "none"\n' "$W/run" >"$W/conf"
    PATH=$PATH:/usr/sbin "$VIRTPP_NET_BIN" -f "$W/conf" -p "$W/pid" 2>"$W/stderr" &
    DPID=$!
    SOCK=$W/run/libvirt-sock
    CONFDIR=$W/s/cache/dnsmasq RUNDIR=$W/s/run/network
else
    libvirtd_start_private "$W"
    CONFDIR=/var/lib/libvirt/dnsmasq RUNDIR=/run/libvirt/network
fi
cleanup() {
    for n in $NETS; do virsh -q -c "qemu+unix:///system?socket=$SOCK" net-destroy "$n" >/dev/null 2>&1; done
    kill "$DPID" 2>/dev/null
    wait "$DPID" 2>/dev/null
    for f in "$RUNDIR"/*.pid; do [[ -f $f ]] && kill "$(cat "$f")" 2>/dev/null; done
}
trap cleanup EXIT
for _ in $(seq 200); do [[ -S $SOCK ]] && break; sleep 0.05; done
V() { virsh -q -c "qemu+unix:///system?socket=$SOCK" "$@"; }
# generated values and the state directory differ by nature: set them aside
norm() { sed -e "s#$CONFDIR#DNSMASQDIR#g; s#$RUNDIR#RUNDIR#g" -e "s#<uuid>.*</uuid>#<uuid/>#; s#<mac address='52:54:00:[^']*'/>#<mac/>#" -e 's#^UUID: .*#UUID:#'; }
for n in $NETS; do
    V net-define "$DATA/$n.xml" >/dev/null || echo "define $n failed"
    V net-start "$n" >/dev/null || echo "start $n failed"
    V net-dumpxml "$n" | norm >"$W/out/$n.live.xml"
    V net-dumpxml --inactive "$n" | norm >"$W/out/$n.inactive.xml"
    V net-info "$n" | norm >"$W/out/$n.info"
    for f in conf hostsfile addnhosts; do [[ -f $CONFDIR/$n.$f ]] && norm <"$CONFDIR/$n.$f" >"$W/out/$n.$f"; done
    [[ $n == upd ]] || V net-destroy "$n" >/dev/null
done
# net-update on the running 'upd' (its own start above), live and config
while IFS= read -r line; do
    [[ $line == \#* || -z $line ]] && continue
    read -r command section rest <<<"$line"
    xml=${rest%% --*}
    opts=()
    [[ $rest == *" --"* ]] && read -r -a opts <<<"--${rest#* --}"
    [[ ${#opts[@]} -gt 0 ]] || opts=(--live --config)
    err=$(V net-update upd "$command" "$section" "$xml" "${opts[@]}" 2>&1 >/dev/null)
    echo "rc=$? $command $section $xml ${opts[*]}: $err" >>"$W/out/updates.log"
done <"$DATA/updates.txt"
for f in conf hostsfile addnhosts; do [[ -f $CONFDIR/upd.$f ]] && norm <"$CONFDIR/upd.$f" >"$W/out/upd-updated.$f"; done
V net-dumpxml upd | norm >"$W/out/upd-updated.live.xml"
V net-dumpxml --inactive upd | norm >"$W/out/upd-updated.inactive.xml"
V net-destroy upd >/dev/null
for n in $DEFONLY; do
    V net-define "$DATA/$n.xml" >/dev/null || echo "define $n failed"
    V net-dumpxml "$n" | norm >"$W/out/$n.live.xml"
    V net-dumpxml --inactive "$n" | norm >"$W/out/$n.inactive.xml"
    V net-info "$n" | norm >"$W/out/$n.info"
    [[ $kind == virtppd ]] && V net-start "$n" >"$W/out/$n.start-refused" 2>&1
    V net-undefine "$n" >/dev/null
done
i=0
while IFS= read -r line; do
    [[ $line == \#* || -z $line ]] && continue
    i=$((i + 1))
    echo "$line" >"$W/bad$i.xml"
    # virtppd names the line of the element at fault, libvirt does not
    err=$(V net-define "$W/bad$i.xml" 2>&1 >/dev/null)
    echo "rc=$? $line: $(echo "$err" | sed -E "s/ \(line [0-9]+\)//; s#$W/##")" >>"$W/out/bad.log"
done <"$DATA/bad-bandwidth.txt"
