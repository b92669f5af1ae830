// Facts about a vocab that are recognised by content rather than declared in the file.
#pragma once

#include <cstdint>
#include <string_view>

#include "tokenizer/vocab.h"

namespace bitnet::tok {

// True for the Llama 3 byte-level vocab (BitNet b1.58 2B-4T, Llama3-8B-1.58): 128000 BPE tokens
// followed by <|begin_of_text|> ... <|eot_id|>.
bool looks_like_llama3_vocab(const Vocab& vocab);

// The end-of-turn token when the file does not name one: a control token with a known text
// (<|eot_id|>, <|im_end|>, ...), else -1.
int32_t detect_eot(const Vocab& vocab);

// The pre-tokenizer a file implies when it has no tokenizer.ggml.pre, "" when nothing is implied.
// bitnet.cpp's converter writes its `bitnet-b1.58` / `bitnet-25` files (2B-4T and its family) with a
// Llama 3 style byte-level BPE vocab but no pre key, so for those architectures it is llama-bpe.
std::string_view implied_pre_tokenizer(std::string_view architecture, const Vocab& vocab);

// Token id with this exact text, -1 if none (linear scan; for load-time use only).
int32_t find_token_linear(const Vocab& vocab, std::string_view text);

}  // namespace bitnet::tok
