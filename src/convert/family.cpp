#include "convert/family.h"

#include "util/error.h"

namespace bitnet::convert {

namespace {

// HF1BitLLM/Llama3-8B-1.58 and tiiuae Falcon3-*-1.58bit: Llama graphs whose q/k need the
// rotate-half -> interleaved permutation.
bool llama_matches(const HfConfig& c) {
  return c.architecture() == "LlamaForCausalLM" || (c.architecture().empty() && c.model_type() == "llama");
}

constexpr FamilyHandler kFamilies[] = {
    {"1bitllm", "1bitLLM BitNet b1.58 (bitnet_b1_58-large / -3B)", onebitllm_matches, "bitnet",
     onebitllm_convert},
    {"bitnet-b1.58", "BitNet b1.58 (microsoft/bitnet-b1.58-2B-4T layout)", bitnet_b158_matches,
     "bitnet-b1.58", bitnet_b158_convert},
    {"llama", "Llama-architecture 1.58-bit models (Llama3-8B-1.58, Falcon3-1.58bit)", llama_matches, "llama",
     llama_ternary_convert},
};

}  // namespace

std::span<const FamilyHandler> family_handlers() { return kFamilies; }

const FamilyHandler* find_family(const HfConfig& config) {
  for (const auto& f : kFamilies)
    if (f.matches(config)) return &f;
  return nullptr;
}

const FamilyHandler& select_family(const HfConfig& config) {
  if (const FamilyHandler* f = find_family(config)) {
    if (!f->convert)
      fail("{}: architecture '{}' ({}) is not supported yet", config.path, config.architecture(), f->description);
    return *f;
  }
  std::string supported;
  for (const auto& f : kFamilies)
    if (f.convert) supported += std::string(supported.empty() ? "" : ", ") + std::string(f.description);
  fail("{}: unknown architecture '{}' (model_type '{}'); supported: {}", config.path,
       config.architecture().empty() ? "?" : config.architecture(), config.model_type(), supported);
}

}  // namespace bitnet::convert
