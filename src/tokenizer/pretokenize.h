// Pre-tokenizers of byte-level BPE vocabs: the split regexes of Hugging Face tokenizer.json files,
// written by hand over code points (no regex engine), as llama.cpp does for the common ones.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bitnet::tok {

// One regex of a pipeline. Each stage splits every piece the previous stage produced; text
// between matches is kept as its own piece (HF "Isolated" behaviour).
enum class SplitStage {
  kLlama3,        // (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
  kGpt2,          // 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
  kPunctRun,      // [\p{P}\$\+<=>\^~\|`]+
  kPunctRunNoTick,// [\p{P}\$\+<=>\^~\|]+
  kNumberRun,     // \p{N}+
  kDigits3,       // [0-9][0-9][0-9]
};

struct PreTokenizer {
  std::vector<SplitStage> stages;
  bool ignore_merges = false;  // a piece that is itself a token is not merged (Llama 3)
  std::string name;            // canonical name, for messages
};

// Maps tokenizer.ggml.pre to its pipeline. Throws Error for names we do not implement.
PreTokenizer pre_tokenizer_for(std::string_view pre);
// Names accepted by pre_tokenizer_for, for messages and tests.
std::vector<std::string> supported_pre_tokenizers();

// Splits valid UTF-8 text; returns the pieces as views into `text`, in order, covering it exactly.
// `cpts`/`offsets`/`bounds` are scratch buffers reused across calls to avoid allocations.
struct SplitScratch {
  std::vector<uint32_t> cpts;
  std::vector<uint32_t> offsets;
  std::vector<uint32_t> bounds_a, bounds_b;
};
void pre_tokenize(const PreTokenizer& pre, std::string_view text, SplitScratch& scratch,
                  std::vector<std::string_view>& pieces);

}  // namespace bitnet::tok
