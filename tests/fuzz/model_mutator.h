// A structure-aware mutation for integer model files (weights/FORMAT.md), used by
// fuzz_model_loader's LLVMFuzzerCustomMutator. Byte-level mutations almost never survive the
// container and the JSON-in-a-JSON-string graph, so most of them die in the first checks; this one
// keeps the file well-formed and changes one meaningful thing: a value in intvit.graph (scales,
// zero-points, clamp bounds, modes, geometry), an element of a tensor (multipliers, shifts,
// weights, gamma) set to a boundary value, a removed graph field, or a tensor's header entry.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <string>

namespace intvit::fuzz {

// The mutated file, or nullopt when the input is not a parseable container (the caller then falls
// back to libFuzzer's byte-level mutation).
std::optional<std::string> mutate_model_file(const uint8_t* data, size_t size, std::mt19937& rng);

}  // namespace intvit::fuzz
