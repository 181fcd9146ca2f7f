#!/usr/bin/env bash
# The tools are single binaries (nothing but glibc's shared libraries), never link libvirt or
# libcurl, and their XML parsing refuses every external entity, DTD or schema URL without
# fetching it: a local HTTP listener must see no request.
set -euo pipefail
bin=${VIRTPP_BINARY_DIR:?}
if [[ ${VIRTPP_SANITIZE:-0} == 1 ]]; then echo "sanitizer build links dynamically"; exit 77; fi
tools=()
for t in virtpp-xml-validate virtpp virtppd; do
  [[ -x "$bin/tools/$t" ]] && tools+=("$bin/tools/$t")
done
(( ${#tools[@]} > 0 )) || { echo "no tools built" >&2; exit 1; }
for t in "${tools[@]}"; do
  libs=$(ldd "$t" | awk '{print $1}' | sed 's@.*/@@')
  while read -r lib; do
    case "$lib" in
      linux-vdso.so.1|libc.so.6|libm.so.6|ld-linux-x86-64.so.2|libpthread.so.0|libdl.so.2|librt.so.1|libresolv.so.2) ;;
      *) echo "$t depends on $lib" >&2; exit 1 ;;
    esac
  done <<<"$libs"
  # Symbol names start after the type letter; case matters (environ is not a libvirt symbol).
  if nm -D "$t" 2>/dev/null | grep -qE ' [A-Za-z] (curl_|vir[A-Z])'; then echo "$t imports curl or libvirt symbols" >&2; exit 1; fi
  # a released tool is stripped: its symbols are in the split-out debug file beside it
  symbols=$t; [[ -f "$t.debug" ]] && symbols=$t.debug
  table=$(nm "$symbols" 2>/dev/null || true)
  grep -q ' T main$' <<<"$table" || { echo "no symbol table to check in $symbols" >&2; exit 1; }
  if grep -q ' curl_easy_init' <<<"$table"; then echo "$t contains libcurl" >&2; exit 1; fi
  # stripped, and ICU's data reduced to its converters: a few MB, not 125
  size=$(stat -c %s "$t")
  ((size < 24 * 1024 * 1024)) || { echo "$t is $((size / 1024 / 1024)) MiB" >&2; exit 1; }
  echo "$(basename "$t"): only glibc, $((size / 1024 / 1024)) MiB"
done
# the reduced ICU data still has every converter: documents in legacy encodings parse
if [[ -x "$bin/tools/virtpp-xml-validate" ]]; then
  enc_tmp=$(mktemp -d)
  for enc in ISO-8859-2 SHIFT_JIS KOI8-R; do
    # examples/xml/kvm-guest.xml is ASCII, so it is the same bytes in each of these encodings
    { printf '<?xml version="1.0" encoding="%s"?>\n' "$enc"; cat "$VIRTPP_SOURCE_DIR/examples/xml/kvm-guest.xml"; } >"$enc_tmp/$enc.xml"
    "$bin/tools/virtpp-xml-validate" "$enc_tmp/$enc.xml" >/dev/null 2>&1 || { echo "an $enc document does not parse" >&2; rm -rf "$enc_tmp"; exit 1; }
  done
  rm -rf "$enc_tmp"
  echo "ISO-8859-2, Shift_JIS and KOI8-R documents parse"
fi

# An HTTP listener on a free loopback port that records every connection it gets.
tmp=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; rm -rf "$tmp"' EXIT
/usr/bin/python3 - "$tmp" <<'PY' &
import socket, sys, os
d = sys.argv[1]
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16)
open(os.path.join(d, "port.tmp"), "w").write(str(s.getsockname()[1]))
os.rename(os.path.join(d, "port.tmp"), os.path.join(d, "port"))
while True:
    c, _ = s.accept()
    open(os.path.join(d, "hits"), "a").write("hit\n")
    c.close()
PY
server=$!
for _ in $(seq 100); do [[ -f "$tmp/port" ]] && break; sleep 0.05; done
port=$(cat "$tmp/port")
url="http://127.0.0.1:$port"
cat > "$tmp/entity.xml" <<XML
<!DOCTYPE domain [<!ENTITY name SYSTEM "$url/name">]>
<domain type='test'><name>&name;</name><memory>1024</memory><os><type>hvm</type></os></domain>
XML
cat > "$tmp/dtd.xml" <<XML
<!DOCTYPE domain SYSTEM "$url/domain.dtd">
<domain type='test'><name>a</name><memory>1024</memory><os><type>hvm</type></os></domain>
XML
cat > "$tmp/schema.xml" <<XML
<domain xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="$url/domain.xsd" type='test'><name>a</name><memory>1024</memory><os><type>hvm</type></os></domain>
XML
validate="$bin/tools/virtpp-xml-validate"
if "$validate" "$tmp/entity.xml" domain 2>"$tmp/err"; then echo "an external entity was accepted" >&2; exit 1; fi
grep -qi 'external' "$tmp/err" || { echo "refusal does not say why:"; cat "$tmp/err"; exit 1; } >&2
"$validate" "$tmp/dtd.xml" domain >/dev/null 2>&1 || true
"$validate" "$tmp/schema.xml" domain >/dev/null 2>&1 || true
sleep 0.2
if [[ -s "$tmp/hits" ]]; then echo "the parser fetched from the network ($(wc -l <"$tmp/hits") requests)" >&2; exit 1; fi
echo "external entity refused; no DTD or schema URL fetched"
