// A Hugging Face checkpoint directory as the converter sees it: config.json,
// generation_config.json (optional) and typed accessors that fail with the file and key name.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bitnet::convert {

// Reads and parses a JSON file; throws Error naming the file on I/O or syntax errors.
nlohmann::json read_json_file(const std::string& path);

struct HfConfig {
  std::string path;  // of config.json, for messages
  nlohmann::json json;

  static HfConfig load(const std::string& dir);  // throws if config.json is missing or invalid

  bool has(std::string_view key) const;
  // Required keys: throw Error "config.json: key 'hidden_size' is missing" / "... must be a positive integer".
  uint64_t positive_int(std::string_view key) const;
  double number(std::string_view key) const;
  std::string string(std::string_view key) const;
  // Optional keys: the fallback when absent or null; wrong types still throw.
  uint64_t positive_int_or(std::string_view key, uint64_t fallback) const;
  double number_or(std::string_view key, double fallback) const;
  std::string string_or(std::string_view key, std::string_view fallback) const;
  bool bool_or(std::string_view key, bool fallback) const;

  // architectures[0] (or "" if absent) and model_type (or "").
  std::string architecture() const;
  std::string model_type() const;
  // rope_theta, else rope_parameters.rope_theta, else the fallback.
  double rope_theta(double fallback) const;
};

// eos_token_id of generation_config.json as a list (it may be an int or a list); empty if the
// file or the key is absent.
std::vector<int32_t> generation_eos_ids(const std::string& dir);

}  // namespace bitnet::convert
