// Registry of the tensor element types libbitnet reads and writes.
//
// GGUF type ids are not globally unique: bitnet.cpp's fork reuses ids that upstream ggml retired or
// reassigned (36 = I2_S there, IQ4_NL_4_4 "removed" upstream; 39 = TL2 there, MXFP4 upstream). So a
// raw id is resolved together with the file's general.architecture (see resolve_tensor_type).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace bitnet {

enum class TensorType : uint8_t {
  F32,
  F16,
  BF16,
  Q8_0,    // ggml: 32-element blocks, fp16 scale + 32 int8
  TQ1_0,   // ggml 34: 256-element blocks, base-3 packed, fp16 scale (54 B)
  TQ2_0,   // ggml 35: 256-element blocks, 2-bit codes, fp16 scale (66 B)
  I2_S,    // bitnet.cpp 36: 2-bit codes in 128-element blocks, flat order, one f32 scale after the codes
  TL2,     // bitnet.cpp 39: per-model LUT layout (recognised only to explain why we cannot run it)
  BT2,     // libbitnet's own ternary type: see docs/file-format.md
};

// GGUF ids. BT2 lives far outside ggml's range (ggml's GGML_TYPE_COUNT is 40) so it can never be
// mistaken for an upstream type; see docs/file-format.md.
inline constexpr uint32_t kGgmlF32 = 0, kGgmlF16 = 1, kGgmlQ8_0 = 8, kGgmlBF16 = 30, kGgmlTQ1_0 = 34,
                          kGgmlTQ2_0 = 35, kBitnetCppI2_S = 36, kBitnetCppTL2 = 39, kLibbitnetBT2 = 4242;

struct TensorTypeTraits {
  TensorType type;
  uint32_t gguf_id;
  std::string_view name;      // as printed by `bitnet inspect` (ggml's lower-case names)
  uint32_t block_elems;       // elements per block along dim 0 (1 for plain types)
  uint32_t block_bytes;       // bytes per block
  bool ternary;               // codes are {-1,0,+1} with external scale(s)
};

const TensorTypeTraits& tensor_type_traits(TensorType type);

// bitnet.cpp's LLAMA_FTYPE_MOSTLY_I2_S (general.file_type of its I2_S files).
inline constexpr uint64_t kBitnetCppFtypeI2_S = 40;

// Maps a GGUF type id to a TensorType, given the file's architecture and general.file_type (-1 if
// absent) for the bitnet.cpp id clash. Id 36 is I2_S under bitnet.cpp's architectures, and also
// under "llama" when file_type is bitnet.cpp's I2_S ftype 40 (its Llama3-8B-1.58 I2_S files):
// upstream llama.cpp has no ftype 40 and never writes id 36, so that pair is unambiguous.
// Returns nullopt for ids we do not know.
std::optional<TensorType> resolve_tensor_type(uint32_t gguf_id, std::string_view architecture,
                                              int64_t file_type = -1);

// True for architectures written by bitnet.cpp's fork, whose type ids 36..39 mean I2_S..TL2.
bool is_bitnet_cpp_architecture(std::string_view architecture);

// Bytes of a tensor with these dims (dims[0] is the innermost). Returns nullopt when dims[0] is not
// a multiple of the block size or when the size overflows 64 bits. I2_S counts its trailing 32-byte
// scale block; TL2 returns nullopt (its size depends on per-model kernel parameters).
std::optional<uint64_t> tensor_nbytes(TensorType type, const uint64_t* dims, uint32_t n_dims);

// Bytes of one row of ne0 elements: ne0/block_elems*block_bytes, except BT2 (ceil(ne0/4): rows are
// padded to whole bytes) and TL2 (nullopt). For I2_S this is ne0/4, the row stride bitnet.cpp's
// kernels use; I2_S blocks of 128 may still span rows (see docs/file-format.md).
std::optional<uint64_t> tensor_row_bytes(TensorType type, uint64_t ne0);

// ggml's name for a raw GGUF type id ("q6_K", "mxfp4 (upstream; tl2 in bitnet.cpp)", "unknown"),
// for error messages about types libbitnet does not read.
std::string_view ggml_type_name(uint32_t gguf_id);

}  // namespace bitnet
