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
#include "convert/llama_like.h"
#include "convert/tensor_plan.h"
#include "format/gguf.h"
#include "util/error.h"
#include "util/log.h"

namespace bitnet::convert {

bool onebitllm_matches(const HfConfig& c) { return c.architecture() == "BitnetForCausalLM"; }

namespace {

struct Hparams : LlamaLikeHparams {
  std::string activation;
};

// 1bitLLM's BitnetConfig is transformers' LlamaConfig plus weight_bits / input_bits: its defaults
// apply where a key is optional.
Hparams read_hparams(const HfConfig& c) {
  Hparams h{read_llama_like_hparams(c, 1e-6, 10000.0), ""};
  // (The 1bitLLM configs set tie_word_embeddings: true; LlamaConfig's default is false.)
  if (h.hidden % h.heads)
    fail("{}: hidden_size {} is not divisible by num_attention_heads {}", c.path, h.hidden, h.heads);
  // BitnetAttention: head_dim = hidden_size / num_heads, o_proj and inner_attn_ln are hidden_size wide.
  if (h.head_dim != h.hidden / h.heads)
    fail("{}: head_dim {} differs from hidden_size / num_attention_heads = {}; 1bitLLM's BitnetAttention "
         "requires them equal",
         c.path, h.head_dim, h.hidden / h.heads);
  const std::string act = c.string_or("hidden_act", "silu");
  if (act == "silu" || act == "swish") {
    h.activation = "silu";
  } else if (act == "relu2") {
    h.activation = "relu2";
  } else {
    fail("{}: hidden_act '{}' is not supported (expected silu or relu2)", c.path, act);
  }
  require_unscaled_rope(c);
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

  write_llama_like_hparams(w, arch, h);
  w.set(arch + ".rope.scaling.type", Value::string("linear"));
  w.set(arch + ".rope.scaling.factor", Value::f32(1.0f));
  w.set(arch + ".hidden_activation", Value::string(h.activation));
  w.set("general.file_type", Value::u32(kFileTypeMostlyBT2));
  w.set("general.quantization_version", Value::u32(2));

  if (!in.checkpoint) return;  // vocab-only
  TensorSource src(*in.checkpoint);
  const TensorType embd = in.options.embd_type;
  add_token_embedding(w, src, h, embd);
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
  add_output_tensors(w, src, h, embd);
  reject_unused_tensors(src, in.checkpoint->dir(), "1bitLLM (bitnet)", " (unexpected for BitnetForCausalLM)");
}

}  // namespace bitnet::convert
