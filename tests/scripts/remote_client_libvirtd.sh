#!/usr/bin/env bash
# virtpp's remote client against a real libvirtd (Debian's libvirt 9.0): a private daemon with
# plain TCP, TLS (certificates made here with certtool) and unix sockets in a scratch directory,
# no stateful drivers loaded (interop.md §1). Runs the remote_libvirtd gtest cases once per
# transport: tcp, unix, tls, ext (socat or nc to the unix socket) and ssh (a stand-in ssh that runs
# libvirt's remote netcat command locally); then the TLS refusals; then kills the daemon under a
# live connection. Skips (77) without root, libvirtd or certtool.
set -uo pipefail

BIN=${VIRTPP_TEST_BINARY:-${VIRTPP_BINARY_DIR:-}/tests/virtpp_unit_tests}
LIBVIRTD=/usr/sbin/libvirtd
if [[ $(id -u) -ne 0 ]]; then echo "skip: needs root to run libvirtd"; exit 77; fi
if [[ ! -x $LIBVIRTD ]]; then echo "skip: $LIBVIRTD is not installed"; exit 77; fi
if [[ ! -x $BIN ]]; then echo "skip: unit test binary $BIN not built"; exit 77; fi
have_certtool=1
command -v certtool >/dev/null || have_certtool=0

WORK=$(mktemp -d /tmp/virtpp-remote-client.XXXXXX)
PID=
cleanup() {
  if [[ -n $PID ]] && kill -0 "$PID" 2>/dev/null; then kill "$PID"; wait "$PID" 2>/dev/null; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
mkdir -p "$WORK/run" "$WORK/log" "$WORK/nodrivers" "$WORK/pki" "$WORK/otherpki" "$WORK/client"

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
TCP_PORT=$(free_port)
TLS_PORT=$(free_port)

# ---- certificates, as the seed's "Generating TLS certificates" section makes them ------------
make_ca() {  # dir name
  certtool --generate-privkey --outfile "$1/cakey.pem" 2>/dev/null &&
  printf 'cn = %s\nca\ncert_signing_key\nexpiration_days = 30\n' "$2" > "$1/ca.info" &&
  certtool --generate-self-signed --load-privkey "$1/cakey.pem" --template "$1/ca.info" --outfile "$1/cacert.pem" >/dev/null 2>&1
}
issue() {  # ca-dir out-prefix template-text
  certtool --generate-privkey --outfile "$2key.pem" 2>/dev/null &&
  printf '%b' "$3" > "$2.info" &&
  certtool --generate-certificate --load-privkey "$2key.pem" --load-ca-certificate "$1/cacert.pem" \
    --load-ca-privkey "$1/cakey.pem" --template "$2.info" --outfile "$2cert.pem" >/dev/null 2>&1
}
listen_tls=0
if ((have_certtool)); then
  make_ca "$WORK/pki" "virtpp test CA" &&
  issue "$WORK/pki" "$WORK/pki/server" 'organization = virtpp\ncn = localhost\ndns_name = localhost\ntls_www_server\nencryption_key\nsigning_key\nexpiration_days = 30\n' &&
  issue "$WORK/pki" "$WORK/client/client" 'country = GB\norganization = virtpp\ncn = client1\ntls_www_client\nencryption_key\nsigning_key\nexpiration_days = 30\n' &&
  cp "$WORK/pki/cacert.pem" "$WORK/client/cacert.pem" &&
  make_ca "$WORK/otherpki" "some other CA" &&
  mkdir -p "$WORK/wrongca" && cp "$WORK/otherpki/cacert.pem" "$WORK/wrongca/cacert.pem" &&
  cp "$WORK/client/clientcert.pem" "$WORK/client/clientkey.pem" "$WORK/wrongca/" && listen_tls=1
  ((listen_tls)) || echo "warning: certtool failed; TLS cases skipped"
else
  echo "note: certtool (gnutls-bin) missing; TLS cases skipped"
fi

cat > "$WORK/libvirtd.conf" <<EOF
listen_tls = $listen_tls
listen_tcp = 1
tcp_port = "$TCP_PORT"
tls_port = "$TLS_PORT"
listen_addr = "127.0.0.1"
auth_tcp = "none"
auth_tls = "none"
auth_unix_ro = "none"
auth_unix_rw = "none"
key_file = "$WORK/pki/serverkey.pem"
cert_file = "$WORK/pki/servercert.pem"
ca_file = "$WORK/pki/cacert.pem"
unix_sock_dir = "$WORK/run"
unix_sock_group = "root"
unix_sock_ro_perms = "0777"
unix_sock_rw_perms = "0770"
keepalive_interval = 1
keepalive_count = 3
log_level = 3
log_outputs = "3:file:$WORK/log/libvirtd.log"
EOF

LIBVIRT_DRIVER_DIR=$WORK/nodrivers $LIBVIRTD --listen -f "$WORK/libvirtd.conf" -p "$WORK/run/libvirtd.pid" \
  > "$WORK/log/libvirtd.stdout" 2>&1 &
PID=$!
for _ in $(seq 100); do
  [[ -S $WORK/run/libvirt-sock ]] && /usr/bin/python3 -c "import socket; socket.create_connection(('127.0.0.1', $TCP_PORT)).close()" 2>/dev/null && break
  sleep 0.1
done
if ! kill -0 "$PID" 2>/dev/null; then
  echo "libvirtd did not start:"; cat "$WORK/log/libvirtd.stdout" "$WORK/log/libvirtd.log" 2>/dev/null; exit 1
fi

# ext: a command that joins stdin/stdout to the daemon's socket (libvirt runs it without arguments)
ext_uri=
if command -v socat >/dev/null; then
  printf '#!/bin/sh\nexec socat - UNIX-CONNECT:%s\n' "$WORK/run/libvirt-sock" > "$WORK/ext-cmd"
elif command -v nc >/dev/null; then
  printf '#!/bin/sh\nexec nc -U %s\n' "$WORK/run/libvirt-sock" > "$WORK/ext-cmd"
fi
if [[ -f $WORK/ext-cmd ]]; then chmod +x "$WORK/ext-cmd"; ext_uri="test+ext:///default?command=$WORK/ext-cmd"; else echo "note: neither socat nor nc; ext skipped"; fi

# ssh: a stand-in for ssh that checks libvirt's option layout and runs the remote command here
ssh_uri=
if command -v nc >/dev/null; then
  cat > "$WORK/fake-ssh" <<'EOF'
#!/bin/sh
# virtpp test stand-in for ssh: options up to "--", then the host, then the remote command
while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do shift; done
[ "$1" = "--" ] || { echo "fake-ssh: no -- in argv" >&2; exit 2; }
shift; shift
exec sh -c "$1"
EOF
  chmod +x "$WORK/fake-ssh"
  ssh_uri="test+ssh://localhost/default?command=$WORK/fake-ssh&socket=$WORK/run/libvirt-sock"
else
  echo "note: nc (netcat-openbsd) missing; ssh skipped"
fi

status=0
run() {  # label, env assignments..., gtest filter last
  local label=$1; shift
  echo "=== $label"
  local out
  out=$(env "$@" "$BIN" --gtest_filter="$FILTER" --gtest_brief=1 2>&1)
  local rc=$?
  echo "$out"
  # a filter that matches nothing is a broken test, not a pass
  if ((rc)) || grep -q '^\[==========\] 0 tests' <<<"$out"; then
    echo "FAILED: $label"; status=1
  fi
}
FILTER='remote_libvirtd.*:-remote_libvirtd.daemon_death*:remote_libvirtd.tls_refusals'
run tcp  VIRTPP_TEST_REMOTE_URI="test+tcp://127.0.0.1:$TCP_PORT/default" VIRTPP_TEST_REMOTE_RO_URI="test+unix:///default?socket=$WORK/run/libvirt-sock-ro"
run unix VIRTPP_TEST_REMOTE_URI="test+unix:///default?socket=$WORK/run/libvirt-sock"
[[ -n $ext_uri ]] && run ext VIRTPP_TEST_REMOTE_URI="$ext_uri"
[[ -n $ssh_uri ]] && run ssh VIRTPP_TEST_REMOTE_URI="$ssh_uri"
if ((listen_tls)); then
  run tls VIRTPP_TEST_REMOTE_URI="test+tls://localhost:$TLS_PORT/default?pkipath=$WORK/client"
  FILTER='remote_libvirtd.tls_refusals'
  run tls-refusals VIRTPP_TEST_REMOTE_URI="test+tls://localhost:$TLS_PORT/default?pkipath=$WORK/client" \
    VIRTPP_TEST_REMOTE_TLS_WRONG_CA_URI="test+tls://localhost:$TLS_PORT/default?pkipath=$WORK/wrongca" \
    VIRTPP_TEST_REMOTE_TLS_WRONG_HOST_URI="test+tls://127.0.0.1:$TLS_PORT/default?pkipath=$WORK/client" \
    VIRTPP_TEST_REMOTE_TLS_NO_VERIFY_URI="test+tls://127.0.0.1:$TLS_PORT/default?pkipath=$WORK/client&no_verify=1"
fi
FILTER='remote_libvirtd.daemon_death*'
run daemon-death VIRTPP_TEST_REMOTE_URI="test+tcp://127.0.0.1:$TCP_PORT/default" VIRTPP_TEST_REMOTE_KILL_PID="$PID"
wait "$PID" 2>/dev/null
PID=
rm -f /run/libvirt/common/system.token  # the one file root libvirtd writes outside WORK

if ((status)); then
  echo "--- libvirtd log"; tail -40 "$WORK/log/libvirtd.log" 2>/dev/null
fi
exit $status
