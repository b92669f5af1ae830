// The table of source-model families the converter knows. Each family recognises its config.json
// and turns the checkpoint into GGUF metadata + tensors. Adding a family = one new file with a
// handler + one entry in family.cpp's table.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "convert/converter.h"
#include "convert/hf_config.h"
#include "format/safetensors.h"

namespace bitnet::convert {

struct FamilyInput {
  const ConvertOptions& options;
  const HfConfig& config;
  const safetensors::Checkpoint* checkpoint;  // nullptr for vocab-only conversions
};

struct FamilyHandler {
  std::string_view id;           // short name used in messages, e.g. "bitnet-b1.58"
  std::string_view description;  // e.g. "BitNet b1.58 (microsoft/bitnet-b1.58-2B-4T layout)"
  bool (*matches)(const HfConfig& config);
  // GGUF general.architecture this family writes.
  std::string_view gguf_architecture;
  // Writes the architecture metadata and tensors (not the tokenizer, not general.name); only the
  // metadata when FamilyInput::checkpoint is null. nullptr: recognised but not supported yet.
  void (*convert)(const FamilyInput& input, gguf::Writer& writer);
};

std::span<const FamilyHandler> family_handlers();
// The first family whose matches() accepts the config, or nullptr.
const FamilyHandler* find_family(const HfConfig& config);
// The first family whose matches() accepts the config; throws Error "architecture X not
// supported yet" (recognised, no converter) or "unknown architecture X" otherwise.
const FamilyHandler& select_family(const HfConfig& config);

// Family implementations (one file each).
bool bitnet_b158_matches(const HfConfig& config);
void bitnet_b158_convert(const FamilyInput& input, gguf::Writer& writer);
void llama_ternary_convert(const FamilyInput& input, gguf::Writer& writer);
// 1bitLLM/bitnet_b1_58-{large,3B}: architectures[0] "BitnetForCausalLM" (lower-case "n"; fp16
// latent weights, SentencePiece tokenizer.model) -> GGUF "bitnet".
bool onebitllm_matches(const HfConfig& config);
void onebitllm_convert(const FamilyInput& input, gguf::Writer& writer);
// The checkpoint row that becomes GGUF row `row` of a q/k projection: llama.cpp's permutation from
// rotate-half RoPE pairs to NORM (adjacent) pairs, per head of head_dim rows.
uint64_t llama_permuted_row(uint64_t row, uint64_t head_dim);

}  // namespace bitnet::convert
