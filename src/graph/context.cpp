#include "graph/context.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "graph/act_quant.h"
#include "graph/row_split.h"
#include "kernels.h"
#include "sparse.h"
#include "dense.h"
#include "model/model.h"
#include "util/error.h"

namespace bitnet {
// Positions per attention block: 32 KB of f32 K rows at head_dim 128, L1-sized.
constexpr int64_t kAttnBlock = 64;

namespace {

// Decode matmuls: long runs per thread, a geometric tail for balance (see row_split.h).
RowSplit decode_split(int64_t rows, int row_tile, int n_threads) { return RowSplit(rows, row_tile, n_threads); }

// Whether a sparse decode path beats the dense kernel when `zeros` of `n` rows or inputs can be
// skipped. The sparse kernels read scattered 640-byte rows or columns, which the hardware
// prefetchers serve worse than the dense kernels' few long streams: on Zen 5 (bitnet_bench_sparse,
// 2 threads, against the 4-stream dense GEMV) the up rows broke even near 75% zeros (0.7x the dense
// speed at 50%, 0.9x at 70%, 1.6x at 85%) and down/o_proj columns between 50% and 70%.
bool pays_to_skip(int64_t zeros, int64_t n) { return zeros * 4 >= n * 3; }

// Prefill: every task rebuilds per-call state (AMX tiles, lookup tables), so equal, large tasks.
int64_t rows_per_prefill_task(int64_t rows, int row_tile, int n_threads) {
  int64_t target = std::max<int64_t>(256, rows / (int64_t(n_threads) * 2));
  target = (target + row_tile - 1) / row_tile * row_tile;
  return std::min(target, rows);
}

// y = acc / denom, the BitLinear output (transformers divides by s_x * s_w; so do we, exactly).
// Plain loops with restrict so that the compiler vectorizes them.
void dequantize_sums(const int32_t* __restrict acc, int64_t n, float denom, float* __restrict y) {
  for (int64_t i = 0; i < n; ++i) y[i] = float(acc[i]) / denom;
}

// y = relu(gate)^2 * y, the same expression as ops::relu2_mul (identical results). GCC does not
// if-convert the float select by itself, so the body is written with generic 4-float vectors
// (SSE2 / NEON on every target we build for).
void relu2_scale(const float* __restrict gate, int64_t n, float* __restrict y) {
  using f4 = float __attribute__((vector_size(16)));
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    f4 g, v;
    std::memcpy(&g, gate + i, sizeof g);
    std::memcpy(&v, y + i, sizeof v);
    const f4 zero = {0.0f, 0.0f, 0.0f, 0.0f};
    const f4 r = g > zero ? g : zero;
    v = (r * r) * v;
    std::memcpy(y + i, &v, sizeof v);
  }
  for (; i < n; ++i) {
    const float g = gate[i];
    const float r = g > 0.0f ? g : 0.0f;
    y[i] = (r * r) * y[i];
  }
}

// out = gate > 0 ? (gate * gate) * up : 0, for the sparse path, where up holds stale values at the
// rows it skipped (so a multiply by zero is not enough); the same vector select as above.
void relu2_select(const float* __restrict gate, const float* __restrict up, int64_t n, float* __restrict out) {
  using f4 = float __attribute__((vector_size(16)));
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    f4 g, u;
    std::memcpy(&g, gate + i, sizeof g);
    std::memcpy(&u, up + i, sizeof u);
    const f4 zero = {0.0f, 0.0f, 0.0f, 0.0f};
    const f4 v = g > zero ? (g * g) * u : zero;
    std::memcpy(out + i, &v, sizeof v);
  }
  for (; i < n; ++i) out[i] = gate[i] > 0.0f ? (gate[i] * gate[i]) * up[i] : 0.0f;
}

int64_t count_non_positive(const float* __restrict x, int64_t n) {
  int32_t count = 0;  // n < 2^31 (one row of one token)
  for (int64_t i = 0; i < n; ++i) count += x[i] <= 0.0f ? 1 : 0;
  return count;
}

ActivationScheme resolve_scheme(const ModelParams& p, const ContextParams& cp) {
  ActivationScheme s;
  s.a48 = cp.a48 < 0 ? p.a48_trained : cp.a48 != 0;
  s.act_bits = cp.act_bits != 0 ? cp.act_bits : (s.a48 ? 4 : 8);
  s.topk_o = cp.topk_o < 0 ? s.a48 : cp.topk_o != 0;
  s.kv_bits = cp.kv_bits != 0 ? cp.kv_bits : 32;
  if (s.act_bits != 8 && s.act_bits != 4) fail("activation bits must be 8 or 4 (got {})", s.act_bits);
  if (!KvCache::valid_bits(s.kv_bits)) fail("KV cache bits must be 32, 16, 8, 4 or 3 (got {})", s.kv_bits);
  return s;
}

}  // namespace

std::string ActivationScheme::describe() const {
  const bool plain = act_bits == 8 && !topk_o;
  std::string s = a48 ? "a4.8" : (plain ? "b1.58" : "b1.58+a4.8 parts");
  s += " (qkv/gate/up int" + std::to_string(act_bits) + ", o " + (topk_o ? "top-50% int8" : "int8") + ", down int8, kv ";
  s += kv_bits == 32 ? "f32" : kv_bits == 16 ? "f16" : std::to_string(kv_bits) + "-bit";
  if (kv_bits == 3) s += " (BOS 4-bit)";
  return s + ")";
}


Context::Context(const Model& model, const ContextParams& params)
    : model_(model),
      scheme_(resolve_scheme(model.params(), params)),
      n_ctx_(params.n_ctx > 0 ? params.n_ctx : model.params().n_ctx_train),
      n_batch_(std::max<int64_t>(1, params.n_batch)),
      pool_(params.n_threads > 0 ? params.n_threads : default_thread_count()),
      kv_(model.params().n_layer, n_ctx_, model.params().n_head_kv, model.params().head_dim, scheme_.kv_bits) {
  const ModelParams& p = model.params();
  n_batch_ = std::min(n_batch_, n_ctx_);
  rope_ = ops::make_rope_tables(p.head_dim, p.rope_theta, n_ctx_);
  width_max_ = std::max({p.n_embd, p.q_dim(), p.n_ff});
  const size_t nb = size_t(n_batch_);
  x_.resize(nb * p.n_embd);
  h_.resize(nb * width_max_);
  q_.resize(nb * p.q_dim());
  k_.resize(nb * p.kv_dim());
  v_.resize(nb * p.kv_dim());
  attn_.resize(nb * p.q_dim());
  gate_.resize(nb * p.n_ff);
  up_.resize(p.n_ff);  // decode only: prefill fuses the up projection into its gate epilogue
  xq_.resize(nb * width_max_);
  sx_.resize(nb);
  // q, k and v are computed together; decode's gate and up too.
  acc_.resize(std::max(nb * std::max(width_max_, p.q_dim() + 2 * p.kv_dim()), size_t(2 * p.n_ff)));
  // Per thread: the scores of one GQA group (n_head / n_head_kv query heads) over the context and a
  // block of dequantised K or V rows (quantized caches).
  scores_.resize(size_t(pool_.size()) * size_t(p.n_head / p.n_head_kv * n_ctx_ + kAttnBlock * p.head_dim));
  scratch_.resize(nb * width_max_);
  row_list_.resize(size_t(width_max_));
  sparse_vals_.resize(size_t(width_max_));
  stats_.assign(size_t(p.n_layer), LayerSparsity{});
  logits_.resize(size_t(p.n_vocab));
}

Context::~Context() = default;

const float* Context::logits(int64_t i) const {
  if (i < 0 || i >= n_logits_) fail("logits({}) requested but only {} rows are available", i, n_logits_);
  return logits_.data() + i * model_.params().n_vocab;
}

void Context::eval(std::span<const int32_t> tokens, bool all_logits) {
  const ModelParams& p = model_.params();
  const int64_t n = int64_t(tokens.size());
  if (n == 0) return;
  if (n_past_ + n > n_ctx_)
    fail("{} tokens do not fit in the context: {} already used of {} (raise -c)", n, n_past_, n_ctx_);
  for (int32_t t : tokens)
    if (t < 0 || t >= p.n_vocab) fail("token id {} is out of range (vocab size {})", t, p.n_vocab);
  n_logits_ = all_logits ? n : 1;
  if (logits_.size() < size_t(n_logits_ * p.n_vocab)) logits_.resize(size_t(n_logits_ * p.n_vocab));
  for (int64_t i = 0; i < n; i += n_batch_) {
    const int64_t chunk = std::min(n_batch_, n - i);
    const bool last = i + chunk == n;
    float* out = all_logits ? logits_.data() + i * p.n_vocab : (last ? logits_.data() : nullptr);
    forward_chunk(tokens.data() + i, chunk, all_logits, out);
  }
}

void Context::quantize_rows(const float* x, int64_t n_tokens, int64_t k, int64_t ldx, ActQuant mode) {
  const auto quantize = kernels::kernels().quantize_i8;
  int8_t* xq = xq_.data();
  float* sx = sx_.data();
  float* scratch = scratch_.data();
  pool_.parallel_for(n_tokens, [&](int64_t t, int) {
    switch (mode) {
      case ActQuant::Int8: sx[t] = quantize(x + t * ldx, k, xq + t * k); break;
      case ActQuant::Int4: sx[t] = act::quantize_int4_absmean(x + t * ldx, k, xq + t * k); break;
      case ActQuant::TopKInt8: {
        // x is this context's own scratch row (the sub-norm output), so it may be sparsified in place.
        float* row = const_cast<float*>(x) + t * ldx;
        act::topk_keep(row, k, 0.5f, scratch + t * width_max_);
        sx[t] = quantize(row, k, xq + t * k);
        break;
      }
    }
  });
}

void Context::ternary_linear(const TernaryLinear& w, int64_t n_tokens, const int8_t* xq, int64_t ldx,
                             const float* sx, float* y, int64_t ldy, GateEpilogue epilogue) {
  const LinearJob job{&w, y, ldy, epilogue};
  ternary_linears({&job, 1}, n_tokens, xq, ldx, sx);
}

void Context::ternary_linears(std::span<const LinearJob> jobs, int64_t n_tokens, const int8_t* xq, int64_t ldx,
                              const float* sx) {
  // All matrices in one parallel region (q, k and v share their input): one fork/join instead of
  // three, and no thread idles at a join while another finishes the last tile of a small matrix.
  // Each matrix gets its own slice of acc_ and its own task chunk; tasks are numbered across them.
  struct Plan {
    const kernels::TernaryMatmul* mm;
    const uint8_t* packed;
    RowSplit split;
    int64_t first_task;
    int32_t* acc;
  };
  constexpr size_t kMaxJobs = 3;
  if (jobs.size() > kMaxJobs) fail("internal error: {} fused matrices (at most {})", jobs.size(), kMaxJobs);
  Plan plan[kMaxJobs];
  int64_t n_tasks = 0, acc_used = 0;
  for (size_t j = 0; j < jobs.size(); ++j) {
    const TernaryLinear& w = *jobs[j].w;
    // Prefill (several tokens): the AMX or lookup-table kernel when the model built its layout; both
    // rebuild per-call state (unpacked weight tiles, tables), so they get fewer, larger row ranges.
    const bool use_prefill = n_tokens > 1 && w.prefill != nullptr;
    const kernels::TernaryMatmul& mm = use_prefill ? *w.prefill : kernels::kernels().matmul;
    const RowSplit split = use_prefill ? RowSplit(w.rows, mm.row_tile, pool_.size(),
                                                  rows_per_prefill_task(w.rows, mm.row_tile, pool_.size()))
                                       : decode_split(w.rows, mm.row_tile, pool_.size());
    plan[j] = {&mm, use_prefill ? w.prefill_packed.data() : w.packed.data(), split, n_tasks, acc_.data() + acc_used};
    n_tasks += split.tasks();
    acc_used += n_tokens * w.rows;
  }
  pool_.parallel_for(n_tasks, [&](int64_t task, int) {
    size_t j = 0;
    while (j + 1 < jobs.size() && task >= plan[j + 1].first_task) ++j;
    const Plan& pl = plan[j];
    const TernaryLinear& w = *jobs[j].w;
    const GateEpilogue& epilogue = jobs[j].epilogue;
    const int64_t ldy = jobs[j].ldy;
    const auto [m0, m1] = pl.split.range(task - pl.first_task);
    const int64_t lda = w.rows;
    pl.mm->matmul(pl.packed, w.rows, w.cols, m0, m1, xq, ldx, n_tokens, pl.acc, lda);
    // transformers' BitLinear: y = acc / (s_x * s_w) with s_w = 1/alpha.
    const float inv_scale = 1.0f / w.scale;
    uint64_t zeros = 0;
    for (int64_t t = 0; t < n_tokens; ++t) {
      float* out = jobs[j].y + t * ldy + m0;
      dequantize_sums(pl.acc + t * lda + m0, m1 - m0, sx[t] * inv_scale, out);
      if (!epilogue.gate) continue;
      const float* g = epilogue.gate + t * ldy + m0;
      // up is rounded to float first in both paths, so fused and unfused results are identical.
      if (epilogue.relu2) {
        relu2_scale(g, m1 - m0, out);
        zeros += uint64_t(count_non_positive(g, m1 - m0));
      } else {
        ops::silu_mul(g, out, m1 - m0, out);
      }
    }
    if (epilogue.gate_zero && zeros) std::atomic_ref<uint64_t>(*epilogue.gate_zero).fetch_add(zeros);
  });
}

void Context::gated_ffn_decode(const LayerWeights& L, float* out, uint64_t* gate_zero) {
  // One token, one parallel region: each task computes its rows of the gate, then the same rows of
  // up with the activation applied (a row of up needs only its own gate value). For ReLU² models
  // with the row layout, exact sparsity: relu(gate)^2 is zero wherever gate <= 0, so only the rows
  // with a positive gate are computed (the task lists them in its own slice of row_list_).
  const ModelParams& p = model_.params();
  const TernaryLinear& wg = L.w_gate;
  const TernaryLinear& wu = L.w_up;
  const int64_t ff = wg.rows;
  const bool relu2 = p.activation == FfnActivation::Relu2;
  const bool sparse_up = relu2 && !wu.rows_packed.empty();
  const bool adaptive = model_.sparse_adaptive();
  const auto& mm = kernels::kernels().matmul;
  const auto& rk = kernels::sparse_kernels().rows;
  const int8_t* xq = xq_.data();
  const float sx = sx_.data()[0];
  float* gate = gate_.data();
  float* up = up_.data();
  int32_t* acc_gate = acc_.data();
  int32_t* acc_up = acc_.data() + ff;
  int32_t* rows = row_list_.data();
  const RowSplit split = decode_split(ff, mm.row_tile, pool_.size());
  pool_.parallel_for(split.tasks(), [&](int64_t task, int) {
    const auto [m0, m1] = split.range(task);
    const int64_t n = m1 - m0;
    mm.matmul(wg.packed.data(), wg.rows, wg.cols, m0, m1, xq, wg.cols, 1, acc_gate, wg.rows);
    dequantize_sums(acc_gate + m0, n, sx * (1.0f / wg.scale), gate + m0);
    const float* g = gate + m0;
    if (sparse_up) {
      int64_t n_active = 0;
      // Branch-free (gate signs are a coin toss for the predictor): write every row, keep the positive.
      for (int64_t i = m0; i < m1; ++i) {
        rows[m0 + n_active] = int32_t(i);
        n_active += gate[i] > 0.0f;
      }
      if (!adaptive || pays_to_skip(n - n_active, n)) {
        std::atomic_ref<uint64_t>(*gate_zero).fetch_add(uint64_t(n - n_active));
        rk.matmul_rows(wu.rows_packed.data(), wu.rows, wu.cols, rows + m0, n_active, xq, wu.cols, 1, acc_up,
                       wu.rows);
        const float denom = sx * (1.0f / wu.scale);
        for (int64_t i = m0; i < m0 + n_active; ++i) up[rows[i]] = float(acc_up[rows[i]]) / denom;
        relu2_select(gate + m0, up + m0, n, out + m0);
        return;
      }
    }
    mm.matmul(wu.packed.data(), wu.rows, wu.cols, m0, m1, xq, wu.cols, 1, acc_up, wu.rows);
    dequantize_sums(acc_up + m0, n, sx * (1.0f / wu.scale), out + m0);
    if (relu2) {
      relu2_scale(g, n, out + m0);
      std::atomic_ref<uint64_t>(*gate_zero).fetch_add(uint64_t(count_non_positive(g, n)));
    } else {
      ops::silu_mul(g, out + m0, n, out + m0);
    }
  });
}

bool Context::ternary_linear_sparse_input(const TernaryLinear& w, const int8_t* xq, const float* sx, float* y,
                                          uint64_t* zero_count) {
  const auto& ck = kernels::sparse_kernels().cols;
  int32_t* idx = row_list_.data();
  int8_t* val = sparse_vals_.data();
  const int64_t nnz = kernels::sparse_gather(xq, w.cols, idx, val);
  if (model_.sparse_adaptive() && !pays_to_skip(w.cols - nnz, w.cols)) return false;
  *zero_count += uint64_t(w.cols - nnz);
  int32_t* acc = acc_.data();
  const float denom = sx[0] * (1.0f / w.scale);
  const RowSplit split = decode_split(w.rows, ck.row_tile, pool_.size());
  pool_.parallel_for(split.tasks(), [&](int64_t task, int) {
    const auto [m0, m1] = split.range(task);
    ck.matvec(w.cols_packed.data(), w.rows, w.cols, m0, m1, idx, val, nnz, acc);
    for (int64_t m = m0; m < m1; ++m) y[m] = float(acc[m]) / denom;
  });
  return true;
}

void Context::attention(int64_t layer, int64_t n_tokens, int64_t pos0) {
  const ModelParams& p = model_.params();
  const int64_t hd = p.head_dim, group = p.n_head / p.n_head_kv;
  const float scale = 1.0f / std::sqrt(float(hd));
  const float* q = q_.data();
  float* out = attn_.data();
  float* scores_all = scores_.data();
  const auto& dk = kernels::dense_kernels();
  // One task per token and KV head: the query heads that share a KV head walk its cache together,
  // a block of positions at a time, so each K and V row comes from memory once per group instead
  // of once per query head (at long contexts the cache is larger than the last-level cache and
  // this traffic is what decode waits for). attn_values accumulates position by position across
  // blocks, so an f32 cache gives the same bits as one pass per head. Quantized caches are
  // dequantised a block at a time into a per-thread tile and go through the same f32 kernels.
  // Few tokens (decode): one task per query head again, so that every thread has work (5 KV heads
  // on 2 threads would leave one idle a third of the time); the group's later heads then find the
  // rows in the shared L2/L3.
  // A quantized cache is dequantised by whoever reads it, so splitting a group would decode each
  // tile once per query head: those keep one task per KV head.
  const bool packed = kv_.bits() != 32;
  const int64_t split = !packed && n_tokens * p.n_head_kv < 4 * int64_t(pool_.size()) ? group : 1;
  const int64_t per_task = group / split;
  // Prefill over a quantized cache: dequantise the layer's attended rows once for all query tokens
  // (else every token would decode every earlier tile again: O(n^2) decodes), then take the f32
  // path on that copy. Same values, same kernels, so the same bits as the per-tile path.
  const bool dequantised = packed && n_tokens > 1;
  const int64_t kv_stride = 2 * p.n_head_kv * hd;
  if (dequantised) {
    const int64_t n_rows = pos0 + n_tokens;
    if (prefill_kv_.size() < size_t(n_rows * kv_stride)) prefill_kv_.resize(size_t(n_rows * kv_stride));
    float* base = prefill_kv_.data();
    constexpr int64_t kRowsPerTask = 256;
    const int64_t n_chunks = (n_rows + kRowsPerTask - 1) / kRowsPerTask;
    pool_.parallel_for(n_chunks * 2 * p.n_head_kv, [&](int64_t task, int thread) {
      const int64_t chunk = task / (2 * p.n_head_kv), which = task % (2 * p.n_head_kv);
      const int kv = int(which / p.n_head_kv);
      const int64_t head = which % p.n_head_kv;
      float* tile = scores_all + int64_t(thread) * (group * n_ctx_ + kAttnBlock * hd) + group * n_ctx_;
      const int64_t r0 = chunk * kRowsPerTask, r1 = std::min(n_rows, r0 + kRowsPerTask);
      for (int64_t j0 = r0; j0 < r1; j0 += kAttnBlock) {
        const int64_t nb = std::min(kAttnBlock, r1 - j0);
        kv_.decode_rows(layer, j0, nb, kv, head, tile);
        for (int64_t j = 0; j < nb; ++j)
          std::memcpy(base + (j0 + j) * kv_stride + (kv * p.n_head_kv + head) * hd, tile + j * hd,
                      size_t(hd) * sizeof(float));
      }
    });
  }
  pool_.parallel_for(n_tokens * p.n_head_kv * split, [&](int64_t task, int thread) {
    const int64_t t = task / (p.n_head_kv * split), kvh = task / split % p.n_head_kv;
    const int64_t g_first = task % split * per_task;
    const int64_t pos = pos0 + t, n_pos = pos + 1;
    float* s_group = scores_all + int64_t(thread) * (group * n_ctx_ + kAttnBlock * hd);
    float* tile = s_group + group * n_ctx_;
    auto q_of = [&](int64_t g) { return q + t * p.q_dim() + (kvh * group + g_first + g) * hd; };
    auto out_of = [&](int64_t g) { return out + t * p.q_dim() + (kvh * group + g_first + g) * hd; };
    // Rows [j0, j0 + nb) of K (kv = 0) or V (kv = 1) as f32, with their stride: straight from an f32
    // cache or the prefill copy, else dequantised into this thread's tile.
    struct Rows {
      const float* data;
      int64_t stride;
    };
    auto rows = [&](int kv, int64_t j0, int64_t nb) -> Rows {
      if (!packed) return {(kv ? kv_.f32_v(layer, kvh) : kv_.f32_k(layer, kvh)) + j0 * kv_.f32_stride(), kv_.f32_stride()};
      if (dequantised) return {prefill_kv_.data() + j0 * kv_stride + (kv * p.n_head_kv + kvh) * hd, kv_stride};
      kv_.decode_rows(layer, j0, nb, kv, kvh, tile);
      return {tile, hd};
    };
    for (int64_t j0 = 0; j0 < n_pos; j0 += kAttnBlock) {
      const int64_t nb = std::min(kAttnBlock, n_pos - j0);
      const Rows k = rows(0, j0, nb);
      for (int64_t g = 0; g < per_task; ++g) dk.attn_scores(q_of(g), k.data, k.stride, nb, hd, scale, s_group + g * n_ctx_ + j0);
    }
    for (int64_t g = 0; g < per_task; ++g) {
      dk.softmax(s_group + g * n_ctx_, n_pos);
      std::fill(out_of(g), out_of(g) + hd, 0.0f);
    }
    for (int64_t j0 = 0; j0 < n_pos; j0 += kAttnBlock) {
      const int64_t nb = std::min(kAttnBlock, n_pos - j0);
      const Rows v = rows(1, j0, nb);
      for (int64_t g = 0; g < per_task; ++g) dk.attn_values(s_group + g * n_ctx_ + j0, v.data, v.stride, nb, hd, out_of(g));
    }
  });
}

void Context::lm_head(const float* hidden, int64_t n_rows, float* logits_out) {
  const ModelParams& p = model_.params();
  const DenseMatrix& w = model_.lm_head();
  const auto& dk = kernels::dense_kernels();
  if (w.format == DenseFormat::I8) quantize_rows(hidden, n_rows, p.n_embd, p.n_embd);
  const int8_t* xq = xq_.data();
  const float* sx = sx_.data();
  // Every row is read once per call whatever n_rows is; tasks are row ranges.
  // A task's rows are megabytes long, so equal tasks already stream well (the geometric RowSplit
  // measured no better here).
  constexpr int64_t kRowsPerTask = 512;
  const int64_t n_tasks = (w.rows + kRowsPerTask - 1) / kRowsPerTask;
  pool_.parallel_for(n_tasks, [&](int64_t task, int) {
    const int64_t r0 = task * kRowsPerTask, r1 = std::min(w.rows, r0 + kRowsPerTask);
    switch (w.format) {
      case DenseFormat::F32:
        dk.gemm_f32(w.f32, w.cols, w.cols, r0, r1, hidden, p.n_embd, n_rows, logits_out, p.n_vocab);
        break;
      case DenseFormat::F16:
        dk.gemm_f16(w.f16, w.cols, w.cols, r0, r1, hidden, p.n_embd, n_rows, logits_out, p.n_vocab);
        break;
      case DenseFormat::I8:
        dk.gemm_i8(w.i8, w.cols, w.row_scale.data(), w.cols, r0, r1, xq, p.n_embd, sx, n_rows, logits_out, p.n_vocab);
        break;
    }
  });
}

void Context::forward_chunk(const int32_t* tokens, int64_t n, bool all_logits, float* logits_out) {
  const ModelParams& p = model_.params();
  const auto rms_norm = kernels::dense_kernels().rms_norm;
  const int64_t d = p.n_embd, ff = p.n_ff, qd = p.q_dim(), kvd = p.kv_dim();
  const int64_t pos0 = n_past_;
  float* x = x_.data();
  float* h = h_.data();
  const DenseMatrix& emb = model_.token_embd();
  for (int64_t t = 0; t < n; ++t) emb.row_to_f32(tokens[t], x + t * d);

  for (int64_t il = 0; il < p.n_layer; ++il) {
    const LayerWeights& L = model_.layers()[il];
    // --- attention block ---
    const ActQuant in_quant = scheme_.act_bits == 4 ? ActQuant::Int4 : ActQuant::Int8;
    const ActQuant o_quant = scheme_.topk_o ? ActQuant::TopKInt8 : ActQuant::Int8;
    pool_.parallel_for(n, [&](int64_t t, int) { rms_norm(x + t * d, L.attn_norm.data(), d, p.rms_eps, h + t * d); });
    quantize_rows(h, n, d, d, in_quant);
    const LinearJob qkv[] = {{&L.wq, q_.data(), qd, {}}, {&L.wk, k_.data(), kvd, {}}, {&L.wv, v_.data(), kvd, {}}};
    ternary_linears(qkv, n, xq_.data(), d, sx_.data());
    const auto rope = p.rope_style == RopeStyle::RotateHalf ? ops::rope_rotate_half : ops::rope_interleaved;
    pool_.parallel_for(n, [&](int64_t t, int) {
      rope(q_.data() + t * qd, p.n_head, p.head_dim, rope_, pos0 + t);
      rope(k_.data() + t * kvd, p.n_head_kv, p.head_dim, rope_, pos0 + t);
      kv_.store(il, pos0 + t, k_.data() + t * kvd, v_.data() + t * kvd);
    });
    attention(il, n, pos0);
    // Sub-norms are part of BitNet b1.58; ternary `llama` models (Llama3-8B-1.58, Falcon3) have none.
    if (!L.attn_sub_norm.empty()) {
      pool_.parallel_for(n, [&](int64_t t, int) {
        rms_norm(attn_.data() + t * qd, L.attn_sub_norm.data(), qd, p.rms_eps, h + t * qd);
      });
      quantize_rows(h, n, qd, qd, o_quant);
    } else {
      quantize_rows(attn_.data(), n, qd, qd, o_quant);
    }
    const bool o_sparse = n == 1 && scheme_.topk_o && !L.wo.cols_packed.empty() &&
                          ternary_linear_sparse_input(L.wo, xq_.data(), sx_.data(), h, &stats_[il].o_zero);
    if (!o_sparse) {
      for (int64_t i = 0; i < n * qd; ++i) stats_[il].o_zero += xq_.data()[i] == 0;
      ternary_linear(L.wo, n, xq_.data(), qd, sx_.data(), h, d);
    }
    pool_.parallel_for(n, [&](int64_t t, int) {
      for (int64_t i = 0; i < d; ++i) x[t * d + i] += h[t * d + i];
    });
    // --- feed-forward block ---
    pool_.parallel_for(n, [&](int64_t t, int) { rms_norm(x + t * d, L.ffn_norm.data(), d, p.rms_eps, h + t * d); });
    quantize_rows(h, n, d, d, in_quant);
    if (n == 1) {
      gated_ffn_decode(L, h, &stats_[il].gate_zero);
    } else {
      ternary_linear(L.w_gate, n, xq_.data(), d, sx_.data(), gate_.data(), ff);
      const bool relu2 = p.activation == FfnActivation::Relu2;
      ternary_linear(L.w_up, n, xq_.data(), d, sx_.data(), h, ff,
                     GateEpilogue{gate_.data(), relu2, relu2 ? &stats_[il].gate_zero : nullptr});
    }
    if (!L.ffn_sub_norm.empty())
      pool_.parallel_for(n, [&](int64_t t, int) {
        rms_norm(h + t * ff, L.ffn_sub_norm.data(), ff, p.rms_eps, h + t * ff);
      });
    quantize_rows(h, n, ff, ff);
    const bool down_sparse = n == 1 && !L.w_down.cols_packed.empty() &&
                             ternary_linear_sparse_input(L.w_down, xq_.data(), sx_.data(), h, &stats_[il].down_zero);
    if (!down_sparse) {
      for (int64_t i = 0; i < n * ff; ++i) stats_[il].down_zero += xq_.data()[i] == 0;
      ternary_linear(L.w_down, n, xq_.data(), ff, sx_.data(), h, d);
    }
    stats_[il].tokens += n;
    pool_.parallel_for(n, [&](int64_t t, int) {
      for (int64_t i = 0; i < d; ++i) x[t * d + i] += h[t * d + i];
    });
  }
  n_past_ += n;
  if (!logits_out) return;
  // Final norm and LM head: every token of the chunk, or only the last.
  const int64_t first = all_logits ? 0 : n - 1;
  const int64_t rows = n - first;
  pool_.parallel_for(rows, [&](int64_t r, int) {
    rms_norm(x + (first + r) * d, model_.output_norm().data(), d, p.rms_eps, h + r * d);
  });
  lm_head(h, rows, logits_out);
}

}  // namespace bitnet
