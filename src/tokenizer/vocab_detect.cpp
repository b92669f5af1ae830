#include "tokenizer/vocab_detect.h"

namespace bitnet::tok {

bool looks_like_llama3_vocab(const Vocab& v) {
  return v.model == "gpt2" && v.tokens.size() >= 128256 && v.tokens[0] == "!" &&
         v.tokens[128000] == "<|begin_of_text|>" && v.tokens[128001] == "<|end_of_text|>" &&
         v.tokens[128009] == "<|eot_id|>";
}

std::string_view implied_pre_tokenizer(std::string_view architecture, const Vocab& v) {
  if (v.model == "gpt2" && (architecture == "bitnet-b1.58" || architecture == "bitnet-25")) return "llama-bpe";
  return "";
}

int32_t find_token_linear(const Vocab& vocab, std::string_view text) {
  for (size_t i = 0; i < vocab.tokens.size(); ++i)
    if (vocab.tokens[i] == text) return int32_t(i);
  return -1;
}

int32_t detect_eot(const Vocab& vocab) {
  for (std::string_view t : {"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<EOT>"}) {
    const int32_t id = find_token_linear(vocab, t);
    if (id >= 0 && size_t(id) < vocab.types.size() && vocab.types[size_t(id)] == TokenType::Control)
      return id;
  }
  return -1;
}

}  // namespace bitnet::tok
