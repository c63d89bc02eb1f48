/* The public header is plain C99: it compiles alone with -std=c99 -Wpedantic -Werror. */
#include <intvit/intvit.h>

#if INTVIT_VERSION_NUMBER != INTVIT_VERSION_MAJOR * 10000 + INTVIT_VERSION_MINOR * 100 + INTVIT_VERSION_PATCH
#error "inconsistent version macros"
#endif

int header_c99_version_matches(void) { return intvit_version() == INTVIT_VERSION_NUMBER; }
intvit_status header_c99_status(void) { return INTVIT_ERROR_BUFFER_TOO_SMALL; }
