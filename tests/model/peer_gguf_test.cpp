// The GGUF files other tools wrote from the tiny fixture (tests/data/peer-gguf, made by bitnet.cpp's
// and llama.cpp's own converters and quantizers; see its README.md) load, tokenize like the
// reference, and compute what transformers computes.
//
// Two references, because the peers converted hf-bf16 (master weights) while transformers'
// reference (last_logits.npy) ran hf-packed, whose weight_scale is rounded to bf16 (the
// reference's own reference.json: hf-bf16 online vs hf-packed differ by 0.072 in transformers):
//  1. Our converter on the same hf-bf16 input, run by our runtime: the peer file must give the
//     same logits within the tolerance our converter's output has against transformers on the
//     fixture (forward_test: 1e-4), widened only by what the file's own storage rounds (f16 alpha
//     in the llama.cpp file, the Q8_0 embedding).
//  2. transformers' last_logits.npy, within the bf16-scale difference the reference documents,
//     and greedy 64 identical.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/reference_data.h"
#include "convert/converter.h"
#include "format/gguf.h"
#include "format/half.h"
#include "format/tensor_codec.h"
#include "graph/context.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

namespace bitnet {
namespace {

namespace fs = std::filesystem;
using testing::read_json;
using testing::read_npy_f32;

const std::string kData = BITNET_TEST_DATA;
const std::string kPeer = kData + "/peer-gguf/";
const std::string kRef = kData + "/tiny-fixture/reference";

// hf-bf16 converted by our own converter with the given embedding type, once per test binary.
class OwnConversions {
 public:
  ~OwnConversions() {
    for (const auto& [type, path] : files_) {
      std::error_code ec;
      fs::remove(path, ec);
    }
  }
  const std::string& get(TensorType embd) {
    for (const auto& [type, path] : files_)
      if (type == embd) return path;
    const fs::path p = fs::temp_directory_path() / ("bitnet-peer-own-" + std::to_string(::getpid()) + "-" +
                                                    std::string(tensor_type_traits(embd).name) + ".gguf");
    convert::ConvertOptions o;
    o.hf_dir = kData + "/tiny-fixture/hf-bf16";
    o.out_path = p.string();
    o.embd_type = embd;
    convert::convert_checkpoint(o);
    files_.emplace_back(embd, p.string());
    return files_.back().second;
  }

 private:
  std::vector<std::pair<TensorType, std::string>> files_;
};

const std::string& own_bf16_gguf(TensorType embd) {
  static OwnConversions conversions;
  return conversions.get(embd);
}

// A copy of `src` whose per-tensor ternary scales are rounded to f16, as they are in a file that
// stores ternary*alpha as F16 (llama.cpp's): the same model up to exactly that rounding.
// With `activation`, also overrides the file's hidden_activation key.
std::string with_f16_scales(const std::string& src, const std::string& activation = "") {
  const std::string out = src + ".f16-scales" + activation + ".gguf";
  auto f = gguf::File::open(src);
  gguf::Writer w;
  for (const auto& [k, v] : f->metadata())
    if (k != "general.alignment") w.set(k, v);
  if (!activation.empty()) w.set(f->architecture() + ".hidden_activation", gguf::Value::string(activation));
  std::vector<float> scales;
  scales.reserve(f->tensors().size());  // add_tensor_copy keeps pointers: no reallocation
  for (const gguf::TensorInfo& t : f->tensors()) {
    if (t.name.ends_with(".scale")) {
      scales.push_back(f16_to_f32(f32_to_f16(read_scale_tensor(t))));
      w.add_tensor_copy(t.name, t.dims, TensorType::F32, &scales.back(), 4);
    } else {
      w.add_tensor_copy(t.name, t.dims, t.type, t.data, t.nbytes);
    }
  }
  w.write(out);
  return out;
}

struct Logits {
  std::vector<std::vector<float>> last;  // per prompt
};

Logits last_logits(const std::string& path) {
  LoadOptions lo;
  lo.lm_head = LmHeadMode::Original;
  auto m = Model::load(path, lo);
  ContextParams cp;
  cp.n_ctx = 256;
  cp.n_threads = 2;
  Context ctx(*m, cp);
  Logits out;
  for (const auto& p : read_json(kRef + "/prompts.json")) {
    const auto ids = p["input_ids"].get<std::vector<int32_t>>();
    ctx.reset();
    ctx.eval(ids);
    out.last.emplace_back(ctx.logits(), ctx.logits() + m->params().n_vocab);
  }
  return out;
}

float max_abs_diff(const Logits& a, const Logits& b) {
  float worst = 0;
  for (size_t i = 0; i < a.last.size(); ++i)
    for (size_t v = 0; v < a.last[i].size(); ++v) worst = std::max(worst, std::fabs(a.last[i][v] - b.last[i][v]));
  return worst;
}

Logits reference_logits() {
  const auto ref = read_npy_f32(kRef + "/last_logits.npy");
  Logits out;
  const size_t nv = size_t(ref.shape[1]);
  for (int64_t i = 0; i < ref.shape[0]; ++i)
    out.last.emplace_back(ref.data.begin() + i * nv, ref.data.begin() + (i + 1) * nv);
  return out;
}

struct PeerCase {
  const char* name;
  const char* file;
  std::string arch;
  FfnActivation activation;
  TensorType embd;          // the file's token_embd type; our converter writes the same
  bool f16_scales;         // the file stores ternary*alpha in F16: alpha is rounded to f16
  float tol_vs_own;        // vs our converter's output of the same hf-bf16
  float tol_vs_reference;  // vs transformers on hf-packed
};

void PrintTo(const PeerCase& c, std::ostream* os) { *os << c.name; }

// bitnet.cpp recomputes each alpha as max|w| of its f32 ternary*alpha values, which differs from
// our 1/s_w by one ulp for 5 of the fixture's 14 projections. One ulp can move one int8 activation
// across a rounding boundary (see forward_test.cpp), which shifts logits by ~1e-2 on this 64-wide
// model (measured 0.026 on one file, 3.8e-6 on the others). So vs our own conversion these files
// get the one-flip tolerance; llama.cpp's file is compared after substituting its exact f16 alphas.
constexpr float kOneFlip = 0.05f;

std::vector<PeerCase> peer_cases() {
  return {
      {"bitnetcpp_f32", "tiny-fixture-bitnetcpp-f32.gguf", "bitnet-25", FfnActivation::Relu2, TensorType::F32, false, kOneFlip, 0.08f},
      {"bitnetcpp_i2_s", "tiny-fixture-bitnetcpp-i2_s.gguf", "bitnet-25", FfnActivation::Relu2, TensorType::F16, false, kOneFlip, 0.08f},
      {"bitnetcpp_i2_s_embq8", "tiny-fixture-bitnetcpp-i2_s-embq8.gguf", "bitnet-25", FfnActivation::Relu2,
       TensorType::Q8_0, false, kOneFlip, 0.48f},
      {"llamacpp_f16_relu2", "tiny-fixture-llamacpp-f16-relu2.gguf", "bitnet", FfnActivation::Relu2, TensorType::F16,
       true, 1e-4f, 0.08f},
  };
}

// The Q8_0-embedding file: 0.08 as above plus the Q8_0 head bound that
// PeerGgufQ8Embedding.ErrorStaysWithinTheQ8RoundingBound computes (0.397); measured 0.170.
class PeerGguf : public ::testing::TestWithParam<PeerCase> {};

TEST_P(PeerGguf, LoadsWithTheRightGraph) {
  const PeerCase& c = GetParam();
  LoadOptions lo;
  lo.lm_head = LmHeadMode::Original;
  auto m = Model::load(kPeer + c.file, lo);
  EXPECT_EQ(m->params().architecture, c.arch);
  EXPECT_EQ(m->params().activation, c.activation);
  EXPECT_EQ(m->params().rope_style, RopeStyle::RotateHalf);
  EXPECT_TRUE(m->output_tied());
  EXPECT_EQ(m->params().n_vocab, 4096);
}

TEST_P(PeerGguf, TokenizesLikeTheReferenceWithLlamaBpe) {
  auto f = gguf::File::open(kPeer + GetParam().file);
  Tokenizer tok(vocab_from_gguf(*f));
  EXPECT_EQ(tok.pre_tokenizer_name(), "llama-bpe");
  for (const auto& p : read_json(kRef + "/prompts.json"))
    EXPECT_EQ(tok.encode(p["prompt"].get<std::string>(), true, false), p["input_ids"].get<std::vector<int32_t>>())
        << p["prompt"];
}

TEST_P(PeerGguf, LastLogitsMatchOurConverterOnTheSameInput) {
  const PeerCase& c = GetParam();
  std::string own = own_bf16_gguf(c.embd);
  if (c.f16_scales) own = with_f16_scales(own);
  const float err = max_abs_diff(last_logits(kPeer + c.file), last_logits(own));
  if (c.f16_scales) std::filesystem::remove(own);
  std::printf("[%s] vs our converter's hf-bf16 file: max abs err %.6g\n", c.name, err);
  EXPECT_LE(err, c.tol_vs_own);
}

TEST_P(PeerGguf, LastLogitsMatchTransformers) {
  const PeerCase& c = GetParam();
  const float err = max_abs_diff(last_logits(kPeer + c.file), reference_logits());
  std::printf("[%s] vs transformers (hf-packed): max abs err %.6g\n", c.name, err);
  EXPECT_LE(err, c.tol_vs_reference);
}

TEST_P(PeerGguf, Greedy64TokensMatchTransformers) {
  LoadOptions lo;
  lo.lm_head = LmHeadMode::Original;
  auto m = Model::load(kPeer + GetParam().file, lo);
  ContextParams cp;
  cp.n_ctx = 256;
  cp.n_threads = 2;
  Context ctx(*m, cp);
  int identical = 0;
  const auto greedy = read_json(kRef + "/greedy.json");
  for (const auto& g : greedy) {
    const auto want = g["new_ids"].get<std::vector<int32_t>>();
    ctx.reset();
    ctx.eval(g["input_ids"].get<std::vector<int32_t>>());
    std::vector<int32_t> got;
    for (size_t s = 0; s < want.size(); ++s) {
      const float* l = ctx.logits();
      const int32_t id = int32_t(std::max_element(l, l + m->params().n_vocab) - l);
      got.push_back(id);
      ctx.eval(std::span<const int32_t>(&id, 1));
    }
    identical += got == want;
    EXPECT_EQ(got, want) << g["prompt"];
  }
  EXPECT_EQ(identical, int(greedy.size()));
}

INSTANTIATE_TEST_SUITE_P(Files, PeerGguf, ::testing::ValuesIn(peer_cases()),
                         [](const ::testing::TestParamInfo<PeerCase>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace bitnet

namespace bitnet {
namespace {

// Q8_0 stores each 32-element block as int8 * d with d = absmax/127: every element is off by at
// most d/2. In the tied LM head a logit is h . e_v with h = g * rmsnorm(x), so its error is at most
// ||h|| * ||eps_v|| <= sqrt(n_embd) * max|g| * max_v ||eps_v|| (Cauchy-Schwarz; rmsnorm(x) has norm
// sqrt(n_embd)). The same rounding of the input embedding passes through the two layers; each layer
// starts with an RMSNorm, so it enters relative to the row's size, i.e. at most max ||eps_v||/||e_v||.
TEST(PeerGgufQ8Embedding, ErrorStaysWithinTheQ8RoundingBound) {
  auto q8 = gguf::File::open(kPeer + "tiny-fixture-bitnetcpp-i2_s-embq8.gguf");
  auto exact = gguf::File::open(kPeer + "tiny-fixture-bitnetcpp-f32.gguf");
  const auto eq = decode_to_f32(*q8->find_tensor("token_embd.weight"));
  const auto ee = decode_to_f32(*exact->find_tensor("token_embd.weight"));
  const auto g = decode_to_f32(*exact->find_tensor("output_norm.weight"));
  const size_t d = 64;
  ASSERT_EQ(eq.size(), ee.size());
  double max_eps_norm = 0, max_rel = 0, max_elem = 0;
  for (size_t v = 0; v < eq.size() / d; ++v) {
    double n2 = 0, e2 = 0;
    for (size_t i = 0; i < d; ++i) {
      const double eps = double(eq[v * d + i]) - ee[v * d + i];
      n2 += eps * eps;
      e2 += double(ee[v * d + i]) * ee[v * d + i];
      max_elem = std::max(max_elem, std::fabs(eps));
    }
    max_eps_norm = std::max(max_eps_norm, std::sqrt(n2));
    max_rel = std::max(max_rel, std::sqrt(n2 / e2));
  }
  double max_g = 0;
  for (float x : g) max_g = std::max(max_g, double(std::fabs(x)));
  const double head_bound = std::sqrt(double(d)) * max_g * max_eps_norm;
  const float err = max_abs_diff(last_logits(kPeer + "tiny-fixture-bitnetcpp-i2_s-embq8.gguf"),
                                 last_logits(own_bf16_gguf(TensorType::F32)));
  std::printf("Q8_0 embedding: max element error %.4g, max row |eps| %.4g (rel %.3g), head bound %.4g; "
              "logits vs the exact-embedding model: %.4g\n",
              max_elem, max_eps_norm, max_rel, head_bound, err);
  EXPECT_LE(err, head_bound);
}

}  // namespace
}  // namespace bitnet

namespace bitnet {
namespace {

// llama.cpp's f16 file without bitnet.hidden_activation: llama.cpp's `bitnet` graph is SiLU (the
// 1bitLLM models), so that is what the file means and what we run. This fixture is a ReLU² model,
// so the result is off by the ~5 logits llama.cpp itself shows; the -relu2 file runs right. To show
// we compute exactly llama.cpp's SiLU reading of it, compare with our own conversion forced to SiLU.
TEST(PeerGgufSilu, LlamaCppFileWithoutActivationKeyRunsAsSilu) {
  const std::string file = kPeer + "tiny-fixture-llamacpp-f16.gguf";
  LoadOptions lo;
  lo.lm_head = LmHeadMode::Original;
  auto m = Model::load(file, lo);
  EXPECT_EQ(m->params().architecture, "bitnet");
  EXPECT_EQ(m->params().activation, FfnActivation::Silu);
  const Logits got = last_logits(file);
  const std::string own_silu = with_f16_scales(own_bf16_gguf(TensorType::F16), "silu");
  const float vs_own_silu = max_abs_diff(got, last_logits(own_silu));
  std::filesystem::remove(own_silu);
  const float vs_ref = max_abs_diff(got, reference_logits());
  std::printf("llama.cpp f16 (SiLU): vs our SiLU conversion %.3g, vs the ReLU² reference %.3g\n", vs_own_silu,
              vs_ref);
  EXPECT_LE(vs_own_silu, 1e-4f);
  // The peer README's independent numpy forward with SiLU: 5.06 from the reference.
  EXPECT_GT(vs_ref, 4.0f);
  EXPECT_LT(vs_ref, 6.0f);
}

}  // namespace
}  // namespace bitnet
