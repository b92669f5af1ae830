#include "format/tensor_types.h"

#include <array>

#include "util/checked_math.h"
#include "util/error.h"

namespace bitnet {
namespace {

// I2_S and BT2 are listed as 4 elements per byte so that row bytes = ne0 / 4 for I2_S (what
// bitnet.cpp's kernels use); their real sizes (I2_S's 32-byte scale tail, BT2's padded rows) are
// computed by tensor_nbytes. TL2 has no fixed ratio.
constexpr std::array<TensorTypeTraits, 9> kTraits = {{
    {TensorType::F32, kGgmlF32, "f32", 1, 4, false},
    {TensorType::F16, kGgmlF16, "f16", 1, 2, false},
    {TensorType::BF16, kGgmlBF16, "bf16", 1, 2, false},
    {TensorType::Q8_0, kGgmlQ8_0, "q8_0", 32, 34, false},
    {TensorType::TQ1_0, kGgmlTQ1_0, "tq1_0", 256, 54, true},
    {TensorType::TQ2_0, kGgmlTQ2_0, "tq2_0", 256, 66, true},
    {TensorType::I2_S, kBitnetCppI2_S, "i2_s", 4, 1, true},
    {TensorType::TL2, kBitnetCppTL2, "tl2", 1, 1, true},
    {TensorType::BT2, kLibbitnetBT2, "bt2", 4, 1, true},
}};

}  // namespace

const TensorTypeTraits& tensor_type_traits(TensorType type) {
  const auto i = static_cast<size_t>(type);
  if (i >= kTraits.size()) fail("invalid TensorType value {}", i);
  return kTraits[i];
}

bool is_bitnet_cpp_architecture(std::string_view architecture) {
  // "bitnet" is also upstream llama.cpp's name for the same models, but upstream never writes ids
  // 36 or 39 into a bitnet file (36 was retired before any bitnet converter emitted it), while
  // bitnet.cpp writes I2_S/TL2 under "bitnet" for the 1bitLLM models.
  return architecture == "bitnet-b1.58" || architecture == "bitnet-25" || architecture == "bitnet";
}

std::optional<TensorType> resolve_tensor_type(uint32_t gguf_id, std::string_view architecture, int64_t file_type) {
  switch (gguf_id) {
    case kGgmlF32: return TensorType::F32;
    case kGgmlF16: return TensorType::F16;
    case kGgmlQ8_0: return TensorType::Q8_0;
    case kGgmlBF16: return TensorType::BF16;
    case kGgmlTQ1_0: return TensorType::TQ1_0;
    case kGgmlTQ2_0: return TensorType::TQ2_0;
    case kLibbitnetBT2: return TensorType::BT2;
    case kBitnetCppI2_S:
      if (is_bitnet_cpp_architecture(architecture)) return TensorType::I2_S;
      if (architecture == "llama" && file_type == int64_t(kBitnetCppFtypeI2_S)) return TensorType::I2_S;
      return std::nullopt;
    case kBitnetCppTL2:
      if (is_bitnet_cpp_architecture(architecture)) return TensorType::TL2;
      return std::nullopt;
    default: return std::nullopt;
  }
}

std::string_view ggml_type_name(uint32_t gguf_id) {
  // Upstream ggml's names (docs/gguf.md), for messages about files we cannot read.
  static constexpr std::array<std::string_view, 40> kNames = {
      "f32",     "f16",     "q4_0",    "q4_1",       "q4_2 (removed)", "q4_3 (removed)", "q5_0",
      "q5_1",    "q8_0",    "q8_1",    "q2_K",       "q3_K",           "q4_K",           "q5_K",
      "q6_K",    "q8_K",    "iq2_xxs", "iq2_xs",     "iq3_xxs",        "iq1_s",          "iq4_nl",
      "iq3_s",   "iq2_s",   "iq4_xs",  "i8",         "i16",            "i32",            "i64",
      "f64",     "iq1_m",   "bf16",    "q4_0_4_4 (removed)", "q4_0_4_8 (removed)",
      "q4_0_8_8 (removed)", "tq1_0",   "tq2_0",      "iq4_nl_4_4 (removed upstream; i2_s in bitnet.cpp)",
      "iq4_nl_4_8 (removed upstream; i8_s in bitnet.cpp)",
      "iq4_nl_8_8 (removed upstream; tl1 in bitnet.cpp)", "mxfp4 (upstream; tl2 in bitnet.cpp)"};
  if (gguf_id == kLibbitnetBT2) return "bt2";
  if (gguf_id < kNames.size()) return kNames[gguf_id];
  return "unknown";
}

std::optional<uint64_t> tensor_row_bytes(TensorType type, uint64_t ne0) {
  switch (type) {
    case TensorType::BT2: return ne0 / 4 + (ne0 % 4 != 0);
    case TensorType::TL2: return std::nullopt;
    default: break;
  }
  const TensorTypeTraits& t = tensor_type_traits(type);
  if (ne0 % t.block_elems != 0) return std::nullopt;
  return checked_mul(ne0 / t.block_elems, t.block_bytes);
}

std::optional<uint64_t> tensor_nbytes(TensorType type, const uint64_t* dims, uint32_t n_dims) {
  if (n_dims == 0) return std::nullopt;
  uint64_t rows = 1;
  for (uint32_t i = 1; i < n_dims; ++i) {
    const auto r = checked_mul(rows, dims[i]);
    if (!r) return std::nullopt;
    rows = *r;
  }
  if (type == TensorType::I2_S) {
    // Flat 128-element blocks across the whole tensor, then one f32 scale padded to 32 bytes.
    const auto n = checked_mul(rows, dims[0]);
    if (!n || *n % 128 != 0) return std::nullopt;
    return checked_add(*n / 4, 32);
  }
  const auto row = tensor_row_bytes(type, dims[0]);
  if (!row) return std::nullopt;
  return checked_mul(*row, rows);
}

}  // namespace bitnet
