// The executor: runs the BitNet b1.58 graph over preallocated buffers, with a KV cache, batched
// prefill (the whole prompt as GEMMs, in chunks of n_batch) and one-token decode. All work is
// spread over one thread pool. Nothing is allocated per token.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "graph/kv_cache.h"
#include "graph/ops.h"
#include "runtime/thread_pool.h"
#include "util/aligned_buffer.h"

namespace bitnet {

class Model;
struct TernaryLinear;
struct LayerWeights;

struct ContextParams {
  int64_t n_ctx = 0;      // 0: the model's training context
  int64_t n_batch = 512;  // max tokens per forward pass during prefill
  int n_threads = 0;      // 0: hardware concurrency
  // BitNet a4.8 (docs/a48.md). a48: -1 follows the file (on for models trained for it), 0 off,
  // 1 on. The parts can be set one by one; 0 / -1 mean "what the mode implies".
  int a48 = -1;
  int act_bits = 0;  // inputs of q/k/v and gate/up: 8 (absmax) or 4 (absmean); 0: 4 in a4.8 mode
  int topk_o = -1;   // TopK-50% on the o_proj input: -1 follows the mode, 0 off, 1 on
  int kv_bits = 0;   // KV cache: 32 (f32), 16, 8, 4, 3; 0: 32
};

// What a context actually runs, resolved from ContextParams and the model.
struct ActivationScheme {
  bool a48 = false;
  int act_bits = 8;
  bool topk_o = false;
  int kv_bits = 32;
  std::string describe() const;  // e.g. "a4.8 (qkv/gate/up int4, o top-50% int8, down int8, kv 3-bit)"
};


// Zero counts seen by one layer since the context was created (or reset_stats): gate entries whose
// ReLU² is zero (the up rows decode skips), zero int8 inputs of the down projection and of o_proj.
struct LayerSparsity {
  uint64_t tokens = 0;
  uint64_t gate_zero = 0, down_zero = 0, o_zero = 0;
};

// Optional fused epilogue: with `gate` (same shape as y), y = act(gate) * (W x) instead of W x,
// while the product is still in cache (the gated FFN's up projection), and `gate_zero`, if
// given, is increased by the number of gate entries <= 0.
struct GateEpilogue {
  const float* gate = nullptr;
  bool relu2 = true;  // else SiLU
  uint64_t* gate_zero = nullptr;
};

// One matrix of a fused ternary_linears call: y (leading dimension ldy) = W x, with an optional epilogue.
struct LinearJob {
  const TernaryLinear* w;
  float* y;
  int64_t ldy;
  GateEpilogue epilogue;
};

class Context {
 public:
  Context(const Model& model, const ContextParams& params);
  ~Context();

  // Appends tokens at positions n_past()...; throws Error if they do not fit in the context or an
  // id is out of range. With all_logits, logits(i) is valid for every token i of this call;
  // otherwise only logits(0), for the last token.
  void eval(std::span<const int32_t> tokens, bool all_logits = false);
  const float* logits(int64_t i = 0) const;

  int64_t n_past() const { return n_past_; }
  int64_t n_ctx() const { return n_ctx_; }
  int n_threads() const { return pool_.size(); }
  void reset() { n_past_ = 0; }
  // Forgets every position from n on (the cache rows past it get overwritten by the next eval):
  // lets a benchmark re-run from the same prefix without evaluating it again.
  void truncate(int64_t n) { n_past_ = std::clamp<int64_t>(n, 0, n_past_); }
  const Model& model() const { return model_; }
  uint64_t kv_cache_bytes() const { return kv_.bytes(); }
  const ActivationScheme& scheme() const { return scheme_; }
  const std::vector<LayerSparsity>& sparsity() const { return stats_; }
  void reset_stats() { stats_.assign(stats_.size(), LayerSparsity{}); }

 private:
  void forward_chunk(const int32_t* tokens, int64_t n, bool all_logits, float* logits_out);
  // Optional fused epilogue: see GateEpilogue.
  void ternary_linear(const TernaryLinear& w, int64_t n_tokens, const int8_t* xq, int64_t ldx,
                      const float* sx, float* y, int64_t ldy, GateEpilogue epilogue = {});
  // Several matrices sharing the input xq, in one parallel region (at most 3).
  void ternary_linears(std::span<const LinearJob> jobs, int64_t n_tokens, const int8_t* xq, int64_t ldx,
                       const float* sx);
  enum class ActQuant { Int8, Int4, TopKInt8 };
  void quantize_rows(const float* x, int64_t n_tokens, int64_t k, int64_t ldx, ActQuant mode = ActQuant::Int8);
  void attention(int64_t layer, int64_t n_tokens, int64_t pos0);
  // Decode-only exact-sparsity paths (one token): rows listed in row_list_, and inputs whose int8
  // value is zero skipped.
  void gated_ffn_decode(const LayerWeights& L, float* out, uint64_t* gate_zero);
  // False (nothing done) when the model's sparsity is adaptive and too few inputs are zero to pay.
  bool ternary_linear_sparse_input(const TernaryLinear& w, const int8_t* xq, const float* sx, float* y,
                                   uint64_t* zero_count);
  void lm_head(const float* hidden, int64_t n_rows, float* logits_out);

  const Model& model_;
  ActivationScheme scheme_;
  int64_t n_ctx_, n_batch_;
  int64_t n_past_ = 0;
  ThreadPool pool_;
  KvCache kv_;
  ops::RopeTables rope_;

  // Activations for up to n_batch tokens.
  AlignedBuffer<float> x_, h_, q_, k_, v_, attn_, gate_, up_;
  AlignedBuffer<int8_t> xq_;
  AlignedBuffer<float> sx_;
  AlignedBuffer<int32_t> acc_;
  AlignedBuffer<float> scores_;  // per thread: n_ctx
  // Prefill over a quantized cache: this layer's K/V for the positions attended, dequantised once
  // (laid out like the f32 cache), grown on first use; empty for f32 caches and decode-only use.
  AlignedBuffer<float> prefill_kv_;
  AlignedBuffer<float> scratch_;  // per token: widest row (TopK)
  AlignedBuffer<int32_t> row_list_;  // active rows / non-zero input indices (decode)
  AlignedBuffer<int8_t> sparse_vals_;
  std::vector<LayerSparsity> stats_;
  int64_t width_max_ = 0;        // widest activation row
  std::vector<float> logits_;
  int64_t n_logits_ = 0;
};

}  // namespace bitnet
