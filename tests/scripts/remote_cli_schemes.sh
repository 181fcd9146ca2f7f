#!/usr/bin/env bash
# virtpp's CLI through every remote scheme — test+tcp, test+unix, test+tls, test+ssh (a real sshd
# on loopback), test+ext — against virtppd and against Debian's libvirtd, on one scripted session
# set (list, dominfo, domstate, dumpxml, define/start/destroy/undefine, net-list, net-dumpxml,
# nodeinfo, an unknown domain, a refusal under -r). Each run's stdout, stderr and exit code must be
# identical to stock virsh's with the same URI (clock-derived numbers masked), and virsh's must be
# the same against both daemons.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/services.sh"
. "$HERE/lib/pki.sh"
VIRTPPD=${VIRTPP_BINARY_DIR:?}/tools/virtppd
VIRTPP=$VIRTPP_BINARY_DIR/tools/virtpp
LIBVIRTD=/usr/sbin/libvirtd
[[ -x $VIRTPPD && -x $VIRTPP ]] || { echo "skip: virtppd or virtpp not built"; exit 77; }
command -v virsh >/dev/null || { echo "skip: no virsh"; exit 77; }
[[ $(id -u) == 0 && -x $LIBVIRTD ]] || { echo "skip: the libvirtd oracle needs root and $LIBVIRTD"; exit 77; }

svc_init remote-cli
OUT=$SVC_WORK/out
P=$SVC_WORK/pki
mkdir -p "$OUT"
SCHEMES=(tcp unix)

TLSCONF=()
if pki_available && pki_make_ca "$P/ca" "virtpp test CA" && pki_issue_server "$P/ca" "$P/ca/server" localhost dns localhost &&
   pki_issue_client "$P/ca" "$P/ca/client" 'country = GB\norganization = virtpp\ncn = client1' &&
   pki_client_dir "$P/client" "$P/ca" "$P/ca/client"; then
    mapfile -t TLSCONF < <(echo "listen_tls = 1"; pki_server_conf "$P/ca" "$P/ca/server")
    SCHEMES+=(tls)
else
    echo "note: certtool missing or failed; tls not covered"
fi
svc_start_daemon virtppd V "$VIRTPPD" "${TLSCONF[@]}" || exit 1
svc_start_daemon libvirtd L "$LIBVIRTD" "${TLSCONF[@]}" || exit 1

if [[ -x /usr/sbin/sshd ]] && command -v nc >/dev/null && svc_start_sshd S; then
    export PATH=${SVC_DIR[S]}/bin:$PATH
    SCHEMES+=(ssh)
else
    echo "note: no sshd or nc; ssh not covered"
fi
if command -v socat >/dev/null; then
    for d in V L; do
        printf '#!/bin/sh\nexec socat - UNIX-CONNECT:%s\n' "${SVC_SOCK[$d]}" > "$SVC_WORK/ext-$d"
        chmod +x "$SVC_WORK/ext-$d"
    done
    SCHEMES+=(ext)
else
    echo "note: no socat; ext not covered"
fi

uri_for() {  # scheme daemon
    local d=$2
    case $1 in
        tcp) echo "test+tcp://127.0.0.1:${SVC_TCP_PORT[$d]}/default" ;;
        unix) echo "test+unix:///default?socket=${SVC_SOCK[$d]}" ;;
        tls) echo "test+tls://localhost:${SVC_TLS_PORT[$d]}/default?pkipath=$P/client" ;;
        ssh) echo "test+ssh://root@127.0.0.1:${SVC_PORT[S]}/default?socket=${SVC_SOCK[$d]}&keyfile=${SVC_DIR[S]}/id_ed25519&no_tty=1" ;;
        ext) echo "test+ext:///default?command=$SVC_WORK/ext-$d" ;;
    esac
}

cp "$VIRTPP_SOURCE_DIR/tests/cli/newdom.xml" "$SVC_WORK/dom.xml"  # the domain the sessions define

# options|session
SESSIONS=(
  "|list --all; dominfo test; domstate test; dumpxml test"
  "|define $SVC_WORK/dom.xml; start newdom; list --all; destroy newdom; undefine newdom; list --all"
  "|net-list --all; net-dumpxml default; nodeinfo"
  "|domstate nosuchdom"
  "-r|destroy test"
  "-r|list --all; net-destroy default"
)

mask() {
    sed -E -e 's/^(CPU time: +)[0-9.]+s$/\1MASKED/' -e "s#$SVC_WORK/#WORK/#g" \
           -e 's/(127\.0\.0\.1|localhost):[0-9]+/\1:PORT/g'
}

PASS=0 FAIL=0
ok() { PASS=$((PASS + 1)); }
bad() { FAIL=$((FAIL + 1)); echo "FAIL: $*"; }
compare() {  # a b what
    if cmp -s "$1" "$2"; then ok; else bad "$3"; diff "$1" "$2" | head -12; fi
}

for i in "${!SESSIONS[@]}"; do
    opts=${SESSIONS[$i]%%|*}
    session=${SESSIONS[$i]#*|}
    for scheme in "${SCHEMES[@]}"; do
        for d in V L; do
            uri=$(uri_for "$scheme" "$d")
            for c in virsh virtpp; do
                bin=virsh; [[ $c == virtpp ]] && bin=$VIRTPP
                f=$OUT/$i.$scheme.$c@$d
                # shellcheck disable=SC2086 # opts is a list of options
                timeout 30 "$bin" $opts -c "$uri" "$session" </dev/null >"$f.out" 2>"$f.err"
                echo "rc=$?" >"$f.rc"
                { cat "$f.rc"; mask <"$f.out"; echo "--- stderr"; mask <"$f.err"; } >"$f.all"
            done
            compare "$OUT/$i.$scheme.virsh@$d.all" "$OUT/$i.$scheme.virtpp@$d.all" \
                "session $i ($opts $session) over $scheme to $([[ $d == V ]] && echo virtppd || echo libvirtd): virtpp differs from virsh"
        done
        compare "$OUT/$i.$scheme.virsh@L.all" "$OUT/$i.$scheme.virsh@V.all" \
            "session $i ($opts $session) over $scheme: virsh against virtppd differs from virsh against libvirtd"
    done
done

# the sessions did what they say: served, refused, read-only
grep -q '^ 1    test   running' "$OUT/0.tcp.virtpp@V.out" && ok || bad "session 0 listed no running test domain"
grep -q "error: failed to get domain 'nosuchdom'" "$OUT/3.tcp.virtpp@V.err" && ok || bad "unknown domain not reported"
grep -q 'read only access prevents virDomainDestroy' "$OUT/4.tcp.virtpp@V.err" && ok || bad "-r destroy not refused"

echo "remote_cli_schemes: ${SCHEMES[*]}: $PASS passed, $FAIL failed (outputs in $OUT; VIRTPP_KEEP_WORK=1 keeps them)"
((FAIL == 0))
