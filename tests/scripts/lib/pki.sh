# Shared helpers for tests/scripts: X.509 certificates made with certtool (gnutls-bin) the way the
# seed's "Generating TLS certificates" section makes them, laid out as libvirt reads them.
#
#   . "$VIRTPP_SOURCE_DIR/tests/scripts/lib/pki.sh"
#   pki_make_ca     DIR "CN of the CA"                      -> DIR/cacert.pem, DIR/cakey.pem
#   pki_issue_server CA-DIR OUT-PREFIX CN [dns|ip NAME]...  -> OUT-PREFIXcert.pem, OUT-PREFIXkey.pem
#   pki_issue_client CA-DIR OUT-PREFIX "template lines"     -> same (template: country = GB\ncn = x ...)
#   pki_client_dir  DIR CA-DIR CLIENT-PREFIX                -> a pkipath= directory (cacert.pem,
#                                                              clientcert.pem, clientkey.pem)
#   pki_server_conf CA-DIR SERVER-PREFIX                    -> libvirtd.conf lines (one per line)
#   pki_revoke      CA-DIR OUT-CRL CERT...                  -> a CRL of the CA revoking CERTs
#   pki_dn          CERT                                    -> the subject DN as GnuTLS prints it
#                                                              (what tls_allowed_dn_list matches)
# Every function returns non-zero when certtool fails; its messages go to OUT-PREFIX.log / DIR/*.log.

pki_available() { command -v certtool >/dev/null; }

pki_make_ca() {  # dir cn
    mkdir -p "$1"
    certtool --generate-privkey --outfile "$1/cakey.pem" >"$1/ca.log" 2>&1 &&
    printf 'cn = %s\nca\ncert_signing_key\ncrl_signing_key\nexpiration_days = 30\n' "$2" > "$1/ca.info" &&
    certtool --generate-self-signed --load-privkey "$1/cakey.pem" --template "$1/ca.info" \
        --outfile "$1/cacert.pem" >>"$1/ca.log" 2>&1
}

_pki_issue() {  # ca-dir out-prefix template-text
    mkdir -p "$(dirname "$2")"
    certtool --generate-privkey --outfile "$2key.pem" >"$2.log" 2>&1 &&
    printf '%b' "$3" > "$2.info" &&
    certtool --generate-certificate --load-privkey "$2key.pem" --load-ca-certificate "$1/cacert.pem" \
        --load-ca-privkey "$1/cakey.pem" --template "$2.info" --outfile "$2cert.pem" >>"$2.log" 2>&1
}

pki_issue_server() {  # ca-dir out-prefix cn [dns NAME | ip ADDR]...
    local ca=$1 out=$2 cn=$3 t; shift 3
    t="organization = virtpp test\ncn = $cn\n"
    while (($# >= 2)); do
        case $1 in
            dns) t+="dns_name = $2\n" ;;
            ip) t+="ip_address = $2\n" ;;
        esac
        shift 2
    done
    t+='tls_www_server\nencryption_key\nsigning_key\nexpiration_days = 30\n'
    _pki_issue "$ca" "$out" "$t"
}

pki_issue_client() {  # ca-dir out-prefix template-lines (without the usage lines)
    _pki_issue "$1" "$2" "$3\ntls_www_client\nencryption_key\nsigning_key\nexpiration_days = 30\n"
}

pki_client_dir() {  # dir ca-dir client-prefix
    mkdir -p "$1" &&
    cp "$2/cacert.pem" "$1/cacert.pem" &&
    cp "$3cert.pem" "$1/clientcert.pem" &&
    cp "$3key.pem" "$1/clientkey.pem"
}

pki_server_conf() {  # ca-dir server-prefix
    printf 'ca_file = "%s"\ncert_file = "%s"\nkey_file = "%s"\n' "$1/cacert.pem" "$2cert.pem" "$2key.pem"
}

pki_revoke() {  # ca-dir out-crl cert...
    local ca=$1 out=$2; shift 2
    # certtool takes one --load-certificate file holding every revoked certificate
    cat "$@" > "$out.revoked"
    printf 'crl_next_update = 30\ncrl_number = 1\n' > "$out.info"
    certtool --generate-crl --load-ca-privkey "$ca/cakey.pem" --load-ca-certificate "$ca/cacert.pem" \
        --load-certificate "$out.revoked" --template "$out.info" --outfile "$out" >"$out.log" 2>&1
}

pki_dn() {  # cert: GnuTLS's own rendering (virt-pki-query-dn when installed, else certtool -i)
    if command -v virt-pki-query-dn >/dev/null; then
        virt-pki-query-dn "$1"
    else
        certtool -i --infile "$1" | sed -n 's/^[[:space:]]*Subject: //p' | head -1
    fi
}
