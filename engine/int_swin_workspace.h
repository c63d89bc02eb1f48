// SwinWorkspace's buffer and tile indices, shared by its constructor (engine/int_swin_workspace.cc)
// and the forward (engine/int_swin_forward.cc). Internal to the core layer.
#pragma once

namespace intvit::swin_workspace {

// Activation buffers, each sized for the largest stage. kMergeLn is not kLn: the patch merging's
// LayerNorm rows (4·C_{s−1}) and norm1's (C_s) have different strides, and one row step writes both.
enum Buffer : int { kPatches, kPatchAcc, kPatchNorm, kResA, kResB, kMerged, kMergeLn, kLn, kLnWin, kQ, kK, kV, kVt, kAoWin, kAo, kHid, kHid2, kNormOut, kPooled, kBufferCount };
// Per-thread tiles of one (window, head) attention task.
enum Tile : int { kScores, kProbs, kAcc, kTileCount };

}  // namespace intvit::swin_workspace
