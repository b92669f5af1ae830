// Hyper-parameters of a ternary transformer, read from GGUF metadata. Nothing in the graph is
// hard-coded to one model: every shape comes from here.
#pragma once

#include <cstdint>
#include <string>

namespace bitnet {

namespace gguf { class File; }

enum class FfnActivation { Relu2, Silu };
enum class RopeStyle { RotateHalf /* NEOX: pairs (i, i+d/2) */, Interleaved /* NORM: (2i, 2i+1) */ };

struct ModelParams {
  std::string architecture;  // general.architecture
  std::string name;          // general.name
  int64_t n_vocab = 0;
  int64_t n_ctx_train = 0;
  int64_t n_embd = 0;
  int64_t n_layer = 0;
  int64_t n_head = 0;
  int64_t n_head_kv = 0;
  int64_t head_dim = 0;
  int64_t n_ff = 0;
  float rms_eps = 1e-5f;
  float rope_theta = 10000.0f;
  FfnActivation activation = FfnActivation::Relu2;
  RopeStyle rope_style = RopeStyle::RotateHalf;
  bool a48_trained = false;  // libbitnet.a48: trained for BitNet a4.8 activations

  int64_t q_dim() const { return n_head * head_dim; }
  int64_t kv_dim() const { return n_head_kv * head_dim; }
};

// Architectures whose graph we run (the b1.58 family and the ternary llama ones).
bool is_supported_architecture(const std::string& arch);

// Reads and validates hyper-parameters; throws Error naming the key and the file on problems.
ModelParams read_model_params(const gguf::File& file);

const char* activation_name(FfnActivation a);

}  // namespace bitnet
