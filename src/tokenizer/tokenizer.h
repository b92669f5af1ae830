// Text <-> token ids for the vocabularies our models use: byte-level BPE ("gpt2": Llama 3,
// BitNet b1.58 2B-4T, Falcon3, GPT-2, Falcon) and SentencePiece BPE ("llama": LLaMA 2 / 1bitLLM).
// Thread-safe for concurrent encode/decode calls on one instance (all state is immutable).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/vocab.h"

namespace bitnet {

class Tokenizer {
 public:
  // Validates the vocab (lengths, ids, known model and pre-tokenizer); throws Error otherwise.
  explicit Tokenizer(Vocab vocab);
  ~Tokenizer();
  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;

  // text must be valid UTF-8 (Error otherwise). add_special: BOS (and EOS) as the vocab's
  // add_bos/add_eos say. parse_special: control tokens written in the text ("<|eot_id|>") become
  // their ids; user-defined (non-special added) tokens are always matched, as in Hugging Face.
  std::vector<int32_t> encode(std::string_view text, bool add_special, bool parse_special) const;

  // Concatenated bytes of the tokens. Control tokens are skipped unless render_special. The result
  // can end inside a UTF-8 sequence (or hold invalid bytes) if the ids do; nothing is replaced.
  // Throws Error for ids outside [0, n_vocab).
  std::string decode(std::span<const int32_t> ids, bool render_special = false) const;

  // The bytes one token stands for; control tokens are rendered as their text.
  std::string token_piece(int32_t id) const;
  // The token's text as stored in the vocab (byte-mapped for byte-level BPE).
  const std::string& token_text(int32_t id) const;
  // Id of the token whose stored text is exactly `text`, or -1.
  int32_t find_token(std::string_view text) const;

  // Incremental decoding for generation: push() returns only complete UTF-8 characters; bytes of a
  // token that ends inside a sequence are held back until the sequence completes (or proves
  // invalid, in which case they are passed through as decode() would). The concatenation of all
  // push() results and flush() equals decode() of the same ids.
  class StreamDecoder {
   public:
    explicit StreamDecoder(const Tokenizer& tokenizer, bool render_special = false);
    std::string push(int32_t id);
    std::string flush();  // whatever is held back, even if incomplete; resets the decoder

   private:
    const Tokenizer* tok_;
    bool render_special_;
    bool at_start_ = true;
    std::string pending_;
  };

  bool is_eog(int32_t id) const;  // eos, eot (<|eot_id|>) and the other end-of-generation tokens
  bool is_control(int32_t id) const;
  int32_t n_vocab() const;
  int32_t bos() const;
  int32_t eos() const;
  int32_t eot() const;
  bool add_bos() const;
  const Vocab& vocab() const;
  // Name of the pre-tokenizer in use ("llama-bpe", "gpt-2", ...), "spm" for SentencePiece.
  const std::string& pre_tokenizer_name() const;

  struct Impl;

 private:
  // Appends token `id`'s bytes per the decode rules; `at_start` tracks the SentencePiece rule that
  // the first piece of text loses its dummy-prefix space.
  void append_piece(int32_t id, bool render_special, bool& at_start, std::string& out) const;
  void check_id(int32_t id) const;

  std::unique_ptr<Impl> impl_;
};

}  // namespace bitnet
