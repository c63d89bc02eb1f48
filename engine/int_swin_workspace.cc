// SwinWorkspace (engine/int_swin.h): one arena for the largest stage's activations and every
// thread's attention tiles, plus each block's window layout and its inverse. Built when a session
// is created; a run allocates nothing. Integer only (tests/no_float).
#include <algorithm>
#include <cstring>
#include <new>
#include <string>

#include "engine/int_swin.h"
#include "engine/int_swin_workspace.h"
#include "kernels/error.h"

namespace intvit {
namespace {

using namespace swin_workspace;

size_t align_up(size_t n) { return (n + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment; }

}  // namespace

void SwinWorkspace::Free::operator()(uint8_t* p) const { ::operator delete(p, std::align_val_t(kArenaAlignment)); }

SwinWorkspace::SwinWorkspace(const IntSwin& m, int threads) : threads_(std::max(threads, 1)), config_(m.config) {
  const SwinConfig& c = m.config;
  c.validate();
  if (m.stages.size() != static_cast<size_t>(c.num_stages())) throw Error(ErrorCode::kInvalidArgument, "SwinWorkspace: stages disagree with the config");
  std::vector<size_t> need(kBufferCount, 0), tile(kTileCount, 0);
  auto grow = [](size_t& v, size_t n) { v = std::max(v, n); };
  const size_t p = c.patch_size, t0 = static_cast<size_t>(c.stage_resolution(0)) * c.stage_resolution(0), c0 = c.embed_dim;
  grow(need[kPatches], t0 * 3 * p * p);
  grow(need[kPatchAcc], t0 * c0 * 4);
  grow(need[kPatchNorm], t0 * c0 * 2);
  for (int s = 0; s < c.num_stages(); ++s) {
    const size_t res = c.stage_resolution(s), t = res * res, ch = c.stage_dim(s), n = static_cast<size_t>(c.stage_window(s)) * c.stage_window(s);
    size_t hidden = 1;
    for (const QSwinBlock& b : m.stages[static_cast<size_t>(s)].blocks) hidden = std::max(hidden, static_cast<size_t>(b.attn_mlp.fc1.out));
    hidden_.push_back(static_cast<int>(hidden));
    const size_t hd = c.head_dim(s);
    for (int b : {kResA, kResB}) grow(need[b], t * ch * 4);
    if (s > 0) {
      grow(need[kMerged], t * 4 * (ch / 2) * 4);
      grow(need[kMergeLn], t * 4 * (ch / 2));
    }
    for (int b : {kLn, kLnWin, kQ, kK, kV, kVt, kAoWin, kAo, kNormOut}) grow(need[b], t * ch);
    for (int b : {kHid, kHid2}) grow(need[b], t * hidden * 2);
    grow(need[kPooled], ch);
    grow(tile[kScores], n * n * 4);
    grow(tile[kProbs], n * n * 2);
    grow(tile[kAcc], n * hd * 4);
    std::vector<SwinWindowLayout> stage;
    for (int j = 0; j < c.depths[s]; ++j) stage.push_back(make_swin_window_layout(static_cast<int>(res), c.stage_window(s), c.block_shift(s, j)));
    layouts_.push_back(std::move(stage));
    std::vector<std::vector<int32_t>> inverse;
    for (const SwinWindowLayout& l : layouts_.back()) {
      std::vector<int32_t> row_of(l.token_of.size());
      for (size_t q = 0; q < l.token_of.size(); ++q) row_of[static_cast<size_t>(l.token_of[q])] = static_cast<int32_t>(q);
      inverse.push_back(std::move(row_of));
    }
    window_row_of_.push_back(std::move(inverse));
  }
  size_t at = 0;
  for (size_t n : need) {
    offset_.push_back(at);
    at += align_up(std::max<size_t>(n, 1));
  }
  for (size_t n : tile) {
    tile_offset_.push_back(at);
    tile_stride_ += align_up(std::max<size_t>(n, 1));
    at += align_up(std::max<size_t>(n, 1));
  }
  // Tiles of thread t start t·tile_stride_ after thread 0's: lay the other threads' copies after.
  at += tile_stride_ * static_cast<size_t>(threads_ - 1);
  bytes_ = at;
  arena_.reset(static_cast<uint8_t*>(::operator new(bytes_, std::align_val_t(kArenaAlignment))));
  std::memset(arena_.get(), 0, bytes_);
}

}  // namespace intvit
