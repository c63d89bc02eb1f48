#include "engine/int_vit.h"

#include <algorithm>
#include <cstring>
#include <new>

#include "kernels/error.h"

namespace intvit {

void QLinear::prepare(GemmIsa isa) {
  packed = std::make_shared<const PackedWeights>(PackedWeights::pack(isa, input.bits == 8 ? GemmInput::kU8 : GemmInput::kS16, weight.data(),
                               static_cast<size_t>(out), static_cast<size_t>(in), bias.data(),
                               input.bits == 8 ? input.zero_point : 0));
  if (multiplier.size() == static_cast<size_t>(out) && shift.size() == multiplier.size()) {
    extremes = requant_extremes(multiplier.data(), shift.data(), multiplier.size());
    extremes_of = multiplier.data(), extremes_size = multiplier.size();
  }
}

void IntViT::prepare(GemmIsa isa) {
  patch_embed.prepare(isa);
  for (QBlock& b : blocks) {
    for (QLinear* l : {&b.q, &b.k, &b.v, &b.proj, &b.fc1, &b.fc2}) l->prepare(isa);
    b.gelu_bytes.clear();
    if (b.gelu.bits == 8 && (b.gelu.mode != GeluMode::kLut || b.gelu.table.size() >= 256)) {  // else: not built yet
      b.gelu_bytes.resize(256);
      gelu_byte_table(b.gelu, b.gelu_bytes.data());
    }
  }
  head.prepare(isa);
  if (config.distillation_token) head_dist.prepare(isa);
}

void IntViT::release_plain_weights() {
  for (QLinear* l : {&patch_embed, &head, &head_dist}) std::vector<int8_t>().swap(l->weight);
  for (QBlock& b : blocks) {
    for (QLinear* l : {&b.q, &b.k, &b.v, &b.proj, &b.fc1, &b.fc2}) std::vector<int8_t>().swap(l->weight);
  }
}

const QLinear& node_linear(const IntViT& m, const Node& n) {
  auto block = [&]() -> const QBlock& {
    if (n.block < 0 || static_cast<size_t>(n.block) >= m.blocks.size()) {
      throw Error(ErrorCode::kInvalidArgument, "node '" + n.name + "' uses block " + std::to_string(n.block) + " of a model with " +
                                                   std::to_string(m.blocks.size()));
    }
    return m.blocks[static_cast<size_t>(n.block)];
  };
  switch (n.param) {
    case Param::kPatchEmbed: return m.patch_embed;
    case Param::kHead: return m.head;
    case Param::kHeadDist:
      if (!m.config.distillation_token) throw Error(ErrorCode::kInvalidArgument, "node '" + n.name + "': the model has no head_dist");
      return m.head_dist;
    case Param::kQ: return block().q;
    case Param::kK: return block().k;
    case Param::kV: return block().v;
    case Param::kProj: return block().proj;
    case Param::kFc1: return block().fc1;
    case Param::kFc2: return block().fc2;
    default: throw Error(ErrorCode::kInvalidArgument, "node '" + n.name + "' has no linear layer");
  }
}

const QLayerNorm& node_norm(const IntViT& m, const Node& n) {
  if (n.param == Param::kNorm) return m.norm;
  if ((n.param == Param::kNorm1 || n.param == Param::kNorm2) && n.block >= 0 && static_cast<size_t>(n.block) < m.blocks.size()) {
    const QBlock& b = m.blocks[static_cast<size_t>(n.block)];
    return n.param == Param::kNorm1 ? b.norm1 : b.norm2;
  }
  throw Error(ErrorCode::kInvalidArgument, "node '" + n.name + "' has no layernorm of this model");
}

IntWorkspace::IntWorkspace(const IntViT& m, int threads, size_t batch)
    : graph_(build_int_vit_graph(m)), segments_(derive_segments(graph_)), threads_(std::max(threads, 1)) {
  if (batch < 1 || batch > kMaxWorkspaceBatch) {
    throw Error(ErrorCode::kInvalidArgument, "IntWorkspace: batch must be in [1, " + std::to_string(kMaxWorkspaceBatch) + "], got " + std::to_string(batch));
  }
  plan_ = plan_memory(graph_, segments_, threads_, batch);
  const size_t n = std::max<size_t>(plan_.bytes, 1);
  arena_.reset(static_cast<uint8_t*>(::operator new(n, std::align_val_t(kArenaAlignment))));
  std::memset(arena_.get(), 0, n);
}

void IntWorkspace::Free::operator()(uint8_t* p) const { ::operator delete(p, std::align_val_t(kArenaAlignment)); }

}  // namespace intvit
