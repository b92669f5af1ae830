#include "model/model.h"

#include <fmt/format.h>

#include <string>

#include "format/gguf.h"
#include "format/tensor_codec.h"
#include "model/tensor_plan.h"
#include "kernels.h"
#include "sparse.h"
#include "dense.h"
#include "amx.h"
#include "format/half.h"
#include "util/error.h"
#include "util/log.h"
#include "runtime/thread_pool.h"

#include <atomic>
#include <cstdlib>
#include <mutex>

namespace bitnet {
namespace {

const gguf::TensorInfo& require_tensor(const gguf::File& f, const std::string& name) {
  const gguf::TensorInfo* t = f.find_tensor(name);
  if (!t) fail("{}: missing tensor '{}'", f.path(), name);
  return *t;
}

void check_shape(const gguf::File& f, const gguf::TensorInfo& t, std::vector<uint64_t> expected) {
  std::vector<uint64_t> dims = t.dims;
  while (dims.size() > expected.size() && dims.back() == 1) dims.pop_back();
  if (dims != expected)
    fail("{}: tensor '{}' has shape [{}], expected [{}]", f.path(), t.name, fmt::join(t.dims, ", "),
         fmt::join(expected, ", "));
}

std::vector<float> load_vector(const gguf::File& f, const std::string& name, int64_t n) {
  const gguf::TensorInfo& t = require_tensor(f, name);
  check_shape(f, t, {uint64_t(n)});
  return decode_to_f32(t);
}

DenseMatrix load_dense(const gguf::File& f, const gguf::TensorInfo& t, int64_t rows, int64_t cols) {
  check_shape(f, t, {uint64_t(cols), uint64_t(rows)});
  DenseMatrix m;
  m.rows = rows;
  m.cols = cols;
  if (t.type == TensorType::F32 && reinterpret_cast<uintptr_t>(t.data) % alignof(float) == 0) {
    m.format = DenseFormat::F32;
    m.f32 = reinterpret_cast<const float*>(t.data);  // zero copy from the mapping
  } else if (t.type == TensorType::F16 && reinterpret_cast<uintptr_t>(t.data) % alignof(uint16_t) == 0) {
    m.format = DenseFormat::F16;
    m.f16 = reinterpret_cast<const uint16_t*>(t.data);
  } else {
    m.format = DenseFormat::F32;
    m.owned_f32 = decode_to_f32(t);
    m.f32 = m.owned_f32.data();
  }
  return m;
}

DenseMatrix quantize_head(const std::string& path, const DenseMatrix& src) {
  DenseMatrix q;
  q.rows = src.rows;
  q.cols = src.cols;
  q.format = DenseFormat::I8;
  q.owned_i8.resize(size_t(src.rows) * size_t(src.cols));
  q.row_scale.resize(size_t(src.rows));
  bool finite = true;
  if (src.format == DenseFormat::F16)
    finite = kernels::quantize_rows_i8_f16(src.f16, src.cols, src.rows, src.cols, q.owned_i8.data(), src.cols,
                                           q.row_scale.data());
  else if (src.format == DenseFormat::F32)
    finite = kernels::quantize_rows_i8(src.f32, src.cols, src.rows, src.cols, q.owned_i8.data(), src.cols,
                                       q.row_scale.data());
  else
    return q;  // already int8
  if (!finite) fail("{}: the LM head holds NaN or infinite weights", path);
  q.i8 = q.owned_i8.data();
  return q;
}

enum ExtraLayout : unsigned { kRowsLayout = 1, kColsLayout = 2, kPrefillLayout = 4 };

TernaryLinear load_ternary(const gguf::File& f, const std::string& name, int64_t rows, int64_t cols,
                           unsigned extra_layouts) {
  const gguf::TensorInfo& t = require_tensor(f, name);
  check_shape(f, t, {uint64_t(cols), uint64_t(rows)});
  const gguf::TensorInfo* scale = f.find_tensor(scale_tensor_name(name));
  TernaryWeights w = decode_ternary(t, scale);
  if (w.rows != rows || w.cols != cols)
    fail("{}: tensor '{}' decoded to {}x{}, expected {}x{}", f.path(), name, w.rows, w.cols, rows, cols);
  TernaryLinear lin;
  lin.name = name;
  lin.rows = rows;
  lin.cols = cols;
  lin.scale = w.scale;
  const auto& mm = kernels::kernels().matmul;
  lin.packed.resize(mm.packed_bytes(rows, cols));
  mm.pack(w.values.data(), rows, cols, lin.packed.data());
  const auto& sk = kernels::sparse_kernels();
  if (extra_layouts & kRowsLayout) {
    lin.rows_packed.resize(sk.rows.packed_bytes(rows, cols));
    sk.rows.pack(w.values.data(), rows, cols, lin.rows_packed.data());
  }
  if (extra_layouts & kPrefillLayout) {
    if (const kernels::TernaryMatmul* pre = kernels::prefill_matmul_for(kernels::kernels().isa)) {
      lin.prefill = pre;
      lin.prefill_packed.resize(pre->packed_bytes(rows, cols));
      pre->pack(w.values.data(), rows, cols, lin.prefill_packed.data());
    }
  }
  if (extra_layouts & kColsLayout) {
    lin.cols_packed.resize(sk.cols.packed_bytes(rows, cols));
    sk.cols.pack(w.values.data(), rows, cols, lin.cols_packed.data());
  }
  return lin;
}

}  // namespace

Model::~Model() = default;

void DenseMatrix::row_to_f32(int64_t r, float* out) const {
  switch (format) {
    case DenseFormat::F32: std::copy_n(f32 + r * cols, cols, out); break;
    case DenseFormat::F16:
      for (int64_t i = 0; i < cols; ++i) out[i] = f16_to_f32(f16[r * cols + i]);
      break;
    case DenseFormat::I8:
      for (int64_t i = 0; i < cols; ++i) out[i] = float(i8[r * cols + i]) * row_scale[size_t(r)];
      break;
  }
}

uint64_t DenseMatrix::bytes() const {
  const uint64_t n = uint64_t(rows) * uint64_t(cols);
  switch (format) {
    case DenseFormat::F32: return n * 4;
    case DenseFormat::F16: return n * 2;
    case DenseFormat::I8: return n + uint64_t(rows) * 4;
  }
  return 0;
}

namespace {
// "blk.12.attn_q.weight" -> (12, "attn_q.weight"); plan_tensors only produces well-formed names.
std::pair<size_t, std::string> split_layer_name(const std::string& name) {
  const size_t dot = name.find('.', 4);
  return {size_t(std::stoul(name.substr(4, dot - 4))), name.substr(dot + 1)};
}
}  // namespace

std::vector<float>* Model::vector_slot(const std::string& name) {
  if (name == "output_norm.weight") return &output_norm_;
  auto [il, field] = split_layer_name(name);
  LayerWeights& L = layers_.at(il);
  if (field == "attn_norm.weight") return &L.attn_norm;
  if (field == "attn_sub_norm.weight") return &L.attn_sub_norm;
  if (field == "ffn_norm.weight") return &L.ffn_norm;
  if (field == "ffn_sub_norm.weight") return &L.ffn_sub_norm;
  fail("internal: no slot for vector tensor '{}'", name);
}

TernaryLinear* Model::ternary_slot(const std::string& name) {
  auto [il, field] = split_layer_name(name);
  LayerWeights& L = layers_.at(il);
  if (field == "attn_q.weight") return &L.wq;
  if (field == "attn_k.weight") return &L.wk;
  if (field == "attn_v.weight") return &L.wv;
  if (field == "attn_output.weight") return &L.wo;
  if (field == "ffn_gate.weight") return &L.w_gate;
  if (field == "ffn_up.weight") return &L.w_up;
  if (field == "ffn_down.weight") return &L.w_down;
  fail("internal: no slot for ternary tensor '{}'", name);
}

std::unique_ptr<Model> Model::load(const std::string& path, const LoadOptions& options) {
  std::unique_ptr<Model> m(new Model());
  m->path_ = path;
  m->file_ = gguf::File::open(path);
  const gguf::File& f = *m->file_;
  m->params_ = read_model_params(f);
  m->vocab_ = vocab_from_gguf(f);
  const ModelParams& p = m->params_;
  if (int64_t(m->vocab_.tokens.size()) != p.n_vocab)
    fail("{}: vocab_size {} but the tokenizer has {} tokens", path, p.n_vocab, m->vocab_.tokens.size());

  auto report = [&](double fraction) {
    if (options.progress && !options.progress(float(fraction))) fail("{}: loading cancelled", path);
  };
  report(0.0);

  // Everything the architecture needs, in file-independent order; tensor_plan.cpp is shared with
  // `bitnet inspect` so its verdict and the loader cannot disagree.
  const std::vector<PlannedTensor> plan = plan_tensors(p);
  // Exact sparsity needs a gate whose zeros are exact (ReLU²); SiLU gates are never zero.
  const bool relu2 = p.activation == FfnActivation::Relu2;
  const bool sparse = options.sparse < 0 ? relu2 : (options.sparse != 0 && relu2);
  const bool sparse_o = options.sparse_o < 0 ? p.a48_trained : options.sparse_o != 0;
  m->sparse_adaptive_ = options.sparse < 0;
  // The multiply-add matmul may itself be the LUT one (BITNET_KERNEL=lut): then no second copy.
  const kernels::TernaryMatmul* prefill_kernel = kernels::prefill_matmul_for(kernels::kernels().isa);
  int want_prefill = options.prefill_layout;
  if (want_prefill < 0) {
    const char* env = std::getenv("BITNET_PREFILL_LUT");  // 0 turns the prefill layout off
    if (env && *env) want_prefill = std::atoi(env) != 0;
  }
  const bool prefill_layout = want_prefill != 0 && prefill_kernel != nullptr &&
                              std::string(prefill_kernel->name) != kernels::kernels().matmul.name &&
                              kernels::kernels().isa != kernels::Isa::Scalar;
  m->layers_.resize(p.n_layer);
  size_t done = 0;
  // Ternary projections (decode + repack: most of the load time) are collected and run in parallel.
  struct TernaryJob {
    const PlannedTensor* want;
    int64_t rows, cols;
    unsigned extra;
    TernaryLinear* slot;
  };
  std::vector<TernaryJob> ternary_jobs;
  for (const PlannedTensor& want : plan) {
    const gguf::TensorInfo* t = f.find_tensor(want.name);
    if (!t) {
      if (want.optional) continue;
      fail("{}: missing tensor '{}'", path, want.name);
    }
    const int64_t rows = want.dims.size() > 1 ? int64_t(want.dims[1]) : 1, cols = int64_t(want.dims[0]);
    switch (want.role) {
      case TensorRole::Vector: *m->vector_slot(want.name) = load_vector(f, want.name, cols); break;
      case TensorRole::Dense:
        if (want.name == "output.weight") {
          m->output_ = load_dense(f, *t, rows, cols);
          m->output_tied_ = false;
        } else {
          m->token_embd_ = load_dense(f, *t, rows, cols);
        }
        break;
      case TensorRole::Ternary: {
        unsigned extra = prefill_layout ? unsigned(kPrefillLayout) : 0u;
        if (sparse && want.name.ends_with(".ffn_up.weight")) extra |= kRowsLayout;
        if (sparse && want.name.ends_with(".ffn_down.weight")) extra |= kColsLayout;
        if (sparse_o && want.name.ends_with(".attn_output.weight")) extra |= kColsLayout;
        ternary_jobs.push_back({&want, rows, cols, extra, m->ternary_slot(want.name)});
        continue;
      }
    }
    report(double(++done) / double(plan.size()));
  }
  {
    ThreadPool pool(options.n_threads > 0 ? options.n_threads : default_thread_count());
    std::atomic<size_t> finished{done};
    std::atomic<bool> stop{false};
    std::mutex error_mutex;
    std::string first_error;
    pool.parallel_for(int64_t(ternary_jobs.size()), [&](int64_t i, int thread) {
      if (stop.load()) return;
      const TernaryJob& job = ternary_jobs[size_t(i)];
      try {
        *job.slot = load_ternary(f, job.want->name, job.rows, job.cols, job.extra);
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (first_error.empty()) first_error = e.what();
        stop.store(true);
        return;
      }
      const size_t now = finished.fetch_add(1) + 1;
      // The callback belongs to the caller's thread (pool thread 0).
      if (thread == 0 && options.progress && !options.progress(float(double(now) / double(plan.size()))))
        stop.store(true);
    });
    if (!first_error.empty()) throw Error(first_error);
    if (stop.load()) fail("{}: loading cancelled", path);
  }
  if (options.lm_head == LmHeadMode::Int8) m->head_i8_ = quantize_head(path, m->output());
  m->kernel_desc_ = kernels::kernels().matmul.name;
  if (!m->layers_.empty() && m->layers_[0].wq.prefill) m->kernel_desc_ += std::string("+") + m->layers_[0].wq.prefill->name;
  log_debug("loaded {}: {} layers, embd {}, ff {}, heads {}/{}, vocab {}, kernel {}", path, p.n_layer,
            p.n_embd, p.n_ff, p.n_head, p.n_head_kv, p.n_vocab, m->kernel_name());
  return m;
}

uint64_t Model::ternary_weight_count() const {
  uint64_t n = 0;
  for (const auto& L : layers_)
    for (const TernaryLinear* w : {&L.wq, &L.wk, &L.wv, &L.wo, &L.w_gate, &L.w_up, &L.w_down})
      n += uint64_t(w->rows) * uint64_t(w->cols);
  return n;
}

uint64_t Model::packed_weight_bytes() const {
  uint64_t n = 0;
  for (const auto& L : layers_)
    for (const TernaryLinear* w : {&L.wq, &L.wk, &L.wv, &L.wo, &L.w_gate, &L.w_up, &L.w_down})
      n += w->packed.size();
  return n;
}

const char* Model::kernel_name() const { return kernel_desc_.c_str(); }

}  // namespace bitnet
