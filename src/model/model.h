// A loaded model: hyper-parameters, tokenizer data and weights. Ternary projections are decoded
// from whatever the file holds (BT2, I2_S, TQ1_0/TQ2_0, ternary-valued F32/F16) and repacked once,
// at load time, into the active kernel's layout. The GGUF mapping stays open for zero-copy F32
// tensors.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "model/hparams.h"
#include "tokenizer/vocab.h"
#include "util/aligned_buffer.h"

namespace bitnet {

namespace gguf { class File; }
namespace kernels { struct TernaryMatmul; }

struct TernaryLinear {
  std::string name;
  int64_t rows = 0;  // M: output features
  int64_t cols = 0;  // K: input features
  float scale = 0;   // alpha, W = alpha * {-1,0,+1}
  AlignedBuffer<uint8_t> packed;  // kernels().matmul layout (dense; prefill and the default path)
  // Extra layouts for exact sparsity in decode (empty when not built): row-major for computing a
  // subset of rows (up projection where the ReLU² gate is non-zero), column-major so that skipping
  // a zero input skips its bytes (down projection; o_proj after TopK).
  AlignedBuffer<uint8_t> rows_packed;
  AlignedBuffer<uint8_t> cols_packed;
  // Second layout for prefill (several tokens at once): AMX tiles where the CPU has them (they beat
  // multiply-adds there), or lookup tables when BITNET_PREFILL_LUT=1; decode keeps `packed`. Empty
  // when the active ISA has no prefill kernel (kernels/amx.h prefill_matmul_for): prefill then
  // runs on `packed`.
  const kernels::TernaryMatmul* prefill = nullptr;
  AlignedBuffer<uint8_t> prefill_packed;
};

// A dense matrix (embedding table, LM head) in the form the kernels read: f32 or f16 rows straight
// from the mapped file when the file stores them so (zero copy), f32 decoded at load for BF16/Q8_0,
// or an int8 copy with one scale per row (the default LM head: a quarter of the f32 bytes, half of
// f16, and decode reads it once per token).
enum class DenseFormat { F32, F16, I8 };

struct DenseMatrix {
  int64_t rows = 0, cols = 0;
  DenseFormat format = DenseFormat::F32;
  const float* f32 = nullptr;
  const uint16_t* f16 = nullptr;
  const int8_t* i8 = nullptr;
  std::vector<float> owned_f32;
  AlignedBuffer<int8_t> owned_i8;
  std::vector<float> row_scale;  // I8: w ~ q * row_scale

  void row_to_f32(int64_t r, float* out) const;
  uint64_t bytes() const;  // as stored here (what one full pass reads)
};

enum class LmHeadMode {
  Int8,      // per-row int8 copy of the head (default)
  Original,  // the file's own precision (F32/F16 as stored; BF16/Q8_0 decoded to f32)
};

struct LayerWeights {
  std::vector<float> attn_norm, attn_sub_norm, ffn_norm, ffn_sub_norm;
  TernaryLinear wq, wk, wv, wo, w_gate, w_up, w_down;
};

struct LoadOptions {
  // progress(fraction in [0,1]); return false to cancel (load then throws Error "cancelled").
  std::function<bool(float)> progress;
  // Build the sparse layouts that let decode skip the zero work of ReLU² models (up rows whose gate
  // is zero, down inputs that are zero) and, for a4.8, the o_proj inputs TopK zeroed. Costs extra
  // memory for those tensors (the dense layout stays for prefill). -1: yes for ReLU² models, and
  // decode then takes a sparse path only when the token's zeros are many enough for it to pay
  // (Model::sparse_adaptive); 1: always the sparse paths.
  int sparse = -1;
  // Also build the column layout of o_proj (used when TopK-50% is on). -1: for a4.8-trained files.
  int sparse_o = -1;
  LmHeadMode lm_head = LmHeadMode::Int8;
  int n_threads = 0;  // threads for decoding and repacking weights (0: all hardware threads)
  // Also build the prefill layout (AMX or LUT, kernels/amx.h): -1 when the active ISA has a prefill
  // kernel (BITNET_PREFILL_LUT=0 says no), 0 no, 1 yes.
  int prefill_layout = -1;
};

class Model {
 public:
  static std::unique_ptr<Model> load(const std::string& path, const LoadOptions& options = {});
  ~Model();

  const ModelParams& params() const { return params_; }
  const Vocab& vocab() const { return vocab_; }
  const std::string& path() const { return path_; }

  const DenseMatrix& token_embd() const { return token_embd_; }
  const DenseMatrix& output() const { return output_tied_ ? token_embd_ : output_; }
  // The matrix the LM head multiplies with: output(), or its int8 copy (LmHeadMode::Int8).
  const DenseMatrix& lm_head() const { return head_i8_.rows ? head_i8_ : output(); }
  bool output_tied() const { return output_tied_; }
  // Sparse layouts are used only where enough of the work can be skipped (LoadOptions::sparse < 0).
  bool sparse_adaptive() const { return sparse_adaptive_; }
  const std::vector<float>& output_norm() const { return output_norm_; }
  const std::vector<LayerWeights>& layers() const { return layers_; }

  uint64_t ternary_weight_count() const;
  uint64_t packed_weight_bytes() const;  // bytes streamed per token by the ternary matmuls
  // The ternary matmul kernels in use, e.g. "mad_avx512vnni+amx_int8" (decode + prefill).
  const char* kernel_name() const;

 private:
  Model() = default;
  std::vector<float>* vector_slot(const std::string& name);
  TernaryLinear* ternary_slot(const std::string& name);
  std::string path_;
  std::string kernel_desc_;
  std::unique_ptr<gguf::File> file_;
  ModelParams params_;
  Vocab vocab_;
  DenseMatrix token_embd_, output_, head_i8_;
  bool output_tied_ = true;
  bool sparse_adaptive_ = true;
  std::vector<float> output_norm_;
  std::vector<LayerWeights> layers_;
};

}  // namespace bitnet
