#!/bin/bash
# Byte parity of the virtpp CLI with Debian's virsh 9.0 on the test driver: every session of
# tests/cli/sessions.txt runs through both, as arguments (one word per argument), as one command
# string and through standard input; stdout, stderr and exit status are compared.
#
# Masks (sed), each for a documented deliberate difference or a clock-derived field:
#   - "CPU time:" values in dominfo / vcpuinfo: the test driver derives them from the clock.
#   - the interactive banner and prompt name the program ("Welcome to virtpp", "virtpp # ").
#   - `version`: the "Compiled against library:" and "Using library:" lines name the library
#     (libvirt 9.0.0 / virtpp <version>); both become "<library>".
#   - -t: the "(Time: N ms)" figures are wall-clock measurements.
#   - -l: each log line's "[YYYY.MM.DD HH:MM:SS program pid]" prefix (clock, program name, pid).
#   - snapshot-list / checkpoint-list "Creation Time" cells ("YYYY-MM-DD HH:MM:SS +ZZZZ") and the
#     <creationTime> line of snapshot/checkpoint XML: the test driver stamps them from the clock.
set -u
command -v virsh >/dev/null 2>&1 || { echo "virsh not installed: skipping"; exit 77; }
VIRTPP="${VIRTPP_BINARY_DIR:?}/tools/virtpp"
SESSIONS="${VIRTPP_SOURCE_DIR:?}/tests/cli/sessions.txt"
[ -x "$VIRTPP" ] || { echo "missing $VIRTPP"; exit 1; }
export LC_ALL=C.UTF-8
unset LIBVIRT_DEFAULT_URI VIRSH_DEFAULT_CONNECT_URI
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# both shells keep their interactive history under the cache directory: keep it in the work directory
export XDG_CACHE_HOME="$work/cache"

mask() {
    sed -E -e 's/^(CPU time: +)[0-9.]+s$/\1<clock>s/' \
           -e 's/^(Compiled against library|Using library): (libvirt|virtpp) [0-9.]+$/\1: <library>/' \
           -e 's/\(Time: [0-9]+\.[0-9]{3} ms\)/(Time: <clock> ms)/' \
           -e 's/^\[[0-9]{4}\.[0-9]{2}\.[0-9]{2} [0-9:]{8} (virsh|virtpp) [0-9]+\] /[<stamp>] /' \
           -e 's/[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} [+-][0-9]{4}/<creation time>/g' \
           -e 's|<creationTime>[0-9]+</creationTime>|<creationTime><clock></creationTime>|' \
           -e 's/Welcome to virsh,/Welcome to virtpp,/' \
           -e 's/virsh ([#>]) /virtpp \1 /g' "$1"
}

pass=0 fail=0
compare() {  # name, then the command to run with PROG substituted
    local name=$1; shift
    for prog in virsh "$VIRTPP"; do
        local tag; [ "$prog" = virsh ] && tag=ref || tag=our
        ( "$@" "$prog" ) >"$work/$tag.out" 2>"$work/$tag.err"
        echo "rc=$?" >>"$work/$tag.err"
        mask "$work/$tag.out" >"$work/$tag.out.m"; mask "$work/$tag.err" >"$work/$tag.err.m"
    done
    if cmp -s "$work/ref.out.m" "$work/our.out.m" && cmp -s "$work/ref.err.m" "$work/our.err.m"; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL: $name"
        diff -u "$work/ref.out.m" "$work/our.out.m" | head -20
        diff -u "$work/ref.err.m" "$work/our.err.m" | head -20
    fi
}

run_args() { local line=$1 prog=$2; eval "set -- $line" 2>/dev/null || set -- $line; "$prog" -c test:///default "$@"; }
run_string() { "$2" -c test:///default "$1"; }
run_stdin() { printf '%s\n' "$1" | "$2" -c test:///default; }
run_quiet() { local line=$1 prog=$2; eval "set -- $line" 2>/dev/null || set -- $line; "$prog" -q -c test:///default "$@"; }
run_ro() { local line=$1 prog=$2; eval "set -- $line" 2>/dev/null || set -- $line; "$prog" -r -c test:///default "$@"; }
run_debug() { local level=$1 line=$2 prog=$3; "$prog" -d "$level" -c test:///default "$line"; }
run_timing() { "$2" -t -c test:///default "$1"; }
run_timing_stdin() { printf '%s\n' "$1" | "$2" -t -q -c test:///default; }
run_log_unwritable() { "$2" -l /nonexistent-dir/virtpp.log -c test:///default uri; }
run_log() {  # the session's stdout/stderr, then the log it wrote
    local line=$1 prog=$2 log; log="$work/log.$(basename "$prog")"; rm -f "$log"
    "$prog" -d 0 -l "$log" -c test:///default "$line"; echo "rc=$?"; echo "--- log"; cat "$log"
}

# Under the sanitizer build every session runs once (as a command string): the three ways share
# the command code the sanitizers watch, and the release build compares all three; the whole-file
# stdin session below still runs there.
three_ways=yes
[[ ${VIRTPP_SANITIZE:-0} == 1 ]] && three_ways=no
all=""
while IFS= read -r line; do
    case "$line" in ''|'#'*) continue ;; esac
    if [[ $three_ways == yes ]]; then
        case "$line" in *"'"*|*'"'*) ;; *) compare "args: $line" run_args "$line" ;; esac
    fi
    compare "string: $line" run_string "$line"
    [[ $three_ways == yes ]] && compare "stdin: $line" run_stdin "$line"
    all+="$line"$'\n'
done <"$SESSIONS"

# the whole file as one stdin session, and selected sessions quiet and read-only
compare "stdin: all sessions" run_stdin "$(grep -v -e '^#' -e "['\"]" "$SESSIONS")"
for s in "list" "dominfo test" "suspend test" "net-list --all" "destroy test; list --all" "pool-list --details" \
         "vol-create-as default-pool v1 1M; vol-list default-pool; vol-delete /default-pool/v1" "iface-list" \
         "snapshot-create-as test s1; snapshot-list test --name; snapshot-delete test s1" \
         "checkpoint-create-as test c1; checkpoint-delete test c1 --children-only"; do
    compare "quiet: $s" run_quiet "$s"
done
for s in "suspend test" "destroy test" "start test" "setmem test 1M" "net-destroy default" "net-autostart default" \
         "list" "dominfo test" "undefine test" "domcapabilities" "sysinfo" "pool-list" "vol-create-as default-pool v1 1M" \
         "vol-delete /default-pool/default-vol" "iface-list --all" "nodedev-dumpxml computer" \
         "snapshot-create-as test s1" "checkpoint-create-as test c1" "snapshot-list test"; do
    compare "readonly: $s" run_ro "$s"
done

# -d LEVEL (what each level lets through to stdout), -t and -l
debug_session="dominfo test; domname x; net-info default; list --all --name; vcpupin test 0; domid 6695eb01-f6a4-8304-79aa-97f2502e193f; bogus"
for level in 0 1 2 3 4 5 x; do
    compare "debug $level" run_debug "$level" "$debug_session"
done
compare "debug 0 as arguments" run_debug 0 "domstate --reason test"
for s in "domid test" "domid test; list; bogus" "domid x; quit; domid test" "net-list --all"; do
    compare "timing: $s" run_timing "$s"
    compare "timing stdin: $s" run_timing_stdin "$s"
done
# domifaddr of a second domain with three interfaces (network, user, an IPv6 network), and
# net-update from a file
cp "$VIRTPP_SOURCE_DIR/tests/cli/twonic.xml" "$VIRTPP_SOURCE_DIR/tests/cli/v6net.xml" "$VIRTPP_SOURCE_DIR/tests/cli/routes.xml" "$work/"
# disks in libvirt's parse order: grouped by the bus attribute as written, absent being a group
cp "$VIRTPP_SOURCE_DIR/tests/cli/diskorder.xml" "$work/"
# a volume, a snapshot and a checkpoint described in files
cp "$VIRTPP_SOURCE_DIR/tests/cli/vol.xml" "$VIRTPP_SOURCE_DIR/tests/cli/snapshot.xml" "$VIRTPP_SOURCE_DIR/tests/cli/checkpoint.xml" "$work/"
echo "<host ip='192.168.122.7'><hostname>fromfile</hostname></host>" >"$work/dnshost.xml"
for s in "net-create $work/v6net.xml; create $work/twonic.xml; domifaddr twonic; domifaddr twonic --full; domifaddr 2 --interface t0" \
         "create $work/twonic.xml; domifaddr twonic" \
         "net-update default add-last dns-host $work/dnshost.xml --config; net-dumpxml --inactive default" \
         "net-define $work/routes.xml; net-dumpxml routes; net-start routes; net-dumpxml routes" \
         "define $work/diskorder.xml; dumpxml diskorder" "create $work/diskorder.xml; dumpxml diskorder" \
         "vol-create default-pool $work/vol.xml; vol-list default-pool --details; vol-dumpxml --pool default-pool fromfile.img" \
         "vol-create x $work/vol.xml" \
         "snapshot-create test $work/snapshot.xml; snapshot-list test --name; snapshot-info test fromxml; snapshot-dumpxml test fromxml" \
         "snapshot-create test $work/snapshot.xml --halt; domstate test" \
         "checkpoint-create test $work/checkpoint.xml; checkpoint-list test --name; checkpoint-dumpxml test chkxml --no-domain"; do
    compare "string: $s" run_string "$s"
done
for s in "domifaddr test" "net-update default add dns-host $work/dnshost.xml"; do
    compare "quiet: $s" run_quiet "$s"
    compare "readonly: $s" run_ro "$s"
done
# bash completion's hidden `complete` command: the values of pool, interface and node device options
run_complete() { local line=$1 prog=$2; eval "set -- $line"; "$prog" -c test:///default complete -- "$@"; }
for s in "pool-info d" "vol-info --pool d" "iface-name a" "iface-mac e" "iface-dumpxml ''" "pool-list --type i" \
         "nodedev-list --cap s" "nodedev-dumpxml c" "vol-create-as ''" "help snapshot-c"; do
    compare "complete: $s" run_complete "$s"
done
compare "log" run_log "$debug_session"
compare "log: unwritable" run_log_unwritable ""

echo "cli parity: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
