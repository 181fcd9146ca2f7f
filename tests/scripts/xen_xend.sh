#!/usr/bin/env bash
# The Xen driver against a stand-in xend (tests/xen/xend_standin.py: HTTP over TCP and a unix
# socket, libvirt fixture domains plus Domain-0, every request logged): virtpp on
# http://127.0.0.1:PORT/ and on the socket path — list --all, dominfo, dumpxml (the fixture's
# XML), suspend/resume/setmem/setmaxmem/setvcpus/shutdown/reboot/destroy, save/restore,
# define/start/undefine, create from XML, attach/detach of disks and NICs, autostart, credit
# scheduler parameters, migration
# between two stand-ins (each with a relocation port) — each checked as the operation xend received; xend's
# errors and a misbehaving or unreachable xend as clear errors within the deadline; then stock
# virsh through virtppd (xen+unix, xen+tcp) and an unprivileged user's read-only xen:/// through
# virtppd's read-only socket.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/services.sh"
VIRTPP=${VIRTPP_BINARY_DIR:?}/tools/virtpp
VIRTPPD=$VIRTPP_BINARY_DIR/tools/virtppd
SRC=${VIRTPP_SOURCE_DIR:?}
FIX=${VIRTPP_SHARED_DIR:?}/fixtures/libvirt/tests/sexpr2xmldata
STANDIN=$SRC/tests/xen/xend_standin.py
[[ -x $VIRTPP && -x $VIRTPPD ]] || { echo "skip: virtpp or virtppd not built"; exit 77; }
[[ -f $FIX/sexpr2xml-pv.sexpr ]] || { echo "skip: no sexpr2xml fixtures"; exit 77; }

svc_init xen-xend
W=$SVC_WORK
FAIL=0
fail() { echo "FAIL: $*" >&2; FAIL=1; }

# start_xend NAME [ARGS...]: a stand-in on a free port (and a socket); sets PORT_<NAME>
start_xend() {
    local name=$1; shift
    rm -f "$W/$name.port"
    /usr/bin/python3 "$STANDIN" --port-file "$W/$name.port" --unix "$W/$name.sock" --log "$W/$name.log" "$@" \
        > "$W/$name.out" 2>&1 &
    SVC_PID[$name]=$!
    local _
    for _ in $(seq 100); do [[ -s $W/$name.port && -S $W/$name.sock ]] && break; sleep 0.1; done
    [[ -s $W/$name.port ]] || { cat "$W/$name.out" >&2; return 1; }
    printf -v "PORT_$name" '%s' "$(cat "$W/$name.port")"
}

# expect_op NAME 'json-fragment': the stand-in NAME received a request containing it
expect_op() {
    grep -qF -- "$2" "$W/$1.log" || fail "xend $1 did not receive $2 (log: $(tail -3 "$W/$1.log" | tr '\n' ' '))"
}

# run CMD...: virtpp with output in $OUT, exit status in $RC
run() { OUT=$("$@" 2>&1); RC=$?; }

start_xend main --domain "$FIX/sexpr2xml-pv.sexpr" --domain "$FIX/sexpr2xml-fv.sexpr" || exit 1
U=http://127.0.0.1:$PORT_main/

run "$VIRTPP" -c "$U" list --all
[[ $RC == 0 ]] || fail "list --all: $OUT"
grep -qE '^ 0 +Domain-0 +running' <<<"$OUT" || fail "list --all lacks a running Domain-0: $OUT"
grep -qE '^ 6 +pvtest ' <<<"$OUT" || fail "list --all lacks pvtest with id 6: $OUT"
grep -qE '^ 3 +fvtest ' <<<"$OUT" || fail "list --all lacks fvtest with id 3: $OUT"
expect_op main '"path": "/xend/domain?detail=1"'

run "$VIRTPP" -c "$U" dominfo pvtest
grep -qE '^OS Type: +linux' <<<"$OUT" && grep -qE '^Max memory: +430080 KiB' <<<"$OUT" &&
    grep -qE '^CPU\(s\): +2' <<<"$OUT" || fail "dominfo pvtest: $OUT"
run "$VIRTPP" -c "$U" dominfo fvtest
grep -qE '^OS Type: +hvm' <<<"$OUT" || fail "dominfo fvtest: $OUT"

# dumpxml of the PV guest is the fixture's XML (in 9.0's layout: placement='static' on <vcpu>;
# virsh ends the document with an empty line). The HVM fixture's VNC port came from XenStore,
# which this xend-only connection does not read: its XML is checked element by element.
"$VIRTPP" -c "$U" dumpxml pvtest > "$W/pv.xml" 2>&1
{ sed "s/<vcpu>/<vcpu placement='static'>/" "$FIX/sexpr2xml-pv.xml"; echo; } > "$W/pv.expected"
diff -u "$W/pv.expected" "$W/pv.xml" > "$W/pv.diff" || fail "dumpxml pvtest differs from the fixture: $(cat "$W/pv.diff")"
run "$VIRTPP" -c "$U" dumpxml fvtest
for want in "<domain type='xen' id='3'>" "<type>hvm</type>" "<loader>/usr/lib/xen/boot/hvmloader</loader>" \
            "<target dev='vif3.0'/>" "keymap='ja'"; do
    grep -qF "$want" <<<"$OUT" || fail "dumpxml fvtest lacks $want: $OUT"
done

# lifecycle and resources, each as the operation xend received
run "$VIRTPP" -c "$U" suspend pvtest; [[ $RC == 0 ]] || fail "suspend: $OUT"
expect_op main '"path": "/xend/domain/pvtest", "form": {"op": "pause"}'
run "$VIRTPP" -c "$U" domstate pvtest; [[ $OUT == paused* ]] || fail "domstate after suspend: $OUT"
run "$VIRTPP" -c "$U" resume pvtest; [[ $RC == 0 ]] || fail "resume: $OUT"
expect_op main '"form": {"op": "unpause"}'
run "$VIRTPP" -c "$U" setmem pvtest 204800; [[ $RC == 0 ]] || fail "setmem: $OUT"
expect_op main '"form": {"op": "mem_target_set", "target": "200"}'
run "$VIRTPP" -c "$U" dominfo pvtest
grep -qE '^Used memory: +204800 KiB' <<<"$OUT" || fail "dominfo after setmem: $OUT"
run "$VIRTPP" -c "$U" setmaxmem pvtest 524288; [[ $RC == 0 ]] || fail "setmaxmem: $OUT"
expect_op main '"form": {"op": "maxmem_set", "memory": "512"}'
run "$VIRTPP" -c "$U" setvcpus pvtest 1; [[ $RC == 0 ]] || fail "setvcpus: $OUT"
expect_op main '"form": {"op": "set_vcpus", "vcpus": "1"}'
run "$VIRTPP" -c "$U" vcpupin pvtest 0 1,3; [[ $RC == 0 ]] || fail "vcpupin: $OUT"
expect_op main '"form": {"op": "pincpu", "vcpu": "0", "cpumap": "[1,3]"}'
run "$VIRTPP" -c "$U" reboot pvtest; [[ $RC == 0 ]] || fail "reboot: $OUT"
expect_op main '"form": {"op": "shutdown", "reason": "reboot"}'
run "$VIRTPP" -c "$U" dump pvtest "$W/pv.core"; [[ $RC == 0 ]] || fail "dump: $OUT"
expect_op main "\"form\": {\"op\": \"dump\", \"file\": \"$W/pv.core\", \"live\": \"0\", \"crash\": \"0\"}"

# save and restore
run "$VIRTPP" -c "$U" save pvtest "$W/pv.save"; [[ $RC == 0 ]] || fail "save: $OUT"
expect_op main "\"form\": {\"op\": \"save\", \"file\": \"$W/pv.save\"}"
run "$VIRTPP" -c "$U" domstate pvtest; [[ $OUT == "shut off"* ]] || fail "domstate after save: $OUT"
run "$VIRTPP" -c "$U" restore "$W/pv.save"; [[ $RC == 0 ]] || fail "restore: $OUT"
expect_op main "\"path\": \"/xend/domain\", \"form\": {\"op\": \"restore\", \"file\": \"$W/pv.save\"}"
run "$VIRTPP" -c "$U" domstate pvtest; [[ $OUT == running* || $OUT == idle* ]] || fail "domstate after restore: $OUT"

# shutdown and destroy
run "$VIRTPP" -c "$U" shutdown pvtest; [[ $RC == 0 ]] || fail "shutdown: $OUT"
expect_op main '"form": {"op": "shutdown", "reason": "halt"}'
run "$VIRTPP" -c "$U" destroy fvtest; [[ $RC == 0 ]] || fail "destroy: $OUT"
expect_op main '"path": "/xend/domain/fvtest", "form": {"op": "destroy"}'

# define, start, undefine (xend 3.0.4+ manages inactive domains: op=new / start / delete)
run "$VIRTPP" -c "$U" define "$SRC/tests/xen/newguest.xml"; [[ $RC == 0 ]] || fail "define: $OUT"
expect_op main '"path": "/xend/domain", "form": {"op": "new", "config": "(vm '
run "$VIRTPP" -c "$U" list --all
grep -qE '^ - +newguest +shut off' <<<"$OUT" || fail "list --all after define: $OUT"
run "$VIRTPP" -c "$U" start newguest; [[ $RC == 0 ]] || fail "start: $OUT"
expect_op main '"path": "/xend/domain/newguest", "form": {"op": "start"}'
run "$VIRTPP" -c "$U" destroy newguest; [[ $RC == 0 ]] || fail "destroy newguest: $OUT"
run "$VIRTPP" -c "$U" undefine newguest; [[ $RC == 0 ]] || fail "undefine: $OUT"
expect_op main '"path": "/xend/domain/newguest", "form": {"op": "delete"}'
run "$VIRTPP" -c "$U" list --all
grep -q newguest <<<"$OUT" && fail "newguest still listed after undefine: $OUT"

# create from XML: op=create, then libvirt's unpause of the paused new domain
run "$VIRTPP" -c "$U" create "$SRC/tests/xen/newguest.xml"; [[ $RC == 0 ]] || fail "create: $OUT"
expect_op main '"path": "/xend/domain", "form": {"op": "create", "config": "(vm '
expect_op main '"path": "/xend/domain/newguest", "form": {"op": "unpause"}'
run "$VIRTPP" -c "$U" domstate newguest; [[ $OUT == running* || $OUT == idle* ]] || fail "domstate after create: $OUT"

# devices of a running domain: op=device_create config=(vbd|vif ...), op=device_destroy type= dev=
# (a disk by Xen's device number, xvdb = 202<<8 | 16; a NIC by its index among the domain's vifs)
run "$VIRTPP" -c "$U" attach-device newguest "$SRC/tests/xen/extra-disk.xml"; [[ $RC == 0 ]] || fail "attach disk: $OUT"
expect_op main '"path": "/xend/domain/newguest", "form": {"op": "device_create", "config": "(vbd (dev '"'xvdb'"')(uname '"'file:/var/lib/xen/images/extra.img'"')(mode '"'w'"'))"}'
run "$VIRTPP" -c "$U" attach-device newguest "$SRC/tests/xen/extra-nic.xml"; [[ $RC == 0 ]] || fail "attach nic: $OUT"
expect_op main '"form": {"op": "device_create", "config": "(vif (mac '"'00:16:3e:11:22:33'"')(bridge '"'xenbr1'"')(script '"'vif-bridge'"'))"}'
run "$VIRTPP" -c "$U" dumpxml newguest
grep -qF "<target dev='xvdb' bus='xen'/>" <<<"$OUT" && grep -qF "<mac address='00:16:3e:11:22:33'/>" <<<"$OUT" ||
    fail "dumpxml after attach lacks the new disk or NIC: $OUT"
run "$VIRTPP" -c "$U" detach-device newguest "$SRC/tests/xen/extra-disk.xml"; [[ $RC == 0 ]] || fail "detach disk: $OUT"
expect_op main '"form": {"op": "device_destroy", "type": "vbd", "dev": "51728"}'
run "$VIRTPP" -c "$U" detach-device newguest "$SRC/tests/xen/extra-nic.xml"; [[ $RC == 0 ]] || fail "detach nic: $OUT"
expect_op main '"form": {"op": "device_destroy", "type": "vif", "dev": "0"}'
run "$VIRTPP" -c "$U" dumpxml newguest
grep -qF "xvdb" <<<"$OUT" || grep -qF "00:16:3e:11:22:33" <<<"$OUT" && fail "dumpxml after detach still has the disk or NIC: $OUT"
run "$VIRTPP" -c "$U" detach-device newguest "$SRC/tests/xen/extra-nic.xml"
[[ $RC != 0 && $OUT == *"no interface with MAC address 00:16:3e:11:22:33"* ]] || fail "detach of an absent NIC: $OUT"
run "$VIRTPP" -c "$U" attach-device newguest "$SRC/tests/xen/extra-disk.xml" --config
[[ $RC != 0 && $OUT == *"running domains only"* ]] || fail "attach --config alone must be refused: $OUT"

# autostart: the record with (on_xend_start start|ignore) goes back as op=new
run "$VIRTPP" -c "$U" autostart newguest; [[ $RC == 0 ]] || fail "autostart: $OUT"
expect_op main '"path": "/xend/domain", "form": {"op": "new", "config": "(domain '
grep -F '"op": "new"' "$W/main.log" | tail -1 | grep -qF '(on_xend_start start)' || fail "autostart sent no (on_xend_start start)"
run "$VIRTPP" -c "$U" dominfo newguest
grep -qE '^Autostart: +enable' <<<"$OUT" && grep -qE '^State: +(running|idle)' <<<"$OUT" || fail "dominfo after autostart: $OUT"
run "$VIRTPP" -c "$U" autostart --disable newguest; [[ $RC == 0 ]] || fail "autostart --disable: $OUT"
grep -F '"op": "new"' "$W/main.log" | tail -1 | grep -qF '(on_xend_start ignore)' || fail "autostart --disable sent no (on_xend_start ignore)"
run "$VIRTPP" -c "$U" dominfo newguest
grep -qE '^Autostart: +disable' <<<"$OUT" || fail "dominfo after autostart --disable: $OUT"

# the credit scheduler: node/xen_scheduler, the record's cpu_weight/cpu_cap, op=domain_sched_credit_set
run "$VIRTPP" -c "$U" schedinfo newguest
grep -qE '^Scheduler +: credit' <<<"$OUT" && grep -qE '^weight +: 256' <<<"$OUT" && grep -qE '^cap +: 0' <<<"$OUT" ||
    fail "schedinfo: $OUT"
run "$VIRTPP" -c "$U" schedinfo newguest --set weight=512; [[ $RC == 0 ]] || fail "schedinfo --set weight: $OUT"
expect_op main '"path": "/xend/domain/newguest", "form": {"op": "domain_sched_credit_set", "weight": "512", "cap": "0"}'
run "$VIRTPP" -c "$U" schedinfo newguest --set cap=50; [[ $RC == 0 ]] || fail "schedinfo --set cap: $OUT"
expect_op main '"form": {"op": "domain_sched_credit_set", "weight": "512", "cap": "50"}'
run "$VIRTPP" -c "$U" schedinfo newguest
grep -qE '^weight +: 512' <<<"$OUT" && grep -qE '^cap +: 50' <<<"$OUT" || fail "schedinfo after --set: $OUT"
run "$VIRTPP" -c "$U" schedinfo newguest --set weight=0
[[ $RC != 0 && $OUT == *"out of range"* ]] || fail "schedinfo weight=0 must be refused: $OUT"
run "$VIRTPP" -c "$U" schedinfo newguest --set period=10
[[ $RC != 0 ]] || fail "schedinfo --set period must be refused: $OUT"

# xend's errors surface with xend's message
run "$VIRTPP" -c "$U" destroy Domain-0
[[ $RC != 0 && $OUT == *"Cannot destroy privileged domain Domain-0"* && $OUT == *"POST operation failed"* ]] ||
    fail "destroy Domain-0 should fail with xend's message: $OUT"
run "$VIRTPP" -c "$U" dominfo nosuch
[[ $RC != 0 && $OUT == *"failed to get domain 'nosuch'"* ]] || fail "dominfo nosuch: $OUT"
run "$VIRTPP" -c "$U" suspend nosuch
[[ $RC != 0 && $OUT == *"failed to get domain 'nosuch'"* ]] || fail "suspend nosuch: $OUT"

# the same xend over its unix socket (the URI is the socket's path)
run "$VIRTPP" -c "$W/main.sock" list --all
grep -qE '^ 0 +Domain-0 +running' <<<"$OUT" || fail "list over the unix socket: $OUT"
run "$VIRTPP" -c "$W/main.sock" suspend newguest; [[ $RC == 0 ]] || fail "suspend over the unix socket: $OUT"

# xend older than 3.0.4 (xend_config_format 2): inactive domains are xm files in /etc/xen (here
# VIRTPP_XM_CONFIG_DIR), through xen:/// (root only: others go through the daemon)
if [[ $(id -u) == 0 ]]; then
    start_xend old --config-format 2 --domain "$FIX/sexpr2xml-pv.sexpr" || exit 1
    mkdir -p "$W/etc-xen"
    XENV=(env VIRTPP_XEND="$W/old.sock" VIRTPP_XM_CONFIG_DIR="$W/etc-xen" VIRTPP_XEN_PRIVCMD=/nonexistent/privcmd
          XENSTORED_PATH=/nonexistent/xenstored)
    run "${XENV[@]}" "$VIRTPP" -c xen:/// define "$SRC/tests/xen/newguest.xml"; [[ $RC == 0 ]] || fail "xm define: $OUT"
    grep -q '^name = "newguest"' "$W/etc-xen/newguest" 2>/dev/null || fail "xm define wrote no /etc/xen/newguest"
    grep -q '"op": "new"' "$W/old.log" && fail "an old xend was sent op=new"
    run "${XENV[@]}" "$VIRTPP" -c xen:/// list --all
    grep -qE '^ - +newguest +shut off' <<<"$OUT" && grep -qE '^ 6 +pvtest ' <<<"$OUT" || fail "xm list --all: $OUT"
    run "${XENV[@]}" "$VIRTPP" -c xen:/// dominfo newguest
    grep -qE '^State: +shut off' <<<"$OUT" && grep -qE '^Max memory: +262144 KiB' <<<"$OUT" || fail "xm dominfo: $OUT"
    run "${XENV[@]}" "$VIRTPP" -c xen:/// dumpxml newguest
    grep -q '<kernel>/boot/vmlinuz-xen</kernel>' <<<"$OUT" || fail "xm dumpxml: $OUT"
    run "${XENV[@]}" "$VIRTPP" -c xen:/// start newguest; [[ $RC == 0 ]] || fail "xm start: $OUT"
    expect_op old '"path": "/xend/domain", "form": {"op": "create", "config": "(vm '
    expect_op old '"path": "/xend/domain/newguest", "form": {"op": "unpause"}'
    run "${XENV[@]}" "$VIRTPP" -c xen:/// list --all
    [[ $(grep -c newguest <<<"$OUT") == 1 ]] && ! grep -qE 'newguest +shut off' <<<"$OUT" ||
        fail "a started xm domain is listed once, running: $OUT"
    run "${XENV[@]}" "$VIRTPP" -c xen:/// destroy newguest; [[ $RC == 0 ]] || fail "xm destroy: $OUT"
    run "${XENV[@]}" "$VIRTPP" -c xen:/// undefine newguest; [[ $RC == 0 ]] || fail "xm undefine: $OUT"
    [[ -e $W/etc-xen/newguest ]] && fail "xm undefine left /etc/xen/newguest"
    svc_stop old
fi

# migration: the source xend migrates (op=migrate destination= live= port= resource=0) to the
# destination's relocation port; the destination only names itself and finds the guest afterwards
start_xend msrc --domain "$FIX/sexpr2xml-pv.sexpr" --domain "$FIX/sexpr2xml-fv.sexpr" || exit 1
start_xend mdst --relocation-port-file "$W/mdst.reloc" || exit 1
RELOC=$(cat "$W/mdst.reloc")
MS=http://127.0.0.1:$PORT_msrc/ MD=http://127.0.0.1:$PORT_mdst/
run "$VIRTPP" -c "$MS" migrate --live pvtest "$MD" "xenmigr://127.0.0.1:$RELOC/"; [[ $RC == 0 ]] || fail "migrate --live: $OUT"
expect_op msrc "\"path\": \"/xend/domain/pvtest\", \"form\": {\"op\": \"migrate\", \"destination\": \"127.0.0.1\", \"live\": \"1\", \"port\": \"$RELOC\", \"resource\": \"0\"}"
expect_op mdst '"method": "RELOCATE", "path": "", "form": {"name": "pvtest"}'
run "$VIRTPP" -c "$MD" domstate pvtest; [[ $OUT == running* || $OUT == idle* ]] || fail "pvtest not running on the destination: $OUT"
run "$VIRTPP" -c "$MS" domstate pvtest; [[ $OUT == "shut off"* ]] || fail "pvtest still running on the source: $OUT"
# no URI: the destination names itself, xend's relocation port 8002 (nothing listens there: xend's error)
run "$VIRTPP" -c "$MS" migrate fvtest "$MD"
expect_op msrc '"form": {"op": "migrate", "destination": "127.0.0.1", "live": "0", "port": "8002", "resource": "0"}'
[[ $RC != 0 && $OUT == *"POST operation failed"* && $OUT == *"op migrate"* ]] || fail "migrate to an absent relocation server: $OUT"
run "$VIRTPP" -c "$MS" domstate fvtest; [[ $OUT == running* || $OUT == idle* ]] || fail "fvtest must stay on the source after a failed migration: $OUT"
run "$VIRTPP" -c "$MS" migrate --dname other fvtest "$MD" "xenmigr://127.0.0.1:$RELOC/"
[[ $RC != 0 && $OUT == *"renaming domains during migration"* ]] || fail "migrate --dname must be refused: $OUT"
run "$VIRTPP" -c "$MS" migrate fvtest "$MD" "tcp://127.0.0.1:$RELOC/"
[[ $RC != 0 && $OUT == *"only xenmigr://"* ]] || fail "migrate to a tcp:// URI must be refused: $OUT"
run "$VIRTPP" -c "$MS" suspend fvtest
run "$VIRTPP" -c "$MS" migrate fvtest "$MD" "xenmigr://127.0.0.1:$RELOC/"
[[ $RC != 0 && $OUT == *"leave it paused"* ]] || fail "migrating a paused domain must be refused: $OUT"
run "$VIRTPP" -c "$MS" resume fvtest
[[ $(grep -c '"op": "migrate"' "$W/msrc.log") == 2 ]] || fail "refused migrations reached xend: $(grep '"op": "migrate"' "$W/msrc.log")"

# an xend that answers errors with 200 and an (xend.err ...) body
start_xend err200 --misbehave xend-err-200 --domain "$FIX/sexpr2xml-pv.sexpr" || exit 1
run "$VIRTPP" -c "http://127.0.0.1:$PORT_err200/" destroy Domain-0
[[ $RC != 0 && $OUT == *"Cannot destroy privileged domain"* ]] || fail "xend.err with HTTP 200 not an error: $OUT"

# an xend that ignores detail=1 (names only; Domain-0 without a uuid): one GET per domain
start_xend names --misbehave names-only --domain "$FIX/sexpr2xml-pv.sexpr" || exit 1
run "$VIRTPP" -c "http://127.0.0.1:$PORT_names/" list --all
grep -qE '^ 0 +Domain-0 +running' <<<"$OUT" && grep -qE '^ 6 +pvtest ' <<<"$OUT" || fail "names-only xend list --all: $OUT"
svc_stop names

# a misbehaving xend: an error naming what went wrong, within the deadline, never a crash
export VIRTPP_XEND_TIMEOUT_MS=1500
for mode in wrong-status truncated garbage slow; do
    name=bad_${mode//-/_}
    start_xend "$name" --misbehave "$mode" || exit 1
    port_var=PORT_$name
    t0=$(date +%s%N)
    run timeout 20 "$VIRTPP" -c "http://127.0.0.1:${!port_var}/" list --all
    ms=$(( ($(date +%s%N) - t0) / 1000000 ))
    [[ $RC == 1 ]] || fail "misbehaving xend ($mode): exit $RC (want 1): $OUT"
    case $mode in
        wrong-status) want="HTTP 302" ;;
        truncated) want="closed the connection before a complete reply" ;;
        garbage) want="not HTTP" ;;
        slow) want="no reply from xend" ;;
    esac
    [[ $OUT == *"$want"* ]] || fail "misbehaving xend ($mode): message lacks '$want': $OUT"
    ((ms < 10000)) || fail "misbehaving xend ($mode) took $ms ms"
    echo "misbehaving xend ($mode): refused in $ms ms: $(head -1 <<<"$OUT")"
    svc_stop "$name"
done
unset VIRTPP_XEND_TIMEOUT_MS

# nothing listens: a clear connection error
closed=$(free_port)
run "$VIRTPP" -c "http://127.0.0.1:$closed/" list
[[ $RC == 1 && $OUT == *"failed to connect to xend"* ]] || fail "unreachable xend: $OUT"

# stock virsh reaches Xen through virtppd (its Xen driver talks to the stand-in's socket)
export VIRTPP_XEND=$W/main.sock
svc_start_daemon virtppd D "$VIRTPPD" || exit 1
unset VIRTPP_XEND
if command -v virsh >/dev/null; then
    run virsh -c "xen+unix:///?socket=${SVC_SOCK[D]}" list --all
    grep -qE '^ 0 +Domain-0 +running' <<<"$OUT" || fail "virsh xen+unix list --all: $OUT"
    run virsh -c "xen+tcp://127.0.0.1:${SVC_TCP_PORT[D]}/" dominfo Domain-0
    grep -qE '^OS Type: +linux' <<<"$OUT" || fail "virsh xen+tcp dominfo: $OUT"
    run virsh -c "xen+tcp://127.0.0.1:${SVC_TCP_PORT[D]}/" suspend newguest
    [[ $RC == 0 ]] || fail "virsh xen+tcp suspend: $OUT"
    expect_op main '"path": "/xend/domain/newguest", "form": {"op": "pause"}'
else
    echo "note: no virsh; the stock-client check is skipped"
fi
# stock virsh migrates between two virtppd (each serving one stand-in xend) with libvirt's v3 steps
if command -v virsh >/dev/null; then
    export VIRTPP_XEND=$W/msrc.sock
    svc_start_daemon virtppd DS "$VIRTPPD" || exit 1
    export VIRTPP_XEND=$W/mdst.sock
    svc_start_daemon virtppd DD "$VIRTPPD" || exit 1
    unset VIRTPP_XEND
    run virsh -c "xen+tcp://127.0.0.1:${SVC_TCP_PORT[DS]}/" migrate --live fvtest "xen+tcp://127.0.0.1:${SVC_TCP_PORT[DD]}/" \
        "xenmigr://127.0.0.1:$RELOC/"
    [[ $RC == 0 ]] || fail "virsh migrate through virtppd: $OUT"
    expect_op msrc '"path": "/xend/domain/fvtest", "form": {"op": "migrate", "destination": "127.0.0.1", "live": "1"'
    run virsh -c "xen+tcp://127.0.0.1:${SVC_TCP_PORT[DD]}/" domstate fvtest
    [[ $OUT == running* || $OUT == idle* ]] || fail "virsh: fvtest not running on the destination: $OUT"
    run virsh -c "xen+tcp://127.0.0.1:${SVC_TCP_PORT[DD]}/" attach-device fvtest "$SRC/tests/xen/extra-nic.xml"
    [[ $RC == 0 ]] || fail "virsh attach-device through virtppd: $OUT"
    expect_op mdst '"path": "/xend/domain/fvtest", "form": {"op": "device_create", "config": "(vif '
    run virsh -c "xen+tcp://127.0.0.1:${SVC_TCP_PORT[DD]}/" detach-device fvtest "$SRC/tests/xen/extra-nic.xml"
    [[ $RC == 0 ]] || fail "virsh detach-device through virtppd: $OUT"
    expect_op mdst '"path": "/xend/domain/fvtest", "form": {"op": "device_destroy", "type": "vif", "dev": "1"}'
    run virsh -c "xen+tcp://127.0.0.1:${SVC_TCP_PORT[DD]}/" schedinfo fvtest --set weight=128
    grep -qE '^weight +: 128' <<<"$OUT" || fail "virsh schedinfo --set through virtppd: $OUT"
    expect_op mdst '"path": "/xend/domain/fvtest", "form": {"op": "domain_sched_credit_set", "weight": "128", "cap": "0"}'
    run virsh -c "xen+tcp://127.0.0.1:${SVC_TCP_PORT[DD]}/" autostart fvtest
    [[ $RC == 0 ]] || fail "virsh autostart through virtppd: $OUT"
    run virsh -c "xen+tcp://127.0.0.1:${SVC_TCP_PORT[DD]}/" dominfo fvtest
    grep -qE '^Autostart: +enable' <<<"$OUT" || fail "virsh dominfo after autostart: $OUT"
    svc_stop DS
    svc_stop DD
fi
run "$VIRTPP" -c "xen+unix:///?socket=${SVC_SOCK[D]}" dumpxml newguest
grep -q "<name>newguest</name>" <<<"$OUT" || fail "virtpp xen+unix dumpxml: $OUT"

# an unprivileged user's xen:/// goes through the read-only socket and is read-only
if command -v setpriv >/dev/null; then
    chmod 755 "$W" && mkdir -p "$W/bin" && cp "$VIRTPP" "$W/bin/" && chmod 755 "$W/bin" "$W/bin/virtpp"
    chmod 755 "${SVC_DIR[D]}" "${SVC_DIR[D]}/run"
    as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups env -i PATH=/usr/bin:/bin HOME=/ "$@"; }
    run as_nobody "$W/bin/virtpp" -c "xen:///?socket=${SVC_SOCK_RO[D]}" list --all
    grep -qE '^ 0 +Domain-0 +running' <<<"$OUT" || fail "unprivileged xen:/// list --all: $OUT"
    run as_nobody "$W/bin/virtpp" -c "xen:///?socket=${SVC_SOCK_RO[D]}" suspend newguest
    [[ $RC != 0 && $OUT == *"read only"* ]] || fail "unprivileged xen:/// suspend must be refused read-only: $OUT"
else
    echo "note: no setpriv; the unprivileged check is skipped"
fi

((FAIL == 0)) && echo "xen_xend: all checks passed"
exit $FAIL
