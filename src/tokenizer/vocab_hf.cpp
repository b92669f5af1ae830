// Vocab from a Hugging Face tokenizer.json (+ tokenizer_config.json). `bitnet convert` writes the
// result into GGUF, so this decides what the runtime will read; it mirrors llama.cpp's
// convert_hf_to_gguf.py where that is defined.
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tokenizer/hf_common.h"
#include "tokenizer/vocab.h"
#include "tokenizer/vocab_detect.h"
#include "util/error.h"
#include "util/log.h"

namespace bitnet {

namespace {

using nlohmann::json;
namespace fs = std::filesystem;

constexpr std::string_view kLlama3Regex =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| "
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

// Flattens Sequence pre-tokenizers / post-processors into their parts.
void flatten(const json& node, const char* list_key, std::vector<const json*>& out) {
  if (!node.is_object()) return;
  if (node.value("type", "") == "Sequence" && node.contains(list_key)) {
    for (const json& child : node[list_key]) flatten(child, list_key, out);
  } else {
    out.push_back(&node);
  }
}

std::string split_regex(const json& pt) {
  if (pt.value("type", "") != "Split" || !pt.contains("pattern")) return "";
  const json& pat = pt["pattern"];
  if (pat.contains("Regex") && pat["Regex"].is_string()) return pat["Regex"].get<std::string>();
  return "";
}

std::string detect_pre(const json& root, const fs::path& file) {
  std::vector<const json*> parts;
  if (root.contains("pre_tokenizer")) flatten(root["pre_tokenizer"], "pretokenizers", parts);
  bool llama3 = false, bytelevel_regex = false, punctuation = false, digits3 = false, other = false;
  for (const json* p : parts) {
    const std::string type = p->value("type", "");
    const std::string regex = split_regex(*p);
    if (type == "Split" && regex == kLlama3Regex) llama3 = true;
    else if (type == "Split" && regex == "[0-9][0-9][0-9]") digits3 = true;
    else if (type == "ByteLevel") bytelevel_regex |= p->value("use_regex", true);
    else if (type == "Punctuation") punctuation = true;
    else if (type == "Digits" && !p->value("individual_digits", false)) continue;  // no-op after ByteLevel's \p{N}+
    else other = true;
  }
  if (llama3 && !bytelevel_regex && !punctuation && !digits3 && !other) return "llama-bpe";
  if (bytelevel_regex && !llama3 && !punctuation && !digits3 && !other) return "gpt-2";
  if (bytelevel_regex && punctuation && digits3 && !llama3 && !other) return "falcon";
  fail("{}: unrecognised pre_tokenizer {}; supported: the Llama 3 split regex, GPT-2's ByteLevel "
       "regex, Falcon's", file.string(),
       root.contains("pre_tokenizer") ? root["pre_tokenizer"].dump().substr(0, 300) : "null");
}

}  // namespace

Vocab vocab_from_hf_json(const std::string& path) {
  fs::path file = path;
  if (fs::is_directory(file)) file /= "tokenizer.json";
  if (!fs::exists(file)) fail("{}: no tokenizer.json there", path);
  const json root = tok::read_json_file(file);
  const fs::path cfg_path = file.parent_path() / "tokenizer_config.json";
  const json cfg = tok::read_json_file_or_empty(cfg_path);

  if (!root.contains("model") || !root["model"].is_object()) fail("{}: no \"model\" object", file.string());
  const json& model = root["model"];
  const std::string type = model.value("type", "BPE");
  if (type != "BPE") fail("{}: tokenizer model type '{}' is not supported (only BPE)", file.string(), type);
  if (!model.contains("vocab") || !model["vocab"].is_object())
    fail("{}: model.vocab is missing or not an object", file.string());

  const std::string decoder = root.contains("decoder") ? root["decoder"].dump() : "";
  const bool byte_level = decoder.find("\"ByteLevel\"") != std::string::npos ||
                          (root.contains("pre_tokenizer") &&
                           root["pre_tokenizer"].dump().find("\"ByteLevel\"") != std::string::npos);
  Vocab v;
  v.model = byte_level ? "gpt2" : "llama";

  // Ids: model vocab plus added tokens; holes become [PAD{i}] as in convert_hf_to_gguf.py.
  struct Added {
    std::string content;
    bool special;
  };
  std::vector<std::pair<int64_t, Added>> added;
  if (root.contains("added_tokens") && root["added_tokens"].is_array())
    for (const json& a : root["added_tokens"])
      added.push_back({a.at("id").get<int64_t>(), {a.at("content").get<std::string>(), a.value("special", false)}});
  int64_t max_id = -1;
  for (auto it = model["vocab"].begin(); it != model["vocab"].end(); ++it) max_id = std::max(max_id, it.value().get<int64_t>());
  for (const auto& [id, a] : added) max_id = std::max(max_id, id);
  if (max_id < 0) fail("{}: empty vocab", file.string());
  if (max_id > 10'000'000) fail("{}: token id {} is implausibly large", file.string(), max_id);
  const size_t n = size_t(max_id + 1);
  v.tokens.assign(n, std::string());
  v.types.assign(n, TokenType::Unused);
  std::vector<bool> filled(n, false);
  for (auto it = model["vocab"].begin(); it != model["vocab"].end(); ++it) {
    const int64_t id = it.value().get<int64_t>();
    if (id < 0) fail("{}: negative id {} for '{}'", file.string(), id, it.key());
    v.tokens[size_t(id)] = it.key();
    v.types[size_t(id)] = TokenType::Normal;
    filled[size_t(id)] = true;
  }
  for (const auto& [id, a] : added) {
    if (id < 0) fail("{}: negative added-token id {}", file.string(), id);
    v.tokens[size_t(id)] = a.content;
    v.types[size_t(id)] = a.special ? TokenType::Control : TokenType::UserDefined;
    filled[size_t(id)] = true;
  }
  for (size_t i = 0; i < n; ++i)
    if (!filled[i]) v.tokens[i] = "[PAD" + std::to_string(i) + "]";

  // Merges: "a b" strings or ["a", "b"] pairs.
  if (model.contains("merges")) {
    for (const json& m : model["merges"]) {
      if (m.is_string()) v.merges.push_back(m.get<std::string>());
      else if (m.is_array() && m.size() == 2) v.merges.push_back(m[0].get<std::string>() + " " + m[1].get<std::string>());
      else fail("{}: a merge is neither \"a b\" nor [\"a\", \"b\"]: {}", file.string(), m.dump());
    }
  }

  if (byte_level) {
    v.pre = detect_pre(root, file);
    const bool ignore_merges = model.value("ignore_merges", false);
    if ((v.pre == "llama-bpe") != ignore_merges)
      log_warn("{}: model.ignore_merges = {} but pre-tokenizer {} implies the opposite; following "
               "the pre-tokenizer (as llama.cpp does)", file.string(), ignore_merges, v.pre);
    v.add_space_prefix = false;
  } else {
    // SentencePiece BPE exported to tokenizer.json: scores follow the merge ranks (a piece made by
    // an earlier merge has a higher score), <0xNN> are byte tokens.
    v.scores.assign(n, 0.0f);
    for (size_t i = 0; i < n; ++i)
      if (v.types[i] == TokenType::Normal && v.tokens[i].size() > 1) v.scores[i] = -1e9f;
    std::unordered_map<std::string, int32_t> index;
    for (size_t i = 0; i < n; ++i) index.emplace(v.tokens[i], int32_t(i));
    for (size_t r = 0; r < v.merges.size(); ++r) {
      std::string joined = v.merges[r];
      const size_t sp = joined.find(' ');
      if (sp != std::string::npos) joined.erase(sp, 1);
      auto it = index.find(joined);
      if (it != index.end() && v.scores[size_t(it->second)] == -1e9f) v.scores[size_t(it->second)] = -float(r + 1);
    }
    for (size_t i = 0; i < n; ++i) {
      const std::string& t = v.tokens[i];
      if (v.types[i] == TokenType::Normal && t.size() == 6 && t.compare(0, 3, "<0x") == 0 && t[5] == '>')
        v.types[i] = TokenType::Byte;
    }
    if (model.contains("unk_token") && model["unk_token"].is_string()) {
      v.unk_id = tok::find_token_linear(v, model["unk_token"].get<std::string>());
      if (v.unk_id >= 0) v.types[size_t(v.unk_id)] = TokenType::Unknown;
    }
    const std::string normalizer = root.contains("normalizer") ? root["normalizer"].dump() : "";
    const std::string pre = root.contains("pre_tokenizer") ? root["pre_tokenizer"].dump() : "";
    v.add_space_prefix = normalizer.find("\"Prepend\"") != std::string::npos ||
                         (pre.find("\"Metaspace\"") != std::string::npos &&
                          pre.find("\"prepend_scheme\":\"never\"") == std::string::npos);
  }

  // Special ids: tokenizer_config.json first, then the post-processor template.
  auto id_of = [&](const std::string& text) { return text.empty() ? -1 : tok::find_token_linear(v, text); };
  v.bos_id = id_of(tok::special_text(cfg, "bos_token"));
  v.eos_id = id_of(tok::special_text(cfg, "eos_token"));
  v.pad_id = id_of(tok::special_text(cfg, "pad_token"));
  if (v.unk_id < 0) v.unk_id = id_of(tok::special_text(cfg, "unk_token"));
  bool template_bos = false, template_eos = false;
  std::vector<const json*> procs;
  if (root.contains("post_processor")) flatten(root["post_processor"], "processors", procs);
  for (const json* p : procs) {
    if (p->value("type", "") != "TemplateProcessing" || !p->contains("single")) continue;
    const json& single = (*p)["single"];
    if (!single.is_array() || single.empty()) continue;
    auto special_id = [&](const json& item) -> int32_t {
      if (!item.contains("SpecialToken")) return -1;
      return id_of(item["SpecialToken"].value("id", ""));
    };
    const int32_t first = special_id(single.front()), last = special_id(single.back());
    if (first >= 0) {
      template_bos = true;
      if (v.bos_id < 0) v.bos_id = first;
    }
    if (last >= 0 && single.size() > 1) {
      template_eos = true;
      if (v.eos_id < 0) v.eos_id = last;
    }
  }
  // Neither source says: llama.cpp's default for the pre-tokenizer (BOS for Llama 3 and SPM).
  v.add_bos = cfg.contains("add_bos_token") && cfg["add_bos_token"].is_boolean()
                  ? cfg["add_bos_token"].get<bool>()
                  : (template_bos || v.pre == "llama-bpe" || v.model == "llama");
  v.add_eos = cfg.contains("add_eos_token") && cfg["add_eos_token"].is_boolean()
                  ? cfg["add_eos_token"].get<bool>()
                  : template_eos;
  v.eot_id = tok::detect_eot(v);

  v.chat_template = tok::chat_template_of(cfg);
  return v;
}

}  // namespace bitnet
