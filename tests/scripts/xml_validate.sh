#!/bin/bash
# virtpp-xml-validate over the corpora: every seed example, fixture document (domain, network,
# capabilities roots) and tests/data/valid file must validate (exit 0); every tests/data/invalid
# file must be rejected (exit 1, a message on stderr naming the file and a line); --format output
# must itself validate and be a fixed point; usage errors exit as virt-xml-validate's do.
set -u

tool="${VIRTPP_BINARY_DIR:?}/tools/virtpp-xml-validate"
src="${VIRTPP_SOURCE_DIR:?}"
shared="${VIRTPP_SHARED_DIR:-$src/../shared}"
[ -x "$tool" ] || { echo "missing $tool"; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0
failed=0
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
pass() { passed=$((passed + 1)); }

root_of() { grep -o -m1 '<[A-Za-z_][A-Za-z0-9_]*' "$1" | head -1 | tr -d '<'; }

# ---- valid documents: validate, then --format output validates and is a fixed point ----------
valid_files=()
while IFS= read -r f; do valid_files+=("$f"); done < <(
    { find "$shared/seed/examples" "$shared/fixtures" -name '*.xml' 2>/dev/null
      find "$src/tests/data/valid" -name '*.xml'; } | sort)
[ "${#valid_files[@]}" -ge 3 ] || fail "no valid corpus found"

n_valid=0
for f in "${valid_files[@]}"; do
    case "$(root_of "$f")" in domain|network|capabilities) ;; *) continue ;; esac
    n_valid=$((n_valid + 1))
    if ! "$tool" "$f" >"$work/out" 2>"$work/err"; then
        fail "$f rejected: $(cat "$work/err")"; continue
    fi
    grep -q 'validates' "$work/err" || { fail "$f: no 'validates' note on stderr"; continue; }
    [ -s "$work/out" ] && { fail "$f: output without --format"; continue; }
    pass
    if ! "$tool" --format "$f" >"$work/once.xml" 2>"$work/err"; then
        fail "$f --format failed: $(cat "$work/err")"; continue
    fi
    [ -s "$work/once.xml" ] || { fail "$f --format printed nothing"; continue; }
    if ! "$tool" --format "$work/once.xml" >"$work/twice.xml" 2>"$work/err"; then
        fail "$f: formatted output does not validate: $(cat "$work/err")"; continue
    fi
    if ! cmp -s "$work/once.xml" "$work/twice.xml"; then
        fail "$f: --format is not a fixed point"; diff "$work/once.xml" "$work/twice.xml" | head -10; continue
    fi
    pass
done
[ "$n_valid" -ge 100 ] || [ ! -d "$shared/fixtures" ] || fail "only $n_valid valid documents found"

# the running domain's id survives --format (the runtime form is printed, not the inactive one)
"$tool" --format "$src/tests/data/valid/domain/virsh-test-dumpxml.xml" 2>/dev/null | head -1 |
    grep -q "<domain type='test' id='1'>" && pass || fail "--format dropped the runtime id"

# ---- invalid documents: exit 1 with the file and a line on stderr ---------------------------
n_invalid=0
for f in "$src"/tests/data/invalid/*/*.xml; do
    kind=$(basename "$(dirname "$f")")
    n_invalid=$((n_invalid + 1))
    "$tool" "$f" "$kind" >"$work/out" 2>"$work/err"
    rc=$?
    if [ "$rc" -ne 1 ]; then fail "$f ($kind): exit $rc, expected 1"; continue; fi
    grep -q "$f:[0-9]\+: " "$work/err" || { fail "$f: stderr names no line: $(cat "$work/err")"; continue; }
    grep -q "fails to validate" "$work/err" || { fail "$f: no 'fails to validate' note"; continue; }
    [ -s "$work/out" ] && { fail "$f: printed to stdout"; continue; }
    pass
done
[ "$n_invalid" -ge 25 ] || fail "only $n_invalid invalid documents"

# an explicit kind is honoured; a document of another kind is rejected for its root
"$tool" "$src/tests/data/valid/network/virsh-test-net-default.xml" network 2>/dev/null && pass ||
    fail "explicit kind 'network' rejected a valid network"
"$tool" "$src/tests/data/valid/network/virsh-test-net-default.xml" domain >/dev/null 2>"$work/err"
[ $? -eq 1 ] && grep -q "root element is 'network', expected 'domain'" "$work/err" && pass ||
    fail "a network checked as a domain: $(cat "$work/err")"

# ---- the typed parser runs too: schema-valid (an unsigned long) but too large once scaled ------
printf "%s\n" "<domain type='kvm'>" "  <name>g</name>" "  <memory unit='EiB'>18446744073709551615</memory>" \
    "  <os>" "    <type>hvm</type>" "  </os>" "</domain>" >"$work/overflow.xml"
"$tool" "$work/overflow.xml" >/dev/null 2>"$work/err"
rc=$?
[ "$rc" -eq 1 ] && grep -q "overflow.xml: .*overflow" "$work/err" && pass ||
    fail "typed parser not run on schema-valid input (exit $rc): $(cat "$work/err")"

# ---- standard input, usage errors, exit codes (virt-xml-validate's) --------------------------
"$tool" - <"$src/tests/data/valid/capabilities/virsh-test-capabilities.xml" >/dev/null 2>&1 && pass ||
    fail "reading standard input"
expect_exit() {
    local want=$1 what=$2; shift 2
    "$tool" "$@" >"$work/out" 2>"$work/err"
    local rc=$?
    if [ "$rc" -ne "$want" ]; then fail "$what: exit $rc, expected $want"; return; fi
    pass
}
expect_exit 0 "--help" --help
grep -q "Usage" "$work/out" || fail "--help prints no usage"
expect_exit 0 "-h" -h
expect_exit 0 "--version" --version
grep -qx "virtpp-xml-validate (virtpp) [0-9][0-9.]*" "$work/out" || fail "--version line: $(cat "$work/out")"
expect_exit 0 "-V" -V
expect_exit 1 "no arguments"
[ -s "$work/err" ] || fail "no arguments: nothing on stderr"
expect_exit 1 "unknown option" --frobnicate x.xml
grep -q "unrecognized option" "$work/err" || fail "unknown option not named"
expect_exit 2 "missing file" "$work/does-not-exist.xml"
grep -q "does-not-exist.xml" "$work/err" || fail "missing file not named"
echo '<node/>' >"$work/node.xml"
expect_exit 3 "unknown root" "$work/node.xml"
expect_exit 4 "unknown kind" "$src/tests/data/valid/network/virsh-test-net-default.xml" storagepool
grep -q "storagepool" "$work/err" || fail "unknown kind not named"
echo '<domain type="kvm"><name>x</nam></domain>' >"$work/broken.xml"
expect_exit 1 "not well-formed" "$work/broken.xml"
grep -q "broken.xml:1: " "$work/err" || fail "malformed: no line: $(cat "$work/err")"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
