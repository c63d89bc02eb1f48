#!/usr/bin/env bash
# Fails if a weak function symbol (an inline function or template instance with external linkage)
# is defined by objects compiled for different ISAs. The ISA of an object is its source's file-name
# suffix (CMakeLists.txt intvit_set_isa_flags: -avx2, -avxvnni, -avx512, -avx512vnni, -avx512vbmi,
# -avx512vnnivbmi, -amx), "base" otherwise. The linker keeps one copy of such a symbol for the whole
# program — possibly the AVX-512 one, which a baseline caller then runs on an AVX2-only CPU (SIGILL).
# usage: check_isa_odr.sh OBJECT...
set -euo pipefail
[ $# -gt 0 ] || { echo "check_isa_odr: no object files given" >&2; exit 2; }
defs=$(mktemp)
trap 'rm -f "$defs"' EXIT
for obj in "$@"; do
  name=$(basename "$obj" .o)
  name=${name%.cc}
  case "${name##*-}" in
    avx2|avxvnni|avx512|avx512vnni|avx512vbmi|avx512vnnivbmi|amx) isa=${name##*-} ;;
    *) isa=base ;;
  esac
  # nm first, on its own: a missing or unreadable object must fail the check, not pass it.
  symbols=$(nm --defined-only "$obj") || { echo "check_isa_odr: nm failed on $obj" >&2; exit 2; }
  printf '%s\n' "$symbols" | awk -v isa="$isa" -v obj="$obj" '$2 == "W" { print $3, isa, obj }' >> "$defs"
done
clashes=$(sort -k1,1 -k2,2 -u "$defs" | awk '{ if ($1 == last) { n++; where = where "\n    " $2 ": " $3 } else { if (n > 1) print last where; last = $1; n = 1; where = "\n    " $2 ": " $3 } } END { if (n > 1) print last where }')
if [ -n "$clashes" ]; then
  echo "WEAK SYMBOLS DEFINED FOR MORE THAN ONE ISA (give them internal linkage: an anonymous namespace):"
  printf '%s\n' "$clashes" | while IFS= read -r line; do
    case "$line" in "    "*) echo "$line" ;; *) echo "  $(printf '%s' "$line" | c++filt) ($line)" ;; esac
  done
  exit 1
fi
echo "check_isa_odr: $# object files, no weak symbol defined for two ISAs"
