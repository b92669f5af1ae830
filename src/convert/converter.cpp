#include "convert/converter.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <optional>
#include <vector>

#include "convert/family.h"
#include "format/gguf.h"
#include "format/safetensors.h"
#include "tokenizer/vocab.h"
#include "util/error.h"
#include "util/log.h"

namespace bitnet::convert {

namespace fs = std::filesystem;

TensorType parse_embd_type(std::string_view name) {
  if (name == "f32") return TensorType::F32;
  if (name == "f16") return TensorType::F16;
  if (name == "bf16") return TensorType::BF16;
  if (name == "q8_0") return TensorType::Q8_0;
  fail("embedding type '{}' is not one of f32, f16, bf16, q8_0", name);
}

namespace {

std::string default_name(const std::string& dir) {
  fs::path p = fs::path(dir).lexically_normal();
  if (p.filename().empty()) p = p.parent_path();
  return p.filename().string();
}

// The model's vocab_size can exceed the tokenizer's (rows reserved for later tokens); llama.cpp's
// converter pads with "[PAD<i>]" so that token ids and embedding rows line up. SentencePiece
// ("llama") vocabs get the placeholders of its _create_vocab_sentencepiece (UNUSED, score -10000:
// never produced by tokenisation); byte-level BPE vocabs get user-defined ones.
void pad_vocab(Vocab& v, uint64_t vocab_size, const std::string& dir) {
  if (v.tokens.size() > vocab_size)
    fail("{}: tokenizer has {} tokens but config.json vocab_size is {}", dir, v.tokens.size(), vocab_size);
  if (v.tokens.size() == vocab_size) return;
  log_info("padding the vocabulary from {} to vocab_size {} with [PAD<i>] tokens", v.tokens.size(), vocab_size);
  const bool spm = v.model == "llama";
  for (uint64_t i = v.tokens.size(); i < vocab_size; ++i) {
    v.tokens.push_back("[PAD" + std::to_string(i) + "]");
    v.types.push_back(spm ? TokenType::Unused : TokenType::UserDefined);
    if (!v.scores.empty()) v.scores.push_back(spm ? -10000.0f : 0.0f);
  }
}

// generation_config.json lists every id that ends a turn (2B-4T: <|end_of_text|>, <|eot_id|>).
// tokenizer.json knows only one eos; the other becomes the end-of-turn id.
void apply_generation_eos(Vocab& v, const std::vector<int32_t>& eos_ids) {
  for (int32_t id : eos_ids) {
    if (id < 0 || static_cast<size_t>(id) >= v.tokens.size()) continue;
    if (v.eos_id < 0) {
      v.eos_id = id;
    } else if (id != v.eos_id && v.eot_id < 0) {
      v.eot_id = id;
    }
  }
}

}  // namespace

ConvertResult plan_conversion(const ConvertOptions& options, gguf::Writer& writer) {
  ConvertResult result;
  const std::string& dir = options.hf_dir;
  if (!fs::is_directory(dir)) fail("{}: not a directory", dir);
  const bool has_config = fs::exists(fs::path(dir) / "config.json");
  writer.set("general.name", gguf::Value::string(options.name.empty() ? default_name(dir) : options.name));

  if (!has_config && !options.vocab_only) fail("{}: no config.json; is this a Hugging Face checkpoint directory?", dir);
  std::optional<HfConfig> config;
  const FamilyHandler* family = nullptr;
  if (has_config) {
    config = HfConfig::load(dir);
    if (options.vocab_only) {
      // A tokenizer is worth converting even when its model is not: use the family only if known.
      family = find_family(*config);
      if (family && !family->convert) family = nullptr;
    } else {
      family = &select_family(*config);
    }
    if (family) {
      result.architecture = std::string(family->gguf_architecture);
      writer.set("general.architecture", gguf::Value::string(result.architecture));
    }
  }

  Vocab vocab = vocab_from_hf_dir(dir);
  apply_generation_eos(vocab, generation_eos_ids(dir));
  if (family && !options.vocab_only) pad_vocab(vocab, config->positive_int("vocab_size"), dir);
  vocab_to_gguf(vocab, writer);

  if (family) {
    // Vocab-only files still carry the architecture's hyperparameters, as llama.cpp's do.
    if (!options.vocab_only)
      result.checkpoint = std::make_shared<safetensors::Checkpoint>(safetensors::Checkpoint::open_dir(dir));
    family->convert(FamilyInput{options, *config, result.checkpoint.get()}, writer);
  }
  result.tensor_count = writer.tensor_count();
  return result;
}

ConvertResult convert_checkpoint(const ConvertOptions& options) {
  if (options.out_path.empty()) fail("no output path given");
  gguf::Writer writer;
  ConvertResult result = plan_conversion(options, writer);

  // Atomic: readers never see a half-written model, and a failed conversion leaves any previous
  // file at the target untouched.
  const fs::path out(options.out_path);
  const fs::path tmp = out.string() + ".tmp-" + std::to_string(::getpid());
  try {
    writer.write(tmp.string(), options.progress ? options.progress : std::function<void(size_t, size_t)>{});
    std::error_code ec;
    fs::rename(tmp, out, ec);
    if (ec) fail("{}: cannot move the finished file into place from {}: {}", out.string(), tmp.string(), ec.message());
  } catch (...) {
    std::error_code ec;
    fs::remove(tmp, ec);
    throw;
  }
  return result;
}

}  // namespace bitnet::convert
