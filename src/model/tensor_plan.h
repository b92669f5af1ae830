// The tensors a model file must hold for its architecture, with their shapes and roles. Used by the
// loader and by `bitnet inspect`'s "can we run it" verdict, so both agree by construction.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/hparams.h"

namespace bitnet {

namespace gguf { class File; }

enum class TensorRole { Vector, Dense, Ternary };

struct PlannedTensor {
  std::string name;
  std::vector<uint64_t> dims;  // ggml order: dims[0] innermost
  TensorRole role;
  bool optional = false;
};

std::vector<PlannedTensor> plan_tensors(const ModelParams& p);

// False for the ternary `llama` architecture, whose layers have no attn/ffn sub-norms.
bool has_sub_norms(const ModelParams& p);

// Lines explaining why this file cannot run ("" entries never); empty when it can.
std::vector<std::string> check_model_file(const gguf::File& file);

}  // namespace bitnet
