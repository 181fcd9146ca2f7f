#!/usr/bin/env bash
# virtppd's start-up checks: libvirtd.conf keys and values, options, pid file and --timeout.
set -u
BIN=${VIRTPP_BINARY_DIR:?}/tools/virtppd
[ -x "$BIN" ] || { echo "virtppd not built"; exit 77; }
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
fail=0
expect_error() {  # name pattern config-text
    printf '%s\n' "$3" > "$W/$1.conf"
    printf 'unix_sock_dir = "%s"\n' "$W/run-$1" >> "$W/$1.conf"
    if timeout 5 "$BIN" -f "$W/$1.conf" -t 1 >"$W/$1.out" 2>&1; then
        echo "FAIL $1: started"; fail=$((fail+1))
    elif grep -q -- "$2" "$W/$1.out"; then echo "ok   $1"; else echo "FAIL $1:"; cat "$W/$1.out"; fail=$((fail+1)); fi
}
expect_error nested-lists ":1: lists nested deeper than 16 levels" "tls_allowed_dn_list = $(printf '[%.0s' $(seq 1 100000))"
expect_error bool-range ":1: value for 'listen_tcp' parameter must be 0 or 1" 'listen_tcp = 2'
expect_error bool-type ":1: expected a bool (0 or 1) for 'listen_tls'" 'listen_tls = "yes"'
expect_error string-type ":3: expected a string for 'tcp_port'" $'# comment\n\ntcp_port = 16509'
expect_error list-type "expected a string list for 'tls_allowed_dn_list'" 'tls_allowed_dn_list = "CN=x"'
expect_error list-syntax ":1: list is not closed with ]" 'tls_allowed_ip_list = [ "127.0.0.1" "10.*" ]'
expect_error unterminated ":1: unterminated string" 'listen_addr = "127.0.0.1'
expect_error no-assign ":1: expecting an assignment" 'listen_addr "x"'
expect_error auth-sasl "supports only \"none\"" 'auth_tcp = "sasl"'
expect_error auth-bogus "unknown authentication type" 'auth_unix_rw = "bogus"'
expect_error perms "must be an octal mode" 'unix_sock_rw_perms = "rwx"'
expect_error uint-neg "must be in range 0:" 'max_workers = -1'
if "$BIN" -f "$W/missing.conf" -t 1 >"$W/missing.out" 2>&1 || ! grep -q "cannot read the configuration file" "$W/missing.out"; then
    echo "FAIL missing file"; fail=$((fail+1)); else echo "ok   missing file"; fi
# a key nobody knows: libvirtd 9.0 starts and ignores it; virtppd starts too and says so
printf 'listen_tcp = 0\nno_such_key = 1\nunix_sock_dir = "%s"\n' "$W/run-unknown" > "$W/unknown.conf"
if timeout 5 "$BIN" -f "$W/unknown.conf" -t 1 >"$W/unknown.out" 2>&1 &&
   grep -q "unknown.conf:2: unknown setting 'no_such_key' ignored" "$W/unknown.out"; then
    echo "ok   unknown key ignored with a warning"
else echo "FAIL unknown key:"; cat "$W/unknown.out"; fail=$((fail+1)); fi
# every key of libvirtd 9.0's libvirtd.conf is accepted; the ones not acted on are named in a warning
cat > "$W/all.conf" <<CONF
listen_tls = 0
listen_tcp = 0
tls_port = "16514"
tcp_port = "16509"
listen_addr = "127.0.0.1"
unix_sock_group = "root"
unix_sock_ro_perms = "0777"
unix_sock_rw_perms = "0770"
unix_sock_admin_perms = "0700"
unix_sock_dir = "$W/run-all"
auth_unix_ro = "none"
auth_unix_rw = "none"
auth_tcp = "none"
auth_tls = "none"
tcp_min_ssf = 112
access_drivers = [ "polkit" ]
key_file = "/etc/pki/libvirt/private/serverkey.pem"
cert_file = "/etc/pki/libvirt/servercert.pem"
ca_file = "/etc/pki/CA/cacert.pem"
crl_file = "/etc/pki/CA/crl.pem"
tls_no_sanity_certificate = 1
tls_no_verify_certificate = 1
tls_allowed_dn_list = ["DN1", "DN2"]
tls_priority="NORMAL"
sasl_allowed_username_list = ["joe@EXAMPLE.COM", "fred@EXAMPLE.COM" ]
max_clients = 5000
max_queued_clients = 1000
max_anonymous_clients = 20
min_workers = 5
max_workers = 20
prio_workers = 5
max_client_requests = 5
admin_min_workers = 1
admin_max_workers = 5
admin_max_clients = 5
admin_max_queued_clients = 5
admin_max_client_requests = 5
log_level = 3
log_filters="1:qemu 1:libvirt 4:object 4:json 4:event 1:util"
log_outputs="3:stderr"
audit_level = 2
audit_logging = 1
host_uuid = "00000000-0000-0000-0000-000000000000"
host_uuid_source = "smbios"
keepalive_interval = 5
keepalive_count = 5
keepalive_required = 1
admin_keepalive_interval = 5
admin_keepalive_count = 5
admin_keepalive_required = 1
ovs_timeout = 5
# the seed's keys
tls_allowed_ip_list = [ "127.0.0.1", "192.168.*",
                        "::1" ]  # trailing comments too
tls_no_verify_address = 0
CONF
if timeout 10 "$BIN" -f "$W/all.conf" -t 1 -p "$W/all.pid" >"$W/all.out" 2>&1; then
    if grep -q "'tcp_min_ssf' is accepted but virtppd does not act on it" "$W/all.out" && [ ! -e "$W/all.pid" ]; then
        echo "ok   every libvirtd 9.0 key accepted; --timeout exits; pid file removed"
    else echo "FAIL all keys: warnings/pid"; cat "$W/all.out"; fail=$((fail+1)); fi
else echo "FAIL all keys:"; cat "$W/all.out"; fail=$((fail+1)); fi
# options
"$BIN" --version | grep -q '^virtppd (virtpp) ' && echo "ok   --version" || { echo "FAIL --version"; fail=$((fail+1)); }
"$BIN" --help | grep -q -- '-t | --timeout <secs>' && echo "ok   --help" || { echo "FAIL --help"; fail=$((fail+1)); }
"$BIN" --bogus >/dev/null 2>&1 && { echo "FAIL --bogus accepted"; fail=$((fail+1)); } || echo "ok   unknown option refused"
"$BIN" -t abc >/dev/null 2>&1 && { echo "FAIL -t abc accepted"; fail=$((fail+1)); } || echo "ok   bad timeout refused"
# -d daemonizes and writes the pid file; the daemon is a different process and serves
printf 'unix_sock_dir = "%s"\n' "$W/run-d" > "$W/d.conf"
if "$BIN" -d -f "$W/d.conf" -p "$W/d.pid" -t 3; then
    pid=$(cat "$W/d.pid"); [ -S "$W/run-d/libvirt-sock" ] && kill -0 "$pid" && echo "ok   -d detached, pid $pid serving" || { echo "FAIL -d"; fail=$((fail+1)); }
    for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && { echo "FAIL --timeout did not exit"; kill "$pid"; fail=$((fail+1)); } || echo "ok   idle daemon exited after --timeout"
else echo "FAIL -d"; fail=$((fail+1)); fi
echo "$fail failures"; [ $fail = 0 ]
