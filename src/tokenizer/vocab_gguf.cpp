// Vocab <-> GGUF tokenizer.ggml.* metadata (llama.cpp's key names and defaults).
#include <cmath>

#include "format/gguf.h"
#include "tokenizer/vocab.h"
#include "tokenizer/vocab_detect.h"
#include "util/error.h"

namespace bitnet {

namespace {

int32_t read_id(const gguf::File& f, std::string_view key, int32_t fallback, size_t n_tokens) {
  const gguf::Value* v = f.find(key);
  if (!v) return fallback;
  if (!v->is_integer()) fail("{}: {} must be an integer, got {}", f.path(), key, gguf::value_type_name(v->type()));
  const int64_t id = v->as_i64();
  if (id == -1 || id == int64_t(UINT32_MAX)) return -1;  // "none", as some converters write it
  if (id < 0 || uint64_t(id) >= n_tokens)
    fail("{}: {} = {} is out of range (the vocab has {} tokens)", f.path(), key, id, n_tokens);
  return int32_t(id);
}

}  // namespace

Vocab vocab_from_gguf(const gguf::File& f) {
  Vocab v;
  v.model = f.get("tokenizer.ggml.model").as_string();
  v.pre = f.get_string("tokenizer.ggml.pre", "");
  v.tokens = f.get("tokenizer.ggml.tokens").as_strings();
  const size_t n = v.tokens.size();
  if (n == 0) fail("{}: tokenizer.ggml.tokens is empty", f.path());

  if (const gguf::Value* s = f.find("tokenizer.ggml.scores")) {
    v.scores = s->as_f32s();
    if (v.scores.size() != n)
      fail("{}: tokenizer.ggml.scores has {} entries for {} tokens", f.path(), v.scores.size(), n);
    for (size_t i = 0; i < n; ++i)
      if (std::isnan(v.scores[i])) fail("{}: tokenizer.ggml.scores[{}] is NaN", f.path(), i);
  }
  if (const gguf::Value* t = f.find("tokenizer.ggml.token_type")) {
    const std::vector<int32_t> raw = t->as_i32s();
    if (raw.size() != n)
      fail("{}: tokenizer.ggml.token_type has {} entries for {} tokens", f.path(), raw.size(), n);
    v.types.resize(n);
    for (size_t i = 0; i < n; ++i) {
      if (raw[i] == 0) v.types[i] = TokenType::Normal;  // "undefined" in old files
      else if (raw[i] >= 1 && raw[i] <= 6) v.types[i] = TokenType(raw[i]);
      else fail("{}: tokenizer.ggml.token_type[{}] = {} is not a known token type", f.path(), i, raw[i]);
    }
  } else {
    v.types.assign(n, TokenType::Normal);
  }
  if (const gguf::Value* m = f.find("tokenizer.ggml.merges")) v.merges = m->as_strings();

  const bool spm = v.model == "llama";
  if (spm) {
    if (v.scores.empty()) fail("{}: a 'llama' (SentencePiece) vocab needs tokenizer.ggml.scores", f.path());
  } else if (v.model == "gpt2") {
    if (v.merges.empty()) fail("{}: a 'gpt2' (byte-level BPE) vocab needs tokenizer.ggml.merges", f.path());
  }
  // llama.cpp's defaults when a key is absent.
  v.bos_id = read_id(f, "tokenizer.ggml.bos_token_id", spm && n > 1 ? 1 : -1, n);
  v.eos_id = read_id(f, "tokenizer.ggml.eos_token_id", spm && n > 2 ? 2 : -1, n);
  v.unk_id = read_id(f, "tokenizer.ggml.unknown_token_id", spm ? 0 : -1, n);
  v.pad_id = read_id(f, "tokenizer.ggml.padding_token_id", -1, n);
  v.eot_id = read_id(f, "tokenizer.ggml.eot_token_id", -1, n);
  if (v.eot_id < 0) v.eot_id = tok::detect_eot(v);
  if (v.pre.empty()) v.pre = std::string(tok::implied_pre_tokenizer(f.architecture(), v));

  const bool llama3_like = v.pre == "llama-bpe" || v.pre == "llama3" || v.pre == "llama-v3" ||
                           v.pre == "falcon3" || v.pre == "falcon_e" || v.pre == "falcon-h1" ||
                           (v.pre.empty() && tok::looks_like_llama3_vocab(v));
  v.add_bos = f.get_bool("tokenizer.ggml.add_bos_token", spm || llama3_like);
  v.add_eos = f.get_bool("tokenizer.ggml.add_eos_token", false);
  v.add_space_prefix = f.get_bool("tokenizer.ggml.add_space_prefix", spm);
  v.chat_template = f.get_string("tokenizer.chat_template", "");
  return v;
}

void vocab_to_gguf(const Vocab& v, gguf::Writer& w) {
  const size_t n = v.tokens.size();
  if (v.types.size() != n) fail("vocab_to_gguf: {} token types for {} tokens", v.types.size(), n);
  if (!v.scores.empty() && v.scores.size() != n)
    fail("vocab_to_gguf: {} scores for {} tokens", v.scores.size(), n);
  w.set("tokenizer.ggml.model", gguf::Value::string(v.model));
  if (!v.pre.empty()) w.set("tokenizer.ggml.pre", gguf::Value::string(v.pre));
  w.set("tokenizer.ggml.tokens", gguf::Value::string_array(v.tokens));
  if (!v.scores.empty()) w.set("tokenizer.ggml.scores", gguf::Value::f32_array(v.scores));
  std::vector<int32_t> types(n);
  for (size_t i = 0; i < n; ++i) types[i] = int32_t(v.types[i]);
  w.set("tokenizer.ggml.token_type", gguf::Value::i32_array(std::move(types)));
  if (!v.merges.empty()) w.set("tokenizer.ggml.merges", gguf::Value::string_array(v.merges));
  auto id = [&](const char* key, int32_t value) {
    if (value >= 0) w.set(key, gguf::Value::u32(uint32_t(value)));
  };
  id("tokenizer.ggml.bos_token_id", v.bos_id);
  id("tokenizer.ggml.eos_token_id", v.eos_id);
  id("tokenizer.ggml.eot_token_id", v.eot_id);
  id("tokenizer.ggml.unknown_token_id", v.unk_id);
  id("tokenizer.ggml.padding_token_id", v.pad_id);
  w.set("tokenizer.ggml.add_bos_token", gguf::Value::boolean(v.add_bos));
  w.set("tokenizer.ggml.add_eos_token", gguf::Value::boolean(v.add_eos));
  if (v.model == "llama") w.set("tokenizer.ggml.add_space_prefix", gguf::Value::boolean(v.add_space_prefix));
  if (!v.chat_template.empty()) w.set("tokenizer.chat_template", gguf::Value::string(v.chat_template));
}

}  // namespace bitnet
