#!/usr/bin/env bash
# Fails if any object file on the integer inference path contains a floating-point instruction.
# usage: check_no_float.sh OBJECT...   (objects are filtered by the caller)
# Data moves and bit logic on xmm registers (movaps, movss, xorps, ...) are allowed: compilers use
# them to copy and zero integer data. Arithmetic, comparisons, conversions, FMA, rounding and x87 are not.
set -euo pipefail
[ $# -gt 0 ] || { echo "check_no_float: no object files given" >&2; exit 2; }
# Matched against the mnemonic column only (an operand such as the address "fadd" of a jump target
# must not count).
# Float mnemonics: SSE/AVX/AVX-512 arithmetic, compares (vcmpltps, vcmplt_oqps, ...), approximations (vrcp14ps,
# vrsqrt28ps, ...), conversions, FMA, rounding and exponent ops, BF16/FP16 dot products and class
# tests, and every x87 instruction (all x87 mnemonics start with "f"; no integer one does).
mnemonic='(v?(add|sub|mul|div|sqrt|min|max|rcp|rsqrt|round|hadd|hsub|addsub|dp|exp2)(14|28)?(ss|sd|ps|pd|ph|sh)|v?cmp[a-z_]*(ss|sd|ps|pd|ph|sh)|v?u?comis[sdh]|v?cvt[a-z0-9]*|vfn?m(add|sub)[0-9a-z]*|vf(c)?madd[a-z0-9]*|vf(c)?mul[a-z0-9]*|vfpclass[a-z]*|vdpbf16ps|v?(getexp|getmant|scalef|range|reduce|fixupimm|rndscale)[a-z]*|f[a-z0-9]+)'
# "fs"/"fwait" are not arithmetic but never appear alone in compiled integer code either; the
# segment prefix is excluded explicitly because objdump can print it in the mnemonic column.
status=0
for obj in "$@"; do
  # objdump first, on its own: a missing or unreadable object must fail the check, not pass it.
  listing=$(objdump -d --no-show-raw-insn "$obj") || { echo "check_no_float: objdump failed on $obj" >&2; exit 2; }
  # Instruction lines are "addr:<TAB>mnemonic operands"; the mnemonic is the first word after the tab.
  hits=$(printf '%s\n' "$listing" | awk -F'\t' -v re="^${mnemonic}\$" 'NF >= 2 { split($2, w, " "); if (w[1] ~ re && w[1] != "fs") print }')
  if [ -n "$hits" ]; then
    echo "FLOAT INSTRUCTIONS in $obj:"
    echo "$hits" | head -20
    status=1
  fi
done
[ $status -eq 0 ] && echo "check_no_float: $# object files, no floating-point instructions"
exit $status
