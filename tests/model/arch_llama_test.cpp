// Ternary `llama` files (HF1BitLLM Llama3-8B-1.58, tiiuae Falcon3 1.58bit, as llama.cpp's and
// bitnet.cpp's converters write them): NORM RoPE on adjacent pairs (the converters permute q/k
// rows for it), no sub-norms, SiLU, a separate output.weight. Synthetic files vs the scalar
// reference.
#include <gtest/gtest.h>

#include "model/synthetic_model.h"
#include "model/tensor_plan.h"

namespace bitnet::test {
namespace {

constexpr float kRelTol = 1e-4f;  // see arch_ternary_types_test.cpp

SynthSpec llama_spec() {
  SynthSpec s;
  s.arch = "llama";
  s.sub_norms = false;
  s.separate_output = true;
  s.ternary_type = TensorType::TQ2_0;
  s.embd_type = TensorType::F16;
  s.output_type = TensorType::F16;
  s.seed = 23;
  return s;
}

std::vector<float> worst_errors(const SynthSpec& s, const SynthWeights& w, const std::string& path,
                                const ReferenceOptions& o, float* scale) {
  const auto prompts = synth_prompts(s);
  const auto got = run_model(path, prompts);
  std::vector<float> errs;
  *scale = 0;
  for (size_t i = 0; i < prompts.size(); ++i) {
    const auto ref = reference_forward(s, w, prompts[i], o);
    errs.push_back(max_abs_diff(got[i], ref));
    *scale = std::max(*scale, max_abs(ref));
  }
  return errs;
}

TEST(ArchLlama, LoadsWithNormRopeNoSubNormsAndSeparateHead) {
  const SynthSpec s = llama_spec();
  const SynthWeights w = make_synth_weights(s);
  TempGguf f("llama-params");
  write_synth_gguf(s, w, f.path());
  auto m = Model::load(f.path());
  EXPECT_EQ(m->params().rope_style, RopeStyle::Interleaved);
  EXPECT_EQ(m->params().activation, FfnActivation::Silu);
  EXPECT_FALSE(m->output_tied());
  EXPECT_TRUE(m->layers()[0].attn_sub_norm.empty());
  EXPECT_TRUE(m->layers()[0].ffn_sub_norm.empty());
  EXPECT_FALSE(has_sub_norms(m->params()));
}

TEST(ArchLlama, MatchesScalarReference) {
  const SynthSpec s = llama_spec();
  const SynthWeights w = make_synth_weights(s);
  TempGguf f("llama");
  write_synth_gguf(s, w, f.path());
  float scale = 0;
  const auto errs = worst_errors(s, w, f.path(), {.silu = true, .interleaved = true}, &scale);
  for (size_t i = 0; i < errs.size(); ++i) {
    std::printf("[llama] prompt %zu: max abs err %.3g (max |logit| %.3g)\n", i, errs[i], scale);
    EXPECT_LE(errs[i], kRelTol * scale) << "prompt " << i;
  }
  // And the reference can tell: rotate-half RoPE or a tied head is far off.
  const auto wrong = worst_errors(s, w, f.path(), {.silu = true, .interleaved = false}, &scale);
  EXPECT_GT(*std::max_element(wrong.begin(), wrong.end()), 100 * kRelTol * scale);
  SynthSpec tied = s;
  tied.separate_output = false;
  const auto wrong_head = worst_errors(tied, w, f.path(), {.silu = true, .interleaved = true}, &scale);
  EXPECT_GT(*std::max_element(wrong_head.begin(), wrong_head.end()), 100 * kRelTol * scale);
}

// bitnet.cpp's I2_S Llama3-8B-1.58 files: architecture llama, type id 36, general.file_type 40.
TEST(ArchLlama, BitnetCppI2sFileRuns) {
  SynthSpec s = llama_spec();
  s.ternary_type = TensorType::I2_S;
  s.file_type = 40;
  const SynthWeights w = make_synth_weights(s);
  TempGguf f("llama-i2s");
  write_synth_gguf(s, w, f.path());
  auto file = gguf::File::open(f.path());
  EXPECT_TRUE(check_model_file(*file).empty());
  float scale = 0;
  const auto errs = worst_errors(s, w, f.path(), {.silu = true, .interleaved = true}, &scale);
  for (float e : errs) EXPECT_LE(e, kRelTol * scale);
}

TEST(ArchLlama, TiedHeadWhenOutputIsAbsent) {
  SynthSpec s = llama_spec();
  s.separate_output = false;
  const SynthWeights w = make_synth_weights(s);
  TempGguf f("llama-tied");
  write_synth_gguf(s, w, f.path());
  float scale = 0;
  const auto errs = worst_errors(s, w, f.path(), {.silu = true, .interleaved = true}, &scale);
  for (float e : errs) EXPECT_LE(e, kRelTol * scale);
}

}  // namespace
}  // namespace bitnet::test
