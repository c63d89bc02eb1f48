// One function per CLI subcommand; each parses its own options from argv[2..].
#pragma once

#include <filesystem>

namespace intvit::cli {

int run_classify(int argc, char** argv);
int run_inspect(int argc, char** argv);
int run_eval(int argc, char** argv);
int run_quantize(int argc, char** argv);
int run_trace(int argc, char** argv);
int run_upgrade(int argc, char** argv);

// The model used when --model is absent: $INTVIT_MODEL, else the shipped default model.
std::filesystem::path default_model_path();

}  // namespace intvit::cli
