// Token embedding and LM head stored as F32, F16, BF16 and Q8_0 (values chosen exact in all four,
// see synthetic_model.h), tied and separate: the exact head matches the scalar reference; the
// default int8 per-row head copy stays close to it.
#include <gtest/gtest.h>

#include "model/synthetic_model.h"

namespace bitnet::test {
namespace {

constexpr float kRelTol = 1e-4f;  // see arch_ternary_types_test.cpp

struct EmbCase {
  const char* name;
  TensorType embd, output;
  bool separate;
};

class ArchEmbedding : public ::testing::TestWithParam<EmbCase> {};

TEST_P(ArchEmbedding, MatchesScalarReference) {
  const EmbCase& c = GetParam();
  SynthSpec s;
  s.embd_type = c.embd;
  s.output_type = c.output;
  s.separate_output = c.separate;
  s.seed = 31;
  const SynthWeights w = make_synth_weights(s);
  TempGguf f(std::string("emb-") + c.name);
  write_synth_gguf(s, w, f.path());
  const auto prompts = synth_prompts(s);
  const auto exact = run_model(f.path(), prompts, LmHeadMode::Original);
  const auto int8 = run_model(f.path(), prompts, LmHeadMode::Int8);
  for (size_t i = 0; i < prompts.size(); ++i) {
    const auto ref = reference_forward(s, w, prompts[i], {});
    const float scale = max_abs(ref);
    EXPECT_LE(max_abs_diff(exact[i], ref), kRelTol * scale) << c.name << " prompt " << i;
    // int8 head: each weight off by at most half a step of its row's absmax/127, and the hidden
    // state quantised the same way: a few percent of a logit at most, never the argmax order of
    // clearly separated logits.
    EXPECT_LE(max_abs_diff(int8[i], ref), 0.02f * scale) << c.name << " prompt " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Types, ArchEmbedding,
                         ::testing::Values(EmbCase{"f32_tied", TensorType::F32, TensorType::F32, false},
                                           EmbCase{"f16_tied", TensorType::F16, TensorType::F16, false},
                                           EmbCase{"bf16_tied", TensorType::BF16, TensorType::BF16, false},
                                           EmbCase{"q8_0_tied", TensorType::Q8_0, TensorType::Q8_0, false},
                                           EmbCase{"f16_embd_q8_0_head", TensorType::F16, TensorType::Q8_0, true},
                                           EmbCase{"q8_0_embd_bf16_head", TensorType::Q8_0, TensorType::BF16, true},
                                           EmbCase{"f32_embd_f16_head", TensorType::F32, TensorType::F16, true}),
                         [](const ::testing::TestParamInfo<EmbCase>& i) { return std::string(i.param.name); });

}  // namespace
}  // namespace bitnet::test
