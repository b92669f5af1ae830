// Small synthetic ternary models for architectures and storage types no peer fixture covers:
// random weights chosen so that every storage type holds them exactly (ternary codes with an
// f16/bf16-exact alpha; embedding values q/128 with one |q| = 127 per 32-block, exact in F16, BF16
// and Q8_0), written with our GGUF writer in each type's own layout, and an independent scalar
// reference forward pass over the plain weights (float loops, the exact b1.58 quantisation:
// per-token absmax int8 activations, y = (W_int . x_int) / (s_x * (1/alpha))). Test-only.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <unistd.h>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "format/gguf.h"
#include "graph/context.h"
#include "model/model.h"
#include "format/tensor_codec.h"
#include "model/hparams.h"
#include "runtime/synth.h"
#include "tokenizer/vocab.h"

namespace bitnet::test {

struct SynthSpec {
  std::string arch = "bitnet-b1.58";
  int64_t n_embd = 256, n_ff = 512, n_head = 4, n_head_kv = 2, n_layer = 2, n_vocab = 320;
  float rms_eps = 1e-5f, rope_theta = 10000.0f;
  std::string activation;  // written as <arch>.hidden_activation unless empty
  bool sub_norms = true;
  bool separate_output = false;
  TensorType ternary_type = TensorType::BT2;  // BT2, I2_S, TQ1_0, TQ2_0, F32, F16, BF16 (ternary*alpha)
  // Non-BT2 types: store the codes with unit scale and alpha in a separate `.scale` F32 tensor
  // (llama.cpp's optional per-tensor scales).
  bool scale_tensors = false;
  TensorType embd_type = TensorType::F32;
  TensorType output_type = TensorType::F32;
  int64_t file_type = -1;  // general.file_type, when >= 0
  uint64_t seed = 7;

  int64_t head_dim() const { return n_embd / n_head; }
};

struct SynthTernary {
  int64_t rows = 0, cols = 0;
  std::vector<int8_t> codes;  // rows * cols
  float alpha = 0;
};

struct SynthLayer {
  std::vector<float> attn_norm, attn_sub_norm, ffn_norm, ffn_sub_norm;
  SynthTernary wq, wk, wv, wo, gate, up, down;
};

struct SynthWeights {
  std::vector<float> embd, output, output_norm;  // [vocab][d] rows
  std::vector<SynthLayer> layers;
};

inline SynthWeights make_synth_weights(const SynthSpec& s) {
  std::mt19937_64 rng(s.seed);
  auto uniform_int = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  auto dense = [&](int64_t rows, int64_t cols) {
    std::vector<float> v(size_t(rows * cols));
    for (size_t i = 0; i < v.size(); ++i) v[i] = float(uniform_int(-127, 127)) / 128.0f;
    for (size_t b = 0; b < v.size(); b += 32) v[b + size_t(uniform_int(0, 31))] = uniform_int(0, 1) ? 127.0f / 128 : -127.0f / 128;
    return v;
  };
  auto norm = [&](int64_t n) {
    std::vector<float> v(static_cast<size_t>(n));
    for (auto& x : v) x = 1.0f + float(uniform_int(-16, 16)) / 64.0f;
    return v;
  };
  auto ternary = [&](int64_t rows, int64_t cols) {
    SynthTernary t;
    t.rows = rows;
    t.cols = cols;
    t.codes.resize(size_t(rows * cols));
    for (auto& c : t.codes) c = int8_t(uniform_int(-1, 1));
    // m * 2^-e with m in {1, 1.25, 1.5, 1.75}: exact in f16 and bf16 (TQ's fp16 d, F16/BF16 storage).
    t.alpha = (1.0f + 0.25f * float(uniform_int(0, 3))) * std::ldexp(1.0f, -uniform_int(3, 6));
    return t;
  };
  SynthWeights w;
  const int64_t d = s.n_embd, qd = s.n_head * s.head_dim(), kvd = s.n_head_kv * s.head_dim();
  w.embd = dense(s.n_vocab, d);
  if (s.separate_output) w.output = dense(s.n_vocab, d);
  w.output_norm = norm(d);
  for (int64_t l = 0; l < s.n_layer; ++l) {
    SynthLayer L;
    L.attn_norm = norm(d);
    L.wq = ternary(qd, d);
    L.wk = ternary(kvd, d);
    L.wv = ternary(kvd, d);
    if (s.sub_norms) L.attn_sub_norm = norm(qd);
    L.wo = ternary(d, qd);
    L.ffn_norm = norm(d);
    L.gate = ternary(s.n_ff, d);
    L.up = ternary(s.n_ff, d);
    if (s.sub_norms) L.ffn_sub_norm = norm(s.n_ff);
    L.down = ternary(d, s.n_ff);
    w.layers.push_back(std::move(L));
  }
  return w;
}

// Owns the encoded bytes until the writer has written them.
struct SynthFile {
  gguf::Writer writer;
  std::vector<std::vector<uint8_t>> blobs;

  void add(const std::string& name, std::vector<uint64_t> dims, TensorType type, std::vector<uint8_t> bytes) {
    blobs.push_back(std::move(bytes));
    writer.add_tensor_copy(name, std::move(dims), type, blobs.back().data(), blobs.back().size());
  }
  void add_f32(const std::string& name, std::vector<uint64_t> dims, const std::vector<float>& v) {
    std::vector<uint8_t> b(v.size() * 4);
    std::memcpy(b.data(), v.data(), b.size());
    add(name, std::move(dims), TensorType::F32, std::move(b));
  }
};

inline std::vector<uint8_t> encode_dense(const std::vector<float>& v, TensorType type) {
  switch (type) {
    case TensorType::F32: {
      std::vector<uint8_t> b(v.size() * 4);
      std::memcpy(b.data(), v.data(), b.size());
      return b;
    }
    case TensorType::F16: return encode_f16(v.data(), v.size());
    case TensorType::BF16: return encode_bf16(v.data(), v.size());
    case TensorType::Q8_0: return encode_q8_0(v.data(), v.size());
    default: throw std::runtime_error("encode_dense: unsupported type");
  }
}

inline void add_ternary(SynthFile& f, const SynthSpec& s, const std::string& base, const SynthTernary& t) {
  const std::vector<uint64_t> dims = {uint64_t(t.cols), uint64_t(t.rows)};
  const float stored = s.scale_tensors ? 1.0f : t.alpha;
  switch (s.ternary_type) {
    case TensorType::BT2: f.add(base + ".weight", dims, TensorType::BT2, encode_bt2(t.codes.data(), t.rows, t.cols)); break;
    case TensorType::I2_S: f.add(base + ".weight", dims, TensorType::I2_S, encode_i2_s(t.codes.data(), t.rows, t.cols, stored)); break;
    case TensorType::TQ1_0: f.add(base + ".weight", dims, TensorType::TQ1_0, encode_tq1_0(t.codes.data(), t.rows, t.cols, stored)); break;
    case TensorType::TQ2_0: f.add(base + ".weight", dims, TensorType::TQ2_0, encode_tq2_0(t.codes.data(), t.rows, t.cols, stored)); break;
    case TensorType::F32:
    case TensorType::F16:
    case TensorType::BF16: {
      std::vector<float> v(t.codes.size());
      for (size_t i = 0; i < v.size(); ++i) v[i] = float(t.codes[i]) * stored;
      f.add(base + ".weight", dims, s.ternary_type, encode_dense(v, s.ternary_type));
      break;
    }
    default: throw std::runtime_error("add_ternary: unsupported type");
  }
  if (s.ternary_type == TensorType::BT2 || s.scale_tensors) f.add_f32(base + ".scale", {1}, {t.alpha});
}

inline Vocab synth_test_vocab(const SynthSpec& s) { return synth_vocab(s.n_vocab, 2, "llama-bpe", 3); }

inline void write_synth_gguf(const SynthSpec& s, const SynthWeights& w, const std::string& path) {
  SynthFile f;
  gguf::Writer& g = f.writer;
  using gguf::Value;
  const std::string a = s.arch + ".";
  g.set("general.architecture", Value::string(s.arch));
  g.set("general.name", Value::string("synthetic " + s.arch));
  if (s.file_type >= 0) g.set("general.file_type", Value::u32(uint32_t(s.file_type)));
  g.set(a + "context_length", Value::u32(256));
  g.set(a + "embedding_length", Value::u32(uint32_t(s.n_embd)));
  g.set(a + "block_count", Value::u32(uint32_t(s.n_layer)));
  g.set(a + "feed_forward_length", Value::u32(uint32_t(s.n_ff)));
  g.set(a + "attention.head_count", Value::u32(uint32_t(s.n_head)));
  g.set(a + "attention.head_count_kv", Value::u32(uint32_t(s.n_head_kv)));
  g.set(a + "attention.layer_norm_rms_epsilon", Value::f32(s.rms_eps));
  g.set(a + "rope.freq_base", Value::f32(s.rope_theta));
  if (!s.activation.empty()) g.set(a + "hidden_activation", Value::string(s.activation));
  vocab_to_gguf(synth_test_vocab(s), g);

  const uint64_t d = uint64_t(s.n_embd), nv = uint64_t(s.n_vocab);
  f.add("token_embd.weight", {d, nv}, s.embd_type, encode_dense(w.embd, s.embd_type));
  if (s.separate_output) f.add("output.weight", {d, nv}, s.output_type, encode_dense(w.output, s.output_type));
  f.add_f32("output_norm.weight", {d}, w.output_norm);
  for (int64_t l = 0; l < s.n_layer; ++l) {
    const SynthLayer& L = w.layers[size_t(l)];
    const std::string b = fmt::format("blk.{}.", l);
    f.add_f32(b + "attn_norm.weight", {d}, L.attn_norm);
    add_ternary(f, s, b + "attn_q", L.wq);
    add_ternary(f, s, b + "attn_k", L.wk);
    add_ternary(f, s, b + "attn_v", L.wv);
    if (s.sub_norms) f.add_f32(b + "attn_sub_norm.weight", {uint64_t(L.attn_sub_norm.size())}, L.attn_sub_norm);
    add_ternary(f, s, b + "attn_output", L.wo);
    f.add_f32(b + "ffn_norm.weight", {d}, L.ffn_norm);
    add_ternary(f, s, b + "ffn_gate", L.gate);
    add_ternary(f, s, b + "ffn_up", L.up);
    if (s.sub_norms) f.add_f32(b + "ffn_sub_norm.weight", {uint64_t(s.n_ff)}, L.ffn_sub_norm);
    add_ternary(f, s, b + "ffn_down", L.down);
  }
  g.write(path);
}

// ---- the scalar reference forward pass

struct ReferenceOptions {
  bool silu = false;         // else ReLU²
  bool interleaved = false;  // RoPE on (2i, 2i+1) pairs (llama.cpp NORM), else (i, i+d/2) (NEOX)
};

inline std::vector<float> ref_rms_norm(const std::vector<float>& x, const std::vector<float>& g, float eps) {
  double ss = 0;
  for (float v : x) ss += double(v) * v;
  const float r = 1.0f / std::sqrt(float(ss / double(x.size())) + eps);
  std::vector<float> y(x.size());
  for (size_t i = 0; i < x.size(); ++i) y[i] = x[i] * r * g[i];
  return y;
}

// transformers' BitLinear: x_int = clamp(round(x * 127/max|x|), -128, 127), y = (W_int x_int) / (s_x / alpha).
inline std::vector<float> ref_bitlinear(const SynthTernary& w, const std::vector<float>& x) {
  float amax = 0;
  for (float v : x) amax = std::max(amax, std::fabs(v));
  const float s = 127.0f / std::max(amax, 1e-5f);
  std::vector<int> q(x.size());
  for (size_t i = 0; i < x.size(); ++i) q[i] = int(std::clamp(std::nearbyint(x[i] * s), -128.0f, 127.0f));
  std::vector<float> y(static_cast<size_t>(w.rows));
  for (int64_t r = 0; r < w.rows; ++r) {
    long acc = 0;
    for (int64_t c = 0; c < w.cols; ++c) acc += long(w.codes[size_t(r * w.cols + c)]) * q[size_t(c)];
    y[size_t(r)] = float(acc) / (s * (1.0f / w.alpha));
  }
  return y;
}

// Logits at the last position of `tokens`.
inline std::vector<float> reference_forward(const SynthSpec& s, const SynthWeights& w, const std::vector<int32_t>& tokens,
                                            const ReferenceOptions& o) {
  const int64_t d = s.n_embd, hd = s.head_dim(), nh = s.n_head, nkv = s.n_head_kv, n = int64_t(tokens.size());
  std::vector<std::vector<float>> x(static_cast<size_t>(n));
  for (int64_t t = 0; t < n; ++t) x[size_t(t)].assign(w.embd.begin() + tokens[size_t(t)] * d, w.embd.begin() + (tokens[size_t(t)] + 1) * d);
  auto rope = [&](std::vector<float>& v, int64_t heads, int64_t pos) {
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t i = 0; i < hd / 2; ++i) {
        const double freq = std::pow(double(s.rope_theta), -double(2 * i) / double(hd));
        const float c = float(std::cos(double(pos) * freq)), sn = float(std::sin(double(pos) * freq));
        const size_t i0 = size_t(h * hd + (o.interleaved ? 2 * i : i));
        const size_t i1 = size_t(h * hd + (o.interleaved ? 2 * i + 1 : i + hd / 2));
        const float a = v[i0], b = v[i1];
        v[i0] = a * c - b * sn;
        v[i1] = b * c + a * sn;
      }
  };
  for (const SynthLayer& L : w.layers) {
    std::vector<std::vector<float>> q(static_cast<size_t>(n)), k(static_cast<size_t>(n)), v(static_cast<size_t>(n));
    for (int64_t t = 0; t < n; ++t) {
      const auto h = ref_rms_norm(x[size_t(t)], L.attn_norm, s.rms_eps);
      q[size_t(t)] = ref_bitlinear(L.wq, h);
      k[size_t(t)] = ref_bitlinear(L.wk, h);
      v[size_t(t)] = ref_bitlinear(L.wv, h);
      rope(q[size_t(t)], nh, t);
      rope(k[size_t(t)], nkv, t);
    }
    for (int64_t t = 0; t < n; ++t) {
      std::vector<float> att(static_cast<size_t>(nh * hd), 0.0f);
      for (int64_t h = 0; h < nh; ++h) {
        const int64_t kh = h / (nh / nkv);
        std::vector<double> sc(static_cast<size_t>(t + 1));
        double mx = -1e300;
        for (int64_t j = 0; j <= t; ++j) {
          double dot = 0;
          for (int64_t i = 0; i < hd; ++i) dot += double(q[size_t(t)][size_t(h * hd + i)]) * k[size_t(j)][size_t(kh * hd + i)];
          sc[size_t(j)] = dot / std::sqrt(double(hd));
          mx = std::max(mx, sc[size_t(j)]);
        }
        double sum = 0;
        for (auto& e : sc) sum += (e = std::exp(e - mx));
        for (int64_t j = 0; j <= t; ++j)
          for (int64_t i = 0; i < hd; ++i)
            att[size_t(h * hd + i)] += float(sc[size_t(j)] / sum) * v[size_t(j)][size_t(kh * hd + i)];
      }
      if (!L.attn_sub_norm.empty()) att = ref_rms_norm(att, L.attn_sub_norm, s.rms_eps);
      const auto o_out = ref_bitlinear(L.wo, att);
      for (int64_t i = 0; i < d; ++i) x[size_t(t)][size_t(i)] += o_out[size_t(i)];
    }
    for (int64_t t = 0; t < n; ++t) {
      const auto h = ref_rms_norm(x[size_t(t)], L.ffn_norm, s.rms_eps);
      const auto g = ref_bitlinear(L.gate, h);
      const auto u = ref_bitlinear(L.up, h);
      std::vector<float> a(g.size());
      for (size_t i = 0; i < g.size(); ++i) {
        const float act = o.silu ? g[i] / (1.0f + std::exp(-g[i])) : (g[i] > 0 ? g[i] * g[i] : 0.0f);
        a[i] = act * u[i];
      }
      if (!L.ffn_sub_norm.empty()) a = ref_rms_norm(a, L.ffn_sub_norm, s.rms_eps);
      const auto dn = ref_bitlinear(L.down, a);
      for (int64_t i = 0; i < d; ++i) x[size_t(t)][size_t(i)] += dn[size_t(i)];
    }
  }
  const auto h = ref_rms_norm(x[size_t(n - 1)], w.output_norm, s.rms_eps);
  const std::vector<float>& head = s.separate_output ? w.output : w.embd;
  std::vector<float> logits(static_cast<size_t>(s.n_vocab));
  for (int64_t r = 0; r < s.n_vocab; ++r) {
    double acc = 0;
    for (int64_t i = 0; i < d; ++i) acc += double(h[size_t(i)]) * head[size_t(r * d + i)];
    logits[size_t(r)] = float(acc);
  }
  return logits;
}

// A few token sequences (ids below n_vocab - 2, BOS first).
inline std::vector<std::vector<int32_t>> synth_prompts(const SynthSpec& s) {
  const int32_t bos = int32_t(s.n_vocab - 2);
  return {{bos, 17, 250, 3, 99, 42},
          {bos, 5},
          {bos, 300, 301, 1, 2, 3, 4, 5, 6, 7, 8, 9, 200, 100, 50, 25}};
}

// Last-position logits of our runtime for each prompt.
inline std::vector<std::vector<float>> run_model(const std::string& path, const std::vector<std::vector<int32_t>>& prompts,
                                                 LmHeadMode head = LmHeadMode::Original) {
  LoadOptions lo;
  lo.lm_head = head;
  auto m = Model::load(path, lo);
  ContextParams cp;
  cp.n_ctx = 64;
  cp.n_threads = 2;
  Context ctx(*m, cp);
  std::vector<std::vector<float>> out;
  for (const auto& p : prompts) {
    ctx.reset();
    ctx.eval(p);
    out.emplace_back(ctx.logits(), ctx.logits() + m->params().n_vocab);
  }
  return out;
}

inline float max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  float m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
  return m;
}

inline float max_abs(const std::vector<float>& a) {
  float m = 0;
  for (float v : a) m = std::max(m, std::fabs(v));
  return m;
}

// A file path in the temp dir, removed when this goes out of scope.
class TempGguf {
 public:
  explicit TempGguf(const std::string& tag)
      : path_((std::filesystem::temp_directory_path() /
               ("bitnet-arch-" + std::to_string(::getpid()) + "-" + tag + ".gguf")).string()) {}
  ~TempGguf() {
    std::error_code ec;
    std::filesystem::remove(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace bitnet::test
