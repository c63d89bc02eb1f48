// A helper with external linkage, included by files compiled for two ISAs: the mistake that
// check_isa_odr.sh must name (tests/isa_odr.test.cmake).
#pragma once

__attribute__((noinline)) inline int planted_isa_shared_sum(const int* v, int n) {
  int s = 0;
  for (int i = 0; i < n; ++i) s += v[i];
  return s;
}
