// llama.cpp's `bitnet` architecture (1bitLLM bitnet_b1_58-large / -3B as its converter writes them):
// same tensor names and sub-norms as bitnet-b1.58, SiLU gate unless bitnet.hidden_activation says
// relu2, NEOX RoPE, and optional per-tensor `.scale` tensors multiplied into the weights. No
// fixture of a real 1bitLLM model is available, so a synthetic file against the scalar reference.
#include <gtest/gtest.h>

#include "model/synthetic_model.h"
#include "model/tensor_plan.h"

namespace bitnet::test {
namespace {

constexpr float kRelTol = 1e-4f;  // see arch_ternary_types_test.cpp

SynthSpec bitnet_spec() {
  SynthSpec s;
  s.arch = "bitnet";
  s.seed = 11;
  return s;
}

void expect_matches_reference(const SynthSpec& s, const SynthWeights& w, const std::string& path,
                              const ReferenceOptions& o, const char* what) {
  const auto prompts = synth_prompts(s);
  const auto got = run_model(path, prompts);
  for (size_t i = 0; i < prompts.size(); ++i) {
    const auto ref = reference_forward(s, w, prompts[i], o);
    const float err = max_abs_diff(got[i], ref);
    std::printf("[%s] prompt %zu: max abs err %.3g (max |logit| %.3g)\n", what, i, err, max_abs(ref));
    EXPECT_LE(err, kRelTol * max_abs(ref)) << what << ", prompt " << i;
  }
}

TEST(ArchBitnet, SiluByDefaultMatchesReference) {
  const SynthSpec s = bitnet_spec();
  const SynthWeights w = make_synth_weights(s);
  TempGguf f("bitnet-silu");
  write_synth_gguf(s, w, f.path());
  LoadOptions lo;
  auto m = Model::load(f.path(), lo);
  EXPECT_EQ(m->params().activation, FfnActivation::Silu);
  EXPECT_EQ(m->params().rope_style, RopeStyle::RotateHalf);
  expect_matches_reference(s, w, f.path(), {.silu = true}, "bitnet silu");
}

TEST(ArchBitnet, HiddenActivationKeySelectsRelu2) {
  SynthSpec s = bitnet_spec();
  s.activation = "relu2";
  const SynthWeights w = make_synth_weights(s);
  TempGguf f("bitnet-relu2");
  write_synth_gguf(s, w, f.path());
  expect_matches_reference(s, w, f.path(), {.silu = false}, "bitnet relu2");
}

// llama.cpp's converter may keep ternary codes at unit scale and put alpha in `<name>.scale`.
class ArchBitnetScales : public ::testing::TestWithParam<TensorType> {};

TEST_P(ArchBitnetScales, PerTensorScaleTensorsAreApplied) {
  SynthSpec s = bitnet_spec();
  s.ternary_type = GetParam();
  s.scale_tensors = true;
  const SynthWeights w = make_synth_weights(s);
  TempGguf f(std::string("bitnet-scales-") + std::string(tensor_type_traits(GetParam()).name));
  write_synth_gguf(s, w, f.path());
  auto file = gguf::File::open(f.path());
  ASSERT_NE(file->find_tensor("blk.0.attn_q.scale"), nullptr);
  EXPECT_TRUE(check_model_file(*file).empty());
  expect_matches_reference(s, w, f.path(), {.silu = true}, tensor_type_traits(GetParam()).name.data());
}

INSTANTIATE_TEST_SUITE_P(Types, ArchBitnetScales,
                         ::testing::Values(TensorType::F16, TensorType::F32, TensorType::TQ1_0, TensorType::TQ2_0,
                                           TensorType::I2_S),
                         [](const ::testing::TestParamInfo<TensorType>& i) {
                           return std::string(tensor_type_traits(i.param).name);
                         });

}  // namespace
}  // namespace bitnet::test
