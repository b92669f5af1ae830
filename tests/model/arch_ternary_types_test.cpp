// One synthetic BitNet b1.58 model (hidden 256, ff 512: rows that are multiples of 256, so every
// ternary type can hold it) stored as BT2, bitnet.cpp's I2_S, llama.cpp's TQ1_0 and TQ2_0 (exact
// block layouts from our writer's encoders) and ternary*alpha in F32/F16/BF16. Every file must
// give bit-identical logits (same codes, same alpha) and match the scalar reference forward.
#include <gtest/gtest.h>

#include "model/synthetic_model.h"

namespace bitnet::test {
namespace {

// The runtime and the reference do the same integer work; floats differ only in summation order
// (RMSNorm, attention, LM head) and RoPE's cos/sin (float tables vs double). A rare int8 rounding
// flip at an x.5 boundary moves one projection output by alpha/s_x, which stays well below this.
constexpr float kRelTol = 1e-4f;

struct TypeCase {
  const char* name;
  TensorType type;
};

class TernaryTypes : public ::testing::TestWithParam<TypeCase> {};

TEST_P(TernaryTypes, MatchesScalarReferenceAndBt2BitForBit) {
  SynthSpec s;
  const SynthWeights w = make_synth_weights(s);
  const auto prompts = synth_prompts(s);
  TempGguf bt2("types-bt2"), file(std::string("types-") + GetParam().name);
  write_synth_gguf(s, w, bt2.path());
  s.ternary_type = GetParam().type;
  write_synth_gguf(s, w, file.path());
  const auto base = run_model(bt2.path(), prompts);
  const auto got = run_model(file.path(), prompts);
  for (size_t i = 0; i < prompts.size(); ++i) {
    EXPECT_EQ(got[i], base[i]) << "prompt " << i << ": " << GetParam().name << " differs from BT2";
    const auto ref = reference_forward(s, w, prompts[i], {});
    const float err = max_abs_diff(got[i], ref), scale = max_abs(ref);
    std::printf("[%s] prompt %zu: max abs err vs scalar reference %.3g (max |logit| %.3g)\n", GetParam().name, i, err,
                scale);
    EXPECT_LE(err, kRelTol * scale) << "prompt " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Synthetic, TernaryTypes,
                         ::testing::Values(TypeCase{"bt2", TensorType::BT2}, TypeCase{"i2_s", TensorType::I2_S},
                                           TypeCase{"tq1_0", TensorType::TQ1_0}, TypeCase{"tq2_0", TensorType::TQ2_0},
                                           TypeCase{"f32", TensorType::F32}, TypeCase{"f16", TensorType::F16},
                                           TypeCase{"bf16", TensorType::BF16}),
                         [](const ::testing::TestParamInfo<TypeCase>& i) { return std::string(i.param.name); });

// The reference must be able to fail: a model whose RoPE pairs are wrong, or whose activation is
// wrong, is far outside the tolerance.
TEST(TernaryTypesReference, DetectsWrongRopeAndActivation) {
  SynthSpec s;
  const SynthWeights w = make_synth_weights(s);
  const auto prompts = synth_prompts(s);
  TempGguf f("types-sanity");
  write_synth_gguf(s, w, f.path());
  const auto got = run_model(f.path(), prompts);
  const auto& p = prompts[0];
  const auto wrong_rope = reference_forward(s, w, p, {.silu = false, .interleaved = true});
  const auto wrong_act = reference_forward(s, w, p, {.silu = true, .interleaved = false});
  EXPECT_GT(max_abs_diff(got[0], wrong_rope), 10 * kRelTol * max_abs(got[0]));
  EXPECT_GT(max_abs_diff(got[0], wrong_act), 10 * kRelTol * max_abs(got[0]));
}

}  // namespace
}  // namespace bitnet::test
