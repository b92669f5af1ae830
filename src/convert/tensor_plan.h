// Building blocks shared by the family converters: check a source tensor against the shape the
// config implies, then register a GGUF tensor whose bytes are produced lazily when the writer asks.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "convert/ternary.h"
#include "format/safetensors.h"
#include "format/tensor_types.h"

namespace bitnet::gguf { class Writer; }

namespace bitnet::convert {

// Bookkeeping of which checkpoint tensors were consumed, so leftovers can be reported.
class TensorSource {
 public:
  explicit TensorSource(const safetensors::Checkpoint& ckpt) : ckpt_(ckpt) {}
  // The tensor, marked as used; throws "checkpoint DIR has no tensor 'NAME' (needed for GGUF)".
  const safetensors::Tensor& take(const std::string& name, std::string_view purpose);
  const safetensors::Tensor* take_optional(const std::string& name);
  void ignore(const std::string& name) { used_.insert(name); }
  // Names never taken or ignored.
  std::vector<std::string> unused() const;
  const safetensors::Checkpoint& checkpoint() const { return ckpt_; }

 private:
  const safetensors::Checkpoint& ckpt_;
  std::set<std::string> used_;
};

// Fails "tensor 'X' has shape [a, b], expected [c, d] (from config.json ...)" on mismatch.
void expect_shape(const safetensors::Tensor& t, const std::vector<uint64_t>& shape, std::string_view why);
// Fails "tensor 'X' has dtype U8; expected ... " unless it is a float type.
void expect_float(const safetensors::Tensor& t, std::string_view what);

// A float tensor (norm, embedding...) written as `type` (F32/F16/BF16/Q8_0). `shape` is the HF
// (outermost-first) shape; the GGUF dims are its reverse.
void add_float_tensor(gguf::Writer& w, const std::string& gguf_name, const safetensors::Tensor& t,
                      const std::vector<uint64_t>& shape, TensorType type);

// How to obtain ternary codes for one linear layer [out, in].
struct TernarySource {
  const safetensors::Tensor* weight = nullptr;
  bool packed = false;   // U8 transformers layout, else float master weights
  float alpha = 0.0f;    // W = alpha * Wq
  float s_w = 0.0f;      // master weights only: the ternarisation multiplier (1 / max(mean|W|, 1e-5))
};

// Inspects the checkpoint tensor `hf_base + ".weight"` (and ".weight_scale" when packed), checks
// dtype and shape against [out, in] and computes alpha. `scale_kind` applies to packed weights and
// is nullptr when config.json has no quantization_config.linear_class.
TernarySource plan_ternary(TensorSource& src, const std::string& hf_base, uint64_t out, uint64_t in,
                           const WeightScaleKind* scale_kind);

// Registers "<gguf_base>.weight" (BT2, dims [in, out]) and "<gguf_base>.scale" (F32, dims [1]).
void add_ternary_tensor(gguf::Writer& w, const std::string& gguf_base, const TernarySource& ts, uint64_t out,
                        uint64_t in);

}  // namespace bitnet::convert
