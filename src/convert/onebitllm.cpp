// 1bitLLM/bitnet_b1_58-{large,3B} (transformers remote code "BitnetForCausalLM", note the lower-case
// "n"; config model_type "llama") -> GGUF architecture "bitnet", laid out as llama.cpp's
// convert_hf_to_gguf.py BitnetModel writes it and llama.cpp's LLM_ARCH_BITNET loader reads it:
//  - fp16 latent weights of q/k/v/o/gate/up/down ternarised here with absmean (utils_quant.py's
//    weight_quant: s = 1 / max(mean|W|, 1e-5), round, clamp to [-1, 1]) and stored as BT2 codes plus
//    an F32 ".scale" = 1/s (llama.cpp's optional per-tensor scale tensors);
//  - sub-norms: self_attn.inner_attn_ln -> attn_sub_norm (hidden_size wide, before o_proj) and
//    mlp.ffn_layernorm -> ffn_sub_norm (intermediate_size wide, before down_proj), the names of
//    gguf-py's tensor_mapping.py;
//  - q/k are NOT permuted: the checkpoint uses rotate-half RoPE and llama.cpp runs LLM_ARCH_BITNET
//    with NEOX rope (our loader: RopeStyle::RotateHalf for "bitnet");
//  - SiLU gating (bitnet.hidden_activation "silu"), rope.scaling.type linear with factor 1.0 as
//    llama.cpp's converter writes it; the LM head is token_embd (tie_word_embeddings: true). An
//    untied checkpoint gets output.weight, which our loader uses (llama.cpp's bitnet graph would
//    ignore it and reject the file's tensor count).
#include <string>

#include "convert/family.h"
#include "convert/tensor_plan.h"
#include "format/gguf.h"
#include "util/error.h"
#include "util/log.h"

namespace bitnet::convert {

bool onebitllm_matches(const HfConfig& c) { return c.architecture() == "BitnetForCausalLM"; }

namespace {

struct Hparams {
  uint64_t vocab, hidden, layers, heads, kv_heads, head_dim, ff, ctx;
  double eps, rope_theta;
  std::string activation;
  bool tied;
};

// 1bitLLM's BitnetConfig is transformers' LlamaConfig plus weight_bits / input_bits: its defaults
// apply where a key is optional.
Hparams read_hparams(const HfConfig& c) {
  Hparams h{};
  h.vocab = c.positive_int("vocab_size");
  h.hidden = c.positive_int("hidden_size");
  h.layers = c.positive_int("num_hidden_layers");
  h.heads = c.positive_int("num_attention_heads");
  h.kv_heads = c.positive_int_or("num_key_value_heads", h.heads);
  h.ff = c.positive_int("intermediate_size");
  h.ctx = c.positive_int_or("max_position_embeddings", 2048);
  h.eps = c.number_or("rms_norm_eps", 1e-6);
  h.rope_theta = c.rope_theta(10000.0);
  // The 1bitLLM configs set tie_word_embeddings: true; LlamaConfig's default is false.
  h.tied = c.bool_or("tie_word_embeddings", false);
  if (h.hidden % h.heads)
    fail("{}: hidden_size {} is not divisible by num_attention_heads {}", c.path, h.hidden, h.heads);
  // BitnetAttention: head_dim = hidden_size / num_heads, o_proj and inner_attn_ln are hidden_size wide.
  h.head_dim = h.hidden / h.heads;
  if (c.has("head_dim") && c.positive_int("head_dim") != h.head_dim)
    fail("{}: head_dim {} differs from hidden_size / num_attention_heads = {}; 1bitLLM's BitnetAttention "
         "requires them equal",
         c.path, c.positive_int("head_dim"), h.head_dim);
  if (h.heads % h.kv_heads)
    fail("{}: num_attention_heads {} is not a multiple of num_key_value_heads {}", c.path, h.heads, h.kv_heads);
  if (h.head_dim % 2) fail("{}: head_dim {} is odd; rotary embeddings need an even head_dim", c.path, h.head_dim);
  const std::string act = c.string_or("hidden_act", "silu");
  if (act == "silu" || act == "swish") {
    h.activation = "silu";
  } else if (act == "relu2") {
    h.activation = "relu2";
  } else {
    fail("{}: hidden_act '{}' is not supported (expected silu or relu2)", c.path, act);
  }
  if (!(h.eps > 0.0)) fail("{}: rms_norm_eps must be positive, got {}", c.path, h.eps);
  if (!(h.rope_theta > 0.0)) fail("{}: rope theta must be positive, got {}", c.path, h.rope_theta);
  if (const auto it = c.json.find("rope_scaling"); it != c.json.end() && !it->is_null()) {
    const std::string type = it->is_object() ? it->value("rope_type", it->value("type", "")) : "";
    if (type != "default") fail("{}: rope_scaling {} is not supported (only unscaled RoPE)", c.path, it->dump());
  }
  // utils_quant.py's BitLinear: ternary weights (weight_bits 1) and 8-bit absmax activations.
  if (c.has("weight_bits") && c.positive_int("weight_bits") != 1)
    fail("{}: weight_bits {} is not supported (1bitLLM's ternary BitLinear has weight_bits 1)", c.path,
         c.positive_int("weight_bits"));
  if (c.has("input_bits") && c.positive_int("input_bits") != 8)
    fail("{}: input_bits {} is not supported (the runtime quantises activations to 8 bits)", c.path,
         c.positive_int("input_bits"));
  if (c.json.contains("quantization_config") && !c.json["quantization_config"].is_null())
    fail("{}: a BitnetForCausalLM checkpoint with quantization_config is not a 1bitLLM fp16 latent-weight "
         "checkpoint; not supported",
         c.path);
  return h;
}

}  // namespace

void onebitllm_convert(const FamilyInput& in, gguf::Writer& w) {
  const HfConfig& c = in.config;
  const Hparams h = read_hparams(c);
  const std::string arch = "bitnet";
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
  w.set(arch + ".rope.scaling.type", Value::string("linear"));
  w.set(arch + ".rope.scaling.factor", Value::f32(1.0f));
  w.set(arch + ".hidden_activation", Value::string(h.activation));
  w.set("general.file_type", Value::u32(kFileTypeMostlyBT2));
  w.set("general.quantization_version", Value::u32(2));

  if (!in.checkpoint) return;  // vocab-only
  TensorSource src(*in.checkpoint);
  const TensorType embd = in.options.embd_type;
  add_float_tensor(w, "token_embd.weight", src.take("model.embed_tokens.weight", "token_embd.weight"),
                   {h.vocab, h.hidden}, embd);
  const uint64_t q_dim = h.heads * h.head_dim, kv_dim = h.kv_heads * h.head_dim;
  for (uint64_t l = 0; l < h.layers; ++l) {
    const std::string hf = "model.layers." + std::to_string(l) + ".";
    const std::string gg = "blk." + std::to_string(l) + ".";
    auto norm = [&](const std::string& hf_name, const std::string& gg_name, uint64_t n) {
      add_float_tensor(w, gg + gg_name + ".weight", src.take(hf + hf_name + ".weight", gg + gg_name), {n},
                       TensorType::F32);
    };
    // Latent float weights only: packed uint8 would need a weight_scale convention this family lacks.
    auto ternary = [&](const std::string& hf_name, const std::string& gg_name, uint64_t out, uint64_t inn) {
      add_ternary_tensor(w, gg + gg_name, plan_ternary(src, hf + hf_name, out, inn, nullptr), out, inn);
    };
    norm("input_layernorm", "attn_norm", h.hidden);
    ternary("self_attn.q_proj", "attn_q", q_dim, h.hidden);
    ternary("self_attn.k_proj", "attn_k", kv_dim, h.hidden);
    ternary("self_attn.v_proj", "attn_v", kv_dim, h.hidden);
    norm("self_attn.inner_attn_ln", "attn_sub_norm", q_dim);
    ternary("self_attn.o_proj", "attn_output", h.hidden, q_dim);
    norm("post_attention_layernorm", "ffn_norm", h.hidden);
    ternary("mlp.gate_proj", "ffn_gate", h.ff, h.hidden);
    ternary("mlp.up_proj", "ffn_up", h.ff, h.hidden);
    norm("mlp.ffn_layernorm", "ffn_sub_norm", h.ff);
    ternary("mlp.down_proj", "ffn_down", h.hidden, h.ff);
  }
  add_float_tensor(w, "output_norm.weight", src.take("model.norm.weight", "output_norm.weight"), {h.hidden},
                   TensorType::F32);
  if (h.tied) {
    if (src.take_optional("lm_head.weight"))
      log_warn("config.json says tie_word_embeddings, ignoring the checkpoint's lm_head.weight");
  } else {
    add_float_tensor(w, "output.weight", src.take("lm_head.weight", "output.weight (embeddings are not tied)"),
                     {h.vocab, h.hidden}, embd);
  }
  for (const auto& name : src.unused()) {
    if (name.ends_with("rotary_emb.inv_freq")) continue;  // recomputed from rope theta
    fail("{}: tensor '{}' is not used by the 1bitLLM (bitnet) converter (unexpected for BitnetForCausalLM)",
         in.checkpoint->dir(), name);
  }
}

}  // namespace bitnet::convert
