#!/usr/bin/env bash
# The Debian package: scripts/package.sh builds it (a tree configured for /usr, then cpack -G
# DEB); its control data and contents are checked; it is installed with dpkg into a scratch root
# (dpkg --root: the machine's own dpkg database and files are untouched), the installed virtppd is
# started as systemd would start virtppd.service through its sockets (systemd-socket-activate
# passes the listening sockets, a stand-in NOTIFY_SOCKET takes sd_notify), stock virsh uses it,
# and it stops; then the package is purged and nothing of it stays.
set -u
src=${VIRTPP_SOURCE_DIR:?} bin=${VIRTPP_BINARY_DIR:?}
if [[ ${VIRTPP_SANITIZE:-0} == 1 ]]; then echo "sanitizer build: the package is built from the release sources"; exit 77; fi
for tool in dpkg dpkg-deb cpack; do command -v $tool >/dev/null || { echo "skip: no $tool"; exit 77; }; done
W=$(mktemp -d)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
    rm -rf "$W"
}
trap cleanup EXIT
fail=0
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; fail=$((fail + 1)); }
wait_for() { local n=$(($1 * 10)); shift; while ((n-- > 0)); do "$@" && return 0; sleep 0.1; done; return 1; }

deb=$("$src/scripts/package.sh" "$bin/package") || { echo "FAIL building the package"; exit 1; }
deb=$(tail -1 <<<"$deb")
ok "built $(basename "$deb") ($(du -h "$deb" | cut -f1))"

# ---- control data
info=$(dpkg-deb -I "$deb")
grep -q "^ Package: virtpp$" <<<"$info" && grep -q "^ Depends:.*libc6" <<<"$info" && ok "control: virtpp, depends on libc6" || bad "control: $info"
for script in postinst prerm postrm conffiles; do
    grep -q " $script" <<<"$info" || bad "control member $script missing"
done
[[ $(dpkg-deb -f "$deb" Architecture) == amd64 ]] || bad "architecture $(dpkg-deb -f "$deb" Architecture)"
dpkg-deb -e "$deb" "$W/control"
grep -qx "/etc/virtpp/virtppd.conf" "$W/control/conffiles" && ok "conffiles: /etc/virtpp/virtppd.conf" || bad "conffiles: $(cat "$W/control/conffiles")"

# ---- contents
contents=$(dpkg-deb -c "$deb" | awk '{print $6}' | sed 's@^\./@/@')
for f in /usr/bin/virtpp /usr/bin/virtpp-xml-validate /usr/sbin/virtppd \
         /usr/share/man/man1/virtpp.1.gz /usr/share/man/man8/virtppd.8.gz /usr/share/man/man5/virtppd.conf.5.gz \
         /usr/share/man/man1/virtpp-xml-validate.1.gz /usr/share/bash-completion/completions/virtpp \
         /usr/lib/systemd/system/virtppd.service /usr/lib/systemd/system/virtppd.socket \
         /usr/lib/systemd/system/virtppd-ro.socket /usr/lib/tmpfiles.d/virtpp.conf /etc/virtpp/virtppd.conf \
         /usr/share/doc/virtpp/copyright /usr/share/doc/virtpp/LICENSE /usr/include/virtpp/connection.hpp \
         /usr/share/virtpp/schemas/domain.xsd; do
    grep -qx "$f" <<<"$contents" || bad "the package lacks $f"
done
grep -q "/pkgconfig/virtpp.pc$" <<<"$contents" && grep -q "/cmake/virtpp/virtppConfig.cmake$" <<<"$contents" || bad "no virtpp.pc / CMake package"
ok "contents: tools, man pages, completion, units, tmpfiles.d, config, licence, headers, schemas"

# ---- install into a scratch root
root=$W/root
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates"
: >"$root/var/lib/dpkg/status"
# chrootless: the maintainer scripts run here with DPKG_ROOT set, and then leave systemd alone
if dpkg --root="$root" --force-depends --force-script-chrootless --log=/dev/null -i "$deb" >"$W/install.out" 2>&1; then
    ok "dpkg -i into a scratch root"
else bad "dpkg -i: $(cat "$W/install.out")"; fi
[[ $(dpkg --root="$root" -s virtpp 2>/dev/null | grep '^Status') == "Status: install ok installed" ]] || bad "dpkg does not list virtpp installed"

# the tools: stripped (debug information split out) and a single binary each
for t in usr/bin/virtpp usr/bin/virtpp-xml-validate usr/sbin/virtppd; do
    if readelf -S "$root/$t" | grep -qE '\.debug_info|\.symtab'; then bad "$t is not stripped"; fi
    readelf -S "$root/$t" | grep -q '\.gnu_debuglink' || bad "$t has no debug link"
    size=$(stat -c %s "$root/$t")
    ((size < 24 * 1024 * 1024)) || bad "$t is $((size / 1024 / 1024)) MiB"
done
ok "tools stripped with a debug link: virtpp $(($(stat -c %s "$root/usr/bin/virtpp") / 1024 / 1024)) MiB"
[[ $("$root/usr/bin/virtpp" -c test:///default list --name) == test* ]] && ok "installed virtpp runs" || bad "installed virtpp"
# the schemas are found where the package put them (the path compiled into the tool)
if grep -q "/usr/share/virtpp/schemas" "$root/usr/bin/virtpp-xml-validate" ||
   strings "$root/usr/bin/virtpp-xml-validate" | grep -q "^/usr/share/virtpp/schemas"; then
    ok "installed virtpp-xml-validate looks for /usr/share/virtpp/schemas"
else bad "virtpp-xml-validate does not name /usr/share/virtpp/schemas"; fi

# man pages render
for page in man1/virtpp.1.gz man8/virtppd.8.gz man5/virtppd.conf.5.gz man1/virtpp-xml-validate.1.gz; do
    out=$(MANWIDTH=80 man -l "$root/usr/share/man/$page" 2>&1)
    [[ $out == *NAME* && $out == *"SEE ALSO"* ]] || bad "man $page: $(head -3 <<<"$out")"
done
MANWIDTH=80 man -l "$root/usr/share/man/man1/virtpp.1.gz" 2>/dev/null | grep -q "dominfo" && ok "man pages render (virtpp(1) lists the commands)" || bad "virtpp(1) has no command list"

# bash completion: the installed script, run as bash would, asks virtpp's hidden complete command
if [ -f /usr/share/bash-completion/bash_completion ]; then
    out=$(PATH="$root/usr/bin:$PATH" bash -c '
        source /usr/share/bash-completion/bash_completion
        source "$1/usr/share/bash-completion/completions/virtpp"
        COMP_WORDS=(virtpp -c test:///default domi); COMP_CWORD=3; COMP_LINE="virtpp -c test:///default domi"; COMP_POINT=${#COMP_LINE}
        _virtpp virtpp; echo "${COMPREPLY[*]}"
        COMP_WORDS=(virtpp -c test:///default dominfo --domain ""); COMP_CWORD=5; COMP_LINE="virtpp -c test:///default dominfo --domain "; COMP_POINT=${#COMP_LINE}
        _virtpp virtpp; echo "${COMPREPLY[*]}"' _ "$root" 2>&1)
    [[ $out == *"dominfo"*$'\n'"test" ]] && ok "bash completion: commands and domain names through virtpp complete" || bad "completion: $out"
else
    echo "skip completion: bash-completion not installed"
fi

# ---- start as virtppd.service does: socket activation, Type=notify
unit=$root/usr/lib/systemd/system/virtppd.service
grep -qx "Type=notify" "$unit" && grep -q "^ExecStart=/usr/sbin/virtppd \$VIRTPPD_ARGS" "$unit" && ok "virtppd.service: Type=notify" || bad "unit: $(cat "$unit")"
grep -qx "ListenStream=/run/libvirt/libvirt-sock" "$root/usr/lib/systemd/system/virtppd.socket" &&
    grep -qx "ListenStream=/run/libvirt/libvirt-sock-ro" "$root/usr/lib/systemd/system/virtppd-ro.socket" || bad "socket units"
args=$(sed -n 's/^Environment=VIRTPPD_ARGS="\(.*\)"$/\1/p' "$unit")
if command -v systemd-socket-activate >/dev/null; then
    /usr/bin/python3 - "$W/notify" "$W/notify.out" <<'PY' &
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(sys.argv[1])
while True:
    with open(sys.argv[2], "ab") as f: f.write(s.recv(65536) + b"\n")
PY
    PIDS+=($!)
    mkdir -p "$W/run" "$W/qemu"
    # the installed configuration file, read as the daemon reads /etc/virtpp/virtppd.conf
    systemd-socket-activate -l "$W/run/libvirt-sock" -l "$W/run/libvirt-sock-ro" --fdname=virtppd.socket:virtppd-ro.socket \
        -E NOTIFY_SOCKET="$W/notify" -E VIRTPP_QEMU_STATE_DIR="$W/qemu" \
        "$root/usr/sbin/virtppd" $args -f "$root/etc/virtpp/virtppd.conf" >"$W/daemon.out" 2>&1 &
    APID=$!; PIDS+=($APID)
    wait_for 5 test -S "$W/run/libvirt-sock-ro" || bad "the sockets were not created"
    out=$(virsh -c "test+unix:///default?socket=$W/run/libvirt-sock" list --all 2>&1)
    [[ $out == *" test "*running* ]] && ok "started on the first connection: stock virsh lists the test domain" || bad "virsh: $out $(cat "$W/daemon.out")"
    wait_for 5 grep -q "READY=1" "$W/notify.out" && ok "the daemon reported READY=1" || bad "no READY=1"
    out=$(virsh -c "test+unix:///default?socket=$W/run/libvirt-sock-ro" destroy test 2>&1)
    [[ $out == *"read only access prevents"* ]] && ok "read-only socket refuses destroy" || bad "ro: $out"
    kill -HUP $APID; sleep 0.5
    kill -0 $APID 2>/dev/null && ok "systemctl reload (SIGHUP) keeps it running" || bad "SIGHUP killed the daemon"
    kill -TERM $APID; wait $APID 2>/dev/null; rc=$?
    [[ $rc == 0 ]] && grep -q "STOPPING=1" "$W/notify.out" && ok "stopped cleanly (STOPPING=1, exit 0)" || bad "stop: exit $rc"
else
    echo "skip start: systemd-socket-activate missing (package systemd)"
fi

# ---- purge: nothing of the package stays in the root
if dpkg --root="$root" --force-script-chrootless --log=/dev/null -P virtpp >"$W/purge.out" 2>&1; then
    left=$(cd "$root" && find . -type f ! -path './var/lib/dpkg/*')
    [[ -z $left ]] && ok "purged: no file left (config included)" || bad "left after purge: $left"
else bad "purge: $(cat "$W/purge.out")"; fi

echo "package_deb: $fail failure(s)"
exit $((fail > 0))
