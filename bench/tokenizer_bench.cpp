// Tokenizer throughput on ~1 MB of English (TinyStories text from the tiny model's references,
// repeated). Reports bytes/s; run: build/bench/bitnet_bench_tokenizer
#include <benchmark/benchmark.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "format/gguf.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vocab.h"

namespace {

std::string data(const std::string& rel) { return std::string(BITNET_TEST_DATA) + "/" + rel; }

const std::string& english_1mb() {
  static const std::string text = [] {
    std::string src;
    for (const char* f : {"tiny-bitnet/reference/val.txt", "tiny-bitnet/reference/heldout.txt"}) {
      std::ifstream in(data(f), std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      src += ss.str();
    }
    if (src.empty()) src = "The quick brown fox jumps over the lazy dog. ";
    std::string t;
    while (t.size() < (1u << 20)) t += src;
    t.resize(1u << 20);
    while (!t.empty() && (uint8_t(t.back()) & 0xC0) == 0x80) t.pop_back();  // keep it valid UTF-8
    if (!t.empty() && uint8_t(t.back()) >= 0xC0) t.pop_back();
    return t;
  }();
  return text;
}

const bitnet::Tokenizer& get(const std::string& name) {
  static std::unique_ptr<bitnet::Tokenizer> cache[4];
  const int i = name == "llama3" ? 0 : name == "tiny" ? 1 : name == "gpt-2" ? 2 : 3;
  if (!cache[i]) {
    bitnet::Vocab v;
    if (name == "llama3") v = bitnet::vocab_from_hf_json(data("tokenizer/llama3/tokenizer.json"));
    else if (name == "tiny") v = bitnet::vocab_from_hf_json(data("tiny-fixture/hf-packed"));
    else v = bitnet::vocab_from_path(data("tokenizer/ggml-vocab-" + name + ".gguf"));
    cache[i] = std::make_unique<bitnet::Tokenizer>(std::move(v));
  }
  return *cache[i];
}

void BM_Encode(benchmark::State& state, const std::string& name) {
  const bitnet::Tokenizer& tok = get(name);
  const std::string& text = english_1mb();
  size_t n_tokens = 0;
  for (auto _ : state) {
    auto ids = tok.encode(text, true, false);
    n_tokens = ids.size();
    benchmark::DoNotOptimize(ids.data());
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(text.size()));
  state.counters["tokens"] = double(n_tokens);
}

void BM_Decode(benchmark::State& state, const std::string& name) {
  const bitnet::Tokenizer& tok = get(name);
  const std::string& text = english_1mb();
  const auto ids = tok.encode(text, false, false);
  for (auto _ : state) {
    std::string s = tok.decode(ids);
    benchmark::DoNotOptimize(s.data());
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(text.size()));
}

BENCHMARK_CAPTURE(BM_Encode, llama3, std::string("llama3"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Encode, tiny_bitnet, std::string("tiny"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Encode, gpt2, std::string("gpt-2"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Encode, llama_spm, std::string("llama-spm"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Decode, llama3, std::string("llama3"))->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
