#!/usr/bin/env bash
# Builds an object file holding ICU's common data reduced to what Xerces-C uses: the converter
# tables (*.cnv) and their alias list (cnvalias.icu), about 5 MB instead of libicudata's 31 MB
# (locales, collation, break iteration, ... that nothing in virtpp uses). Every encoding ICU
# knows still parses. The entry point keeps ICU's name (icudtNN_dat), so it replaces
# libicudata.a in the static tools' link.
#   icu_converters.sh LIBICUDATA_A OUTPUT_O CXX
set -euo pipefail
lib=$1 out=$2 cxx=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
member=$(ar t "$lib" | head -1)   # icudt72l_dat.o
name=${member%_dat.o}             # icudt72l: the package name items are looked up under
ar x "$lib" "$member"
# icupkg takes a package's name from its file name, in and out
mkdir full reduced
objcopy -O binary -j .rodata "$member" "full/$name.dat"
icupkg -l "full/$name.dat" | grep -vE '(\.cnv|^cnvalias\.icu)$' >remove.txt
icupkg -r remove.txt "full/$name.dat" "reduced/$name.dat"
(cd reduced && genccode -e "${name%?}" -a gcc "$name.dat" >/dev/null)
"$cxx" -c "reduced/${name}_dat.S" -o "$out.tmp"
nm "$out.tmp" | grep -q " ${name%?}_dat$" || { echo "icu_converters.sh: no ${name%?}_dat in the output" >&2; exit 1; }
mv "$out.tmp" "$out"
