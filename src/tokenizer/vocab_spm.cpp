// Vocab from a SentencePiece tokenizer.model (the serialized sentencepiece.ModelProto), read with
// our own protobuf wire-format reader; plus the Hugging Face files next to it (added_tokens.json,
// tokenizer_config.json) as llama.cpp's convert_hf_to_gguf.py `_create_vocab_sentencepiece` /
// `SpecialVocab` use them. The result is a "llama" (SentencePiece BPE) vocab.
//
// The ModelProto fields read (sentencepiece_model.proto):
//   ModelProto      1: repeated SentencePiece pieces, 2: TrainerSpec trainer_spec,
//                   3: NormalizerSpec normalizer_spec (4: self_test_data, 5: denormalizer_spec skipped)
//   SentencePiece   1: string piece, 2: float score (default 0), 3: Type type (default NORMAL = 1;
//                   UNKNOWN 2, CONTROL 3, USER_DEFINED 4, UNUSED 5, BYTE 6: the GGUF token types)
//   TrainerSpec     3: model_type (UNIGRAM 1 = default, BPE 2, WORD 3, CHAR 4), 35: byte_fallback,
//                   40: unk_id (default 0), 41: bos_id (1), 42: eos_id (2), 43: pad_id (-1)
//   NormalizerSpec  1: name, 2: precompiled_charsmap, 3: add_dummy_prefix (default true)
// Unknown fields are skipped (after their bounds were checked).
#include <cmath>
#include <filesystem>
#include <fstream>
#include <unordered_map>

#include "format/protobuf.h"
#include "tokenizer/hf_common.h"
#include "tokenizer/unicode.h"
#include "tokenizer/vocab.h"
#include "tokenizer/vocab_detect.h"
#include "util/error.h"
#include "util/log.h"

namespace bitnet {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr uint64_t kMaxModelBytes = uint64_t(1) << 30;  // real ones are < 5 MB
constexpr size_t kMaxPieces = 10'000'000;

const char* model_type_name(int32_t t) {
  switch (t) {
    case 1: return "UNIGRAM";
    case 2: return "BPE";
    case 3: return "WORD";
    case 4: return "CHAR";
    default: return "unknown";
  }
}

// llama.cpp's convert_hf_to_gguf.py treats these added tokens as control tokens even when
// tokenizer_config.json does not mark them special.
bool looks_special(std::string_view t) {
  auto wrapped = [&](std::string_view open, std::string_view close) {
    return t.size() >= open.size() + close.size() && t.substr(0, open.size()) == open &&
           t.substr(t.size() - close.size()) == close;
  };
  return t == "<pad>" || t == "<mask>" || t == "<2mass>" || t == "[@BOS@]" || wrapped("<|", "|>") ||
         wrapped("<\xEF\xBD\x9C", "\xEF\xBD\x9C>") || wrapped("<unused", ">");
}

// Grows the vocab so that `id` exists, filling with llama.cpp's [PAD<i>] placeholders.
void ensure_id(Vocab& v, size_t id) {
  while (v.tokens.size() <= id) {
    v.tokens.push_back("[PAD" + std::to_string(v.tokens.size()) + "]");
    v.scores.push_back(-10000.0f);
    v.types.push_back(TokenType::Unused);
  }
}

constexpr size_t kMaxAddedId = 10'000'000;

void set_added_token(Vocab& v, int64_t id, std::string text, TokenType type, const std::string& where) {
  if (id < 0 || uint64_t(id) > kMaxAddedId) fail("{}: added token id {} is out of range", where, id);
  unicode::require_valid_utf8(text, where + ": added token " + std::to_string(id));
  ensure_id(v, size_t(id));
  if (v.types[size_t(id)] != TokenType::Unused && v.tokens[size_t(id)] != text)
    log_warn("{}: replacing token {} '{}' with '{}'", where, id, v.tokens[size_t(id)], text);
  v.tokens[size_t(id)] = std::move(text);
  v.types[size_t(id)] = type;
  v.scores[size_t(id)] = -1000.0f;
}

}  // namespace

Vocab vocab_from_spm_proto(std::string_view data, const std::string& source) {
  Vocab v;
  v.model = "llama";
  v.pre = "default";  // what llama.cpp's converter writes for SentencePiece vocabs
  bool have_trainer = false;
  int32_t model_type = 1;  // proto default: UNIGRAM
  int32_t unk_id = 0, bos_id = 1, eos_id = 2, pad_id = -1;
  bool add_dummy_prefix = true;
  std::string normalizer_name;
  bool has_charsmap = false;

  protobuf::Reader r(data, source);
  protobuf::Field f;
  while (r.next(f)) {
    if (f.number == 1) {  // SentencePiece
      if (v.tokens.size() >= kMaxPieces) fail("{}: more than {} pieces", source, kMaxPieces);
      const size_t index = v.tokens.size();
      const std::string what = "piece " + std::to_string(index);
      protobuf::Reader pr = r.sub(f, what);
      bool have_text = false;
      std::string text;
      float score = 0.0f;
      int32_t type = 1;
      protobuf::Field pf;
      while (pr.next(pf)) {
        if (pf.number == 1) {
          text = std::string(pf.as_bytes(source, what + " text"));
          have_text = true;
        } else if (pf.number == 2) {
          score = pf.as_float(source, what + " score");
        } else if (pf.number == 3) {
          type = pf.as_int32(source, what + " type");
        }
      }
      if (!have_text || text.empty()) fail("{}: {} (at byte {}) has no text", source, what, f.offset);
      unicode::require_valid_utf8(text, source + ": " + what);
      if (std::isnan(score)) fail("{}: {} ('{}') has a NaN score", source, what, text);
      if (type < 1 || type > 6)
        fail("{}: {} ('{}') has type {}; expected 1..6 (NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE)", source,
             what, text, type);
      v.tokens.push_back(std::move(text));
      v.scores.push_back(score);
      v.types.push_back(TokenType(type));
    } else if (f.number == 2) {  // TrainerSpec
      have_trainer = true;
      protobuf::Reader tr = r.sub(f, "trainer_spec");
      protobuf::Field tf;
      while (tr.next(tf)) {
        switch (tf.number) {
          case 3: model_type = tf.as_int32(source, "trainer_spec.model_type"); break;
          case 40: unk_id = tf.as_int32(source, "trainer_spec.unk_id"); break;
          case 41: bos_id = tf.as_int32(source, "trainer_spec.bos_id"); break;
          case 42: eos_id = tf.as_int32(source, "trainer_spec.eos_id"); break;
          case 43: pad_id = tf.as_int32(source, "trainer_spec.pad_id"); break;
          default: break;
        }
      }
    } else if (f.number == 3) {  // NormalizerSpec
      protobuf::Reader nr = r.sub(f, "normalizer_spec");
      protobuf::Field nf;
      while (nr.next(nf)) {
        switch (nf.number) {
          case 1: normalizer_name = std::string(nf.as_bytes(source, "normalizer_spec.name")); break;
          case 2: has_charsmap = !nf.as_bytes(source, "normalizer_spec.precompiled_charsmap").empty(); break;
          case 3: add_dummy_prefix = nf.as_bool(source, "normalizer_spec.add_dummy_prefix"); break;
          default: break;
        }
      }
    }
  }

  if (v.tokens.empty()) fail("{}: no pieces; is this a SentencePiece tokenizer.model?", source);
  if (!have_trainer) {
    log_warn("{}: no trainer_spec; assuming a BPE model", source);
  } else if (model_type != 2) {
    fail("{}: SentencePiece model_type {} ({}) is not supported; only BPE models (LLaMA-style) are", source,
         model_type, model_type_name(model_type));
  }
  if (has_charsmap && normalizer_name != "identity")
    log_warn("{}: the normalizer '{}' has a precompiled character map, which is not applied here (text is not "
             "normalised)",
             source, normalizer_name);
  const int64_t n = int64_t(v.tokens.size());
  auto id = [&](int32_t value, const char* key) -> int32_t {
    if (value < 0) return -1;  // disabled
    if (value >= n) fail("{}: trainer_spec.{} = {} is out of range ({} pieces)", source, key, value, n);
    return value;
  };
  v.unk_id = id(unk_id, "unk_id");
  v.bos_id = id(bos_id, "bos_id");
  v.eos_id = id(eos_id, "eos_id");
  v.pad_id = id(pad_id, "pad_id");
  v.add_bos = true;  // LLaMA's tokenizer (and llama.cpp's default for SentencePiece vocabs)
  v.add_eos = false;
  v.add_space_prefix = add_dummy_prefix;
  return v;
}

Vocab vocab_from_spm_model(const std::string& path) {
  fs::path file = path;
  if (fs::is_directory(file)) file /= "tokenizer.model";
  if (!fs::is_regular_file(file)) fail("{}: no tokenizer.model there", path);
  const std::string source = file.string();
  std::error_code ec;
  const uintmax_t size = fs::file_size(file, ec);
  if (ec) fail("{}: cannot read its size: {}", source, ec.message());
  if (size > kMaxModelBytes) fail("{}: {} bytes is too large for a SentencePiece model", source, size);
  std::string bytes(size_t(size), '\0');
  {
    std::ifstream in(file, std::ios::binary);
    if (!in || !in.read(bytes.data(), std::streamsize(bytes.size()))) fail("{}: cannot read", source);
  }
  Vocab v = vocab_from_spm_proto(bytes, source);

  // Added tokens, as llama.cpp's converter applies them: added_tokens.json first, then
  // tokenizer_config.json's added_tokens_decoder (which also decides control vs user-defined).
  const fs::path dir = file.parent_path();
  const fs::path added_path = dir / "added_tokens.json";
  if (fs::exists(added_path)) {
    const json added = tok::read_json_file(added_path);
    if (!added.is_object()) fail("{}: expected an object {{\"token\": id}}", added_path.string());
    for (auto it = added.begin(); it != added.end(); ++it) {
      if (!it.value().is_number_integer())
        fail("{}: the id of '{}' is not an integer", added_path.string(), it.key());
      set_added_token(v, it.value().get<int64_t>(), it.key(), TokenType::UserDefined, added_path.string());
    }
  }
  const fs::path cfg_path = dir / "tokenizer_config.json";
  const json cfg = tok::read_json_file_or_empty(cfg_path);
  if (!cfg.is_object()) fail("{}: expected a JSON object", cfg_path.string());
  if (const auto it = cfg.find("added_tokens_decoder"); it != cfg.end() && it->is_object()) {
    for (auto t = it->begin(); t != it->end(); ++t) {
      int64_t tid = -1;
      try {
        size_t used = 0;
        tid = std::stoll(t.key(), &used);
        if (used != t.key().size()) tid = -1;
      } catch (const std::exception&) {
        tid = -1;
      }
      if (tid < 0) fail("{}: added_tokens_decoder key '{}' is not a token id", cfg_path.string(), t.key());
      if (!t->is_object() || !t->contains("content") || !(*t)["content"].is_string())
        fail("{}: added_tokens_decoder[{}] has no \"content\" string", cfg_path.string(), tid);
      std::string text = (*t)["content"].get<std::string>();
      const bool special = t->value("special", false) || looks_special(text);
      if (!special) {  // user-defined pieces are matched on raw text: U+2581 means a space there
        std::string plain;
        for (size_t i = 0; i < text.size(); ++i) {
          if (text.compare(i, 3, "\xE2\x96\x81") == 0) {
            plain += ' ';
            i += 2;
          } else {
            plain += text[i];
          }
        }
        text = std::move(plain);
      }
      set_added_token(v, tid, std::move(text), special ? TokenType::Control : TokenType::UserDefined,
                      cfg_path.string());
    }
  }

  // Special tokens named in tokenizer_config.json override the trainer_spec ids.
  auto override_id = [&](const char* key, int32_t& target) {
    const std::string text = tok::special_text(cfg, key);
    if (text.empty()) return;
    const int32_t found = tok::find_token_linear(v, text);
    if (found >= 0) target = found;
    else log_warn("{}: {} '{}' is not in the vocabulary; ignoring it", cfg_path.string(), key, text);
  };
  override_id("bos_token", v.bos_id);
  override_id("eos_token", v.eos_id);
  override_id("unk_token", v.unk_id);
  override_id("pad_token", v.pad_id);
  if (cfg.contains("add_bos_token") && cfg["add_bos_token"].is_boolean()) v.add_bos = cfg["add_bos_token"].get<bool>();
  if (cfg.contains("add_eos_token") && cfg["add_eos_token"].is_boolean()) v.add_eos = cfg["add_eos_token"].get<bool>();
  v.chat_template = tok::chat_template_of(cfg);
  v.eot_id = tok::detect_eot(v);
  return v;
}

Vocab vocab_from_hf_dir(const std::string& dir) {
  const fs::path d = dir;
  if (fs::exists(d / "tokenizer.model")) return vocab_from_spm_model(dir);
  if (fs::exists(d / "tokenizer.json")) return vocab_from_hf_json(dir);
  fail("{}: no tokenizer.model (SentencePiece) or tokenizer.json (Hugging Face tokenizers) there", dir);
}

}  // namespace bitnet
