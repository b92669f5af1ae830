// BitNet b1.58 in the transformers BitNetForCausalLM layout (microsoft/bitnet-b1.58-2B-4T and its
// -bf16 sibling, our tiny-bitnet models) -> GGUF architecture "bitnet-b1.58", tensor names as
// bitnet.cpp / llama.cpp. Both checkpoint kinds: packed uint8 + weight_scale, and float master
// weights ternarised here exactly as transformers' online AutoBitLinear does.
#include <optional>
#include <string>

#include "convert/family.h"
#include "convert/llama_like.h"
#include "convert/tensor_plan.h"
#include "format/gguf.h"
#include "util/error.h"
#include "util/log.h"

namespace bitnet::convert {

bool bitnet_b158_matches(const HfConfig& c) {
  return c.architecture() == "BitNetForCausalLM" || (c.architecture().empty() && c.model_type() == "bitnet");
}

namespace {

struct Hparams : LlamaLikeHparams {
  std::string activation;
};

Hparams read_hparams(const HfConfig& c) {
  // transformers BitNetConfig defaults where a key is optional there.
  Hparams h{read_llama_like_hparams(c, 1e-5, 500000.0), ""};
  const std::string act = c.string_or("hidden_act", "relu2");
  if (act == "relu2") {
    h.activation = "relu2";
  } else if (act == "silu" || act == "swish") {
    h.activation = "silu";
  } else {
    fail("{}: hidden_act '{}' is not supported (expected relu2 or silu)", c.path, act);
  }
  return h;
}

// quantization_config.linear_class decides what weight_scale means in packed checkpoints.
std::optional<WeightScaleKind> read_scale_kind(const HfConfig& c) {
  const auto it = c.json.find("quantization_config");
  if (it == c.json.end() || it->is_null()) return std::nullopt;
  if (!it->is_object()) fail("{}: quantization_config is not an object", c.path);
  if (it->contains("quant_method") && (*it)["quant_method"] != "bitnet")
    fail("{}: quantization_config.quant_method is {}, expected \"bitnet\"", c.path, (*it)["quant_method"].dump());
  const auto lc = it->find("linear_class");
  if (lc == it->end()) return std::nullopt;
  if (!lc->is_string()) fail("{}: quantization_config.linear_class must be a string", c.path);
  return weight_scale_kind(lc->get<std::string>());
}

}  // namespace

void bitnet_b158_convert(const FamilyInput& in, gguf::Writer& w) {
  const HfConfig& c = in.config;
  const Hparams h = read_hparams(c);
  const std::string arch = "bitnet-b1.58";
  using gguf::Value;

  write_llama_like_hparams(w, arch, h);
  w.set(arch + ".hidden_activation", Value::string(h.activation));
  // Our own key: the model was trained with BitNet a4.8 activations (int4 / top-k sparse int8);
  // see docs/convert.md. Absent means plain W1.58A8.
  if (c.has("bitnet_a48")) w.set("libbitnet.a48", Value::boolean(true));
  w.set("general.file_type", Value::u32(kFileTypeMostlyBT2));
  w.set("general.quantization_version", Value::u32(2));

  if (!in.checkpoint) return;  // vocab-only
  TensorSource src(*in.checkpoint);
  const auto kind = read_scale_kind(c);
  const WeightScaleKind* kind_ptr = kind ? &*kind : nullptr;
  const TensorType embd = in.options.embd_type;

  add_token_embedding(w, src, h, embd);
  for (uint64_t l = 0; l < h.layers; ++l) {
    const std::string hf = "model.layers." + std::to_string(l) + ".";
    const std::string gg = "blk." + std::to_string(l) + ".";
    auto norm = [&](const std::string& hf_name, const std::string& gg_name, uint64_t n) {
      add_float_tensor(w, gg + gg_name + ".weight", src.take(hf + hf_name + ".weight", gg + gg_name), {n},
                       TensorType::F32);
    };
    auto ternary = [&](const std::string& hf_name, const std::string& gg_name, uint64_t out, uint64_t inn) {
      const TernarySource ts = plan_ternary(src, hf + hf_name, out, inn, kind_ptr);
      add_ternary_tensor(w, gg + gg_name, ts, out, inn);
    };
    const uint64_t q_dim = h.heads * h.head_dim, kv_dim = h.kv_heads * h.head_dim;
    norm("input_layernorm", "attn_norm", h.hidden);
    ternary("self_attn.q_proj", "attn_q", q_dim, h.hidden);
    ternary("self_attn.k_proj", "attn_k", kv_dim, h.hidden);
    ternary("self_attn.v_proj", "attn_v", kv_dim, h.hidden);
    // transformers' BitNetAttention normalises the concatenated heads with a hidden_size-wide norm.
    norm("self_attn.attn_sub_norm", "attn_sub_norm", q_dim);
    ternary("self_attn.o_proj", "attn_output", h.hidden, q_dim);
    norm("post_attention_layernorm", "ffn_norm", h.hidden);
    ternary("mlp.gate_proj", "ffn_gate", h.ff, h.hidden);
    ternary("mlp.up_proj", "ffn_up", h.ff, h.hidden);
    norm("mlp.ffn_sub_norm", "ffn_sub_norm", h.ff);
    ternary("mlp.down_proj", "ffn_down", h.hidden, h.ff);
  }
  add_output_tensors(w, src, h, embd);
  reject_unused_tensors(src, in.checkpoint->dir(), arch, " (unexpected for this architecture)");
}

}  // namespace bitnet::convert
