/* stb_image compiled from the system header into the fuzz_image target, so that the decoder
 * itself is coverage-instrumented and checked by ASan/UBSan (the distribution's libstb.so is
 * neither). Same source version as libstb (libstb-dev ships the header it was built from); this
 * definition takes precedence over the shared library's for the fuzzer binary only. The library
 * proper never defines STB_IMAGE_IMPLEMENTATION. */
#define STB_IMAGE_IMPLEMENTATION
#include <stb_image.h>
