#include "runtime/synth.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <unordered_set>

#include "format/gguf.h"
#include "format/tensor_codec.h"
#include "graph/context.h"
#include "model/model.h"
#include "model/tensor_plan.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace bitnet {
namespace {

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / (name + "-" + std::to_string(::getpid()) + ".gguf")).string();
}

std::string read_all(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

struct TempFile {
  std::string path;
  explicit TempFile(const std::string& name) : path(temp_path(name)) {}
  ~TempFile() { std::filesystem::remove(path); }
};

TEST(Synth, PresetsHaveTheRealShapes) {
  const SynthPreset* p = find_synth_preset("2b-4t");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->architecture, "bitnet-b1.58");
  EXPECT_EQ(p->n_layer, 30);
  EXPECT_EQ(p->n_embd, 2560);
  EXPECT_EQ(p->n_head, 20);
  EXPECT_EQ(p->n_head_kv, 5);
  EXPECT_EQ(p->head_dim, 128);
  EXPECT_EQ(p->n_ff, 6912);
  EXPECT_EQ(p->n_vocab, 128256);
  EXPECT_TRUE(p->tied_output);
  const SynthPreset* large = find_synth_preset("large");
  ASSERT_NE(large, nullptr);
  EXPECT_EQ(large->architecture, "bitnet");
  EXPECT_EQ(large->activation, "silu");
  EXPECT_EQ(large->n_layer, 24);
  EXPECT_EQ(large->n_embd, 1536);
  EXPECT_EQ(large->n_vocab, 32002);
  for (const char* name : {"3b", "8b", "tiny"}) EXPECT_NE(find_synth_preset(name), nullptr) << name;
  EXPECT_EQ(find_synth_preset("7b"), nullptr);
  for (const SynthPreset& s : synth_presets()) {
    EXPECT_TRUE(is_supported_architecture(s.architecture)) << s.name;
    EXPECT_EQ(s.n_embd % s.n_head, 0) << s.name;
    EXPECT_EQ(s.n_head % s.n_head_kv, 0) << s.name;
  }
}

TEST(Synth, VocabIsConsistentByteLevelBpe) {
  const Vocab v = synth_vocab(5000, 256, "llama-bpe", 7);
  ASSERT_EQ(v.tokens.size(), 5000u);
  ASSERT_EQ(v.types.size(), 5000u);
  EXPECT_EQ(v.model, "gpt2");
  EXPECT_EQ(v.bos_id, 5000 - 256);
  EXPECT_EQ(v.eos_id, 5000 - 255);
  EXPECT_EQ(v.tokens[size_t(v.bos_id)], "<|begin_of_text|>");
  EXPECT_EQ(v.tokens[size_t(v.eot_id)], "<|eot_id|>");
  EXPECT_EQ(v.merges.size(), size_t(5000 - 256 - 256));
  std::unordered_set<std::string> texts(v.tokens.begin(), v.tokens.end());
  EXPECT_EQ(texts.size(), v.tokens.size()) << "duplicate token texts";
  // Every merge joins two earlier tokens into the token that follows the byte tokens in order.
  for (size_t i = 0; i < v.merges.size(); ++i) {
    const std::string& m = v.merges[i];
    const size_t sp = m.find(' ', 1);
    ASSERT_NE(sp, std::string::npos) << m;
    const std::string a = m.substr(0, sp), b = m.substr(sp + 1);
    EXPECT_TRUE(texts.count(a) && texts.count(b)) << m;
    EXPECT_EQ(a + b, v.tokens[256 + i]);
  }
  // Deterministic per seed.
  EXPECT_EQ(synth_vocab(5000, 256, "llama-bpe", 7).tokens, v.tokens);
  EXPECT_NE(synth_vocab(5000, 256, "llama-bpe", 8).tokens, v.tokens);
  EXPECT_THROW(synth_vocab(300, 256, "gpt-2", 1), Error);
  EXPECT_THROW(synth_vocab(1000, 1, "gpt-2", 1), Error);
}

TEST(Synth, VocabTokenizesAndRoundTrips) {
  Tokenizer tok(synth_vocab(20000, 2, "gpt-2", 3));
  const std::string text = "The quick brown fox jumps over the lazy dog, then naps in the sun. \xc3\xa9t\xc3\xa9 \xe2\x82\xac 42!";
  const std::vector<int32_t> ids = tok.encode(text, /*add_special=*/false, false);
  EXPECT_EQ(tok.decode(ids), text);
  // With thousands of letter merges, some words take fewer tokens than bytes.
  EXPECT_LT(ids.size(), text.size());
  const std::vector<int32_t> with_bos = tok.encode("hi", true, false);
  ASSERT_FALSE(with_bos.empty());
  EXPECT_EQ(with_bos[0], tok.bos());
}

TEST(Synth, TinyModelLoadsAndGenerates) {
  const SynthPreset& tiny = *find_synth_preset("tiny");
  TempFile file("synth-tiny");
  SynthOptions o;
  o.out_path = file.path;
  o.seed = 11;
  size_t last_done = 0, calls = 0;
  o.progress = [&](size_t done, size_t total) {
    EXPECT_LE(done, total);
    last_done = done;
    ++calls;
  };
  const SynthResult r = synth_model(tiny, o);
  EXPECT_EQ(last_done, r.tensor_count);
  EXPECT_EQ(calls, r.tensor_count);
  EXPECT_EQ(r.file_bytes, std::filesystem::file_size(file.path));

  const auto f = gguf::File::open(file.path);
  EXPECT_TRUE(check_model_file(*f).empty());
  EXPECT_TRUE(f->get_bool("libbitnet.synthetic", false));
  EXPECT_EQ(f->find_tensor("output.weight"), nullptr);  // tied, as 2B-4T
  ASSERT_NE(f->find_tensor("token_embd.weight"), nullptr);
  EXPECT_EQ(f->find_tensor("token_embd.weight")->type, TensorType::F16);
  uint64_t n_params = 0;
  for (const auto& t : f->tensors())
    if (t.name.find(".scale") == std::string::npos) n_params += t.n_elements();
  EXPECT_EQ(n_params, r.n_params);

  // Ternary weights: about one third zeros, both signs, scale near 1e-2.
  const TernaryWeights w = decode_ternary(*f->find_tensor("blk.0.ffn_up.weight"), f->find_tensor("blk.0.ffn_up.scale"));
  ASSERT_EQ(w.values.size(), size_t(tiny.n_ff * tiny.n_embd));
  size_t zeros = 0, pos = 0;
  for (int8_t v : w.values) zeros += v == 0, pos += v > 0;
  EXPECT_NEAR(double(zeros) / double(w.values.size()), 1.0 / 3.0, 0.02);
  EXPECT_NEAR(double(pos) / double(w.values.size()), 1.0 / 3.0, 0.02);
  EXPECT_GT(w.scale, 1e-3f);
  EXPECT_LT(w.scale, 0.05f);

  const auto model = Model::load(file.path);
  EXPECT_EQ(model->params().n_layer, tiny.n_layer);
  EXPECT_EQ(model->params().n_vocab, tiny.n_vocab);
  ContextParams cp;
  cp.n_ctx = 64;
  cp.n_threads = 2;
  Context ctx(*model, cp);
  std::vector<int32_t> prompt = {model->vocab().bos_id, 300, 301, 302};
  ctx.eval(prompt);
  for (int step = 0; step < 8; ++step) {
    const float* logits = ctx.logits();
    int32_t best = 0;
    for (int32_t i = 0; i < tiny.n_vocab; ++i) {
      ASSERT_TRUE(std::isfinite(logits[i])) << "step " << step << " token " << i;
      if (logits[i] > logits[best]) best = i;
    }
    ctx.eval(std::span<const int32_t>(&best, 1));
  }
  EXPECT_EQ(ctx.n_past(), 12);
}

TEST(Synth, SameSeedSameBytesOtherSeedOtherWeights) {
  const SynthPreset& tiny = *find_synth_preset("tiny");
  TempFile a("synth-a"), b("synth-b"), c("synth-c");
  SynthOptions o;
  o.out_path = a.path;
  synth_model(tiny, o);
  o.out_path = b.path;
  synth_model(tiny, o);
  o.out_path = c.path;
  o.seed = 2;
  synth_model(tiny, o);
  const std::string fa = read_all(a.path);
  EXPECT_EQ(fa, read_all(b.path));
  EXPECT_NE(fa, read_all(c.path));
}

TEST(Synth, EmbeddingTypes) {
  const SynthPreset& tiny = *find_synth_preset("tiny");
  for (TensorType type : {TensorType::F32, TensorType::Q8_0}) {
    TempFile file("synth-embd");
    SynthOptions o;
    o.out_path = file.path;
    o.embd_type = type;
    synth_model(tiny, o);
    const auto f = gguf::File::open(file.path);
    EXPECT_EQ(f->find_tensor("token_embd.weight")->type, type);
    const std::vector<float> e = decode_to_f32(*f->find_tensor("token_embd.weight"));
    double sq = 0;
    for (float v : e) sq += double(v) * v;
    EXPECT_NEAR(std::sqrt(sq / double(e.size())), 0.02, 0.002);  // sigma of the synthetic embedding
    EXPECT_NO_THROW(Model::load(file.path));
  }
  SynthOptions bad;
  bad.out_path = temp_path("synth-bad");
  bad.embd_type = TensorType::BT2;
  EXPECT_THROW(synth_model(tiny, bad), Error);
}

TEST(Synth, UntiedPresetWritesOutputMatrix) {
  // A cut-down copy of the `large` preset (same architecture and activation, small dims).
  SynthPreset p = *find_synth_preset("large");
  p.n_layer = 1, p.n_embd = 128, p.n_head = 2, p.n_head_kv = 2, p.head_dim = 64, p.n_ff = 256, p.n_vocab = 600;
  TempFile file("synth-untied");
  SynthOptions o;
  o.out_path = file.path;
  synth_model(p, o);
  const auto model = Model::load(file.path);
  EXPECT_FALSE(model->output_tied());
  EXPECT_EQ(model->params().activation, FfnActivation::Silu);
  EXPECT_EQ(model->params().architecture, "bitnet");
}

}  // namespace
}  // namespace bitnet
