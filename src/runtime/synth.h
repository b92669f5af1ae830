// Random-weight models of real shapes (`bitnet synth`), so end-to-end benchmarks need no download.
//
// A synthetic file is a normal libbitnet GGUF: BT2 ternary projections with about one third zeros
// and random per-tensor scales, F32 norms near 1, an F16/F32/Q8_0 embedding (tied or with a
// separate output matrix, as the real model has it) and a byte-level BPE vocab of the real size
// that the tokenizer loads (256 byte tokens plus random merges of existing tokens, then special
// tokens). Weights come from a fast counter-seeded PRNG, so the same seed gives the same file
// byte for byte, and tensors are streamed to disk one at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "format/tensor_types.h"
#include "model/hparams.h"
#include "tokenizer/vocab.h"

namespace bitnet {

struct SynthPreset {
  std::string name;         // "2b-4t", "large", ...
  std::string description;  // the model whose shape this is
  std::string architecture;
  std::string activation;   // "relu2" or "silu" (written as <arch>.hidden_activation)
  int64_t n_layer = 0, n_embd = 0, n_head = 0, n_head_kv = 0, head_dim = 0, n_ff = 0;
  int64_t n_vocab = 0, n_ctx = 0;
  float rope_theta = 10000.0f, rms_eps = 1e-5f;
  bool tied_output = true;    // no output.weight: the LM head is the embedding
  std::string tokenizer_pre;  // tokenizer.ggml.pre
  int n_special = 2;          // control tokens at the end of the vocab (bos, eos, ...)
};

// 2b-4t (microsoft/BitNet-b1.58-2B-4T), large (1bitLLM/bitnet_b1_58-large), 3b
// (1bitLLM/bitnet_b1_58-3B), 8b (HF1BitLLM/Llama3-8B-1.58 shape) and tiny (for tests).
const std::vector<SynthPreset>& synth_presets();
// nullptr if unknown.
const SynthPreset* find_synth_preset(std::string_view name);

// The hyper-parameters the loader will read back from a file written for this preset.
ModelParams synth_model_params(const SynthPreset& preset);

struct SynthOptions {
  std::string out_path;
  uint64_t seed = 1;
  TensorType embd_type = TensorType::F16;  // F16, F32 or Q8_0
  // progress(done_tensors, total_tensors) after each tensor is written.
  std::function<void(size_t, size_t)> progress;
};

struct SynthResult {
  size_t tensor_count = 0;
  uint64_t n_params = 0;  // every weight element (ternary + embedding/output + norms)
  uint64_t file_bytes = 0;
};

// Writes the file atomically (the writer's temp-file + rename). Throws Error on bad options or I/O.
SynthResult synth_model(const SynthPreset& preset, const SynthOptions& options);

// The vocab synth_model writes: n_vocab - n_special byte-level BPE tokens (the 256 byte tokens in
// GPT-2's byte-to-unicode form, then concatenations of two earlier tokens, each with its merge),
// then n_special control tokens; bos = first special, eos = second (Llama 3's names and eot when
// n_special is 256). Requires n_vocab >= 256 + n_special + 1 and n_special >= 2.
Vocab synth_vocab(int64_t n_vocab, int n_special, const std::string& pre, uint64_t seed);

}  // namespace bitnet
