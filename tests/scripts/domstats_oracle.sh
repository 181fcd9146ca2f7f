#!/usr/bin/env bash
# domstats (virConnectGetAllDomainStats / virDomainListGetStats, procedure 344) against Debian's
# libvirtd 9.0 as the oracle, on test:///default: one stock virsh session per daemon defines,
# starts, suspends and destroys domains and asks domstats for every group (--state ... --vm), with
# the list filters, --enforce, --raw, --nowait, --backing, domain arguments by name, id and UUID,
# and unknown domains. stdout and stderr must be byte-identical for virtppd and libvirtd; virtpp's
# CLI must print what virsh prints against either daemon and in-process. Records of the calls
# without domain arguments are compared as sets: libvirtd lists domains in hash-table order.
# Skips (77) when libvirtd or virsh is missing.
set -u
BIN=${VIRTPP_BINARY_DIR:?}/tools/virtppd
VIRTPP=$VIRTPP_BINARY_DIR/tools/virtpp
[ -x "$BIN" ] && [ -x "$VIRTPP" ] || { echo "virtppd or virtpp not built"; exit 77; }
command -v virsh >/dev/null || { echo "no virsh"; exit 77; }
[ -x /usr/sbin/libvirtd ] || { echo "no libvirtd"; exit 77; }
[ "$(id -u)" = 0 ] || { echo "libvirtd oracle needs root"; exit 77; }

. "$VIRTPP_SOURCE_DIR/tests/scripts/lib/services.sh"
svc_init domstats
W=$SVC_WORK

svc_start_daemon virtppd virtppd "$BIN" || exit 1
svc_start_daemon libvirtd libvirtd /usr/sbin/libvirtd || exit 1

mk() {  # name uuid [extra elements]
    sed "s#<name>newdom</name>#<name>$1</name><uuid>$2</uuid>${3:-}#" "$VIRTPP_SOURCE_DIR/tests/cli/newdom.xml" > "$W/$1.xml"
}
mk alpha 11111111-2a5b-4f0e-9d3c-0e1f2a3b4c5d
mk beta ffffffff-2a5b-4f0e-9d3c-0e1f2a3b4c5d '<iothreads>2</iothreads>'
mk gamma 00000000-2a5b-4f0e-9d3c-0e1f2a3b4c5d

# the session: deterministic (one domain, or domains named in order) unless marked "set:"
STEPS=(
    "domstats"
    "domstats test"
    "domstats --raw test"
    "domstats --state --cpu-total --balloon --vcpu --interface --block --perf --iothread --memory --dirtyrate --vm test"
    "domstats --cpu-total --balloon --vcpu --interface --block test"
    "domstats --iothread test"
    "domstats --enforce --state --iothread test"
    "domstats --enforce --balloon test"
    "domstats --enforce --state --cpu-total --vm test"
    "domstats --enforce test"
    "domstats --nowait --backing test"
    "define $W/alpha.xml"
    "define $W/beta.xml"
    "define $W/gamma.xml"
    "start alpha"
    "start beta"
    "suspend beta"
    "domstats --state alpha beta gamma test"
    "domstats gamma test beta alpha"
    "domstats --list-paused"
    "domstats --list-transient"
    "domstats --list-other"
    "domstats --list-running --list-paused alpha beta gamma"
    "domstats --list-inactive test gamma alpha"
    "domstats --list-active --list-inactive gamma"
    "domstats --list-persistent --list-shutoff"
    "domstats 1"
    "domstats 6695eb01-f6a4-8304-79aa-97f2502e193f"
    "domstats ffffffff-2a5b-4f0e-9d3c-0e1f2a3b4c5d"
    "domstats nosuch"
    "domstats test nosuch"
    "domstats --enforce --block alpha"
    "destroy alpha"
    "resume beta"
    "destroy beta"
    "domstats alpha beta"
    "domstats --list-shutoff alpha beta gamma test"
    "undefine gamma"
    "domstats --state alpha gamma"
    "set:domstats"
    "set:domstats --list-inactive"
    "set:domstats --state --list-persistent"
)

session() {  # out-prefix client uri: each step's stdout and stderr, one step at a time
    local out=$1 client=$2 uri=$3 s script="" i=0
    for s in "${STEPS[@]}"; do
        script+="echo --- step $i; ${s#set:};"
        i=$((i + 1))
    done
    "$client" -c "$uri" "$script" > "$out.stdout" 2> "$out.stderr"
    echo "exit $?" >> "$out.stdout"
}

# records of the "set:" steps sorted (records are separated by an empty line); the others as they are
normalize() {  # file
    local i=0 s sorted=""
    for s in "${STEPS[@]}"; do [[ $s == set:* ]] && sorted+=" $i"; i=$((i + 1)); done
    /usr/bin/python3 - "$1" "$W/" "$sorted" <<'PY'
import sys
text = open(sys.argv[1]).read().replace(sys.argv[2], "WORK/")
sorted_steps = set(sys.argv[3].split())
out, step, body = [], None, []
def flush():
    if step in sorted_steps:
        records = "\n".join(body).strip("\n").split("\n\n")
        out.extend("\n".join(sorted(records)).split("\n"))
    else:
        out.extend(body)
for line in text.split("\n"):
    if line.startswith("--- step "):
        flush(); step, body = line.split()[2], []; out.append(line)
    else:
        body.append(line)
flush()
sys.stdout.write("\n".join(out))
PY
}

fail=0
mkdir -p "$W/out"
for d in virtppd libvirtd; do
    uri="test+unix:///default?socket=${SVC_SOCK[$d]}"
    session "$W/out/$d.virsh" virsh "$uri"
    session "$W/out/$d.virtpp" "$VIRTPP" "$uri"
done
session "$W/out/inprocess.virtpp" "$VIRTPP" "test:///default"
for f in "$W"/out/*.stdout; do normalize "$f" > "${f%.stdout}.out"; done
for f in "$W"/out/*.stderr; do sed "s#$W/#WORK/#g" "$f" > "${f%.stderr}.err"; done

n=0
compare() {  # label expected actual
    n=$((n + 1))
    if cmp -s "$2" "$3"; then echo "ok [$1] $(wc -l < "$3") lines"
    else echo "MISMATCH [$1] (< expected, > actual)"; diff "$2" "$3" | head -40; fail=1; fi
}
for kind in out err; do
    compare "virsh: virtppd = libvirtd ($kind)" "$W/out/libvirtd.virsh.$kind" "$W/out/virtppd.virsh.$kind"
    compare "virtpp -> libvirtd = virsh ($kind)" "$W/out/libvirtd.virsh.$kind" "$W/out/libvirtd.virtpp.$kind"
    compare "virtpp -> virtppd = virsh ($kind)" "$W/out/libvirtd.virsh.$kind" "$W/out/virtppd.virtpp.$kind"
    compare "virtpp in-process = virsh ($kind)" "$W/out/libvirtd.virsh.$kind" "$W/out/inprocess.virtpp.$kind"
done
# the comparisons prove nothing unless the oracle printed what the steps are about
for want in "state.state=3" "state.reason=2" "Domain: 'gamma'" "Stats types bits 0x4 are not supported" \
            "failed to get domain 'nosuch'"; do
    grep -qF "$want" "$W/out/libvirtd.virsh.out" "$W/out/libvirtd.virsh.err" || { echo "oracle output lacks '$want'"; fail=1; }
done
if [ "${VIRTPP_DOMSTATS_SHOW:-0}" = 1 ]; then cat "$W/out/virtppd.virsh.out" "$W/out/virtppd.virsh.err"; fi
echo "$n comparisons, $([ $fail = 0 ] && echo all identical || echo FAILED)"
exit $fail
