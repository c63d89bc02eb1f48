// oneDNN backend of the u8 × s8 linear layer: oneDNN's int8 matmul computes the raw int32 sums
// Σ_k A·W; the bias bracket of Eq. 8 and Eq. 11 run in intvit's own output stage. (oneDNN applies
// bias, zero-points and scales in f32, which is not exact beyond 2^24, so none of them is given to
// it; a plain s32 destination without attributes is stored exactly.)
//
// Primitives: one per (weights, shape, thread), created on first use and cached in a thread_local
// table together with its memory objects, scratchpad and int32 accumulator buffer — the only
// allocations on this path. Entries live until their thread exits.
// Threads: oneDNN here uses the OpenMP runtime, which sizes each parallel region by the calling
// thread's omp_get_max_threads(); every call (and primitive creation) runs with it set to 1 and
// restores it afterwards, since the caller parallelises. The OpenMP functions are looked up with
// dlsym because intvit does not link OpenMP itself (libgomp is oneDNN's dependency).
#include <dlfcn.h>

#include <atomic>
#include <cstring>
#include <oneapi/dnnl/dnnl.hpp>
#include <string>
#include <unordered_map>
#include <vector>

#include "kernels/error.h"
#include "kernels/gemm/gemm-kernels.h"

namespace intvit::gemm {
namespace {

using dnnl::memory;
using dt = memory::data_type;

dnnl::engine& cpu_engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

class OneOmpThread {
 public:
  OneOmpThread() {
    static const auto get = reinterpret_cast<int (*)()>(dlsym(RTLD_DEFAULT, "omp_get_max_threads"));
    static const auto set = reinterpret_cast<void (*)(int)>(dlsym(RTLD_DEFAULT, "omp_set_num_threads"));
    set_ = set;
    if (get && set) {
      saved_ = get();
      if (saved_ != 1) set(1);
    }
  }
  ~OneOmpThread() {
    if (set_ && saved_ > 1) set_(saved_);
  }
  OneOmpThread(const OneOmpThread&) = delete;
  OneOmpThread& operator=(const OneOmpThread&) = delete;

 private:
  void (*set_)(int) = nullptr;
  int saved_ = 1;
};

struct Weights {
  uint64_t id;  // unique per packing, keys the per-thread caches
  size_t n, k;
  const int8_t* plain;  // [N][K], owned by PackedWeights
  memory::desc blocked_desc;
  memory blocked;  // oneDNN's preferred layout, reordered once
};

std::atomic<uint64_t> next_weights_id{1};

memory::desc plain_weights_desc(size_t k, size_t n) {
  // W^T as oneDNN's [K][N] weights: element (k, n) at n * K + k.
  return memory::desc({static_cast<memory::dim>(k), static_cast<memory::dim>(n)}, dt::s8,
                      {1, static_cast<memory::dim>(k)});
}

dnnl::matmul::primitive_desc make_pd(size_t m, size_t k, size_t n, size_t lda, size_t ldc, const memory::desc& w) {
  const memory::desc a({static_cast<memory::dim>(m), static_cast<memory::dim>(k)}, dt::u8,
                       {static_cast<memory::dim>(lda), 1});
  const memory::desc c({static_cast<memory::dim>(m), static_cast<memory::dim>(n)}, dt::s32,
                       {static_cast<memory::dim>(ldc), 1});
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return dnnl::matmul::primitive_desc(dnnl::matmul::desc(a, w, c), attr, cpu_engine());
}

struct Key {
  uint64_t weights;
  size_t m, lda, n_begin, n_end, ldc;
  bool operator==(const Key&) const = default;
};
struct KeyHash {
  size_t operator()(const Key& k) const {
    size_t h = k.weights;
    for (size_t v : {k.m, k.lda, k.n_begin, k.n_end, k.ldc}) h = h * 0x9E3779B97F4A7C15ull + v;
    return h;
  }
};
struct Entry {
  dnnl::matmul primitive;
  memory src, weights, dst, scratchpad;
  std::vector<uint8_t> scratch_bytes;
  std::vector<int32_t> acc;  // int32 sums when the output needs requantization or accumulation
};

Entry& entry_for(const Weights& w, size_t m, size_t lda, size_t n_begin, size_t n_end, size_t ldc_direct) {
  thread_local std::unordered_map<Key, Entry, KeyHash> cache;
  const Key key{w.id, m, lda, n_begin, n_end, ldc_direct};
  if (auto it = cache.find(key); it != cache.end()) return it->second;

  const size_t cols = n_end - n_begin;
  const size_t ldc = ldc_direct ? ldc_direct : cols;
  Entry e;
  dnnl::matmul::primitive_desc pd;
  const bool whole = n_begin == 0 && n_end == w.n;
  bool blocked = false;
  if (whole) {
    try {
      pd = make_pd(m, w.k, cols, lda, ldc, w.blocked_desc);
      blocked = true;
    } catch (const dnnl::error&) {
      // this shape rejects the pre-reordered layout: fall back to the plain weights below
    }
  }
  if (!blocked) pd = make_pd(m, w.k, cols, lda, ldc, plain_weights_desc(w.k, cols));
  e.primitive = dnnl::matmul(pd);
  e.src = memory(pd.src_desc(), cpu_engine(), DNNL_MEMORY_NONE);
  e.dst = memory(pd.dst_desc(), cpu_engine(), DNNL_MEMORY_NONE);
  e.weights = blocked ? memory(w.blocked_desc, cpu_engine(), w.blocked.get_data_handle())
                      : memory(pd.weights_desc(), cpu_engine(), const_cast<int8_t*>(w.plain + n_begin * w.k));
  e.scratch_bytes.resize(pd.scratchpad_desc().get_size() + 1);
  e.scratchpad = memory(pd.scratchpad_desc(), cpu_engine(), e.scratch_bytes.data());
  if (!ldc_direct) e.acc.resize(m * cols);
  return cache.emplace(key, std::move(e)).first->second;
}

}  // namespace

void* onednn_prepare_weights(const int8_t* plain, size_t n, size_t k) {
  OneOmpThread one;
  auto* w = new Weights{next_weights_id++, n, k, plain, {}, {}};
  try {
    // Let oneDNN pick its weights layout for a ViT-sized M; it depends on K and N, not on M.
    const memory::desc any({static_cast<memory::dim>(k), static_cast<memory::dim>(n)}, dt::s8, memory::format_tag::any);
    const auto pd = make_pd(197, k, n, k, n, any);
    w->blocked_desc = pd.weights_desc();
    w->blocked = memory(w->blocked_desc, cpu_engine());
    memory source(plain_weights_desc(k, n), cpu_engine(), const_cast<int8_t*>(plain));
    dnnl::stream stream(cpu_engine());
    dnnl::reorder(source, w->blocked).execute(stream, source, w->blocked);
    stream.wait();
  } catch (const dnnl::error& e) {
    delete w;
    throw Error(ErrorCode::kUnsupported, std::string("gemm: oneDNN cannot build an int8 matmul: ") + e.what());
  }
  return w;
}

void onednn_destroy_weights(void* state) { delete static_cast<Weights*>(state); }

void qu8s8_gemm__onednn(const PackedWeights& pw, size_t m, const void* a, size_t lda, const OutputPlan& out,
                        size_t n_begin, size_t n_end) {
  const Weights& w = *static_cast<const Weights*>(pw.layout().backend);
  const bool direct = out.raw && !out.accumulate;  // raw sums straight into C, bias added in place
  OneOmpThread one;
  Entry* e;
  try {
    e = &entry_for(w, m, lda, n_begin, n_end, direct ? out.ld : 0);
  } catch (const dnnl::error& err) {
    throw Error(ErrorCode::kUnsupported, std::string("gemm: oneDNN matmul creation failed: ") + err.what());
  }
  int32_t* sums = direct ? static_cast<int32_t*>(out.data) + n_begin : e->acc.data();
  const size_t ld_sums = direct ? out.ld : n_end - n_begin;
  thread_local dnnl::stream stream(cpu_engine());
  e->src.set_data_handle(const_cast<void*>(a));
  e->dst.set_data_handle(sums);
  e->primitive.execute(stream, {{DNNL_ARG_SRC, e->src},
                                {DNNL_ARG_WEIGHTS, e->weights},
                                {DNNL_ARG_DST, e->dst},
                                {DNNL_ARG_SCRATCHPAD, e->scratchpad}});
  stream.wait();
  // Σ A·W + (bias − z_a·Σ W) is Eq. 8; then Eq. 11 (or the raw store) by the native output stage.
  output_stage_for(GemmIsa::kOneDnn)(out, 0, m, n_begin, n_end, sums, ld_sums, pw.layout().bias_eff);
}

}  // namespace intvit::gemm
