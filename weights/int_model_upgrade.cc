// Offline: version-1 integer model files -> version 2 (weights/int_model_upgrade.h).
#include "weights/int_model_upgrade.h"

#include "models/safetensors.h"
#include "weights/int_model_file.h"
#include "weights/int_model_reader.h"
#include "weights/nonlinear_params.h"

namespace intvit {

int upgrade_int_model(const std::filesystem::path& old_path, const std::filesystem::path& new_dir) {
  const std::filesystem::path file = std::filesystem::is_directory(old_path) ? old_path / kIntModelFileName : old_path;
  bool was_v1 = false;
  IntViT m;
  {
    const SafeTensorsFile st = SafeTensorsFile::open(file);
    m = read_int_model(st, /*allow_v1=*/true, &was_v1);
  }
  // Version 1 stored gamma/beta and the scales; build what version 2 stores, as the v1 loader did.
  if (was_v1) build_nonlinear_params(m);
  save_int_model(m, new_dir);
  return was_v1 ? 1 : kIntModelFormatVersion;
}

}  // namespace intvit
