// The tokenizer's data, independent of where it came from (GGUF metadata or a Hugging Face
// tokenizer.json). `bitnet convert` writes exactly these fields; the runtime reads them back.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bitnet {

namespace gguf { class File; class Writer; }

enum class TokenType : int32_t {  // GGUF tokenizer.ggml.token_type values
  Normal = 1, Unknown = 2, Control = 3, UserDefined = 4, Unused = 5, Byte = 6,
};

struct Vocab {
  std::string model;  // tokenizer.ggml.model: "gpt2" (byte-level BPE) or "llama" (SentencePiece BPE)
  std::string pre;    // tokenizer.ggml.pre: "llama-bpe", "gpt-2", "falcon", ... ("" if absent)
  std::vector<std::string> tokens;
  std::vector<float> scores;     // may be empty for gpt2 vocabs
  std::vector<TokenType> types;  // same length as tokens
  std::vector<std::string> merges;  // "a b" pairs in rank order (gpt2)
  int32_t bos_id = -1, eos_id = -1, eot_id = -1, unk_id = -1, pad_id = -1;
  bool add_bos = false, add_eos = false;
  bool add_space_prefix = true;  // SentencePiece leading-space rule
  std::string chat_template;  // tokenizer.chat_template ("" if absent)
};

// Reads tokenizer.ggml.* from a GGUF file. Throws Error on missing or inconsistent keys.
Vocab vocab_from_gguf(const gguf::File& file);
// Writes tokenizer.ggml.* and tokenizer.chat_template.
void vocab_to_gguf(const Vocab& vocab, gguf::Writer& writer);
// Reads a Hugging Face tokenizer.json (+ tokenizer_config.json if present in the same directory).
// `path` may be the directory or the tokenizer.json file itself.
Vocab vocab_from_hf_json(const std::string& path);
// Reads a SentencePiece tokenizer.model (the ModelProto protobuf: pieces with scores and types,
// special ids from trainer_spec, add_dummy_prefix) plus added_tokens.json and tokenizer_config.json
// from the same directory, as llama.cpp's converter does. `path` may be the directory or the file.
// Gives a "llama" vocab. Throws Error naming the file and byte offset on malformed data.
Vocab vocab_from_spm_model(const std::string& path);
// The protobuf part alone; `source` names the data in messages.
Vocab vocab_from_spm_proto(std::string_view data, const std::string& source);
// A Hugging Face checkpoint directory's tokenizer: tokenizer.model when present (as llama.cpp's
// converter prefers it), else tokenizer.json.
Vocab vocab_from_hf_dir(const std::string& dir);
// Any of the above by path: a .gguf file, a tokenizer.json, a tokenizer.model, or a directory
// holding one.
Vocab vocab_from_path(const std::string& path);

}  // namespace bitnet
