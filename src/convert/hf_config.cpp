#include "convert/hf_config.h"

#include <filesystem>
#include <fstream>

#include "util/error.h"

namespace bitnet::convert {

namespace fs = std::filesystem;

nlohmann::json read_json_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("{}: cannot open", path);
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    fail("{}: not valid JSON: {}", path, e.what());
  }
}

HfConfig HfConfig::load(const std::string& dir) {
  HfConfig c;
  c.path = (fs::path(dir) / "config.json").string();
  if (!fs::exists(c.path)) fail("{}: no config.json; is this a Hugging Face checkpoint directory?", dir);
  c.json = read_json_file(c.path);
  if (!c.json.is_object()) fail("{}: top level is not a JSON object", c.path);
  return c;
}

bool HfConfig::has(std::string_view key) const {
  const auto it = json.find(key);
  return it != json.end() && !it->is_null();
}

uint64_t HfConfig::positive_int(std::string_view key) const {
  if (!has(key)) fail("{}: key '{}' is missing", path, key);
  const auto& v = json.at(std::string(key));
  if (!v.is_number_integer() || v.get<int64_t>() <= 0)
    fail("{}: key '{}' must be a positive integer, got {}", path, key, v.dump());
  return v.get<uint64_t>();
}

double HfConfig::number(std::string_view key) const {
  if (!has(key)) fail("{}: key '{}' is missing", path, key);
  const auto& v = json.at(std::string(key));
  if (!v.is_number()) fail("{}: key '{}' must be a number, got {}", path, key, v.dump());
  return v.get<double>();
}

std::string HfConfig::string(std::string_view key) const {
  if (!has(key)) fail("{}: key '{}' is missing", path, key);
  const auto& v = json.at(std::string(key));
  if (!v.is_string()) fail("{}: key '{}' must be a string, got {}", path, key, v.dump());
  return v.get<std::string>();
}

uint64_t HfConfig::positive_int_or(std::string_view key, uint64_t fallback) const {
  return has(key) ? positive_int(key) : fallback;
}

double HfConfig::number_or(std::string_view key, double fallback) const {
  return has(key) ? number(key) : fallback;
}

std::string HfConfig::string_or(std::string_view key, std::string_view fallback) const {
  return has(key) ? string(key) : std::string(fallback);
}

bool HfConfig::bool_or(std::string_view key, bool fallback) const {
  if (!has(key)) return fallback;
  const auto& v = json.at(std::string(key));
  if (!v.is_boolean()) fail("{}: key '{}' must be true or false, got {}", path, key, v.dump());
  return v.get<bool>();
}

std::string HfConfig::architecture() const {
  const auto it = json.find("architectures");
  if (it == json.end() || !it->is_array() || it->empty() || !(*it)[0].is_string()) return "";
  return (*it)[0].get<std::string>();
}

std::string HfConfig::model_type() const {
  const auto it = json.find("model_type");
  return it != json.end() && it->is_string() ? it->get<std::string>() : "";
}

double HfConfig::rope_theta(double fallback) const {
  if (has("rope_theta")) return number("rope_theta");
  const auto it = json.find("rope_parameters");
  if (it != json.end() && it->is_object()) {
    const auto t = it->find("rope_theta");
    if (t != it->end()) {
      if (!t->is_number()) fail("{}: rope_parameters.rope_theta must be a number, got {}", path, t->dump());
      return t->get<double>();
    }
  }
  return fallback;
}

std::vector<int32_t> generation_eos_ids(const std::string& dir) {
  const std::string p = (fs::path(dir) / "generation_config.json").string();
  if (!fs::exists(p)) return {};
  const auto j = read_json_file(p);
  std::vector<int32_t> out;
  if (!j.is_object() || !j.contains("eos_token_id")) return out;
  const auto& e = j["eos_token_id"];
  auto take = [&](const nlohmann::json& v) {
    if (!v.is_number_integer()) fail("{}: eos_token_id entries must be integers, got {}", p, v.dump());
    out.push_back(v.get<int32_t>());
  };
  if (e.is_array()) {
    for (const auto& v : e) take(v);
  } else if (!e.is_null()) {
    take(e);
  }
  return out;
}

}  // namespace bitnet::convert
