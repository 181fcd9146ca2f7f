#!/usr/bin/env bash
# virtppd's TLS listener end to end, with certificates made here by certtool as the seed describes
# (CA, server certificate for the host name clients use, client certificates). Clients: stock
# virsh, python3-libvirt and virtpp's CLI. Debian's libvirtd runs with the same configuration and
# the same certificates as the oracle wherever it knows the setting: each client's stdout, stderr
# and exit code against virtppd must equal its own against libvirtd, and virtpp's CLI must print
# what virsh prints. Refusals must fail on the client with a clear error and leave a line in
# virtppd's log. Cases: happy path, server certificate from another CA, wrong host name and
# no_verify=1, client without certificate, client certificate from another CA,
# tls_allowed_dn_list (exact, fnmatch wildcard, empty), tls_no_verify_certificate, crl_file,
# tls_allowed_ip_list / tls_no_verify_address (the seed's keys; virtppd only), a server
# certificate naming an IP address.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/services.sh"
. "$HERE/lib/pki.sh"
VIRTPPD=${VIRTPP_BINARY_DIR:?}/tools/virtppd
VIRTPP=$VIRTPP_BINARY_DIR/tools/virtpp
LIBVIRTD=/usr/sbin/libvirtd
[[ -x $VIRTPPD && -x $VIRTPP ]] || { echo "skip: virtppd or virtpp not built"; exit 77; }
command -v virsh >/dev/null || { echo "skip: no virsh"; exit 77; }
pki_available || { echo "skip: certtool (gnutls-bin) missing"; exit 77; }
[[ $(id -u) == 0 && -x $LIBVIRTD ]] || { echo "skip: the libvirtd oracle needs root and $LIBVIRTD"; exit 77; }
HAVE_PY=0
/usr/bin/python3 -c 'import libvirt' 2>/dev/null && HAVE_PY=1

svc_init remote-tls
P=$SVC_WORK/pki
OUT=$SVC_WORK/out
mkdir -p "$P" "$OUT"

# ---- certificates ------------------------------------------------------------------------------
client_tpl() { printf 'country = GB\nstate = London\nlocality = London\norganization = %s\ncn = %s' "$1" "$2"; }
{
    pki_make_ca "$P/ca" "virtpp test CA" &&
    pki_make_ca "$P/other" "some other CA" &&
    pki_issue_server "$P/ca" "$P/ca/server" localhost dns localhost &&
    pki_issue_server "$P/other" "$P/other/server" localhost dns localhost &&
    pki_issue_server "$P/ca" "$P/ca/server-ip" 127.0.0.1 ip 127.0.0.1 &&
    pki_issue_client "$P/ca" "$P/ca/client1" "$(client_tpl virtpp client1)" &&
    pki_issue_client "$P/ca" "$P/ca/client2" "$(client_tpl 'Red Hat, Inc.' client2)" &&
    pki_issue_client "$P/ca" "$P/ca/client3" "$(client_tpl virtpp client3)" &&
    pki_issue_client "$P/ca" "$P/ca/client9" "$(client_tpl virtpp client9)" &&
    pki_issue_client "$P/other" "$P/other/rogue" "$(client_tpl virtpp rogue)" &&
    pki_client_dir "$P/c1" "$P/ca" "$P/ca/client1" &&
    pki_client_dir "$P/c2" "$P/ca" "$P/ca/client2" &&
    pki_client_dir "$P/c3" "$P/ca" "$P/ca/client3" &&
    pki_client_dir "$P/c9" "$P/ca" "$P/ca/client9" &&
    pki_client_dir "$P/rogue" "$P/ca" "$P/other/rogue" &&
    mkdir -p "$P/nocert" && cp "$P/ca/cacert.pem" "$P/nocert/" &&
    pki_revoke "$P/ca" "$P/ca/crl.pem" "$P/ca/client3cert.pem"
} || { echo "certtool failed:"; cat "$P"/*/*.log; exit 1; }
DN1=$(pki_dn "$P/ca/client1cert.pem")
echo "client1 DN (GnuTLS): $DN1"

# ---- bookkeeping -------------------------------------------------------------------------------
PASS=0 FAIL=0
ok() { PASS=$((PASS + 1)); }
bad() { FAIL=$((FAIL + 1)); echo "FAIL: $*"; }

# libvirt's client logs warnings on stderr with a time stamp and a PID
mask() {
    sed -E -e "s#$SVC_WORK/[A-Za-z0-9_-]+/#WORK/#g" -e 's#(127\.0\.0\.1|localhost):[0-9]+#\1:PORT#g' \
           -e 's/^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:.]+\+[0-9]{4}: [0-9]+: /LOG: /'
}
# virtpp writes no log lines of its own: compare it with virsh without them
nolog() { grep -v '^LOG: ' || true; }

GROUP= DAEMONS=() CONF=()
declare -A LOGMARK=()

start_group() {  # name daemons("V" or "V L") conf-lines...
    local d
    for d in "${DAEMONS[@]}"; do svc_stop "$d"; done
    GROUP=$1; read -r -a DAEMONS <<<"$2"; shift 2
    CONF=("listen_tls = 1" "$@")
    start_virtppd || return 1
    if [[ " ${DAEMONS[*]} " == *" L "* ]]; then
        svc_start_daemon libvirtd L "$LIBVIRTD" "${CONF[@]}" || { bad "$GROUP: libvirtd did not start"; return 1; }
    fi
}
start_virtppd() {
    svc_start_daemon virtppd V "$VIRTPPD" "${CONF[@]}" "log_outputs = \"2:file:$SVC_WORK/V/log/daemon.log\"" ||
        { bad "$GROUP: virtppd did not start"; return 1; }
}

run_client() {  # client daemon uri -> OUT/<tag>.{out,err,rc}
    local client=$1 d=$2 uri=$3 f=$OUT/$TAG.$1@$2
    case $client in
        virsh) timeout 20 virsh -c "$uri" list --all >"$f.out" 2>"$f.err" ;;
        virtpp) timeout 20 "$VIRTPP" -c "$uri" list --all >"$f.out" 2>"$f.err" ;;
        python) timeout 20 /usr/bin/python3 - "$uri" >"$f.out" 2>"$f.err" <<'PY' ;;
import sys, libvirt
libvirt.registerErrorHandler(lambda ctx, err: None, None)
try:
    c = libvirt.open(sys.argv[1])
    print(sorted(d.name() for d in c.listAllDomains()), c.getLibVersion())
    c.close()
except libvirt.libvirtError as e:
    print("libvirtError:", e.get_error_code(), e.get_error_domain(), e.get_error_message())
    sys.exit(1)
PY
    esac
    echo "rc=$?" >"$f.rc"
    mask <"$f.out" >"$f.out.m"; mask <"$f.err" >"$f.err.m"
}

same() {  # a b what
    if cmp -s "$1.rc" "$2.rc" && cmp -s "$1.out.m" "$2.out.m" && cmp -s "$1.err.m" "$2.err.m"; then ok; else
        bad "$TAG: $3 differ"
        diff <(cat "$1.rc" "$1.out.m" "$1.err.m") <(cat "$2.rc" "$2.out.m" "$2.err.m") | head -12
    fi
}
same_nolog() {
    if cmp -s "$1.rc" "$2.rc" && cmp -s "$1.out.m" "$2.out.m" && cmp -s <(nolog <"$1.err.m") <(nolog <"$2.err.m"); then ok; else
        bad "$TAG: $3 differ"
        diff <(cat "$1.rc" "$1.out.m"; nolog <"$1.err.m") <(cat "$2.rc" "$2.out.m"; nolog <"$2.err.m") | head -12
    fi
}

# tls_case LABEL PKIDIR HOST PARAMS EXPECT(ok|refused) CLIENTS LOG-REGEX
# Every client in CLIENTS against every daemon of the group; EXPECT and LOG-REGEX (a line virtppd
# must log for this connection, empty: none required) are checked on virtppd.
tls_case() {
    local label=$1 pki=$2 host=$3 params=$4 expect=$5 clients=$6 logre=$7 c d f
    TAG=$GROUP.$label
    local before; before=$(wc -l <"${SVC_LOG[V]}")
    for c in $clients; do
        for d in "${DAEMONS[@]}"; do
            run_client "$c" "$d" "test+tls://$host:${SVC_TLS_PORT[$d]}/default?pkipath=$P/$pki$params"
        done
        f=$OUT/$TAG.$c@V
        if [[ $expect == ok ]]; then
            if [[ $(<"$f.rc") == rc=0 ]] && grep -q 'test' "$f.out"; then ok; else bad "$TAG: $c was not served"; cat "$f.err"; fi
        else
            if [[ $(<"$f.rc") != rc=0 ]] && grep -Eq '^(error: |libvirtError: ).+' "$f.err" "$f.out"; then ok; else
                bad "$TAG: $c was not refused with an error"; cat "$f.out" "$f.err"
            fi
        fi
        [[ " ${DAEMONS[*]} " == *" L "* ]] && same "$OUT/$TAG.$c@V" "$OUT/$TAG.$c@L" "$c against virtppd and libvirtd"
    done
    if [[ " $clients " == *" virsh "* && " $clients " == *" virtpp "* ]]; then
        same_nolog "$OUT/$TAG.virtpp@V" "$OUT/$TAG.virsh@V" "virtpp and virsh against virtppd"
    fi
    if [[ -n $logre ]]; then
        sleep 0.2
        if tail -n +"$((before + 1))" "${SVC_LOG[V]}" | grep -Eq "$logre"; then ok; else
            bad "$TAG: virtppd logged no line matching /$logre/"; tail -n +"$((before + 1))" "${SVC_LOG[V]}" | head
        fi
    fi
    if ! kill -0 "${SVC_PID[V]:-0}" 2>/dev/null; then
        bad "$TAG: virtppd died: $(tail -2 "$SVC_WORK/V/log/stdout" | tr '\n' ' ')"
        cp "$SVC_WORK/V/log/daemon.log" "$OUT/$TAG.virtppd-died.log"
        svc_stop V; start_virtppd
    fi
}

REFUSED='client 127\.0\.0\.1:[0-9]+: closed: refused'
GONE='client 127\.0\.0\.1:[0-9]+: closed: (disconnected|TLS)'

# ---- the cases ---------------------------------------------------------------------------------
mapfile -t SRV < <(pki_server_conf "$P/ca" "$P/ca/server")
if start_group default "V L" "${SRV[@]}"; then
    tls_case happy c1 localhost '' ok "virsh virtpp" 'opened .test:///default. read-write'
    ((HAVE_PY)) && tls_case python c1 localhost '' ok python ''
    tls_case wrong-host c1 127.0.0.1 '' refused "virsh virtpp" "$GONE"
    tls_case no-verify c1 127.0.0.1 '&no_verify=1' ok "virsh virtpp" 'opened'
    tls_case no-client-cert nocert localhost '' refused "virsh virtpp" "$REFUSED"
    ((HAVE_PY)) && tls_case python-no-cert nocert localhost '' refused python "$REFUSED"
    # libvirt's client refuses to offer a certificate its own CA did not sign (its sanity check
    # of its own files, before connecting), and so does virtpp's; no_sanity=1 skips that check
    tls_case rogue-sanity rogue localhost '' refused "virsh virtpp" ''
    tls_case rogue-client rogue localhost '&no_sanity=1' refused "virsh virtpp" "$REFUSED.*(issuer|certificate)"
fi

mapfile -t SRV_OTHER < <(printf 'ca_file = "%s"\ncert_file = "%s"\nkey_file = "%s"\n' \
    "$P/ca/cacert.pem" "$P/other/servercert.pem" "$P/other/serverkey.pem")
if start_group wrong-ca "V L" "${SRV_OTHER[@]}" "tls_no_sanity_certificate = 1"; then
    tls_case server-other-ca c1 localhost '' refused "virsh virtpp" "$GONE"
    tls_case server-other-ca-no-verify c1 localhost '&no_verify=1' ok "virsh virtpp" 'opened'
fi

# without tls_no_sanity_certificate, neither daemon starts with a certificate its own CA did not sign
for d in "${DAEMONS[@]}"; do svc_stop "$d"; done
DAEMONS=()
for kind in virtppd libvirtd; do
    bin=$VIRTPPD; [[ $kind == libvirtd ]] && bin=$LIBVIRTD
    if svc_start_daemon "$kind" S "$bin" "listen_tls = 1" "${SRV_OTHER[@]}" 2>"$OUT/sanity.$kind.err"; then
        bad "$kind started with a server certificate another CA signed"
        svc_stop S
    elif grep -q "Our own certificate .*other/servercert.pem failed validation against .*ca/cacert.pem: The certificate hasn't got a known issuer" \
            "$OUT/sanity.$kind.err"; then
        ok
    else
        bad "$kind's refusal: $(cat "$OUT/sanity.$kind.err")"
    fi
done

if start_group dn-list "V L" "${SRV[@]}" "tls_allowed_dn_list = [ \"$DN1\", \"*,CN=client2\" ]"; then
    tls_case exact-dn c1 localhost '' ok "virsh virtpp" 'opened'
    tls_case wildcard-dn c2 localhost '' ok "virsh virtpp" 'opened'
    tls_case dn-not-listed c9 localhost '' refused "virsh virtpp" "$REFUSED.*Distinguished Name"
fi
if start_group dn-list-empty "V L" "${SRV[@]}" "tls_allowed_dn_list = [ ]"; then
    tls_case empty-dn-list c1 localhost '' refused "virsh virtpp" "$REFUSED.*Distinguished Name"
fi

if start_group no-verify-cert "V L" "${SRV[@]}" "tls_no_verify_certificate = 1" "tls_allowed_dn_list = [ \"$DN1\" ]"; then
    tls_case no-cert-allowed nocert localhost '' ok "virsh virtpp" ''
    tls_case rogue-allowed rogue localhost '&no_sanity=1' ok "virsh virtpp" 'allowed by tls_no_verify_certificate'
    tls_case dn-allowed c9 localhost '' ok "virsh virtpp" 'allowed by tls_no_verify_certificate'
fi

if start_group crl "V L" "${SRV[@]}" "crl_file = \"$P/ca/crl.pem\""; then
    tls_case revoked c3 localhost '' refused "virsh virtpp" "$REFUSED.*(revoked|certificate)"
    tls_case not-revoked c1 localhost '' ok "virsh virtpp" 'opened'
fi

# the seed's address list: libvirtd 9.0 no longer has it, so virtppd alone
if start_group ip-list "V" "${SRV[@]}" "tls_allowed_ip_list = [ \"10.*\", \"192.168.*\" ]"; then
    tls_case ip-not-listed c1 localhost '' refused "virsh virtpp" 'refused client 127\.0\.0\.1:[0-9]+: address not in tls_allowed_ip_list'
fi
if start_group ip-list-match "V" "${SRV[@]}" "tls_allowed_ip_list = [ \"10.*\", \"127.0.0.*\" ]"; then
    tls_case ip-wildcard c1 localhost '' ok "virsh virtpp" 'opened'
fi
if start_group ip-no-verify "V" "${SRV[@]}" "tls_allowed_ip_list = [ \"10.*\" ]" "tls_no_verify_address = 1"; then
    tls_case ip-allowed c1 localhost '' ok "virsh virtpp" 'allowed by tls_no_verify_address'
fi

mapfile -t SRV_IP < <(pki_server_conf "$P/ca" "$P/ca/server-ip")
if start_group server-ip "V L" "${SRV_IP[@]}"; then
    tls_case ip-name c1 127.0.0.1 '' ok "virsh virtpp" 'opened'
    tls_case ip-cert-hostname c1 localhost '' refused "virsh virtpp" "$GONE"
fi

echo "remote_tls_virtppd: $PASS passed, $FAIL failed (outputs in $OUT; VIRTPP_KEEP_WORK=1 keeps them)"
((FAIL == 0))
