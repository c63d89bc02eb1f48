// int_vit_forward(_batch): runs an IntWorkspace's typed graph (engine/graph.h) segment by segment
// on n images stored batch-major.
//   - row-wise segment: one pool step over the n·rows rows of the batch; each thread runs every
//     node of the segment on its own row range (Parallel::rows), so threads meet only at segment
//     ends. A node whose tensors are all [rows][cols] per image sees its range as one matrix (one
//     GEMM with M up to n·tokens); the others (patch gather, class token, vᵀ, the class-token
//     tail) run image by image on the part of the range inside each image;
//   - attention segment: (image × head × query-row block) tasks, each running qk -> softmax -> av
//     -> requantize on its tile with per-thread scratch. Every row is computed independently, so
//     any split and any batch give the same bits.
// fc1 and its 8-bit GELU run as one node where the GEMM applies the GELU's byte table in registers
// (folds_gelu; QUANTIZATION.md §3.6): same bits, one pass over [rows × 4·dim] less. Likewise a block
// with 16-bit probabilities runs attn@v as one kernel (fuses_av: av16_u8, Eq. 23c) that reads v as
// its linear wrote it and requantizes in the tile: its vᵀ transpose, int32 accumulator tile and
// requantize pass are skipped. Observed runs keep every node, so traces and observers see fc1's
// output, vᵀ and the accumulators.
// Unobserved runs also skip the rows the logits do not depend on: the last block's q, attention
// and MLP run on the selected token rows only (Executor::live_rows).
// Per node: one switch on the op, then a kernel call on a row range or tile; no allocation,
// virtual call or std::function below the segment level. Integer only (tests/no_float).
#include <algorithm>
#include <cstring>
#include <string>

#include "kernels/error.h"
#include "engine/int_vit.h"
#include "engine/average_logits.h"
#include "engine/op_profile.h"
#include "engine/thread_pool.h"
#include "kernels/layout/transpose.h"

namespace intvit {
namespace {

// Work split: `parts` contiguous row ranges per parallel step (a few per thread for balance).
struct Parallel {
  ThreadPool* pool;
  OpProfile* profile = nullptr;  // per-op time accounting, when intvit-bench asks for it
  int threads() const { return pool ? pool->threads() : 1; }
  // fn(begin, end, thread) over [0, n) in contiguous chunks of at least `grain` items.
  template <typename Fn>
  void rows(size_t n, size_t grain, Fn&& fn) const {
    const size_t parts = std::max<size_t>(1, std::min<size_t>(static_cast<size_t>(threads()), n / std::max<size_t>(grain, 1)));
    if (!pool || parts == 1) {
      fn(size_t{0}, n, 0);
      return;
    }
    auto part_fn = [&](size_t part, int thread) {
      const auto [b, e] = split_range(n, parts, part);
      if (b < e) fn(b, e, thread);
    };
    // One part per thread: part t on thread t in every step, so the rows a thread writes are in
    // its own core's caches when its next step (attention, see run_attention) reads them — unless
    // thread t is late, then another thread takes part t (ThreadPool::run_on_each_thread).
    if (parts == static_cast<size_t>(threads())) {
      pool->run_on_each_thread(part_fn);
    } else {
      pool->parallel_for(parts, part_fn);
    }
  }
};

GemmOut gemm_out(ElemType t) { return t == ElemType::kU8 ? GemmOut::kU8 : t == ElemType::kS16 ? GemmOut::kS16 : GemmOut::kS32; }

OpKind op_kind(const Node& n) {
  switch (n.op) {
    case OpType::kPatchEmbed:
    case OpType::kClassToken: return OpKind::kPatchEmbed;
    case OpType::kLinear: return n.param == Param::kPatchEmbed ? OpKind::kPatchEmbed : OpKind::kLinear;
    case OpType::kSelectToken:
    case OpType::kHead:
    case OpType::kAverageLogits: return OpKind::kLinear;  // the classifier tail (the token view costs nothing)
    case OpType::kLayerNorm: return OpKind::kLayerNorm;
    case OpType::kQk: return OpKind::kQk;
    case OpType::kSoftmax: return OpKind::kSoftmax;
    case OpType::kGelu: return OpKind::kGelu;
    default: return OpKind::kAv;  // av, its requantization and the vᵀ transpose that feeds it
  }
}

// Rows of a tensor with fewer rows than its node's domain are the domain's last ones (the patch
// rows after the class token): returns how many domain rows come before its row 0.
size_t skipped(const TensorDesc& t, size_t domain) { return t.rows < domain ? domain - t.rows : 0; }

// Rows [0, n) of the stream that the head reads (the view of the select-token node), 0 if none.
size_t selected_rows(const Graph& g) {
  for (const Node& n : g.nodes) {
    if (n.op != OpType::kSelectToken) continue;
    const TensorDesc& view = g.tensors[static_cast<size_t>(n.outputs[0])];
    return view.alias_row + view.rows;
  }
  return 0;
}

class Executor {
 public:
  // fuse: whether nodes may be folded (folds_gelu, fuses_av); false when observing.
  Executor(const IntViT& m, const KernelSet& k, IntWorkspace& ws, const uint8_t* pixels, int32_t* logits, OpProfile* profile, bool fuse)
      : m_(m), k_(k), g_(ws.graph()), plan_(ws.plan()), arena_(ws.arena()), pixels_(pixels), logits_(logits), profile_(profile), fuse_(fuse),
        tail_rows_(fuse ? selected_rows(g_) : 0), last_block_(m.config.depth - 1) {}

  const Graph& graph() const { return g_; }
  const TensorDesc& tensor(int id) const { return g_.tensors[static_cast<size_t>(id)]; }
  // Image `img`'s copy of tensor `id` (the model input and output are per image too, back to back).
  uint8_t* data(int id, size_t img = 0, int thread = 0) const {
    const TensorDesc& t = tensor(id);
    if (t.kind == Lifetime::kInput) return const_cast<uint8_t*>(pixels_) + img * t.bytes();
    if (t.kind == Lifetime::kOutput) return reinterpret_cast<uint8_t*>(logits_) + img * t.bytes();
    const auto i = static_cast<size_t>(id);
    return arena_ + plan_.offset[i] + img * plan_.image_stride[i] + static_cast<size_t>(thread) * plan_.thread_stride[i];
  }

  // How many leading rows of each image's domain of node n the logits depend on. The head reads
  // only the selected token rows [0, tail) of the stream after the last block, and everything in
  // that block after its keys and values is row-wise or, for attention, per query row; so an
  // unobserved run computes the last block's q, attention, proj, norm2, fc1, GELU and fc2 on those
  // rows only (ViT-Ti: ~6 % of a forward). Every row is computed independently, so the logits
  // keep their bits; observed and traced runs (fuse_ false) see and compute every row.
  size_t live_rows(const Node& n) const {
    if (tail_rows_ == 0 || n.block != last_block_) return n.rows;
    switch (n.param) {
      case Param::kQ:
      case Param::kAttention:
      case Param::kProj:
      case Param::kNorm2:
      case Param::kFc1:
      case Param::kGelu:
      case Param::kFc2: return std::min(n.rows, tail_rows_);
      default: return n.rows;  // norm1, k, v, vᵀ: every token is a key and a value
    }
  }

  // The most live rows of any node of segment s (s.rows unless all of it is the last block's tail).
  size_t live_rows(const Segment& s) const {
    size_t live = 0;
    for (int i = s.begin; i < s.end; ++i) live = std::max(live, live_rows(g_.nodes[static_cast<size_t>(i)]));
    return live;
  }

  // Rows [b0, b1) of the batch's n·rows domain of a row-wise node (`gelu`: see rows()), of each
  // image only its live_rows.
  void batch_rows(const Node& n, size_t b0, size_t b1, const Node* gelu = nullptr) const {
    const size_t d = n.rows, live = live_rows(n);
    if (live == d && batch_flat(n)) return rows(n, 0, b0, b1, gelu);
    for (size_t img = b0 / d; img * d < b1; ++img) {
      const size_t r0 = std::max(b0, img * d) - img * d, r1 = std::min({b1 - img * d, d, live});
      if (r0 < r1) rows(n, img, r0, r1, gelu);
    }
  }

  // Whether fc1 followed by `next` may run as one node: `next` is fc1's 8-bit GELU and the GEMM
  // applies its byte table in registers (linear_fuses_byte_table). Then fc1's output stage puts
  // each code through the table (Eq. 11c: the bits GELU's pass would write) and stores straight into
  // the GELU's output; fc1's own output tensor is not written, which is why only unobserved runs
  // fold (traces and observers see both tensors). A few compares, no allocation.
  bool folds_gelu(const Node& fc1, const Node& next) const {
    if (fc1.op != OpType::kLinear || fc1.param != Param::kFc1 || next.op != OpType::kGelu || next.block != fc1.block) return false;
    if (next.inputs.size() != 1 || next.inputs[0] != fc1.outputs[0]) return false;
    const QBlock& b = m_.blocks[static_cast<size_t>(fc1.block)];
    if (b.gelu_bytes.size() != 256 || b.gelu.bits != 8 || !linear_fuses_byte_table(*b.fc1.packed)) return false;
    const TensorDesc& a = tensor(fc1.outputs[0]);
    const TensorDesc& g = tensor(next.outputs[0]);
    return a.dtype == ElemType::kU8 && g.dtype == ElemType::kU8 && a.rows == g.rows && a.cols == g.cols && b.fc1.out_type == GemmOut::kU8 &&
           batch_flat(fc1) == batch_flat(next);
  }

  // Whether block `block` runs attn@v as av16_u8 (Eq. 23c): an unobserved run, 16-bit probabilities,
  // a backend with the fused kernel and a uint8 output zero-point it takes. Then its vᵀ node and
  // its requantize node do nothing, and its av node reads v (its third input) and writes attn.out
  // (the requantize node's output; check_workspace holds the graph to that shape). A few compares.
  bool fuses_av(int block) const {
    if (!fuse_ || k_.av16_u8 == nullptr || block < 0) return false;
    const QBlock& b = m_.blocks[static_cast<size_t>(block)];
    return b.probs.bits == 16 && b.attn_out.zero_point >= 0 && b.attn_out.zero_point <= 255;
  }

  // Rows [r0, r1) of image img's domain of a row-wise node (img 0 with a flat node: any batch row).
  // `gelu` (fc1 only, folds_gelu): the GELU node folded into fc1's output stage.
  void rows(const Node& n, size_t img, size_t r0, size_t r1, const Node* gelu = nullptr) const {
    ScopedOpTimer timer(profile_, op_kind(n), node_index(n));
    const int out_id = gelu ? gelu->outputs[0] : n.outputs[0];
    const TensorDesc& out = tensor(out_id);
    uint8_t* y = data(out_id, img);
    switch (n.op) {
      case OpType::kPatchEmbed: return gather_patches(data(n.inputs[0], img), out, y, r0, r1, skipped(out, n.rows));
      case OpType::kClassToken:  // the class-token + position table (QUANTIZATION.md: s_res units)
        std::memcpy(y + r0 * out.row_bytes(), m_.embed_init.data() + r0 * out.cols, (r1 - r0) * out.row_bytes());
        return;
      case OpType::kLayerNorm: {
        const TensorDesc& in = tensor(n.inputs[0]);
        k_.layernorm_rows(node_norm(m_, n).params, r1 - r0, data(n.inputs[0], img) + r0 * in.row_bytes(), in.cols, y + r0 * out.row_bytes(), out.cols);
        return;
      }
      case OpType::kLinear:
      case OpType::kHead: {
        const TensorDesc& in = tensor(n.inputs[0]);
        const size_t in_skip = skipped(in, n.rows), out_skip = skipped(out, n.rows), a = std::max(r0, in_skip);
        if (a >= r1) return;
        const QLinear& l = node_linear(m_, n);
        const RequantParams rq = l.requant();
        const uint8_t* table = gelu ? m_.blocks[static_cast<size_t>(n.block)].gelu_bytes.data() : nullptr;
        const GemmOutput o{y + (a - out_skip) * out.row_bytes(), out.cols, l.out_type, &rq, l.accumulate, table};
        linear(*l.packed, r1 - a, data(n.inputs[0], img) + (a - in_skip) * in.row_bytes(), in.cols, o);
        timer.add_macs(static_cast<int64_t>((r1 - a) * static_cast<size_t>(l.in) * static_cast<size_t>(l.out)));
        return;
      }
      case OpType::kTranspose: {  // [T][D] -> [D][T]: columns [r0, r1) of vᵀ
        if (fuses_av(n.block)) return;  // av16_u8 reads v itself
        transpose_u8(out.rows, r0, r1, data(n.inputs[0], img), out.rows, y, out.cols);
        return;
      }
      case OpType::kAverageLogits:  // one row: Eq. 41
        average_logits(reinterpret_cast<const int32_t*>(data(n.inputs[0], img)), reinterpret_cast<const int32_t*>(data(n.inputs[1], img)),
                       out.cols, reinterpret_cast<int32_t*>(y));
        return;
      case OpType::kGelu:
        k_.gelu(m_.blocks[static_cast<size_t>(n.block)].gelu, (r1 - r0) * out.cols, data(n.inputs[0], img) + r0 * tensor(n.inputs[0]).row_bytes(),
             y + r0 * out.row_bytes());
        return;
      default: return;  // kSelectToken: a view, nothing to compute
    }
  }

  // An attention node on query rows [r0, r1) of head h of image img; scratch is this thread's copy.
  void tile(const Node& n, size_t img, size_t h, size_t r0, size_t r1, int thread) const {
    ScopedOpTimer timer(profile_, op_kind(n), node_index(n));
    const QBlock& b = m_.blocks[static_cast<size_t>(n.block)];
    const size_t t = m_.config.num_tokens(), hd = m_.config.head_dim(), off = h * hd, rows = r1 - r0;
    if (n.op == OpType::kQk || n.op == OpType::kAv) timer.add_macs(static_cast<int64_t>(rows * t * hd));  // either product
    const TensorDesc& in = tensor(n.inputs[0]);
    const TensorDesc& out = tensor(n.outputs[0]);
    const uint8_t* x = data(n.inputs[0], img, thread);
    uint8_t* y = data(n.outputs[0], img, thread);
    switch (n.op) {
      case OpType::kQk: {  // (Eq. 9) scores = (q - zq)(k - zk)ᵀ at s_q·s_k (head_dim^-0.5 is inside s_q)
        const TensorDesc& k = tensor(n.inputs[1]);
        matmul_u8u8_nt(k_.gemm, rows, t, hd, x + r0 * in.cols + off, in.cols, in.zero_point, data(n.inputs[1], img) + off, k.cols, k.zero_point,
                       reinterpret_cast<int32_t*>(y), out.cols);
        return;
      }
      case OpType::kSoftmax: {
        const int32_t* scores = reinterpret_cast<const int32_t*>(x);
        if (out.dtype == ElemType::kU16) {
          k_.softmax_rows16(b.softmax, rows, t, scores, in.cols, reinterpret_cast<uint16_t*>(y), out.cols);
        } else {
          k_.softmax_rows(b.softmax, rows, t, scores, in.cols, y, out.cols);
        }
        return;
      }
      case OpType::kAv: {  // probs @ v per head; v is transposed ([D][T]), so row `off` starts the head
        if (fuses_av(n.block)) {  // Eq. 23c: v token-major, head h at column off; into attn.out
          const Node& rq = (&n)[1];
          const TensorDesc& v = tensor(n.inputs[2]);
          const TensorDesc& o = tensor(rq.outputs[0]);
          const Av16Requant r{b.attn_out_multiplier, b.attn_out_shift, o.zero_point};
          k_.av16_u8(rows, hd, t, reinterpret_cast<const uint16_t*>(x), in.cols, data(n.inputs[2], img) + off, v.cols, v.zero_point, r,
                     data(rq.outputs[0], img) + r0 * o.cols + off, o.cols);
          return;
        }
        const TensorDesc& vt = tensor(n.inputs[1]);
        const uint8_t* v = data(n.inputs[1], img) + off * vt.cols;
        int32_t* acc = reinterpret_cast<int32_t*>(y);
        if (in.dtype == ElemType::kU16) {
          k_.av16(rows, hd, t, reinterpret_cast<const uint16_t*>(x), in.cols, v, vt.cols, vt.zero_point, acc, out.cols);
        } else if (b.softmax.mode == SoftmaxMode::kLog2) {
          k_.av_log2(b.softmax, rows, hd, t, x, in.cols, v, vt.cols, vt.zero_point, acc, out.cols);
          if (b.softmax.renormalize) av_log2_renormalize(b.softmax, rows, hd, t, x, in.cols, acc, out.cols);  // Eq. 24
        } else {
          matmul_u8u8_nt(k_.gemm, rows, hd, t, x, in.cols, in.zero_point, v, vt.cols, vt.zero_point, acc, out.cols);
        }
        return;
      }
      case OpType::kRequantize: {
        if (fuses_av(n.block)) return;  // done by av16_u8 in the av node
        const RequantParams rq{&b.attn_out_multiplier, &b.attn_out_shift, false, out.zero_point, 0, 255};
        const GemmOutput o{y + r0 * out.cols + off, out.cols, GemmOut::kU8, &rq, false};
        requantize(k_.gemm, rows, hd, reinterpret_cast<const int32_t*>(x), in.cols, rq, o);
        return;
      }
      default: return;
    }
  }

 private:
  int node_index(const Node& n) const { return static_cast<int>(&n - g_.nodes.data()); }

  // Whether a row-wise node may treat the batch as one [n·rows][cols] matrix: a layernorm, linear
  // or GELU whose every tensor holds exactly the domain's rows per image, back to back.
  bool batch_flat(const Node& n) const {
    if (n.op != OpType::kLayerNorm && n.op != OpType::kLinear && n.op != OpType::kGelu) return false;
    for (const std::vector<int>* ids : {&n.inputs, &n.outputs}) {
      for (int id : *ids) {
        const TensorDesc& t = tensor(id);
        if (t.kind != Lifetime::kActivation || t.rows != n.rows || plan_.image_stride[static_cast<size_t>(id)] != t.bytes()) return false;
      }
    }
    return true;
  }

  // Each P×P×3 patch of `image` as one row in (ky, kx, c) order: P runs of 3·P contiguous bytes.
  // Domain rows [r0, r1) are tokens; patch p is token p + skip.
  void gather_patches(const uint8_t* image, const TensorDesc& out, uint8_t* patches, size_t r0, size_t r1, size_t skip) const {
    const ViTConfig& c = m_.config;
    const size_t p = c.patch_size, g = c.grid(), img = c.image_size, run = 3 * p;
    // kRun: the run length as a constant where it is 48 (P = 16, every ViT/DeiT here), so each copy
    // is inlined: a libc memcpy call per 48-byte run cost ~0.7 % of a ViT-Ti forward (3136 calls).
    const auto gather = [&]<size_t kRun>() {
      const size_t n = kRun != 0 ? kRun : run;
      for (size_t i = std::max(r0, skip) - skip; i + skip < r1; ++i) {
        uint8_t* dst = patches + i * out.row_bytes();
        const size_t py = i / g, px = i % g;
        for (size_t ky = 0; ky < p; ++ky) std::memcpy(dst + ky * n, image + ((py * p + ky) * img + px * p) * 3, n);
      }
    };
    if (run == 48) return gather.template operator()<48>();
    gather.template operator()<0>();
  }

  const IntViT& m_;
  const KernelSet& k_;
  const Graph& g_;
  const MemoryPlan& plan_;
  uint8_t* arena_;
  const uint8_t* pixels_;
  int32_t* logits_;
  OpProfile* profile_;
  bool fuse_;
  size_t tail_rows_;  // rows the head reads after the last block, 0: compute every row (live_rows)
  int last_block_;
};

// (image × head × query-row block) tasks: a few per thread when the images' heads alone would
// leave threads idle.
// A task runs each node over its whole tile, not over L1-sized query-row sub-blocks: q@kᵀ packs
// kᵀ and av16_u8 packs v on every call (~0.43 and ~0.79 µs a call on AVX-512 VNNI), while scores
// and probabilities kept in L1 save nothing measurable (each kernel's time is its whole-tile time
// plus that per-call cost). ViT-Ti head chain q@kᵀ -> softmax16 -> av16_u8, 197-row tiles, best of
// 300: whole 119 µs per 3 heads, sub-blocks of 64 rows 134, 32: 148, 16: 178; AVX2 and AVX-VNNI
// alike; forward b1t1 best 6.13 → 6.56 ms with 32 (host shared, load 6).
// `rows`: the live query rows of each image (Executor::live_rows), s.rows or fewer.
void run_attention(const Parallel& par, const Executor& x, const Segment& s, size_t images, size_t heads, size_t rows) {
  const size_t units = images * heads, threads = static_cast<size_t>(par.threads());
  if (rows < s.rows) {  // the last block's selected rows: less work than waking the pool costs
    for (size_t unit = 0; unit < units; ++unit) {
      for (int i = s.begin; i < s.end; ++i) x.tile(x.graph().nodes[static_cast<size_t>(i)], unit / heads, unit % heads, 0, rows, 0);
    }
    return;
  }
  if (par.pool && threads > 1 && (images % threads == 0 || images == 1)) {
    // Equal shares, each on the thread whose row step wrote its queries (Parallel::rows runs part t
    // on thread t): whole images of that thread's row range, or with one image, the thread's row
    // range of every head. Keys and values still come from every thread's rows. (Tried: one image
    // split as head-major slices of heads × rows, so each head's kᵀ and v are packed by fewer
    // threads: ViT-Ti b1 t2 best of 8 alternating runs 306.3 → 305.8 images/s, no gain.)
    par.pool->run_on_each_thread([&](size_t t, int thread) {
      if (images == 1) {
        const auto [r0, r1] = split_range(rows, threads, t);
        if (r0 == r1) return;
        for (size_t h = 0; h < heads; ++h) {
          for (int i = s.begin; i < s.end; ++i) x.tile(x.graph().nodes[static_cast<size_t>(i)], 0, h, r0, r1, thread);
        }
        return;
      }
      const auto [i0, i1] = split_range(images, threads, t);
      for (size_t img = i0; img < i1; ++img) {
        for (size_t h = 0; h < heads; ++h) {
          for (int i = s.begin; i < s.end; ++i) x.tile(x.graph().nodes[static_cast<size_t>(i)], img, h, 0, rows, thread);
        }
      }
    });
    return;
  }
  const size_t row_blocks = threads > 1 ? std::max<size_t>(1, (2 * threads + units - 1) / units) : 1;
  auto task = [&](size_t index, int thread) {
    const size_t unit = index / row_blocks;
    const auto [r0, r1] = split_range(rows, row_blocks, index % row_blocks);
    if (r0 == r1) return;
    for (int i = s.begin; i < s.end; ++i) x.tile(x.graph().nodes[static_cast<size_t>(i)], unit / heads, unit % heads, r0, r1, thread);
  };
  if (par.pool && units * row_blocks > 1) {
    par.pool->parallel_for(units * row_blocks, task);
  } else {
    for (size_t i = 0; i < units * row_blocks; ++i) task(i, 0);
  }
}

// The model must be the one the workspace was typed for (geometry, bit widths) and be packed:
// a few integer compares per node, so every run checks it instead of trusting the caller.
void check_workspace(const IntViT& m, const IntWorkspace& ws, const ThreadPool* pool, size_t images) {
  auto fail = [](const std::string& why) { throw Error(ErrorCode::kInvalidArgument, "int_vit_forward: " + why); };
  if (images < 1 || images > ws.batch()) {
    fail(std::to_string(images) + " images need a workspace made for as many (this one: " + std::to_string(ws.batch()) + ")");
  }
  if (pool && pool->threads() > ws.threads()) {
    fail("a pool of " + std::to_string(pool->threads()) + " threads needs a workspace made for as many (this one: " + std::to_string(ws.threads()) + ")");
  }
  const Graph& g = ws.graph();
  if (m.blocks.size() != static_cast<size_t>(m.config.depth) || g.tensors[static_cast<size_t>(g.nodes.back().outputs[0])].cols != static_cast<size_t>(m.config.num_classes)) {
    fail("the workspace was made for another model geometry");
  }
  for (const Node& n : g.nodes) {
    const TensorDesc& out = g.tensors[static_cast<size_t>(n.outputs[0])];
    const TensorDesc* in = n.inputs.empty() ? nullptr : &g.tensors[static_cast<size_t>(n.inputs[0])];
    bool ok = n.block < static_cast<int>(m.blocks.size());
    if (ok && (n.op == OpType::kLinear || n.op == OpType::kHead)) {
      const QLinear& l = node_linear(m, n);
      if (!l.packed) fail("layer '" + n.name + "' is not packed (IntViT::prepare)");
      ok = static_cast<size_t>(l.in) == in->cols && static_cast<size_t>(l.out) == out.cols && l.accumulate == n.accumulate &&
           gemm_out(in->dtype) == (l.input.bits == 16 ? GemmOut::kS16 : GemmOut::kU8) && gemm_out(out.dtype) == l.out_type;
    } else if (ok && n.op == OpType::kAv) {  // fuses_av: the next node requantizes this one's output; v is [T][D]
      const size_t i = static_cast<size_t>(&n - g.nodes.data());
      const Node* next = i + 1 < g.nodes.size() ? &g.nodes[i + 1] : nullptr;
      ok = n.inputs.size() == 3 && next && next->op == OpType::kRequantize && next->inputs[0] == n.outputs[0] && next->block == n.block &&
           g.tensors[static_cast<size_t>(n.inputs[2])].dtype == ElemType::kU8 && g.tensors[static_cast<size_t>(next->outputs[0])].dtype == ElemType::kU8 &&
           g.tensors[static_cast<size_t>(n.inputs[2])].cols == static_cast<size_t>(m.config.embed_dim);
    } else if (ok && n.op == OpType::kSoftmax) {
      ok = (out.dtype == ElemType::kU16) == (m.blocks[static_cast<size_t>(n.block)].probs.bits == 16);
    } else if (ok && n.op == OpType::kClassToken) {
      ok = m.embed_init.size() == out.rows * out.cols;
    }
    if (!ok) fail("the workspace was made for another model (node '" + n.name + "' disagrees)");
  }
}

void emit(const IntActivationObserver& observer, const Executor& x, int id, std::string_view name, int head = -1) {
  const TensorDesc& t = x.tensor(id);
  observer(name, IntActivation{x.data(id), gemm_out(t.dtype), t.rows, t.cols, t.cols, t.scale, t.zero_point, &t, head});
}

// Observing: head by head over all query rows on thread 0's scratch (the tiles run_attention makes
// for one thread, so the same bits); in trace mode each scratch tile is emitted after its node.
void observe_attention(const Executor& x, const Segment& s, size_t heads, const IntActivationObserver& observer, bool every_tensor) {
  for (size_t h = 0; h < heads; ++h) {
    for (int i = s.begin; i < s.end; ++i) {
      const Node& n = x.graph().nodes[static_cast<size_t>(i)];
      x.tile(n, 0, h, 0, s.rows, 0);
      if (!every_tensor) continue;
      for (int id : n.outputs) {
        if (x.tensor(id).kind == Lifetime::kScratch) emit(observer, x, id, x.tensor(id).name, static_cast<int>(h));
      }
    }
  }
}

// every_tensor (trace mode, with an observer): every tensor under its graph name, see
// int_vit_forward_traced; otherwise an observer sees the `observed` tensors and "<norm>.in" names.
void run_forward(const IntViT& m, const KernelSet& kernels, size_t images, const uint8_t* pixels, IntWorkspace& ws, int32_t* logits,
                 ThreadPool* pool, const IntActivationObserver* observer, OpProfile* profile, bool every_tensor = false) {
  check_workspace(m, ws, pool, images);
  // Observation happens on the calling thread, over whole tensors, so it runs without the pool.
  const Parallel par{observer ? nullptr : pool, profile};
  const Executor x(m, kernels, ws, pixels, logits, profile, observer == nullptr);
  const std::vector<Node>& nodes = ws.graph().nodes;
  const size_t heads = static_cast<size_t>(m.config.num_heads);
  if (observer && every_tensor) {
    for (size_t id = 0; id < ws.graph().tensors.size(); ++id) {
      if (ws.graph().tensors[id].kind == Lifetime::kInput) emit(*observer, x, static_cast<int>(id), ws.graph().tensors[id].name);
    }
  }
  for (const Segment& s : ws.segments()) {
    if (s.kind == SegmentKind::kAttention) {
      if (observer) {
        observe_attention(x, s, heads, *observer, every_tensor);
      } else {
        run_attention(par, x, s, images, heads, x.live_rows(s));
      }
    } else if (!observer) {
      auto run_rows = [&](size_t r0, size_t r1, int) {
        for (int i = s.begin; i < s.end; ++i) {
          const Node& n = nodes[static_cast<size_t>(i)];
          if (i + 1 < s.end && x.folds_gelu(n, nodes[static_cast<size_t>(i) + 1])) {
            x.batch_rows(n, r0, r1, &nodes[static_cast<size_t>(++i)]);  // fc1 + GELU in one pass
          } else {
            x.batch_rows(n, r0, r1);
          }
        }
      };
      if (x.live_rows(s) < s.rows) {
        run_rows(0, images * s.rows, 0);  // the last block's tail: a few rows, not worth a pool step
      } else {
        par.rows(images * s.rows, 8, run_rows);
      }
    }
    if (!observer) continue;
    // Observing (one image): the segment runs once over all rows, each node's tensors emitted
    // after it (scratch tiles only in trace mode, above). A LayerNorm's input is also "<norm>.in"
    // (block 0 reads "embed").
    for (int i = s.begin; i < s.end; ++i) {
      const Node& n = nodes[static_cast<size_t>(i)];
      if (n.op == OpType::kLayerNorm && !every_tensor) {
        const std::string name = n.name + ".in";  // allocates, but only when observing
        if (name != x.tensor(n.inputs[0]).name) emit(*observer, x, n.inputs[0], name);
      }
      if (s.kind == SegmentKind::kRows) x.rows(n, 0, 0, s.rows);
      for (int id : n.outputs) {
        const TensorDesc& t = x.tensor(id);
        if (every_tensor ? t.kind != Lifetime::kScratch : t.observed) emit(*observer, x, id, t.name);
      }
    }
  }
}

}  // namespace

void int_vit_forward(const IntViT& m, const KernelSet& kernels, const uint8_t* pixels, IntWorkspace& ws, int32_t* logits, ThreadPool* pool,
                     const IntActivationObserver* observer, OpProfile* profile) {
  run_forward(m, kernels, 1, pixels, ws, logits, pool, observer, profile);
}

void int_vit_forward_traced(const IntViT& m, const KernelSet& kernels, const uint8_t* pixels, IntWorkspace& ws, int32_t* logits,
                            const IntActivationObserver& observer) {
  run_forward(m, kernels, 1, pixels, ws, logits, nullptr, &observer, nullptr, true);
}

void bind_profile_nodes(const IntWorkspace& ws, OpProfile& profile) {
  std::vector<std::string> names;
  std::vector<OpKind> kinds;
  for (const Node& n : ws.graph().nodes) {
    names.push_back(n.name);
    kinds.push_back(op_kind(n));
  }
  profile.bind_nodes(std::move(names), std::move(kinds));
}

void int_vit_forward_batch(const IntViT& m, const KernelSet& kernels, size_t n, const uint8_t* pixels, IntWorkspace& ws, int32_t* logits,
                           ThreadPool* pool, OpProfile* profile) {
  run_forward(m, kernels, n, pixels, ws, logits, pool, nullptr, profile);
}

}  // namespace intvit
