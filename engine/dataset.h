// Labelled evaluation / calibration images, already preprocessed to the model's input size.
//   DIR + labels CSV (file,class_index[,...])  — e.g. ../shared/data/imagenet-sample
//   a .safetensors with `pixels` U8 [N,H,W,3] (+ optional `class_index` I32 [N]) — reference files
//   an IDX images file (MNIST layout, uncompressed) + optional IDX labels file — Fashion-MNIST
//   DIR alone (no labels; every image file under it, recursively, sorted by path: list_image_files)
//     — calibration folders
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "models/preprocess.h"
#include "engine/vit_config.h"

namespace intvit {

struct LabeledImage {
  std::string name;
  std::vector<uint8_t> pixels;  // input_size² × 3, RGB HWC
  int label = -1;               // -1 when unknown
};

// An image file of a folder dataset, not decoded yet.
struct LabeledFile {
  std::filesystem::path path;
  std::string name;  // the labels CSV's file column, or the path relative to the folder
  int label = -1;
};

PreprocessConfig preprocess_config_for(const ViTConfig& config);

// The files of a folder dataset in evaluation order: the labels CSV's rows (paths relative to
// `dir`), or without a CSV every image file under `dir` (list_image_files). limit <= 0 means all.
// Error(kInvalidArgument) when there is no image.
std::vector<LabeledFile> list_folder_dataset(const std::filesystem::path& dir, const std::filesystem::path& labels_csv,
                                             int limit);

// limit <= 0 means all. progress(i, n) after each image. A .safetensors holds its labels (class_index):
// a labels_csv with it is Error(kInvalidArgument).
std::vector<LabeledImage> load_dataset(const std::filesystem::path& images, const std::filesystem::path& labels_csv,
                                       const ViTConfig& config, int limit,
                                       const std::function<void(int, int)>& progress = {});

// Calibration images: load_dataset without labels, except that a folder's file that cannot be read
// or decoded is skipped (on_skip gets the error message, which names the file) and the next file is
// taken instead, so up to `count` images decode when the folder has that many decodable ones (the
// first `count` decodable files in list_image_files order). .safetensors and IDX files as
// load_dataset. progress(decoded, want) after each decoded image, want = min(count, image files);
// when fewer decode, a last progress(decoded, decoded) ends it. Error(kInvalidArgument) when no
// image decodes.
std::vector<LabeledImage> load_calibration_images(const std::filesystem::path& images, const ViTConfig& config, int count,
                                                  const std::function<void(int, int)>& progress = {},
                                                  const std::function<void(const std::string&)>& on_skip = {});

}  // namespace intvit
