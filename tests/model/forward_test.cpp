// End-to-end agreement with Hugging Face transformers (float32 references in tests/data/*/reference,
// computed by transformers 5.17 on the hf-packed checkpoints; see tests/data/README.md).
//
// Why the tolerances are what they are: our integer path (int8 activations x ternary weights,
// int32 sums) is exact, so every difference comes from float work done in another order: RMSNorm's
// sum of squares, the attention dot products and softmax, the LM head dot products (cuBLAS vs our
// 8-way partial sums), and RoPE's cos/sin. Those alone give ~1e-6 relative error. But each ternary
// projection re-quantises its input to int8: when a value lands within that rounding noise of an
// x.5 boundary after scaling, one int8 code flips by 1, which shifts that projection's output by
// alpha/s_x (~1% of one activation). On the random tiny fixture (2 layers, 64 wide) flips are rare
// and logits agree to ~1e-4; on the trained 8-layer model a handful of flips compound, and the
// reference's own README reports 0.13 max abs difference between two exact implementations
// (its QAT forward vs transformers). So: kFixture* tolerances are tight, kTrained* allow flips.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>

#include "common/reference_data.h"
#include "graph/context.h"
#include "model/model.h"
#include "runtime/perplexity.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace bitnet {
namespace {

using testing::read_json;
using testing::read_npy_f32;
using testing::read_text;

struct ModelCase {
  const char* name;
  std::string gguf;
  std::string reference_dir;
  float max_abs_tol;      // last-position logits vs transformers
  float min_cosine;
  float near_tie;         // reference top1-top2 margins below this may legitimately flip
  double ppl_rel_tol;     // perplexity vs transformers
};

std::vector<ModelCase> cases() {
  const std::string data = BITNET_TEST_DATA;
  return {
      {"tiny_fixture", data + "/tiny-fixture/tiny-fixture.gguf", data + "/tiny-fixture/reference", 1e-4f, 0.999999f,
       1e-3f, 1e-4},
      {"tiny_bitnet", std::string(BITNET_SOURCE_DIR) + "/models/tiny-bitnet-b1.58.gguf", data + "/tiny-bitnet/reference",
       0.2f, 0.9999f, 0.2f, 0.005},
      // BitNet a4.8 (the file says it was trained for it, so a4.8 mode is on by default). Its
      // reference is the trainer's own float forward (fake-quantised activations), not
      // transformers. Same flips as above, but an int4 code step is mean|x|/sqrt(7) instead of
      // max|x|/127, i.e. 127*mean/(sqrt(7)*max) ~ 5-10x larger for these activations, so one flip
      // moves a logit further (observed 0.26 max; 0.13 for int8).
      {"tiny_a48", std::string(BITNET_SOURCE_DIR) + "/models/tiny-bitnet-a4.8.gguf", data + "/tiny-bitnet-a48/reference",
       0.4f, 0.9999f, 0.4f, 0.005},
  };
}

void PrintTo(const ModelCase& c, std::ostream* os) { *os << c.name; }

class ForwardTest : public ::testing::TestWithParam<ModelCase> {
 protected:
  static void SetUpTestSuite() {}
  void SetUp() override {
    LoadOptions lo;
    lo.lm_head = LmHeadMode::Original;  // compare with the reference's exact head
    model_ = Model::load(GetParam().gguf, lo);
    ContextParams cp;
    cp.n_ctx = 512;
    cp.n_threads = 2;
    ctx_ = std::make_unique<Context>(*model_, cp);
  }
  std::unique_ptr<Model> model_;
  std::unique_ptr<Context> ctx_;
};

TEST_P(ForwardTest, PromptTokenizationMatchesReference) {
  const auto prompts = read_json(GetParam().reference_dir + "/prompts.json");
  Tokenizer tok(model_->vocab());
  for (const auto& p : prompts) {
    const auto ids = tok.encode(p["prompt"].get<std::string>(), true, false);
    EXPECT_EQ(ids, p["input_ids"].get<std::vector<int32_t>>()) << p["prompt"];
  }
}

TEST_P(ForwardTest, LastLogitsMatchTransformers) {
  const ModelCase& mc = GetParam();
  const auto prompts = read_json(mc.reference_dir + "/prompts.json");
  const auto ref = read_npy_f32(mc.reference_dir + "/last_logits.npy");
  const int64_t n_vocab = model_->params().n_vocab;
  ASSERT_EQ(ref.shape.size(), 2u);
  ASSERT_EQ(ref.shape[1], n_vocab);
  float worst_abs = 0;
  double worst_cos = 1;
  for (size_t i = 0; i < prompts.size(); ++i) {
    const auto ids = prompts[i]["input_ids"].get<std::vector<int32_t>>();
    ctx_->reset();
    ctx_->eval(ids);
    const float* got = ctx_->logits();
    const float* want = ref.data.data() + i * n_vocab;
    double dot = 0, ng = 0, nw = 0;
    float max_abs = 0;
    for (int64_t v = 0; v < n_vocab; ++v) {
      max_abs = std::max(max_abs, std::fabs(got[v] - want[v]));
      dot += double(got[v]) * want[v];
      ng += double(got[v]) * got[v];
      nw += double(want[v]) * want[v];
    }
    const double cosine = dot / std::sqrt(ng * nw);
    worst_abs = std::max(worst_abs, max_abs);
    worst_cos = std::min(worst_cos, cosine);
    EXPECT_LE(max_abs, mc.max_abs_tol) << "prompt " << i;
    EXPECT_GE(cosine, mc.min_cosine) << "prompt " << i;
  }
  std::printf("[%s] last-position logits vs transformers: max abs err %.6g, min cosine %.9f\n", mc.name, worst_abs,
              worst_cos);
  RecordProperty("max_abs_err", std::to_string(worst_abs));
  RecordProperty("min_cosine", std::to_string(worst_cos));
}

TEST_P(ForwardTest, Top1AtEveryPromptPosition) {
  const ModelCase& mc = GetParam();
  const auto top5 = read_json(mc.reference_dir + "/top5.json");
  const auto prompts = read_json(mc.reference_dir + "/prompts.json");
  int checked = 0, near_ties = 0;
  for (size_t i = 0; i < prompts.size(); ++i) {
    const auto ids = prompts[i]["input_ids"].get<std::vector<int32_t>>();
    ctx_->reset();
    ctx_->eval(ids, /*all_logits=*/true);
    const auto& ref_ids = top5[i]["top5_ids"];
    const auto& ref_logits = top5[i]["top5_logits"];
    for (size_t t = 0; t < ids.size(); ++t) {
      const float* l = ctx_->logits(int64_t(t));
      const int32_t got = int32_t(std::max_element(l, l + model_->params().n_vocab) - l);
      const int32_t want = ref_ids[t][0].get<int32_t>();
      const float margin = ref_logits[t][0].get<float>() - ref_logits[t][1].get<float>();
      if (got != want) {
        // Only a reference near-tie may flip, and then to the reference's runner-up.
        EXPECT_LT(margin, mc.near_tie) << "prompt " << i << " position " << t;
        EXPECT_EQ(got, ref_ids[t][1].get<int32_t>());
        ++near_ties;
      }
      ++checked;
    }
  }
  std::printf("[%s] top-1 agrees at %d of %d prompt positions\n", mc.name, checked - near_ties, checked);
}

TEST_P(ForwardTest, Greedy64TokensMatchTransformers) {
  const ModelCase& mc = GetParam();
  const auto greedy = read_json(mc.reference_dir + "/greedy.json");
  int identical = 0;
  for (const auto& g : greedy) {
    const auto ids = g["input_ids"].get<std::vector<int32_t>>();
    const auto want = g["new_ids"].get<std::vector<int32_t>>();
    const auto margins = g["top1_minus_top2_logit"].get<std::vector<float>>();
    ctx_->reset();
    ctx_->eval(ids);
    std::vector<int32_t> got;
    for (size_t s = 0; s < want.size(); ++s) {
      const float* l = ctx_->logits();
      const int32_t id = int32_t(std::max_element(l, l + model_->params().n_vocab) - l);
      got.push_back(id);
      if (id != want[s]) break;
      ctx_->eval(std::span<const int32_t>(&id, 1));
    }
    if (got == want) {
      ++identical;
      continue;
    }
    // A divergence is allowed only at a step where the reference itself had a near-tie.
    const size_t at = got.size() - 1;
    EXPECT_LT(margins[at], mc.near_tie) << g["prompt"] << ": diverged at step " << at << " (got " << got[at]
                                         << ", want " << want[at] << ", reference margin " << margins[at] << ")";
  }
  std::printf("[%s] greedy 64-token continuations identical for %d of %zu prompts\n", mc.name, identical,
              greedy.size());
}

TEST_P(ForwardTest, PerplexityMatchesTransformers) {
  const ModelCase& mc = GetParam();
  const auto ppl_ref = read_json(mc.reference_dir + "/ppl.json")["heldout"];
  Tokenizer tok(model_->vocab());
  const auto tokens = tok.encode(read_text(mc.reference_dir + "/heldout.txt"), true, false);
  ASSERT_EQ(int64_t(tokens.size()), ppl_ref["n_tokens"].get<int64_t>());
  const PerplexityResult r = compute_perplexity(*ctx_, tokens, ppl_ref["block"].get<int64_t>());
  const double want = ppl_ref["ppl"].get<double>();
  EXPECT_EQ(r.n_predicted, ppl_ref["n_predicted"].get<int64_t>());
  EXPECT_NEAR(r.ppl(), want, want * mc.ppl_rel_tol);
  std::printf("[%s] held-out perplexity %.4f (transformers %.4f, %+.4f%%)\n", mc.name, r.ppl(), want,
              100.0 * (r.ppl() / want - 1.0));
}

INSTANTIATE_TEST_SUITE_P(Models, ForwardTest, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<ModelCase>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace bitnet

namespace bitnet {
namespace {

TEST(A48Mode, FollowsTheFileAndCanBeOverridden) {
  auto a48 = Model::load(std::string(BITNET_SOURCE_DIR) + "/models/tiny-bitnet-a4.8.gguf");
  auto b158 = Model::load(std::string(BITNET_SOURCE_DIR) + "/models/tiny-bitnet-b1.58.gguf");
  ContextParams cp;
  cp.n_ctx = 16;
  cp.n_threads = 1;
  EXPECT_TRUE(Context(*a48, cp).scheme().a48);
  EXPECT_EQ(Context(*a48, cp).scheme().act_bits, 4);
  EXPECT_TRUE(Context(*a48, cp).scheme().topk_o);
  EXPECT_FALSE(Context(*b158, cp).scheme().a48);
  EXPECT_EQ(Context(*b158, cp).scheme().act_bits, 8);
  cp.a48 = 0;
  EXPECT_FALSE(Context(*a48, cp).scheme().a48);
  EXPECT_EQ(Context(*a48, cp).scheme().act_bits, 8);
  cp.a48 = 1;
  cp.topk_o = 0;
  cp.kv_bits = 3;
  const ActivationScheme s = Context(*b158, cp).scheme();
  EXPECT_TRUE(s.a48);
  EXPECT_FALSE(s.topk_o);
  EXPECT_EQ(s.kv_bits, 3);
  EXPECT_NE(s.describe().find("kv 3-bit"), std::string::npos);
  cp.kv_bits = 5;
  EXPECT_THROW(Context(*b158, cp), Error);
}

}  // namespace
}  // namespace bitnet
