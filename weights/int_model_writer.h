// The write path of the integer model file (weights/FORMAT.md), shared by both model families:
// int_model_writer.cc (ViT, and these pieces) and int_swin_writer.cc. Offline.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/int_vit.h"
#include "models/safetensors_writer.h"

namespace intvit {

nlohmann::json act_to_json(const ActQuant& a);

// Tensors go into `st`, each layer's description into `desc` (graph.tensors).
struct ModelWriter {
  SafeTensorsWriter st;
  nlohmann::json desc = nlohmann::json::object();

  void linear(const std::string& name, const QLinear& l);
  void norm(const std::string& name, const QLayerNorm& n);  // the stored Eq. 34-39 parameters
  // A transformer block's layers under "<n>.", and its graph.blocks entry (returned).
  nlohmann::json block(const std::string& n, const QBlock& b);
  // Writes dir/model.intvit (format metadata + `graph`), labels.txt and config.json beside it.
  void save(const nlohmann::json& graph, const std::vector<std::string>& labels, const nlohmann::json& config,
            const std::filesystem::path& dir);
};

}  // namespace intvit
