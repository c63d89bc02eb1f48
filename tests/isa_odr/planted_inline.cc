// Planted for tests/isa_odr.test.cmake: calls the external-linkage helper of planted_inline.h
#include "planted_inline.h"

int planted_isa_caller(const int* v, int n) { return planted_isa_shared_sum(v, n); }
