// Shared helpers for the tokenizer tests: the vocabularies in tests/data, loaded once per process.
#pragma once

#include <cstdint>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "format/gguf.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vocab.h"
#include "util/error.h"

namespace bitnet::test {

inline std::string data_path(const std::string& rel) { return std::string(BITNET_TEST_DATA) + "/" + rel; }

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct VectorCase {
  std::string text;
  std::vector<int32_t> ids;
};

// llama.cpp's .inp/.out pair (see tests/data/tokenizer/README.md).
inline std::vector<VectorCase> load_vectors(const std::string& inp, const std::string& out) {
  const std::string text = read_file(inp);
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<VectorCase> cases;
  size_t pos = 0;
  while (true) {
    const size_t next = text.find(sep, pos);
    if (next == std::string::npos) break;
    cases.push_back({text.substr(pos, next - pos), {}});
    pos = next + sep.size();
  }
  std::istringstream lines(read_file(out));
  std::string line;
  size_t i = 0;
  while (std::getline(lines, line)) {
    if (i >= cases.size()) throw std::runtime_error(out + ": more lines than tests");
    std::istringstream ids(line);
    int32_t id;
    while (ids >> id) cases[i].ids.push_back(id);
    ++i;
  }
  if (i != cases.size()) throw std::runtime_error(out + ": fewer lines than tests");
  return cases;
}

inline Vocab vocab_from_gguf_path(const std::string& path) {
  auto file = gguf::File::open(path);
  return vocab_from_gguf(*file);
}

// Through the converter's path: Vocab -> GGUF bytes -> reader -> Vocab.
inline Vocab roundtrip_through_gguf(const Vocab& v) {
  gguf::Writer w;
  vocab_to_gguf(v, w);
  const std::vector<uint8_t> bytes = w.write_to_memory();
  auto file = gguf::File::from_memory(bytes.data(), bytes.size(), "in-memory vocab");
  return vocab_from_gguf(*file);
}

// Named tokenizers, loaded once (the Llama 3 tokenizer.json alone is 9 MB).
//   llama-spm, gpt-2, falcon: vocab-only GGUFs; llama3, tiny: tokenizer.json;
//   llama3-gguf, tiny-gguf: the same through vocab_to_gguf -> GGUF -> vocab_from_gguf.
inline const Tokenizer& tokenizer(const std::string& name) {
  static std::map<std::string, std::unique_ptr<Tokenizer>> cache;
  auto it = cache.find(name);
  if (it != cache.end()) return *it->second;
  Vocab v;
  if (name == "llama-spm" || name == "gpt-2" || name == "falcon") {
    v = vocab_from_gguf_path(data_path("tokenizer/ggml-vocab-" + name + ".gguf"));
  } else if (name == "llama3") {
    v = vocab_from_hf_json(data_path("tokenizer/llama3/tokenizer.json"));
  } else if (name == "tiny") {
    v = vocab_from_hf_json(data_path("tiny-fixture/hf-packed"));
  } else if (name == "llama3-gguf") {
    v = roundtrip_through_gguf(vocab_from_hf_json(data_path("tokenizer/llama3/tokenizer.json")));
  } else if (name == "tiny-gguf") {
    v = roundtrip_through_gguf(vocab_from_hf_json(data_path("tiny-fixture/hf-packed")));
  } else {
    throw std::runtime_error("unknown test tokenizer " + name);
  }
  auto t = std::make_unique<Tokenizer>(std::move(v));
  const Tokenizer& ref = *t;
  cache.emplace(name, std::move(t));
  return ref;
}

// Vector set for a tokenizer name.
inline std::vector<VectorCase> vectors_for(const std::string& name) {
  if (name == "llama-spm" || name == "gpt-2" || name == "falcon")
    return load_vectors(data_path("tokenizer/ggml-vocab-" + name + ".gguf.inp"),
                        data_path("tokenizer/ggml-vocab-" + name + ".gguf.out"));
  if (name == "llama3" || name == "llama3-gguf")
    return load_vectors(data_path("tokenizer/llama3/llama-bpe.inp"), data_path("tokenizer/llama3/llama-bpe.out"));
  return load_vectors(data_path("tokenizer/tiny-bitnet-bpe.inp"), data_path("tokenizer/tiny-bitnet-bpe.out"));
}

}  // namespace bitnet::test
