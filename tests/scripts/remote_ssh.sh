#!/usr/bin/env bash
# The ssh transport through a real OpenSSH server on loopback: a private sshd (host key and an
# authorized client key made here) in front of virtppd's and libvirtd's unix sockets. virtpp's CLI
# and stock virsh run the same sessions with the same URI (keyfile=, socket=, command=, netcat=,
# no_verify=, no_tty=, known_hosts=, -r); stdout, stderr and exit codes must be identical, and so
# must the ssh argument vectors both build (recorded by the `ssh` put first on PATH, which runs
# /usr/bin/ssh with a private known_hosts so root's ~/.ssh is left alone). Refusals: unknown host
# key without no_verify, a key the server does not accept, a read-only connection.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/services.sh"
VIRTPPD=${VIRTPP_BINARY_DIR:?}/tools/virtppd
VIRTPP=$VIRTPP_BINARY_DIR/tools/virtpp
LIBVIRTD=/usr/sbin/libvirtd
[[ -x $VIRTPPD && -x $VIRTPP ]] || { echo "skip: virtppd or virtpp not built"; exit 77; }
command -v virsh >/dev/null || { echo "skip: no virsh"; exit 77; }
[[ $(id -u) == 0 ]] || { echo "skip: sshd and the libvirtd oracle need root"; exit 77; }
[[ -x /usr/sbin/sshd && -x /usr/bin/ssh ]] || { echo "skip: openssh-server/client missing"; exit 77; }
command -v nc >/dev/null || { echo "skip: no nc on the 'remote' side"; exit 77; }
[[ -x $LIBVIRTD ]] || { echo "skip: no libvirtd"; exit 77; }

svc_init remote-ssh
OUT=$SVC_WORK/out
mkdir -p "$OUT"
svc_start_sshd S || exit 1
svc_start_daemon virtppd V "$VIRTPPD" || exit 1
svc_start_daemon libvirtd L "$LIBVIRTD" || exit 1
SD=${SVC_DIR[S]}
SPORT=${SVC_PORT[S]}
export PATH=$SD/bin:$PATH

# a second ssh for command=: the real one with an empty known_hosts each time (an unknown host)
cat > "$SD/ssh-unknown-host" <<EOF
#!/bin/sh
rm -f '$SD/known_hosts.empty'
exec /usr/bin/ssh -F '$SD/ssh_config' -o UserKnownHostsFile='$SD/known_hosts.empty' -o GlobalKnownHostsFile=/dev/null "\$@"
EOF
chmod +x "$SD/ssh-unknown-host"
ssh-keygen -q -t ed25519 -N '' -C "not authorized" -f "$SD/stranger_ed25519"

cp "$VIRTPP_SOURCE_DIR/tests/cli/newdom.xml" "$SVC_WORK/dom.xml"  # the domain the sessions define

PASS=0 FAIL=0
ok() { PASS=$((PASS + 1)); }
bad() { FAIL=$((FAIL + 1)); echo "FAIL: $*"; }
mask() {
    sed -E -e 's/^(CPU time: +)[0-9.]+s$/\1MASKED/' -e "s#$SVC_WORK/[VL]/#WORK/D/#g" -e "s#$SVC_WORK/#WORK/#g" \
           -e 's/127\.0\.0\.1:[0-9]+/127.0.0.1:PORT/g' -e 's/port [0-9]+/port PORT/g'
}

# ssh_case LABEL EXPECT(ok|refused) OPTIONS URI-PARAMS SESSION
# virsh then virtpp, against virtppd and libvirtd; everything compared with virsh against libvirtd.
ssh_case() {
    local label=$1 expect=$2 opts=$3 params=$4 session=$5 d c f uri lines
    for d in L V; do
        local sock=${SVC_SOCK[$d]}
        [[ $opts == *-r* ]] && sock=${SVC_SOCK_RO[$d]}
        uri="test+ssh://root@127.0.0.1:$SPORT/default?socket=$sock$params"
        for c in virsh virtpp; do
            f=$OUT/$label.$c@$d
            local bin=virsh; [[ $c == virtpp ]] && bin=$VIRTPP
            # shellcheck disable=SC2086 # opts is a list of options
            timeout 30 "$bin" $opts -c "$uri" "$session" </dev/null >"$f.out" 2>"$f.err"
            echo "rc=$?" >"$f.rc"
            { cat "$f.rc"; mask <"$f.out"; mask <"$f.err"; } >"$f.all"
        done
        # the two ssh command lines of this pair (each run adds one line, virsh's then virtpp's)
        lines=$(tail -2 "$SD/argv.log")
        if [[ $params != *command=* ]]; then
            if [[ $(sed -n 1p <<<"$lines") == "$(sed -n 2p <<<"$lines")" ]]; then ok; else
                bad "$label@$d: ssh argument vectors differ"; echo "$lines"
            fi
        fi
    done
    local ref=$OUT/$label.virsh@L
    for f in "$OUT/$label.virtpp@L" "$OUT/$label.virsh@V" "$OUT/$label.virtpp@V"; do
        if cmp -s "$ref.all" "$f.all"; then ok; else bad "$label: ${f##*.} differs from virsh@libvirtd"; diff "$ref.all" "$f.all" | head -12; fi
    done
    if [[ $expect == ok ]]; then
        if [[ $(<"$ref.rc") == rc=0 ]]; then ok; else bad "$label: virsh failed"; cat "$ref.err"; fi
    else
        if [[ $(<"$ref.rc") != rc=0 ]] && grep -q '^error: ' "$ref.err"; then ok; else bad "$label: virsh was not refused"; fi
    fi
}

KEY="&keyfile=$SD/id_ed25519"
ssh_case list ok '' "$KEY" "list --all"
ssh_case dominfo ok '' "$KEY" "dominfo test; domstate test"
ssh_case dumpxml ok '' "$KEY" "dumpxml test; net-dumpxml default"
ssh_case lifecycle ok '' "$KEY" "define $SVC_WORK/dom.xml; start newdom; list --all; destroy newdom; undefine newdom; list --all"
ssh_case unknown-domain refused '' "$KEY" "domstate nosuchdom"
ssh_case netcat ok '' "$KEY&netcat=/usr/bin/nc" "net-list --all"
ssh_case known-hosts-param ok '' "$KEY&known_hosts=$SD/known_hosts&no_tty=1" "nodeinfo"
ssh_case no-verify ok '' "$KEY&command=$SD/ssh-unknown-host&no_verify=1" "list --all"
ssh_case read-only refused '-r' "$KEY" "destroy test"
ssh_case read-only-list ok '-r' "$KEY" "list --all"
ssh_case host-key-unknown refused '' "$KEY&command=$SD/ssh-unknown-host&no_tty=1" "list --all"
ssh_case key-refused refused '' "&keyfile=$SD/stranger_ed25519&no_tty=1" "list --all"

# sshd saw public-key logins for the accepted runs and a refusal for the stranger's key
if grep -q 'Accepted publickey for root from 127.0.0.1' "${SVC_LOG[S]}"; then ok; else bad "sshd logged no accepted login"; fi
if grep -Eq 'Connection closed by authenticating user root|Failed publickey|maximum authentication' "${SVC_LOG[S]}"; then ok; else
    bad "sshd logged no refused login"; tail -5 "${SVC_LOG[S]}"
fi
# the read-only connections reached virtppd's read-only socket and were refused there
if grep -q 'read only access prevents\|read-only' "${SVC_LOG[V]}" 2>/dev/null || grep -q 'read only access prevents' "$OUT/read-only.virsh@V.err"; then ok; else
    bad "read-only refusal not seen"
fi

echo "remote_ssh: $PASS passed, $FAIL failed (outputs in $OUT; VIRTPP_KEEP_WORK=1 keeps them)"
((FAIL == 0))
