#include "tokenizer/hf_common.h"

#include <fstream>
#include <sstream>

#include "util/error.h"

namespace bitnet::tok {

using nlohmann::json;

json read_json_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) fail("{}: cannot open", p.string());
  std::stringstream ss;
  ss << in.rdbuf();
  try {
    return json::parse(ss.str());
  } catch (const json::exception& e) {
    fail("{}: not valid JSON: {}", p.string(), e.what());
  }
}

json read_json_file_or_empty(const std::filesystem::path& p) {
  return std::filesystem::exists(p) ? read_json_file(p) : json::object();
}

std::string special_text(const json& cfg, const char* key) {
  if (!cfg.is_object() || !cfg.contains(key)) return "";
  const json& v = cfg[key];
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content") && v["content"].is_string()) return v["content"].get<std::string>();
  return "";
}

std::string chat_template_of(const json& cfg) {
  if (!cfg.is_object() || !cfg.contains("chat_template")) return "";
  const json& ct = cfg["chat_template"];
  if (ct.is_string()) return ct.get<std::string>();
  std::string out;
  if (ct.is_array()) {  // [{"name": ..., "template": ...}]: take "default"
    for (const json& t : ct)
      if (t.is_object() && t.value("name", "") == "default") out = t.value("template", "");
    if (out.empty() && !ct.empty() && ct[0].is_object()) out = ct[0].value("template", "");
  }
  return out;
}

}  // namespace bitnet::tok
