// What the Llama-shaped families (BitNet b1.58, 1bitLLM bitnet, ternary llama) share in a
// conversion: the config.json hyper-parameters, their GGUF keys, the embedding/output tensors and
// the check that no checkpoint tensor was left unused. Each family adds only what differs.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "convert/hf_config.h"
#include "convert/tensor_plan.h"
#include "format/gguf.h"

namespace bitnet::convert {

struct LlamaLikeHparams {
  uint64_t vocab, hidden, layers, heads, kv_heads, head_dim, ff, ctx;
  double eps, rope_theta;
  bool tied;
};

// The shared keys, with the family's transformers defaults for rms_norm_eps and rope theta.
// head_dim is config.json's, else hidden_size / num_attention_heads. Fails (naming the file and
// key) on heads not dividing evenly, an odd head_dim, or non-positive eps / theta.
LlamaLikeHparams read_llama_like_hparams(const HfConfig& c, double default_eps, double default_rope_theta);

// Fails unless rope_scaling is absent, null or of type "default": the runtime has plain RoPE only.
void require_unscaled_rope(const HfConfig& c);

// <arch>.vocab_size, context_length, embedding_length, block_count, feed_forward_length,
// rope.dimension_count, attention.head_count(_kv), attention.layer_norm_rms_epsilon, rope.freq_base.
void write_llama_like_hparams(gguf::Writer& w, const std::string& arch, const LlamaLikeHparams& h);

// token_embd.weight (in the embedding type the options ask for).
void add_token_embedding(gguf::Writer& w, TensorSource& src, const LlamaLikeHparams& h, TensorType embd);

// output_norm.weight, and output.weight unless the embeddings are tied (a tied checkpoint's
// lm_head.weight is ignored with a warning).
void add_output_tensors(gguf::Writer& w, TensorSource& src, const LlamaLikeHparams& h, TensorType embd);

// Fails on any checkpoint tensor the converter did not take (rotary inv_freq buffers excepted):
// "<dir>: tensor 'X' is not used by the <converter> converter<hint>".
void reject_unused_tensors(TensorSource& src, const std::string& dir, std::string_view converter,
                           std::string_view hint);

}  // namespace bitnet::convert
