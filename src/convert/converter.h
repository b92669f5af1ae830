// Hugging Face checkpoint directory -> GGUF. Entry point of `bitnet convert`.
//
// The source family (BitNet b1.58 2B-4T layout, and later Llama-style 1.58-bit and 1bitLLM) is
// chosen from config.json by the table in convert/family.h. Output is written atomically: a
// temporary file next to the target, renamed over it only when complete.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "format/tensor_types.h"

namespace bitnet::gguf { class Writer; }
namespace bitnet::safetensors { class Checkpoint; }

namespace bitnet::convert {

struct ConvertOptions {
  std::string hf_dir;
  std::string out_path;
  // Type of token_embd (and output, if untied): F32, F16, BF16 or Q8_0. Norms are always F32,
  // ternary projections always BT2 + an F32 ".scale".
  TensorType embd_type = TensorType::F32;
  bool vocab_only = false;  // tokenizer metadata (+ general.*) only, no tensors
  std::string name;         // general.name; default: the checkpoint directory's name
  // Called after each tensor is written (tensors done, tensors total).
  std::function<void(size_t, size_t)> progress;
};

struct ConvertResult {
  std::string architecture;  // GGUF general.architecture ("" for a vocab-only file without config)
  size_t tensor_count = 0;
  // The writer's tensor callbacks read from this mapped checkpoint: keep it alive until the
  // writer has written (null for vocab-only conversions).
  std::shared_ptr<const safetensors::Checkpoint> checkpoint;
};

// general.file_type of the files we write: ternary projections in libbitnet's BT2 type. llama.cpp's
// LLAMA_FTYPE_* values stop well below this (bitnet.cpp's I2_S is 40); like the BT2 type id it is
// deliberately far outside their range. See docs/convert.md.
inline constexpr uint32_t kFileTypeMostlyBT2 = 4242;

// Parses "f32" | "f16" | "bf16" | "q8_0" (throws Error otherwise).
TensorType parse_embd_type(std::string_view name);

// Fills `writer` with metadata and (lazily encoded) tensors for the checkpoint. All structural
// checks (family, config, tensor presence, dtypes, shapes) happen here; value checks (non-finite
// weights, invalid packed codes) happen when the writer pulls the tensor data.
ConvertResult plan_conversion(const ConvertOptions& options, gguf::Writer& writer);

// plan_conversion + atomic write to options.out_path.
ConvertResult convert_checkpoint(const ConvertOptions& options);

}  // namespace bitnet::convert
