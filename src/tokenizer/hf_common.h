// Internal helpers shared by the Hugging Face tokenizer readers (tokenizer.json and the
// SentencePiece tokenizer.model path): JSON files and tokenizer_config.json fields.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

namespace bitnet::tok {

// Parses a JSON file; throws Error naming the file when it cannot be opened or parsed.
nlohmann::json read_json_file(const std::filesystem::path& path);
// The file's JSON, or an empty object when the file does not exist.
nlohmann::json read_json_file_or_empty(const std::filesystem::path& path);

// bos_token / eos_token / ... in tokenizer_config.json: a string, {"content": ...}, or "" if absent.
std::string special_text(const nlohmann::json& cfg, const char* key);

// tokenizer_config.json's chat_template: a string, or [{"name", "template"}] (the "default" one,
// else the first); "" if absent.
std::string chat_template_of(const nlohmann::json& cfg);

}  // namespace bitnet::tok
