// Offline rewrite of an older integer model file as the current version (weights/FORMAT.md):
// `intvit upgrade OLD -o NEW`. Float is allowed here: a version-1 file stores the LayerNorm
// gamma/beta and the scales, and its softmax / GELU / LayerNorm integer parameters are built from
// them by the same builders the quantizer uses (so the logits stay bit for bit those of the
// version-1 loader of the same build).
#pragma once

#include <filesystem>

namespace intvit {

// Reads old_file_or_dir (version 1 or 2) and writes new_dir (model.intvit, labels.txt,
// config.json) at kIntModelFormatVersion. Returns the version it read.
int upgrade_int_model(const std::filesystem::path& old_file_or_dir, const std::filesystem::path& new_dir);

}  // namespace intvit
