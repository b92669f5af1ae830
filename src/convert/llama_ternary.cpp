// Llama-architecture 1.58-bit checkpoints (HF1BitLLM/Llama3-8B-1.58-100B-tokens, tiiuae
// Falcon3-*-1.58bit: transformers LlamaForCausalLM with quantization_config.quant_method "bitnet")
// -> GGUF architecture "llama", as llama.cpp's converter names and lays it out:
//  - q/k rows permuted from the checkpoint's rotate-half RoPE pairs (i, i+d/2) to the adjacent pairs
//    (2i, 2i+1) of llama.cpp's NORM RoPE, per head (k with the KV head count), exactly as
//    convert_hf_to_gguf.py's LlamaModel.permute;
//  - no sub-norms (these models have none), SiLU, separate output.weight unless tied;
//  - packed weights' weight_scale follows quantization_config.linear_class, defaulting to
//    transformers' BitNetQuantConfig default "bitlinear" (weight_scale = 1/mean|W|, alpha = its inverse).
#include <cstring>
#include <string>
#include <vector>

#include "convert/family.h"
#include "convert/llama_like.h"
#include "convert/tensor_plan.h"
#include "format/gguf.h"
#include "format/tensor_codec.h"
#include "util/error.h"
#include "util/log.h"

namespace bitnet::convert {

namespace {

using Hparams = LlamaLikeHparams;

Hparams read_hparams(const HfConfig& c) {
  const Hparams h = read_llama_like_hparams(c, 1e-6, 10000.0);  // transformers LlamaConfig defaults
  const std::string act = c.string_or("hidden_act", "silu");
  if (act != "silu" && act != "swish") fail("{}: hidden_act '{}' is not supported for llama (expected silu)", c.path, act);
  require_unscaled_rope(c);
  return h;
}

// Only ternary checkpoints: a plain float Llama ternarised here would be a different model.
WeightScaleKind read_scale_kind(const HfConfig& c) {
  const auto it = c.json.find("quantization_config");
  if (it == c.json.end() || !it->is_object() || it->value("quant_method", "") != "bitnet")
    fail("{}: this LlamaForCausalLM checkpoint has no quantization_config with quant_method \"bitnet\"; only "
         "1.58-bit Llama checkpoints (Llama3-8B-1.58, Falcon3-*-1.58bit) can be converted",
         c.path);
  const auto lc = it->find("linear_class");
  if (lc == it->end() || lc->is_null()) return WeightScaleKind::Inverse;  // transformers' default: bitlinear
  if (!lc->is_string()) fail("{}: quantization_config.linear_class must be a string", c.path);
  return weight_scale_kind(lc->get<std::string>());
}

}  // namespace

uint64_t llama_permuted_row(uint64_t row, uint64_t head_dim) {
  const uint64_t h = row / head_dim, r = row % head_dim, half = head_dim / 2;
  // GGUF row h*hd + 2i + j holds checkpoint row h*hd + j*hd/2 + i.
  return h * head_dim + (r % 2) * half + r / 2;
}

namespace {

// add_ternary_tensor with GGUF row r taken from checkpoint row llama_permuted_row(r) (out is a
// whole number of heads of head_dim rows).
void add_permuted_ternary(gguf::Writer& w, const std::string& gguf_base, const TernarySource& ts, uint64_t out,
                          uint64_t in, uint64_t head_dim) {
  const std::string wname = gguf_base + ".weight";
  const TernarySource s = ts;
  w.add_tensor(wname, {in, out}, TensorType::BT2, [s, out, in, wname, head_dim](uint8_t* dst, uint64_t nbytes) {
    const uint64_t expected = bt2_nbytes(int64_t(out), int64_t(in));
    if (nbytes != expected) fail("tensor '{}': writer asked for {} bytes, BT2 needs {}", wname, nbytes, expected);
    std::vector<int8_t> codes(out * in);
    std::vector<float> row(s.packed ? 0 : in);
    for (uint64_t r = 0; r < out; ++r) {
      const uint64_t src = llama_permuted_row(r, head_dim);
      if (s.packed) {
        unpack_hf_ternary_row(s.weight->data, out, in, src, codes.data() + r * in, s.weight->name);
      } else {
        safetensors::to_f32(*s.weight, src * in, in, row.data());
        ternarize(row.data(), in, s.s_w, codes.data() + r * in, s.weight->name);
      }
    }
    const auto packed = encode_bt2(codes.data(), int64_t(out), int64_t(in));
    std::memcpy(dst, packed.data(), packed.size());
  });
  const float alpha = s.alpha;
  w.add_tensor(gguf_base + ".scale", {1}, TensorType::F32, [alpha](uint8_t* dst, uint64_t nbytes) {
    if (nbytes != 4) fail("scale tensor: writer asked for {} bytes, expected 4", nbytes);
    std::memcpy(dst, &alpha, 4);
  });
}

}  // namespace

void llama_ternary_convert(const FamilyInput& in, gguf::Writer& w) {
  const HfConfig& c = in.config;
  const Hparams h = read_hparams(c);
  const WeightScaleKind kind = read_scale_kind(c);
  const std::string arch = "llama";
  using gguf::Value;

  write_llama_like_hparams(w, arch, h);
  w.set(arch + ".hidden_activation", Value::string("silu"));
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
    auto ternary = [&](const std::string& hf_name, const std::string& gg_name, uint64_t out, uint64_t inn) {
      add_ternary_tensor(w, gg + gg_name, plan_ternary(src, hf + hf_name, out, inn, &kind), out, inn);
    };
    norm("input_layernorm", "attn_norm", h.hidden);
    add_permuted_ternary(w, gg + "attn_q", plan_ternary(src, hf + "self_attn.q_proj", q_dim, h.hidden, &kind), q_dim,
                         h.hidden, h.head_dim);
    add_permuted_ternary(w, gg + "attn_k", plan_ternary(src, hf + "self_attn.k_proj", kv_dim, h.hidden, &kind),
                         kv_dim, h.hidden, h.head_dim);
    ternary("self_attn.v_proj", "attn_v", kv_dim, h.hidden);
    ternary("self_attn.o_proj", "attn_output", h.hidden, q_dim);
    norm("post_attention_layernorm", "ffn_norm", h.hidden);
    ternary("mlp.gate_proj", "ffn_gate", h.ff, h.hidden);
    ternary("mlp.up_proj", "ffn_up", h.ff, h.hidden);
    ternary("mlp.down_proj", "ffn_down", h.hidden, h.ff);
  }
  add_output_tensors(w, src, h, embd);
  reject_unused_tensors(src, in.checkpoint->dir(), "llama (1.58-bit)",
                        "; sub-norms or other extra tensors mean this is not a Llama3-8B-1.58 / Falcon3-1.58bit "
                        "layout");
}

}  // namespace bitnet::convert
