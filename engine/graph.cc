// The graph IR: names, validation and segment derivation (engine/graph.h). Integer only: this
// object is checked by tests/no_float.
#include "engine/graph.h"

#include <algorithm>

#include "kernels/error.h"

namespace intvit {

size_t elem_bytes(ElemType t) {
  switch (t) {
    case ElemType::kU8: return 1;
    case ElemType::kU16:
    case ElemType::kS16: return 2;
    case ElemType::kS32:
    case ElemType::kF32: return 4;
  }
  return 0;
}

const char* elem_type_name(ElemType t) {
  constexpr const char* names[] = {"u8", "u16", "s16", "s32", "f32"};
  return names[static_cast<int>(t)];
}

const char* op_name(OpType op) {
  constexpr const char* names[] = {"patch-embed", "class-token", "add-position", "layernorm", "linear",
                                   "transpose",   "qk",          "softmax",      "av",        "requantize",
                                   "gelu",        "add",         "select-token", "head",      "average-logits"};
  return names[static_cast<int>(op)];
}

bool is_attention_op(OpType op) {
  return op == OpType::kQk || op == OpType::kSoftmax || op == OpType::kAv || op == OpType::kRequantize;
}

int Graph::add(TensorDesc t) {
  tensors.push_back(std::move(t));
  return static_cast<int>(tensors.size()) - 1;
}

void Graph::add(Node n) { nodes.push_back(std::move(n)); }

int Graph::find(std::string_view name) const {
  for (size_t i = 0; i < tensors.size(); ++i) {
    if (tensors[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

namespace {

[[noreturn]] void fail(const std::string& message) { throw Error(ErrorCode::kInvalidArgument, "invalid graph: " + message); }

std::string label(const Graph& g, size_t i) {
  const Node& n = g.nodes[i];
  return "node " + std::to_string(i) + " (" + op_name(n.op) + " '" + n.name + "')";
}

std::string shape(const TensorDesc& t) {
  return "'" + t.name + "' [" + std::to_string(t.rows) + " x " + std::to_string(t.cols) + "]";
}

// Input / output counts and the shape rules of each op.
void check_node_shapes(const Graph& g, size_t i) {
  const Node& n = g.nodes[i];
  auto need = [&](bool ok, const std::string& what) {
    if (!ok) fail(label(g, i) + ": " + what);
  };
  const size_t min_in = n.op == OpType::kClassToken ? 0 : n.op == OpType::kQk || n.op == OpType::kAv || n.op == OpType::kAdd || n.op == OpType::kAverageLogits ? 2 : 1;
  const size_t max_in = n.op == OpType::kLinear && n.accumulate ? 2 : n.op == OpType::kAv ? 3 : std::max<size_t>(min_in, 1);
  need(n.inputs.size() >= min_in && n.inputs.size() <= max_in,
       "takes " + std::to_string(min_in) + " to " + std::to_string(max_in) + " inputs, has " + std::to_string(n.inputs.size()));
  need(n.outputs.size() == 1, "has " + std::to_string(n.outputs.size()) + " outputs, expected 1");
  need(n.rows > 0, "has an empty row domain");
  need(!n.accumulate || n.op == OpType::kLinear, "only a linear can accumulate");
  if (min_in == 0 && n.inputs.empty()) return;
  const TensorDesc& in = g.tensors[n.inputs[0]];
  const TensorDesc& out = g.tensors[n.outputs[0]];
  auto same_shape = [&](const TensorDesc& a, const TensorDesc& b) {
    need(a.rows == b.rows && a.cols == b.cols, shape(a) + " and " + shape(b) + " must have the same shape");
  };
  switch (n.op) {
    case OpType::kLayerNorm:
    case OpType::kGelu:
    case OpType::kAddPosition:
    case OpType::kSoftmax: same_shape(in, out); break;
    case OpType::kAdd:
      same_shape(in, out);
      same_shape(g.tensors[n.inputs[1]], out);
      break;
    case OpType::kLinear:
      if (n.accumulate) {
        need(out.alias == n.inputs.back(), "accumulates, so its output must alias its last input");
        need(in.rows <= out.rows, shape(in) + " has more rows than its accumulator " + shape(out));
      } else {
        need(in.rows == out.rows, shape(in) + " and " + shape(out) + " must have the same rows");
      }
      break;
    case OpType::kTranspose:
      need(out.rows == in.cols && out.cols == in.rows, shape(out) + " is not the transpose of " + shape(in));
      break;
    case OpType::kQk: {
      const TensorDesc& k = g.tensors[n.inputs[1]];
      need(in.cols == k.cols, shape(in) + " and " + shape(k) + " must have the same columns");
      need(out.cols == k.rows, shape(out) + " must have one column per row of " + shape(k));
      break;
    }
    case OpType::kClassToken: need(in.cols == out.cols && in.rows < out.rows, shape(out) + " must add token rows to " + shape(in)); break;
    case OpType::kSelectToken:
      need(out.alias == n.inputs[0] && out.alias_row + out.rows <= in.rows, shape(out) + " must be a view of rows of " + shape(in));
      break;
    case OpType::kAv:
      if (n.inputs.size() == 3) {  // integer: probs, vᵀ and v itself (read instead of vᵀ by the fused kernel)
        const TensorDesc& vt = g.tensors[n.inputs[1]];
        const TensorDesc& v = g.tensors[n.inputs[2]];
        need(v.rows == vt.cols && v.cols == vt.rows, shape(v) + " is not the transpose of " + shape(vt));
      }
      break;
    case OpType::kHead: need(out.rows == 1, shape(out) + " must have one row"); break;
    case OpType::kAverageLogits: {
      const TensorDesc& b = g.tensors[n.inputs[1]];
      need(out.rows == 1 && in.rows == 1 && b.rows == 1 && in.cols == out.cols && b.cols == out.cols &&
               in.dtype == ElemType::kS32 && b.dtype == ElemType::kS32 && out.dtype == ElemType::kS32,
           shape(out) + " must average two s32 rows of its width");
      break;
    }
    default: break;
  }
}

}  // namespace

void validate(const Graph& g) {
  const size_t nt = g.tensors.size();
  for (size_t i = 0; i < nt; ++i) {
    const TensorDesc& t = g.tensors[i];
    if (t.rows == 0 || t.cols == 0) fail("tensor " + shape(t) + " is empty");
    if (t.alias < 0) continue;
    if (static_cast<size_t>(t.alias) >= i) fail("tensor '" + t.name + "' aliases a tensor that is not an earlier one");
    const TensorDesc& a = g.tensors[t.alias];
    if (t.kind != Lifetime::kActivation || a.kind != Lifetime::kActivation) {
      fail("tensor '" + t.name + "' aliases '" + a.name + "': only activations may share storage");
    }
    if (t.dtype != a.dtype || t.cols != a.cols) {
      fail("tensor '" + t.name + "' aliases '" + a.name + "' with another dtype or column count");
    }
    if (t.alias_row + t.rows > a.rows) fail("tensor " + shape(t) + " from row " + std::to_string(t.alias_row) + " lies outside " + shape(a));
  }
  std::vector<int> producer(nt, -1), overwritten_by(nt, -1);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    for (const std::vector<int>* ids : {&n.inputs, &n.outputs}) {
      for (int id : *ids) {
        if (id < 0 || static_cast<size_t>(id) >= nt) fail(label(g, i) + " refers to tensor id " + std::to_string(id) + " of " + std::to_string(nt));
      }
    }
    for (int id : n.inputs) {
      const TensorDesc& t = g.tensors[id];
      if (t.kind == Lifetime::kOutput) fail(label(g, i) + " reads the model output '" + t.name + "'");
      if (t.kind != Lifetime::kInput && producer[id] < 0) fail(label(g, i) + " reads '" + t.name + "' before any node produces it");
      if (overwritten_by[id] >= 0) fail(label(g, i) + " reads '" + t.name + "' after " + label(g, overwritten_by[id]) + " overwrote it in place");
    }
    for (int id : n.outputs) {
      const TensorDesc& t = g.tensors[id];
      if (t.kind == Lifetime::kInput) fail(label(g, i) + " writes the model input '" + t.name + "'");
      if (producer[id] >= 0) fail("'" + t.name + "' is produced twice, by " + label(g, producer[id]) + " and " + label(g, i));
      producer[id] = static_cast<int>(i);
      // A view (select token) reads its target; every other aliasing output overwrites it.
      if (t.alias >= 0 && n.op != OpType::kSelectToken) overwritten_by[t.alias] = static_cast<int>(i);
    }
    check_node_shapes(g, i);
  }
  for (size_t i = 0; i < nt; ++i) {
    if (g.tensors[i].kind != Lifetime::kInput && producer[i] < 0) fail("tensor '" + g.tensors[i].name + "' is never produced");
  }
}

std::vector<Segment> derive_segments(const Graph& g) {
  std::vector<Segment> segments;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    const SegmentKind kind = is_attention_op(n.op) ? SegmentKind::kAttention : SegmentKind::kRows;
    // A row-wise run continues while the row domain does: a node on fewer rows (the class token)
    // reads rows other threads wrote, so it needs the barrier a new segment brings.
    const bool joins = !segments.empty() && segments.back().kind == kind && segments.back().rows == n.rows &&
                       (kind == SegmentKind::kRows || g.nodes[segments.back().begin].block == n.block);
    if (joins) {
      segments.back().end = static_cast<int>(i) + 1;
    } else {
      segments.push_back({kind, static_cast<int>(i), static_cast<int>(i) + 1, n.rows});
    }
  }
  // Scratch lives inside one task: it must not be seen outside its attention segment.
  std::vector<int> scratch_segment(g.tensors.size(), -1);
  for (size_t s = 0; s < segments.size(); ++s) {
    for (int i = segments[s].begin; i < segments[s].end; ++i) {
      const Node& n = g.nodes[i];
      for (const std::vector<int>* ids : {&n.inputs, &n.outputs}) {
        for (int id : *ids) {
          if (g.tensors[id].kind != Lifetime::kScratch) continue;
          if (segments[s].kind != SegmentKind::kAttention) fail(label(g, i) + " uses scratch tensor '" + g.tensors[id].name + "' outside an attention segment");
          if (scratch_segment[id] >= 0 && scratch_segment[id] != static_cast<int>(s)) {
            fail("scratch tensor '" + g.tensors[id].name + "' is used by two attention segments");
          }
          scratch_segment[id] = static_cast<int>(s);
        }
      }
    }
  }
  return segments;
}

}  // namespace intvit
