#!/usr/bin/env bash
# Fails if any object file on the integer inference path contains a floating-point instruction.
# usage: check_no_float.sh OBJECT...   (objects are filtered by the caller)
# Data moves and bit logic on xmm registers (movaps, movss, xorps, ...) are allowed: compilers use
# them to copy and zero integer data. Arithmetic, comparisons, conversions, FMA, rounding and x87 are not.
set -euo pipefail
[ $# -gt 0 ] || { echo "check_no_float: no object files given" >&2; exit 2; }
pattern='\s(v?(add|sub|mul|div|sqrt|min|max|cmp|rcp|rsqrt|round|hadd|hsub|addsub|dp)(ss|sd|ps|pd|ph)|v?u?comis[sd]|v?cvt[a-z0-9]*|vfn?m(add|sub)[0-9a-z]*|v?(getexp|getmant|scalef|range|reduce|fixupimm|rndscale)[sp][sd]|f(ld|st|stp|ild|ist|istp|add|addp|sub|subp|subr|mul|mulp|div|divp|divr|sqrt|xch|chs|abs|comi|ucomi|prem|scale|rndint)[a-z]*)\s'
status=0
for obj in "$@"; do
  hits=$(objdump -d --no-show-raw-insn "$obj" | grep -E "$pattern" || true)
  if [ -n "$hits" ]; then
    echo "FLOAT INSTRUCTIONS in $obj:"
    echo "$hits" | head -20
    status=1
  fi
done
[ $status -eq 0 ] && echo "check_no_float: $# object files, no floating-point instructions"
exit $status
