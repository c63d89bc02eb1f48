#include "engine/dataset.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "kernels/error.h"
#include "engine/idx_dataset.h"
#include "engine/image_files.h"
#include "models/image.h"
#include "models/safetensors.h"

namespace intvit {
namespace {

std::vector<std::pair<std::string, int>> read_labels_csv(const std::filesystem::path& csv) {
  std::ifstream in(csv);
  if (!in) throw Error(ErrorCode::kIo, "cannot open labels " + csv.string());
  std::string line;
  std::getline(in, line);  // header: file,class_index,...
  if (line.rfind("file,class_index", 0) != 0) {
    throw Error(ErrorCode::kInvalidArgument, csv.string() + ": header must start with file,class_index");
  }
  std::vector<std::pair<std::string, int>> rows;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::stringstream ss(line);
    std::string file, cls;
    std::getline(ss, file, ',');
    std::getline(ss, cls, ',');
    try {
      rows.emplace_back(file, std::stoi(cls));
    } catch (const std::exception&) {
      throw Error(ErrorCode::kInvalidArgument, csv.string() + ": bad class_index in line '" + line + "'");
    }
  }
  return rows;
}

std::vector<LabeledImage> from_safetensors(const std::filesystem::path& file, const ViTConfig& c, int limit) {
  const SafeTensorsFile st = SafeTensorsFile::open(file);
  const TensorView& px = st.get("pixels");
  if (px.shape.size() != 4 || px.shape[1] != c.image_size || px.shape[2] != c.image_size || px.shape[3] != 3) {
    throw Error(ErrorCode::kInvalidArgument, file.string() + ": pixels must be [N," + std::to_string(c.image_size) + "," +
                                                 std::to_string(c.image_size) + ",3], got " + px.shape_string());
  }
  const std::vector<uint8_t> all = px.copy_as<uint8_t>();
  std::vector<int32_t> labels;
  if (const TensorView* l = st.find("class_index")) labels = l->copy_as<int32_t>();
  const size_t n = limit > 0 ? std::min<size_t>(px.shape[0], limit) : px.shape[0];
  const size_t bytes = static_cast<size_t>(c.image_size) * c.image_size * 3;
  std::vector<LabeledImage> out(n);
  for (size_t i = 0; i < n; ++i) {
    out[i].name = file.filename().string() + "[" + std::to_string(i) + "]";
    out[i].pixels.assign(all.begin() + i * bytes, all.begin() + (i + 1) * bytes);
    out[i].label = i < labels.size() ? labels[i] : -1;
  }
  return out;
}

// IDX (MNIST layout): gray images replicated to RGB, then the model's preprocessing.
std::vector<LabeledImage> from_idx(const std::filesystem::path& images, const std::filesystem::path& labels_file,
                                   const ViTConfig& c, int limit, const std::function<void(int, int)>& progress) {
  const IdxImages idx = read_idx_images(images, limit);
  std::vector<int> labels;
  if (!labels_file.empty()) {
    labels = read_idx_labels(labels_file, limit);
    if (labels.size() != static_cast<size_t>(idx.count)) {
      throw Error(ErrorCode::kInvalidArgument, labels_file.string() + " has " + std::to_string(labels.size()) +
                                                   " labels for " + std::to_string(idx.count) + " images");
    }
  }
  const PreprocessConfig pre = preprocess_config_for(c);
  const size_t area = static_cast<size_t>(idx.height) * idx.width;
  std::vector<LabeledImage> out;
  out.reserve(idx.count);
  for (int i = 0; i < idx.count; ++i) {
    const Image gray = image_from_pixels(idx.pixels.data() + i * area, idx.width, idx.height, 1, idx.width);
    out.push_back({images.filename().string() + "[" + std::to_string(i) + "]", preprocess(gray, pre).rgb,
                   labels.empty() ? -1 : labels[i]});
    if (progress) progress(i + 1, idx.count);
  }
  return out;
}

}  // namespace

PreprocessConfig preprocess_config_for(const ViTConfig& c) {
  PreprocessConfig p;
  p.input_size = c.image_size;
  p.crop_pct = c.crop_pct;
  p.filter = c.interpolation == "bilinear" ? ResizeFilter::kBilinear : ResizeFilter::kBicubic;
  // The rule that reproduces the shared PyTorch oracle's crops exactly (100/100 images); torchvision's
  // int()/round-half-even rule matches only 46/100 of them.
  p.rounding = GeometryRounding::kNearestSizeFloorOffset;
  return p;
}

std::vector<LabeledFile> list_folder_dataset(const std::filesystem::path& dir, const std::filesystem::path& labels_csv,
                                             int limit) {
  if (!std::filesystem::is_directory(dir)) throw Error(ErrorCode::kIo, "not a folder: " + dir.string());
  std::vector<LabeledFile> entries;
  if (!labels_csv.empty()) {
    for (auto& [file, label] : read_labels_csv(labels_csv)) entries.push_back({dir / file, file, label});
  } else {
    for (std::filesystem::path& p : list_image_files(dir)) {
      std::string name = p.lexically_relative(dir).string();
      entries.push_back({std::move(p), std::move(name), -1});
    }
  }
  if (limit > 0 && entries.size() > static_cast<size_t>(limit)) entries.resize(limit);
  if (entries.empty()) throw Error(ErrorCode::kInvalidArgument, "no images found in " + dir.string());
  return entries;
}

std::vector<LabeledImage> load_dataset(const std::filesystem::path& images, const std::filesystem::path& labels_csv,
                                       const ViTConfig& c, int limit, const std::function<void(int, int)>& progress) {
  if (images.extension() == ".safetensors") {
    if (!labels_csv.empty()) {  // silently reading class_index instead would look like a wrong CSV
      throw Error(ErrorCode::kInvalidArgument, "a labels file (" + labels_csv.string() + ") is not read for a .safetensors dataset (" +
                                                   images.string() + "): its labels are its class_index tensor");
    }
    return from_safetensors(images, c, limit);
  }
  if (std::filesystem::is_regular_file(images) && is_idx_file(images)) return from_idx(images, labels_csv, c, limit, progress);
  const std::vector<LabeledFile> entries = list_folder_dataset(images, labels_csv, limit);
  const PreprocessConfig pre = preprocess_config_for(c);
  std::vector<LabeledImage> out;
  out.reserve(entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    Image img = preprocess(decode_image_file(entries[i].path), pre);
    out.push_back({entries[i].name, std::move(img.rgb), entries[i].label});
    if (progress) progress(static_cast<int>(i + 1), static_cast<int>(entries.size()));
  }
  return out;
}

std::vector<LabeledImage> load_calibration_images(const std::filesystem::path& images, const ViTConfig& c, int count,
                                                  const std::function<void(int, int)>& progress,
                                                  const std::function<void(const std::string&)>& on_skip) {
  if (images.extension() == ".safetensors" || (std::filesystem::is_regular_file(images) && is_idx_file(images))) {
    return load_dataset(images, {}, c, count, progress);
  }
  const std::vector<LabeledFile> entries = list_folder_dataset(images, {}, /*limit=*/0);
  const size_t want = count > 0 ? std::min<size_t>(count, entries.size()) : entries.size();
  const PreprocessConfig pre = preprocess_config_for(c);
  std::vector<LabeledImage> out;
  out.reserve(want);
  size_t skipped = 0;
  for (size_t i = 0; i < entries.size() && out.size() < want; ++i) {
    try {
      Image img = preprocess(decode_image_file(entries[i].path), pre);
      out.push_back({entries[i].name, std::move(img.rgb), -1});
    } catch (const Error& e) {
      ++skipped;
      const std::string path = entries[i].path.string(), what = e.what();
      if (on_skip) on_skip(what.find(path) == std::string::npos ? path + ": " + what : what);
      continue;
    }
    if (progress) progress(static_cast<int>(out.size()), static_cast<int>(want));
  }
  if (out.empty()) {
    throw Error(ErrorCode::kInvalidArgument, "no calibration image in " + images.string() + " could be read and decoded (" +
                                                 std::to_string(skipped) + " image files tried)");
  }
  // Fewer decodable files than `want`: end the progress at what there is.
  if (progress && out.size() < want) progress(static_cast<int>(out.size()), static_cast<int>(out.size()));
  return out;
}

}  // namespace intvit
