#!/usr/bin/env bash
# Fails if any object file on the integer inference path contains a floating-point instruction.
# usage: check_no_float.sh OBJECT...   (objects are filtered by the caller)
# Data moves and bit logic on xmm registers (movaps, movss, xorps, ...) are allowed: compilers use
# them to copy and zero integer data. Arithmetic, comparisons, conversions, FMA, rounding and x87 are not.
set -euo pipefail
[ $# -gt 0 ] || { echo "check_no_float: no object files given" >&2; exit 2; }
# Matched against the mnemonic column only (an operand such as the address "fadd" of a jump target
# must not count).
mnemonic='(v?(add|sub|mul|div|sqrt|min|max|cmp|rcp|rsqrt|round|hadd|hsub|addsub|dp)(ss|sd|ps|pd|ph)|v?u?comis[sd]|v?cvt[a-z0-9]*|vfn?m(add|sub)[0-9a-z]*|v?(getexp|getmant|scalef|range|reduce|fixupimm|rndscale)[sp][sd]|f(ld|st|stp|ild|ist|istp|add|addp|sub|subp|subr|mul|mulp|div|divp|divr|sqrt|xch|chs|abs|comi|ucomi|prem|scale|rndint)[a-z]*)'
status=0
for obj in "$@"; do
  # objdump first, on its own: a missing or unreadable object must fail the check, not pass it.
  listing=$(objdump -d --no-show-raw-insn "$obj") || { echo "check_no_float: objdump failed on $obj" >&2; exit 2; }
  # Instruction lines are "addr:<TAB>mnemonic operands"; the mnemonic is the first word after the tab.
  hits=$(printf '%s\n' "$listing" | awk -F'\t' -v re="^${mnemonic}\$" 'NF >= 2 { split($2, w, " "); if (w[1] ~ re) print }')
  if [ -n "$hits" ]; then
    echo "FLOAT INSTRUCTIONS in $obj:"
    echo "$hits" | head -20
    status=1
  fi
done
[ $status -eq 0 ] && echo "check_no_float: $# object files, no floating-point instructions"
exit $status
