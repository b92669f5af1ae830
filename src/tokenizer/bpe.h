// Byte-level BPE (tokenizer.ggml.model "gpt2"): GPT-2 / Llama 3 / Falcon vocabularies.
#pragma once

#include <cstdint>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/pretokenize.h"
#include "tokenizer/token_index.h"
#include "tokenizer/vocab.h"

namespace bitnet::tok {

class BytePairEncoder {
 public:
  // `index` maps the vocab's (byte-mapped) token texts to ids; it must outlive this object.
  BytePairEncoder(const Vocab& vocab, const TokenIndex& index, PreTokenizer pre);

  // Encodes plain text (no special tokens), appending ids.
  void encode(std::string_view text, std::vector<int32_t>& out) const;

  const PreTokenizer& pre_tokenizer() const { return pre_; }

 private:
  void encode_word(std::string_view word, std::vector<int32_t>& out) const;

  struct Merge {
    int32_t rank;
    int32_t result;
  };
  static uint64_t pair_key(int32_t a, int32_t b) { return (uint64_t(uint32_t(a)) << 32) | uint32_t(b); }

  const TokenIndex& index_;
  PreTokenizer pre_;
  int32_t byte_token_[256];  // id of each byte's mapped character, -1 if the vocab lacks it
  std::unordered_map<uint64_t, Merge> merges_;
};

}  // namespace bitnet::tok
