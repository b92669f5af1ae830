// The llama (1.58-bit) converter family on synthetic tiny checkpoints in the HF1BitLLM /
// Falcon3-1.58bit layout: LlamaForCausalLM, packed uint8 ternary weights with a "bitlinear"
// weight_scale (= 1/alpha), no sub-norms, separate lm_head. The converted GGUF must run, through
// llama.cpp's NORM RoPE on permuted q/k, to the same logits as the scalar reference forward of the
// checkpoint's own (rotate-half, unpermuted) semantics.
#include <gtest/gtest.h>

#include <cstring>

#include "convert/converter.h"
#include "convert/family.h"
#include "convert/test_helpers.h"
#include "format/gguf.h"
#include "model/synthetic_model.h"
#include "model/tensor_plan.h"

namespace bitnet::test {
namespace {

SynthSpec llama_checkpoint_spec() {
  SynthSpec s;
  s.arch = "llama";
  s.n_embd = 64;
  s.n_ff = 128;
  s.n_head = 4;
  s.n_head_kv = 2;
  s.n_layer = 2;
  s.n_vocab = 4096;  // the tiny fixture's tokenizer
  s.sub_norms = false;
  s.separate_output = true;
  s.seed = 5;
  return s;
}

StTensor f32_tensor(const std::string& name, std::vector<uint64_t> shape, const std::vector<float>& v) {
  StTensor t{name, "F32", std::move(shape), std::vector<uint8_t>(v.size() * 4)};
  std::memcpy(t.bytes.data(), v.data(), t.bytes.size());
  return t;
}

// transformers' pack_weights: W[i*R + r, c] = ((packed[r, c] >> 2i) & 3) - 1, R = ceil(out/4).
std::vector<StTensor> packed_linear(const std::string& base, const SynthTernary& w, bool float_master) {
  if (float_master) {
    // Master weights whose absmean ternarisation gives exactly these codes: code * alpha * 1.5 for
    // nonzeros keeps round(w / mean|w|) at +-1 when a third are zero (mean = 2/3 * 1.5 alpha = alpha).
    std::vector<float> v(w.codes.size());
    for (size_t i = 0; i < v.size(); ++i) v[i] = float(w.codes[i]) * w.alpha;
    return {f32_tensor(base + ".weight", {uint64_t(w.rows), uint64_t(w.cols)}, v)};
  }
  const uint64_t R = (uint64_t(w.rows) + 3) / 4, K = uint64_t(w.cols);
  StTensor p{base + ".weight", "U8", {R, K}, std::vector<uint8_t>(R * K, 0)};
  for (uint64_t row = 0; row < uint64_t(w.rows); ++row)
    for (uint64_t c = 0; c < K; ++c)
      p.bytes[(row % R) * K + c] |= uint8_t((w.codes[row * K + c] + 1) << (2 * (row / R)));
  return {p, f32_tensor(base + ".weight_scale", {1}, {1.0f / w.alpha})};
}

fs::path write_checkpoint(const TempDir& tmp, const SynthSpec& s, const SynthWeights& w, bool float_master,
                          const nlohmann::json& quant) {
  const fs::path dir = tmp / "llama-ckpt";
  fs::create_directories(dir);
  for (const char* f : {"tokenizer.json", "tokenizer_config.json"})
    fs::copy_file(fixture_dir("hf-bf16") / f, dir / f, fs::copy_options::overwrite_existing);
  nlohmann::json cfg = {{"architectures", {"LlamaForCausalLM"}}, {"model_type", "llama"},
                        {"hidden_size", s.n_embd},       {"intermediate_size", s.n_ff},
                        {"num_attention_heads", s.n_head}, {"num_key_value_heads", s.n_head_kv},
                        {"num_hidden_layers", s.n_layer}, {"vocab_size", s.n_vocab},
                        {"rms_norm_eps", s.rms_eps},     {"rope_theta", s.rope_theta},
                        {"max_position_embeddings", 256}, {"tie_word_embeddings", false},
                        {"hidden_act", "silu"},          {"rope_scaling", nullptr}};
  if (!quant.is_null()) cfg["quantization_config"] = quant;
  write_json(dir / "config.json", cfg);
  std::vector<StTensor> ts;
  const uint64_t d = uint64_t(s.n_embd), nv = uint64_t(s.n_vocab);
  ts.push_back(f32_tensor("model.embed_tokens.weight", {nv, d}, w.embd));
  ts.push_back(f32_tensor("lm_head.weight", {nv, d}, w.output));
  ts.push_back(f32_tensor("model.norm.weight", {d}, w.output_norm));
  for (int64_t l = 0; l < s.n_layer; ++l) {
    const SynthLayer& L = w.layers[size_t(l)];
    const std::string b = "model.layers." + std::to_string(l) + ".";
    ts.push_back(f32_tensor(b + "input_layernorm.weight", {d}, L.attn_norm));
    ts.push_back(f32_tensor(b + "post_attention_layernorm.weight", {d}, L.ffn_norm));
    for (auto& [name, t] : std::vector<std::pair<std::string, const SynthTernary*>>{
             {"self_attn.q_proj", &L.wq}, {"self_attn.k_proj", &L.wk}, {"self_attn.v_proj", &L.wv},
             {"self_attn.o_proj", &L.wo}, {"mlp.gate_proj", &L.gate}, {"mlp.up_proj", &L.up},
             {"mlp.down_proj", &L.down}})
      for (auto& st : packed_linear(b + name, *t, float_master)) ts.push_back(std::move(st));
  }
  write_safetensors(dir / "model.safetensors", ts);
  return dir;
}

std::string convert(const TempDir& tmp, const fs::path& dir) {
  convert::ConvertOptions o;
  o.hf_dir = dir.string();
  o.out_path = (tmp / "llama.gguf").string();
  convert::convert_checkpoint(o);
  return o.out_path;
}

TEST(LlamaTernaryConvert, PermutationIsLlamaCpps) {
  // head_dim 8: GGUF rows 0..7 of a head come from checkpoint rows 0,4,1,5,2,6,3,7.
  const std::vector<uint64_t> want = {0, 4, 1, 5, 2, 6, 3, 7, 8, 12, 9, 13};
  for (uint64_t r = 0; r < want.size(); ++r) EXPECT_EQ(convert::llama_permuted_row(r, 8), want[r]) << r;
}

TEST(LlamaTernaryConvert, PackedBitlinearCheckpointRunsLikeTheReference) {
  TempDir tmp;
  const SynthSpec s = llama_checkpoint_spec();
  const SynthWeights w = make_synth_weights(s);
  const fs::path dir = write_checkpoint(tmp, s, w, false, {{"quant_method", "bitnet"}, {"linear_class", "bitlinear"}});
  const std::string gguf_path = convert(tmp, dir);
  auto f = gguf::File::open(gguf_path);
  EXPECT_EQ(f->architecture(), "llama");
  EXPECT_TRUE(check_model_file(*f).empty());
  EXPECT_EQ(f->find_tensor("blk.0.attn_sub_norm.weight"), nullptr);
  ASSERT_NE(f->find_tensor("output.weight"), nullptr);
  const auto prompts = synth_prompts(s);
  const auto got = run_model(gguf_path, prompts);
  for (size_t i = 0; i < prompts.size(); ++i) {
    // The checkpoint's own semantics: rotate-half RoPE on the unpermuted q/k.
    const auto ref = reference_forward(s, w, prompts[i], {.silu = true, .interleaved = false});
    const float err = max_abs_diff(got[i], ref);
    std::printf("prompt %zu: max abs err %.3g (max |logit| %.3g)\n", i, err, max_abs(ref));
    EXPECT_LE(err, 1e-4f * max_abs(ref)) << "prompt " << i;
  }
}

TEST(LlamaTernaryConvert, LinearClassDefaultsToBitlinear) {
  TempDir tmp;
  const SynthSpec s = llama_checkpoint_spec();
  const SynthWeights w = make_synth_weights(s);
  const fs::path dir = write_checkpoint(tmp, s, w, false, {{"quant_method", "bitnet"}});
  auto f = gguf::File::open(convert(tmp, dir));
  const float alpha = read_scale_tensor(*f->find_tensor("blk.0.attn_v.scale"));
  EXPECT_NEAR(alpha, w.layers[0].wv.alpha, 1e-6f * w.layers[0].wv.alpha);
}

TEST(LlamaTernaryConvert, PlainFloatLlamaIsRefused) {
  TempDir tmp;
  const SynthSpec s = llama_checkpoint_spec();
  const SynthWeights w = make_synth_weights(s);
  const fs::path dir = write_checkpoint(tmp, s, w, true, nullptr);
  expect_error([&] { convert(tmp, dir); }, {"quant_method \"bitnet\"", "1.58-bit Llama"});
}

TEST(LlamaTernaryConvert, RopeScalingIsRefused) {
  TempDir tmp;
  const SynthSpec s = llama_checkpoint_spec();
  const SynthWeights w = make_synth_weights(s);
  const fs::path dir = write_checkpoint(tmp, s, w, false, {{"quant_method", "bitnet"}});
  auto cfg = read_json(dir / "config.json");
  cfg["rope_scaling"] = {{"rope_type", "llama3"}, {"factor", 8.0}};
  write_json(dir / "config.json", cfg);
  expect_error([&] { convert(tmp, dir); }, {"rope_scaling", "not supported"});
}

}  // namespace
}  // namespace bitnet::test
