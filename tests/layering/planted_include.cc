// Compiled as code of one layer (tests/layering.test.cmake) with PLANTED_HEADER naming a header
// of the same layer (must compile) or of a higher one (must not: the include root of a layer
// holds only its own headers and those below it).
#include PLANTED_HEADER
