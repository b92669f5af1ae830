#include "convert/llama_like.h"

#include "util/error.h"
#include "util/log.h"

namespace bitnet::convert {

LlamaLikeHparams read_llama_like_hparams(const HfConfig& c, double default_eps, double default_rope_theta) {
  LlamaLikeHparams h{};
  h.vocab = c.positive_int("vocab_size");
  h.hidden = c.positive_int("hidden_size");
  h.layers = c.positive_int("num_hidden_layers");
  h.heads = c.positive_int("num_attention_heads");
  h.kv_heads = c.positive_int_or("num_key_value_heads", h.heads);
  h.ff = c.positive_int("intermediate_size");
  h.ctx = c.positive_int_or("max_position_embeddings", 2048);
  h.eps = c.number_or("rms_norm_eps", default_eps);
  h.rope_theta = c.rope_theta(default_rope_theta);
  h.tied = c.bool_or("tie_word_embeddings", false);
  if (c.has("head_dim")) {
    h.head_dim = c.positive_int("head_dim");
  } else {
    if (h.hidden % h.heads)
      fail("{}: hidden_size {} is not divisible by num_attention_heads {} (and there is no head_dim)", c.path,
           h.hidden, h.heads);
    h.head_dim = h.hidden / h.heads;
  }
  if (h.heads % h.kv_heads)
    fail("{}: num_attention_heads {} is not a multiple of num_key_value_heads {}", c.path, h.heads, h.kv_heads);
  if (h.head_dim % 2) fail("{}: head_dim {} is odd; rotary embeddings need an even head_dim", c.path, h.head_dim);
  if (!(h.eps > 0.0)) fail("{}: rms_norm_eps must be positive, got {}", c.path, h.eps);
  if (!(h.rope_theta > 0.0)) fail("{}: rope theta must be positive, got {}", c.path, h.rope_theta);
  return h;
}

void require_unscaled_rope(const HfConfig& c) {
  // Llama 3.1-style or linear/YaRN scaling changes RoPE; the runtime implements plain RoPE only.
  if (const auto it = c.json.find("rope_scaling"); it != c.json.end() && !it->is_null()) {
    const std::string type = it->is_object() ? it->value("rope_type", it->value("type", "")) : "";
    if (type != "default") fail("{}: rope_scaling {} is not supported (only unscaled RoPE)", c.path, it->dump());
  }
}

void write_llama_like_hparams(gguf::Writer& w, const std::string& arch, const LlamaLikeHparams& h) {
  using gguf::Value;
  w.set(arch + ".vocab_size", Value::u32(uint32_t(h.vocab)));
  w.set(arch + ".context_length", Value::u32(uint32_t(h.ctx)));
  w.set(arch + ".embedding_length", Value::u32(uint32_t(h.hidden)));
  w.set(arch + ".block_count", Value::u32(uint32_t(h.layers)));
  w.set(arch + ".feed_forward_length", Value::u32(uint32_t(h.ff)));
  w.set(arch + ".rope.dimension_count", Value::u32(uint32_t(h.head_dim)));
  w.set(arch + ".attention.head_count", Value::u32(uint32_t(h.heads)));
  w.set(arch + ".attention.head_count_kv", Value::u32(uint32_t(h.kv_heads)));
  w.set(arch + ".attention.layer_norm_rms_epsilon", Value::f32(float(h.eps)));
  w.set(arch + ".rope.freq_base", Value::f32(float(h.rope_theta)));
}

void add_token_embedding(gguf::Writer& w, TensorSource& src, const LlamaLikeHparams& h, TensorType embd) {
  add_float_tensor(w, "token_embd.weight", src.take("model.embed_tokens.weight", "token_embd.weight"),
                   {h.vocab, h.hidden}, embd);
}

void add_output_tensors(gguf::Writer& w, TensorSource& src, const LlamaLikeHparams& h, TensorType embd) {
  add_float_tensor(w, "output_norm.weight", src.take("model.norm.weight", "output_norm.weight"), {h.hidden},
                   TensorType::F32);
  if (h.tied) {
    if (src.take_optional("lm_head.weight"))
      log_warn("config.json says tie_word_embeddings, ignoring the checkpoint's lm_head.weight");
  } else {
    add_float_tensor(w, "output.weight", src.take("lm_head.weight", "output.weight (embeddings are not tied)"),
                     {h.vocab, h.hidden}, embd);
  }
}

void reject_unused_tensors(TensorSource& src, const std::string& dir, std::string_view converter,
                           std::string_view hint) {
  for (const auto& name : src.unused()) {
    if (name.ends_with("rotary_emb.inv_freq")) continue;  // buffers some exporters save; recomputed
    fail("{}: tensor '{}' is not used by the {} converter{}", dir, name, converter, hint);
  }
}

}  // namespace bitnet::convert
