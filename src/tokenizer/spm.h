// SentencePiece-style BPE from piece scores (tokenizer.ggml.model "llama", e.g. the LLaMA 2 vocab
// of the 1bitLLM models): spaces become U+2581, the highest-scoring adjacent pair is merged first,
// characters that are no piece fall back to <0xNN> byte tokens.
#pragma once

#include <cstdint>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "tokenizer/token_index.h"
#include "tokenizer/vocab.h"

namespace bitnet::tok {

class SentencePieceEncoder {
 public:
  explicit SentencePieceEncoder(const Vocab& vocab);

  // Encodes one fragment of plain text. `prefix_space` prepends the dummy-prefix space.
  void encode(std::string_view text, bool prefix_space, std::vector<int32_t>& out) const;

 private:
  void encode_segment(std::string_view text, std::vector<int32_t>& out) const;

  const Vocab& vocab_;
  // Adjacent code-point pairs that occur inside some piece. Where the text has a pair that is not
  // here, no merge can ever cross, so the text is cut there and the parts are merged separately
  // (same result, but small queues: the whole input is otherwise one merge problem).
  std::unordered_set<uint64_t> inner_pairs_;
  TokenIndex pieces_;          // Normal and UserDefined pieces: what merging may produce
  int32_t byte_token_[256];    // <0xNN>, -1 if absent
};

}  // namespace bitnet::tok
