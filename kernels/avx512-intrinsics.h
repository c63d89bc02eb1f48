// <immintrin.h> for AVX-512 code: include this first (before anything that includes
// <immintrin.h>), because a diagnostic pragma only covers what follows it.
// GCC 12's AVX-512 headers trip -Wuninitialized / -Wmaybe-uninitialized on their own
// _mm512_undefined_*() self-initialisation (GCC bug 105593, fixed in 12.3); clang has neither
// warning group and would warn about the pragma itself.
#pragma once

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>
