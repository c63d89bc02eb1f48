// Offline (float): the scales of an integer model's tensors that need arithmetic, kept out of the
// integer-path objects (tests/no_float scans engine/int_vit_graph.cc, which uses them).
#include "engine/int_vit.h"

namespace intvit {

double av_accumulator_scale(const QBlock& b) { return b.probs.scale * b.v_out.scale; }

}  // namespace intvit
