#include "runtime/synth.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <thread>
#include <unordered_set>

#include "convert/converter.h"
#include "format/gguf.h"
#include "format/half.h"
#include "format/tensor_codec.h"
#include "model/tensor_plan.h"
#include "tokenizer/unicode.h"
#include "util/error.h"

namespace bitnet {
namespace {

// ---- random numbers

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// wyrand: one multiply per 64 random bits, which keeps a 0.6 GB file disk-bound rather than
// generator-bound.
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(splitmix64(seed)) {}
  uint64_t next() {
    s_ += 0xa0761d6478bd642full;
    const __uint128_t t = __uint128_t(s_) * (s_ ^ 0xe7037ed1a0b428dbull);
    return uint64_t(t >> 64) ^ uint64_t(t);
  }
  double uniform() { return double(next() >> 11) * 0x1.0p-53; }  // [0, 1)
  uint64_t below(uint64_t n) { return uint64_t((__uint128_t(next()) * n) >> 64); }

 private:
  uint64_t s_;
};

// Each chunk of each tensor has its own stream, so the output does not depend on how chunks are
// spread over threads.
uint64_t stream_seed(uint64_t seed, uint64_t tensor, uint64_t chunk) {
  return splitmix64(splitmix64(seed ^ (tensor * 0x9e3779b97f4a7c15ull)) + chunk);
}

// Standard normal quantiles at (i + 0.5) / 65536: a 16-bit random index gives an (almost exactly)
// normal sample with one load.
const std::vector<float>& normal_table() {
  static const std::vector<float> table = [] {
    std::vector<float> t(65536);
    for (size_t i = 0; i < t.size(); ++i) {
      const double p = (double(i) + 0.5) / 65536.0;
      double lo = -10.0, hi = 10.0;
      for (int it = 0; it < 60; ++it) {
        const double mid = 0.5 * (lo + hi);
        (0.5 * std::erfc(-mid / std::sqrt(2.0)) < p ? lo : hi) = mid;
      }
      t[i] = float(0.5 * (lo + hi));
    }
    return t;
  }();
  return table;
}

// Runs fn(chunk) for chunk in [0, n_chunks) on all hardware threads.
template <class Fn>
void for_chunks(uint64_t n_chunks, Fn&& fn) {
  const unsigned hw = std::max(1u, std::thread::hardware_concurrency());
  const unsigned n_threads = unsigned(std::min<uint64_t>(hw, n_chunks));
  if (n_threads <= 1) {
    for (uint64_t c = 0; c < n_chunks; ++c) fn(c);
    return;
  }
  std::atomic<uint64_t> next{0};
  auto worker = [&] {
    for (uint64_t c; (c = next.fetch_add(1)) < n_chunks;) fn(c);
  };
  std::vector<std::thread> threads;
  for (unsigned i = 1; i < n_threads; ++i) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();
}

constexpr uint64_t kChunkElems = uint64_t(1) << 20;  // a multiple of every block size used here

// ---- tensor contents

// BT2 rows of random codes, uniform over {-1, 0, +1} (one third zeros, as in trained b1.58 models).
void fill_bt2(uint8_t* out, int64_t rows, int64_t cols, uint64_t seed, uint64_t tensor) {
  // All 81 bytes made of four valid codes; a 16-bit random picks one, i.e. four codes at once.
  static const std::vector<uint8_t> bytes81 = [] {
    std::vector<uint8_t> b;
    for (int v = 0; v < 81; ++v) b.push_back(uint8_t(v % 3 | (v / 3 % 3) << 2 | (v / 9 % 3) << 4 | (v / 27) << 6));
    return b;
  }();
  const uint64_t row_bytes = uint64_t(cols + 3) / 4, nbytes = row_bytes * uint64_t(rows);
  const uint64_t n_chunks = (nbytes + kChunkElems - 1) / kChunkElems;
  for_chunks(n_chunks, [&](uint64_t c) {
    Rng rng(stream_seed(seed, tensor, c));
    const uint64_t b0 = c * kChunkElems, b1 = std::min(nbytes, b0 + kChunkElems);
    uint64_t i = b0;
    for (; i + 4 <= b1; i += 4) {
      const uint64_t r = rng.next();
      for (int j = 0; j < 4; ++j) out[i + j] = bytes81[((r >> (16 * j)) & 0xffff) * 81 >> 16];
    }
    for (; i < b1; ++i) out[i] = bytes81[(rng.next() & 0xffff) * 81 >> 16];
  });
  if (cols % 4 != 0) {
    // Padding codes of a row's last byte must be 1 (zero), see docs/file-format.md.
    const int used = int(cols % 4);
    const uint8_t keep = uint8_t((1u << (2 * used)) - 1), pad = uint8_t(0x55 & ~keep);
    for (int64_t r = 0; r < rows; ++r) {
      uint8_t& last = out[(uint64_t(r) + 1) * row_bytes - 1];
      last = uint8_t((last & keep) | pad);
    }
  }
}

// n values of sigma * N(0, 1) in the given dense type.
void fill_normal(uint8_t* out, uint64_t n, TensorType type, float sigma, uint64_t seed, uint64_t tensor) {
  const std::vector<float>& z = normal_table();
  const uint64_t n_chunks = (n + kChunkElems - 1) / kChunkElems;
  std::vector<uint16_t> half;
  if (type == TensorType::F16) {
    half.resize(z.size());
    for (size_t i = 0; i < z.size(); ++i) half[i] = f32_to_f16(sigma * z[i]);
  }
  for_chunks(n_chunks, [&](uint64_t c) {
    Rng rng(stream_seed(seed, tensor, c));
    const uint64_t e0 = c * kChunkElems, e1 = std::min(n, e0 + kChunkElems), m = e1 - e0;
    auto sample = [&](uint64_t count, auto&& put) {
      for (uint64_t i = 0; i < count; i += 4) {
        const uint64_t r = rng.next();
        for (uint64_t j = 0; j < 4 && i + j < count; ++j) put(i + j, (r >> (16 * j)) & 0xffff);
      }
    };
    switch (type) {
      case TensorType::F16: {
        uint16_t* dst = reinterpret_cast<uint16_t*>(out) + e0;  // writer buffers are aligned
        sample(m, [&](uint64_t i, uint64_t k) { dst[i] = half[k]; });
        break;
      }
      case TensorType::F32: {
        float* dst = reinterpret_cast<float*>(out) + e0;
        sample(m, [&](uint64_t i, uint64_t k) { dst[i] = sigma * z[k]; });
        break;
      }
      case TensorType::Q8_0: {
        std::vector<float> tmp(m);
        sample(m, [&](uint64_t i, uint64_t k) { tmp[i] = sigma * z[k]; });
        const std::vector<uint8_t> q = encode_q8_0(tmp.data(), m);
        std::memcpy(out + e0 / 32 * 34, q.data(), q.size());
        break;
      }
      default: fail("synth: unsupported embedding type {}", tensor_type_traits(type).name);
    }
  });
}

}  // namespace

const std::vector<SynthPreset>& synth_presets() {
  static const std::vector<SynthPreset> presets = [] {
    std::vector<SynthPreset> v;
    SynthPreset p;
    p = {};
    p.name = "2b-4t";
    p.description = "microsoft/BitNet-b1.58-2B-4T";
    p.architecture = "bitnet-b1.58";
    p.activation = "relu2";
    p.n_layer = 30, p.n_embd = 2560, p.n_head = 20, p.n_head_kv = 5, p.head_dim = 128, p.n_ff = 6912;
    p.n_vocab = 128256, p.n_ctx = 4096, p.rope_theta = 500000.0f, p.rms_eps = 1e-5f;
    p.tied_output = true, p.tokenizer_pre = "llama-bpe", p.n_special = 256;
    v.push_back(p);

    p = {};
    p.name = "large";
    p.description = "1bitLLM/bitnet_b1_58-large";
    p.architecture = "bitnet";
    p.activation = "silu";
    p.n_layer = 24, p.n_embd = 1536, p.n_head = 16, p.n_head_kv = 16, p.head_dim = 96, p.n_ff = 4096;
    p.n_vocab = 32002, p.n_ctx = 2048, p.rope_theta = 10000.0f, p.rms_eps = 1e-5f;
    p.tied_output = false, p.tokenizer_pre = "gpt-2", p.n_special = 2;
    v.push_back(p);

    p.name = "3b";
    p.description = "1bitLLM/bitnet_b1_58-3B";
    p.n_layer = 26, p.n_embd = 3200, p.n_head = 32, p.n_head_kv = 32, p.head_dim = 100, p.n_ff = 8640;
    v.push_back(p);

    p = {};
    p.name = "8b";
    p.description = "HF1BitLLM/Llama3-8B-1.58-100B-tokens (shape; b1.58 graph with sub-norms)";
    p.architecture = "bitnet-b1.58";
    p.activation = "silu";
    p.n_layer = 32, p.n_embd = 4096, p.n_head = 32, p.n_head_kv = 8, p.head_dim = 128, p.n_ff = 14336;
    p.n_vocab = 128256, p.n_ctx = 8192, p.rope_theta = 500000.0f, p.rms_eps = 1e-5f;
    p.tied_output = false, p.tokenizer_pre = "llama-bpe", p.n_special = 256;
    v.push_back(p);

    p = {};
    p.name = "tiny";
    p.description = "a 2-layer b1.58 model for tests";
    p.architecture = "bitnet-b1.58";
    p.activation = "relu2";
    p.n_layer = 2, p.n_embd = 256, p.n_head = 4, p.n_head_kv = 2, p.head_dim = 64, p.n_ff = 512;
    p.n_vocab = 1024, p.n_ctx = 512, p.rope_theta = 10000.0f, p.rms_eps = 1e-5f;
    p.tied_output = true, p.tokenizer_pre = "llama-bpe", p.n_special = 2;
    v.push_back(p);
    return v;
  }();
  return presets;
}

const SynthPreset* find_synth_preset(std::string_view name) {
  for (const SynthPreset& p : synth_presets())
    if (p.name == name) return &p;
  return nullptr;
}

ModelParams synth_model_params(const SynthPreset& s) {
  ModelParams p;
  p.architecture = s.architecture;
  p.n_vocab = s.n_vocab;
  p.n_ctx_train = s.n_ctx;
  p.n_embd = s.n_embd;
  p.n_layer = s.n_layer;
  p.n_head = s.n_head;
  p.n_head_kv = s.n_head_kv;
  p.head_dim = s.head_dim;
  p.n_ff = s.n_ff;
  p.rms_eps = s.rms_eps;
  p.rope_theta = s.rope_theta;
  p.activation = s.activation == "silu" ? FfnActivation::Silu : FfnActivation::Relu2;
  return p;
}

Vocab synth_vocab(int64_t n_vocab, int n_special, const std::string& pre, uint64_t seed) {
  if (n_special < 2) fail("synth_vocab: need at least 2 special tokens (bos, eos), got {}", n_special);
  if (n_vocab < 256 + n_special + 1)
    fail("synth_vocab: a vocab of {} tokens cannot hold 256 byte tokens, a merge and {} specials", n_vocab, n_special);
  Vocab v;
  v.model = "gpt2";
  v.pre = pre;
  const int64_t n_normal = n_vocab - n_special;
  v.tokens.reserve(size_t(n_vocab));
  v.merges.reserve(size_t(n_normal - 256));
  std::vector<uint8_t> n_bytes;  // underlying bytes per token (one code point each)
  n_bytes.reserve(size_t(n_normal));
  std::unordered_set<std::string> seen;
  seen.reserve(size_t(n_normal) * 2);
  for (int b = 0; b < 256; ++b) {
    v.tokens.push_back(unicode::byte_to_unicode(uint8_t(b)));
    n_bytes.push_back(1);
    seen.insert(v.tokens.back());
  }
  // Merges of two existing tokens, as BPE training would produce: the result is a new token and
  // both halves exist, so every merge is usable by the encoder. Halves are drawn mostly from
  // letters and short tokens so lengths stay word-like (at most 16 bytes).
  Rng rng(stream_seed(seed, ~uint64_t(0), 0));
  const std::string letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  auto pick = [&]() -> size_t {
    const double u = rng.uniform();
    if (u < 0.35) return uint8_t(letters[rng.below(letters.size())]);
    if (u < 0.42) return uint8_t(' ');
    if (u < 0.45) return size_t(rng.below(256));
    return size_t(rng.below(v.tokens.size()));
  };
  std::string joined;
  while (int64_t(v.tokens.size()) < n_normal) {
    const size_t a = pick(), b = pick();
    if (n_bytes[a] + n_bytes[b] > 16) continue;
    joined.assign(v.tokens[a]).append(v.tokens[b]);
    if (!seen.insert(joined).second) continue;
    v.merges.push_back(v.tokens[a] + " " + v.tokens[b]);
    v.tokens.push_back(joined);
    n_bytes.push_back(uint8_t(n_bytes[a] + n_bytes[b]));
  }
  v.types.assign(v.tokens.size(), TokenType::Normal);
  // Special tokens: Llama 3's names when there are 256 of them, else just bos/eos (+ reserved).
  static const char* kLlama3[] = {"<|begin_of_text|>", "<|end_of_text|>", "<|reserved_special_token_0|>",
                                  "<|reserved_special_token_1|>", "<|finetune_right_pad_id|>",
                                  "<|reserved_special_token_2|>", "<|start_header_id|>", "<|end_header_id|>",
                                  "<|eom_id|>", "<|eot_id|>", "<|python_tag|>"};
  const int n_named = n_special >= 256 ? int(std::size(kLlama3)) : 2;
  for (int i = 0; i < n_special; ++i) {
    if (i < n_named) v.tokens.push_back(kLlama3[i]);
    else v.tokens.push_back(fmt::format("<|reserved_special_token_{}|>", i - n_named + 3));
    v.types.push_back(TokenType::Control);
  }
  v.bos_id = int32_t(n_normal);
  v.eos_id = int32_t(n_normal + 1);
  if (n_special >= 256) v.eot_id = int32_t(n_normal + 9);
  v.add_bos = true;
  v.add_eos = false;
  v.add_space_prefix = false;
  return v;
}

SynthResult synth_model(const SynthPreset& s, const SynthOptions& o) {
  if (o.out_path.empty()) fail("synth: no output path");
  if (o.embd_type != TensorType::F16 && o.embd_type != TensorType::F32 && o.embd_type != TensorType::Q8_0)
    fail("synth: embedding type {} is not supported (f16, f32, q8_0)", tensor_type_traits(o.embd_type).name);
  if (!is_supported_architecture(s.architecture))
    fail("synth: preset '{}' has architecture '{}', which the graph cannot run", s.name, s.architecture);
  if (s.n_embd % 32 != 0) fail("synth: preset '{}': embedding length {} is not a multiple of 32", s.name, s.n_embd);
  const ModelParams p = synth_model_params(s);
  using gguf::Value;
  gguf::Writer w;
  const std::string a = s.architecture + ".";
  w.set("general.architecture", Value::string(s.architecture));
  w.set("general.name", Value::string(fmt::format("synthetic {} (random weights, shape of {})", s.name, s.description)));
  w.set("general.file_type", Value::u32(convert::kFileTypeMostlyBT2));
  w.set("general.quantization_version", Value::u32(2));
  w.set(a + "vocab_size", Value::u32(uint32_t(s.n_vocab)));
  w.set(a + "context_length", Value::u32(uint32_t(s.n_ctx)));
  w.set(a + "embedding_length", Value::u32(uint32_t(s.n_embd)));
  w.set(a + "block_count", Value::u32(uint32_t(s.n_layer)));
  w.set(a + "feed_forward_length", Value::u32(uint32_t(s.n_ff)));
  w.set(a + "rope.dimension_count", Value::u32(uint32_t(s.head_dim)));
  w.set(a + "attention.head_count", Value::u32(uint32_t(s.n_head)));
  w.set(a + "attention.head_count_kv", Value::u32(uint32_t(s.n_head_kv)));
  w.set(a + "attention.layer_norm_rms_epsilon", Value::f32(s.rms_eps));
  w.set(a + "rope.freq_base", Value::f32(s.rope_theta));
  w.set(a + "hidden_activation", Value::string(s.activation));
  // Marks the file as synthetic so nobody mistakes its output for a model's.
  w.set("libbitnet.synthetic", Value::boolean(true));
  w.set("libbitnet.synth.preset", Value::string(s.name));
  w.set("libbitnet.synth.seed", Value::u64(o.seed));
  vocab_to_gguf(synth_vocab(s.n_vocab, s.n_special, s.tokenizer_pre, o.seed), w);

  SynthResult result;
  const uint64_t seed = o.seed;
  uint64_t tensor_id = 0;
  Rng scalars(stream_seed(seed, ~uint64_t(1), 0));
  const std::vector<float>& z = normal_table();
  for (const PlannedTensor& t : plan_tensors(p)) {
    const uint64_t id = tensor_id++;
    const uint64_t n = t.dims.size() > 1 ? t.dims[0] * t.dims[1] : t.dims[0];
    switch (t.role) {
      case TensorRole::Vector: {
        // RMSNorm gains near 1 (trained models spread around 1; exact values do not matter here).
        w.add_tensor(t.name, t.dims, TensorType::F32, [n, seed, id, &z](uint8_t* out, uint64_t) {
          Rng rng(stream_seed(seed, id, 0));
          float* dst = reinterpret_cast<float*>(out);
          for (uint64_t i = 0; i < n; ++i) dst[i] = 1.0f + 0.05f * z[rng.next() & 0xffff];
        });
        break;
      }
      case TensorRole::Dense: {
        if (t.name == "output.weight" && s.tied_output) continue;
        // sigma 0.02: logits of a unit-RMS hidden state then have a standard deviation near
        // 0.02 * sqrt(n_embd), about 1 for the real shapes.
        const TensorType type = o.embd_type;
        w.add_tensor(t.name, t.dims, type,
                     [n, type, seed, id](uint8_t* out, uint64_t) { fill_normal(out, n, type, 0.02f, seed, id); });
        break;
      }
      case TensorRole::Ternary: {
        const int64_t cols = int64_t(t.dims[0]), rows = int64_t(t.dims[1]);
        w.add_tensor(t.name, t.dims, TensorType::BT2,
                     [rows, cols, seed, id](uint8_t* out, uint64_t) { fill_bt2(out, rows, cols, seed, id); });
        // Per-tensor scale alpha ~ N(0.01, 0.002): the magnitude of trained b1.58 weights.
        const float alpha = std::max(1e-3f, 0.01f + 0.002f * z[scalars.next() & 0xffff]);
        w.add_tensor(scale_tensor_name(t.name), {1}, TensorType::F32,
                     [alpha](uint8_t* out, uint64_t) { std::memcpy(out, &alpha, sizeof alpha); });
        break;
      }
    }
    result.n_params += n;
  }
  w.write(o.out_path, o.progress);
  result.tensor_count = w.tensor_count();
  std::error_code ec;
  result.file_bytes = std::filesystem::file_size(o.out_path, ec);
  return result;
}

}  // namespace bitnet
