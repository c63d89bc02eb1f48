// One function per CLI subcommand; each parses its own options from argv[2..].
#pragma once

#include <filesystem>
#include <memory>

#include "engine/model.h"

namespace intvit::cli {

int run_classify(int argc, char** argv);
int run_inspect(int argc, char** argv);
int run_eval(int argc, char** argv);
int run_quantize(int argc, char** argv);
int run_trace(int argc, char** argv);
int run_upgrade(int argc, char** argv);

// The model used when --model is absent: $INTVIT_MODEL, else the shipped default model.
std::filesystem::path default_model_path();

// The FP32 model of a folder (or file) that --fp32 names; an Error if it holds only an integer
// model (load_model's prefer_fp32 would silently load that instead).
std::shared_ptr<const Model> load_fp32_model(const std::filesystem::path& path);

}  // namespace intvit::cli
