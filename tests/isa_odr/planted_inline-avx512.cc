// Planted for tests/isa_odr.test.cmake: calls the external-linkage helper of planted_inline.h from an AVX-512 file
#include "planted_inline.h"

int planted_isa_caller_avx512(const int* v, int n) { return planted_isa_shared_sum(v, n); }
