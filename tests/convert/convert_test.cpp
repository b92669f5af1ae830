// End-to-end converter tests on the tiny fixture: both checkpoint kinds (packed uint8 +
// weight_scale, bf16 master weights) must give the same ternary model; metadata, tokenizer and the
// errors for broken checkpoints.
#include "convert/converter.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include "convert/test_helpers.h"
#include "format/gguf.h"
#include "format/half.h"
#include "format/tensor_codec.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vocab.h"

namespace bitnet::test {
namespace {

using convert::ConvertOptions;

fs::path convert_dir(const fs::path& hf_dir, const fs::path& out, TensorType embd = TensorType::F32,
                     bool vocab_only = false) {
  ConvertOptions opt;
  opt.hf_dir = hf_dir.string();
  opt.out_path = out.string();
  opt.embd_type = embd;
  opt.vocab_only = vocab_only;
  convert::convert_checkpoint(opt);
  return out;
}

// Conversions of the two fixture checkpoints, shared by the tests (they take ~0.1 s each).
class FixtureConversions : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tmp_ = new TempDir();
    packed_ = gguf::File::open(convert_dir(fixture_dir("hf-packed"), *tmp_ / "packed.gguf").string()).release();
    bf16_ = gguf::File::open(convert_dir(fixture_dir("hf-bf16"), *tmp_ / "bf16.gguf").string()).release();
  }
  static void TearDownTestSuite() {
    delete packed_;
    delete bf16_;
    delete tmp_;
  }
  static inline TempDir* tmp_ = nullptr;
  static inline gguf::File* packed_ = nullptr;
  static inline gguf::File* bf16_ = nullptr;
};

const std::vector<std::string> kProjections = {"attn_q", "attn_k", "attn_v", "attn_output",
                                               "ffn_gate", "ffn_up", "ffn_down"};
const std::vector<std::string> kNorms = {"attn_norm", "attn_sub_norm", "ffn_norm", "ffn_sub_norm"};

TEST_F(FixtureConversions, PackedAndMasterWeightsGiveTheSameTernaryModel) {
  ASSERT_EQ(packed_->tensors().size(), bf16_->tensors().size());
  int compared = 0;
  for (int l = 0; l < 2; ++l) {
    for (const auto& p : kProjections) {
      const std::string base = "blk." + std::to_string(l) + "." + p;
      SCOPED_TRACE(base);
      const auto* wa = packed_->find_tensor(base + ".weight");
      const auto* wb = bf16_->find_tensor(base + ".weight");
      const auto* sa = packed_->find_tensor(base + ".scale");
      const auto* sb = bf16_->find_tensor(base + ".scale");
      ASSERT_TRUE(wa && wb && sa && sb);
      EXPECT_EQ(wa->type, TensorType::BT2);
      EXPECT_EQ(sa->type, TensorType::F32);
      EXPECT_EQ(sa->dims, (std::vector<uint64_t>{1}));
      ASSERT_EQ(wa->nbytes, wb->nbytes);
      EXPECT_EQ(std::memcmp(wa->data, wb->data, wa->nbytes), 0) << "ternary codes differ";
      const auto ta = decode_ternary(*wa, sa);
      const auto tb = decode_ternary(*wb, sb);
      EXPECT_EQ(ta.values, tb.values);
      // Not a degenerate all-zero matrix: both signs occur.
      EXPECT_NE(std::count(ta.values.begin(), ta.values.end(), 1), 0);
      EXPECT_NE(std::count(ta.values.begin(), ta.values.end(), -1), 0);
      // The packed checkpoint stores bf16(1/alpha); the master-weight path computes alpha itself.
      EXPECT_LE(std::fabs(ta.scale - tb.scale) / tb.scale, std::ldexp(1.0, -8)) << ta.scale << " vs " << tb.scale;
      // And exactly: the packed alpha is 1 / bf16(s_w).
      EXPECT_EQ(ta.scale, 1.0f / bf16_to_f32(f32_to_bf16(1.0f / tb.scale)));
      ++compared;
    }
  }
  EXPECT_EQ(compared, 14);
}

TEST_F(FixtureConversions, FloatTensorsIdentical) {
  for (const auto& t : packed_->tensors()) {
    if (t.type == TensorType::BT2 || t.name.ends_with(".scale")) continue;
    SCOPED_TRACE(t.name);
    const auto* o = bf16_->find_tensor(t.name);
    ASSERT_NE(o, nullptr);
    EXPECT_EQ(t.type, TensorType::F32);
    ASSERT_EQ(t.nbytes, o->nbytes);
    EXPECT_EQ(std::memcmp(t.data, o->data, t.nbytes), 0);
  }
}

TEST_F(FixtureConversions, EmbeddingAndNormsMatchCheckpoint) {
  auto st = safetensors::File::open((fixture_dir("hf-packed") / "model.safetensors").string());
  auto check = [&](const std::string& gguf_name, const std::string& hf_name, std::vector<uint64_t> dims) {
    SCOPED_TRACE(gguf_name);
    const auto* t = packed_->find_tensor(gguf_name);
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->dims, dims);
    const auto* s = st->find(hf_name);
    ASSERT_NE(s, nullptr);
    std::vector<float> expected(s->n_elements());
    safetensors::to_f32(*s, expected.data());
    EXPECT_EQ(decode_to_f32(*t), expected);
  };
  check("token_embd.weight", "model.embed_tokens.weight", {64, 4096});
  check("output_norm.weight", "model.norm.weight", {64});
  for (int l = 0; l < 2; ++l) {
    const std::string g = "blk." + std::to_string(l) + ".", h = "model.layers." + std::to_string(l) + ".";
    check(g + "attn_norm.weight", h + "input_layernorm.weight", {64});
    check(g + "attn_sub_norm.weight", h + "self_attn.attn_sub_norm.weight", {64});
    check(g + "ffn_norm.weight", h + "post_attention_layernorm.weight", {64});
    check(g + "ffn_sub_norm.weight", h + "mlp.ffn_sub_norm.weight", {192});
  }
}

TEST_F(FixtureConversions, TensorNamesAndShapes) {
  std::map<std::string, std::vector<uint64_t>> expected = {{"token_embd.weight", {64, 4096}},
                                                           {"output_norm.weight", {64}}};
  const std::map<std::string, std::vector<uint64_t>> proj = {
      {"attn_q", {64, 64}},    {"attn_k", {64, 32}},  {"attn_v", {64, 32}},   {"attn_output", {64, 64}},
      {"ffn_gate", {64, 192}}, {"ffn_up", {64, 192}}, {"ffn_down", {192, 64}}};
  for (int l = 0; l < 2; ++l) {
    const std::string g = "blk." + std::to_string(l) + ".";
    for (const auto& [p, d] : proj) {
      expected[g + p + ".weight"] = d;
      expected[g + p + ".scale"] = {1};
    }
    for (const auto& n : kNorms) expected[g + n + ".weight"] = {n == "ffn_sub_norm" ? 192u : 64u};
  }
  std::map<std::string, std::vector<uint64_t>> actual;
  for (const auto& t : packed_->tensors()) actual[t.name] = t.dims;
  EXPECT_EQ(actual, expected);  // in particular: no output.weight (tied embeddings)
}

TEST_F(FixtureConversions, Metadata) {
  const gguf::File& f = *packed_;
  EXPECT_EQ(f.architecture(), "bitnet-b1.58");
  EXPECT_EQ(f.get_string("general.name", ""), "hf-packed");
  const std::string a = "bitnet-b1.58.";
  EXPECT_EQ(f.get(a + "vocab_size").as_u64(), 4096u);
  EXPECT_EQ(f.get(a + "context_length").as_u64(), 512u);
  EXPECT_EQ(f.get(a + "embedding_length").as_u64(), 64u);
  EXPECT_EQ(f.get(a + "block_count").as_u64(), 2u);
  EXPECT_EQ(f.get(a + "feed_forward_length").as_u64(), 192u);
  EXPECT_EQ(f.get(a + "rope.dimension_count").as_u64(), 16u);
  EXPECT_EQ(f.get(a + "attention.head_count").as_u64(), 4u);
  EXPECT_EQ(f.get(a + "attention.head_count_kv").as_u64(), 2u);
  EXPECT_EQ(f.get(a + "attention.layer_norm_rms_epsilon").type(), gguf::ValueType::F32);
  EXPECT_FLOAT_EQ(static_cast<float>(f.get(a + "attention.layer_norm_rms_epsilon").as_f64()), 1e-5f);
  EXPECT_EQ(f.get(a + "rope.freq_base").as_f64(), 500000.0);
  EXPECT_EQ(f.get(a + "hidden_activation").as_string(), "relu2");
  EXPECT_EQ(f.get("general.file_type").as_u64(), convert::kFileTypeMostlyBT2);
  EXPECT_EQ(f.get("general.quantization_version").as_u64(), 2u);
  EXPECT_EQ(f.find("libbitnet.a48"), nullptr);
  EXPECT_EQ(f.get_string("tokenizer.ggml.model", ""), "gpt2");
  EXPECT_NE(f.get_string("tokenizer.chat_template", "").find("Assistant: "), std::string::npos);
}

TEST_F(FixtureConversions, TokenizerEncodesReferencePrompts) {
  for (const gguf::File* f : {packed_, bf16_}) {
    const Vocab v = vocab_from_gguf(*f);
    EXPECT_EQ(v.tokens.size(), 4096u);
    EXPECT_EQ(v.bos_id, 4093);
    EXPECT_EQ(v.eos_id, 4094);
    EXPECT_EQ(v.eot_id, 4095);  // from generation_config.json's eos list
    EXPECT_TRUE(v.add_bos);
    const Tokenizer tok(v);
    const auto prompts = read_json(fs::path(BITNET_TEST_DATA) / "tiny-fixture" / "reference" / "prompts.json");
    ASSERT_EQ(prompts.size(), 8u);
    for (const auto& p : prompts) {
      const std::string text = p["prompt"].get<std::string>();
      EXPECT_EQ(tok.encode(text, true, false), p["input_ids"].get<std::vector<int32_t>>()) << text;
    }
  }
}

// The converter's ternary values and scales against bitnet.cpp's own converter output for the
// same fixture (F32 projections holding ternary * alpha, computed by torch from hf-bf16).
TEST_F(FixtureConversions, AgreesWithBitnetCppConverter) {
  auto peer = gguf::File::open((fs::path(BITNET_TEST_DATA) / "peer-gguf" / "tiny-fixture-bitnetcpp-f32.gguf").string());
  for (int l = 0; l < 2; ++l) {
    for (const auto& p : kProjections) {
      const std::string base = "blk." + std::to_string(l) + "." + p;
      SCOPED_TRACE(base);
      const auto* pt = peer->find_tensor(base + ".weight");
      ASSERT_NE(pt, nullptr);
      const auto theirs = decode_ternary(*pt, nullptr);
      const auto ours = decode_ternary(*bf16_->find_tensor(base + ".weight"), bf16_->find_tensor(base + ".scale"));
      EXPECT_EQ(ours.values, theirs.values);
      EXPECT_LE(std::fabs(ours.scale - theirs.scale) / theirs.scale, 1e-6) << ours.scale << " vs " << theirs.scale;
    }
  }
}

TEST(Convert, EmbeddingOutputTypes) {
  TempDir tmp;
  auto st = safetensors::File::open((fixture_dir("hf-packed") / "model.safetensors").string());
  const auto* emb = st->find("model.embed_tokens.weight");
  std::vector<float> ref(emb->n_elements());
  safetensors::to_f32(*emb, ref.data());
  for (auto [type, tol] : {std::pair{TensorType::F16, 1e-3}, {TensorType::BF16, 0.0}, {TensorType::Q8_0, 1.0 / 127}}) {
    SCOPED_TRACE(std::string(tensor_type_traits(type).name));
    auto f = gguf::File::open(convert_dir(fixture_dir("hf-packed"), tmp / "e.gguf", type).string());
    const auto* t = f->find_tensor("token_embd.weight");
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->type, type);
    const auto got = decode_to_f32(*t);
    ASSERT_EQ(got.size(), ref.size());
    double max_rel = 0;
    float amax = 0;
    for (float r : ref) amax = std::max(amax, std::fabs(r));
    for (size_t i = 0; i < ref.size(); ++i) max_rel = std::max(max_rel, double(std::fabs(got[i] - ref[i])) / amax);
    EXPECT_LE(max_rel, tol);
    EXPECT_EQ(f->find_tensor("blk.0.attn_norm.weight")->type, TensorType::F32);  // norms stay F32
  }
  EXPECT_EQ(convert::parse_embd_type("q8_0"), TensorType::Q8_0);
  expect_error([] { convert::parse_embd_type("q4_0"); }, {"'q4_0'"});
}

TEST(Convert, A48KeyAndUntiedOutput) {
  TempDir tmp;
  const fs::path dir = copy_fixture(tmp, "hf-packed");
  auto cfg = read_json(dir / "config.json");
  cfg["bitnet_a48"] = {{"note", "test"}};
  cfg["tie_word_embeddings"] = false;
  cfg["hidden_act"] = "silu";
  cfg.erase("rope_theta");  // falls back to rope_parameters.rope_theta
  cfg["rope_parameters"]["rope_theta"] = 10000.0;
  write_json(dir / "config.json", cfg);
  auto tensors = read_all(dir / "model.safetensors");
  auto lm_head = tensors.front();  // the embedding (bf16 [4096, 64])
  ASSERT_EQ(lm_head.name, "model.embed_tokens.weight");
  lm_head.name = "lm_head.weight";
  lm_head.bytes[0] ^= 1;  // distinguishable from the embedding
  tensors.push_back(lm_head);
  write_safetensors(dir / "model.safetensors", tensors);
  auto f = gguf::File::open(convert_dir(dir, tmp / "a48.gguf").string());
  EXPECT_TRUE(f->get("libbitnet.a48").as_bool());
  EXPECT_EQ(f->get("bitnet-b1.58.hidden_activation").as_string(), "silu");
  EXPECT_EQ(f->get("bitnet-b1.58.rope.freq_base").as_f64(), 10000.0);
  const auto* out = f->find_tensor("output.weight");
  ASSERT_NE(out, nullptr);
  EXPECT_NE(std::memcmp(out->data, f->find_tensor("token_embd.weight")->data, out->nbytes), 0);
  EXPECT_EQ(f->tensors().size(), 39u);
}

TEST(Convert, VocabOnlyLlama3Tokenizer) {
  TempDir tmp;
  const fs::path src = fs::path(BITNET_TEST_DATA) / "tokenizer" / "llama3";
  auto f = gguf::File::open(convert_dir(src, tmp / "llama3-vocab.gguf", TensorType::F32, true).string());
  EXPECT_TRUE(f->tensors().empty());
  EXPECT_EQ(f->get_string("general.name", ""), "llama3");
  const Vocab v = vocab_from_gguf(*f);
  EXPECT_EQ(v.tokens.size(), 128256u);
  EXPECT_EQ(v.merges.size(), 280147u);
  const Tokenizer tok(v);
  // llama.cpp's Llama 3 test vectors.
  std::ifstream inp(src / "llama-bpe.inp"), out(src / "llama-bpe.out");
  std::stringstream ss;
  ss << inp.rdbuf();
  const std::string all = ss.str(), sep = "\n__ggml_vocab_test__\n";
  size_t pos = 0, n = 0;
  std::string line;
  while (true) {
    const size_t next = all.find(sep, pos);
    if (next == std::string::npos) break;
    const std::string text = all.substr(pos, next - pos);
    pos = next + sep.size();
    ASSERT_TRUE(std::getline(out, line));
    std::vector<int32_t> expected;
    std::istringstream ls(line);
    for (int32_t id; ls >> id;) expected.push_back(id);
    EXPECT_EQ(tok.encode(text, false, false), expected) << "text: " << text;
    ++n;
  }
  EXPECT_GT(n, 20u);
}

TEST(Convert, VocabOnlyWithConfig) {
  TempDir tmp;
  auto f = gguf::File::open(convert_dir(fixture_dir("hf-packed"), tmp / "v.gguf", TensorType::F32, true).string());
  EXPECT_TRUE(f->tensors().empty());
  EXPECT_EQ(f->architecture(), "bitnet-b1.58");
  EXPECT_EQ(f->get("bitnet-b1.58.block_count").as_u64(), 2u);
  EXPECT_EQ(vocab_from_gguf(*f).tokens.size(), 4096u);
  // An architecture we cannot convert still yields its tokenizer.
  const fs::path dir = copy_fixture(tmp, "hf-packed");
  auto cfg = read_json(dir / "config.json");
  cfg["architectures"] = {"FooForCausalLM"};
  write_json(dir / "config.json", cfg);
  fs::remove(dir / "model.safetensors");
  auto g = gguf::File::open(convert_dir(dir, tmp / "w.gguf", TensorType::F32, true).string());
  EXPECT_EQ(g->architecture(), "");
  EXPECT_EQ(vocab_from_gguf(*g).tokens.size(), 4096u);
}

// 2B-4T style packed checkpoint: linear_class autobitlinear stores alpha itself in weight_scale.
TEST(Convert, AutobitlinearOfflineWeightScaleIsAlpha) {
  TempDir tmp;
  const fs::path dir = copy_fixture(tmp, "hf-packed");
  auto cfg = read_json(dir / "config.json");
  cfg["quantization_config"]["linear_class"] = "autobitlinear";
  write_json(dir / "config.json", cfg);
  auto tensors = read_all(dir / "model.safetensors");
  std::map<std::string, float> alpha;  // what the file now stores: bf16(1 / bf16 s_w)
  for (auto& t : tensors) {
    if (!t.name.ends_with(".weight_scale")) continue;
    uint16_t h;
    std::memcpy(&h, t.bytes.data(), 2);
    h = f32_to_bf16(1.0f / bf16_to_f32(h));
    std::memcpy(t.bytes.data(), &h, 2);
    alpha[t.name] = bf16_to_f32(h);
  }
  write_safetensors(dir / "model.safetensors", tensors);
  auto f = gguf::File::open(convert_dir(dir, tmp / "auto.gguf").string());
  auto ref = gguf::File::open(convert_dir(fixture_dir("hf-packed"), tmp / "ref.gguf").string());
  const std::map<std::string, std::string> hf = {{"attn_q", "self_attn.q_proj"}, {"attn_k", "self_attn.k_proj"},
                                                 {"attn_v", "self_attn.v_proj"}, {"attn_output", "self_attn.o_proj"},
                                                 {"ffn_gate", "mlp.gate_proj"},  {"ffn_up", "mlp.up_proj"},
                                                 {"ffn_down", "mlp.down_proj"}};
  for (int l = 0; l < 2; ++l) {
    for (const auto& [g, h] : hf) {
      const std::string base = "blk." + std::to_string(l) + "." + g;
      SCOPED_TRACE(base);
      const auto ours = decode_ternary(*f->find_tensor(base + ".weight"), f->find_tensor(base + ".scale"));
      const auto theirs = decode_ternary(*ref->find_tensor(base + ".weight"), ref->find_tensor(base + ".scale"));
      EXPECT_EQ(ours.values, theirs.values);
      EXPECT_EQ(ours.scale, alpha.at("model.layers." + std::to_string(l) + "." + h + ".weight_scale"));
      EXPECT_LE(std::fabs(ours.scale - theirs.scale) / theirs.scale, std::ldexp(1.0, -8));
    }
  }
}

// A checkpoint split into shards with an index converts to exactly the same file.
TEST(Convert, ShardedCheckpointGivesSameFile) {
  TempDir tmp;
  const fs::path dir = copy_fixture(tmp, "hf-bf16");
  const auto tensors = read_all(dir / "model.safetensors");
  fs::remove(dir / "model.safetensors");
  std::vector<StTensor> a(tensors.begin(), tensors.begin() + tensors.size() / 2);
  std::vector<StTensor> b(tensors.begin() + tensors.size() / 2, tensors.end());
  write_safetensors(dir / "model-00001-of-00002.safetensors", a);
  write_safetensors(dir / "model-00002-of-00002.safetensors", b);
  nlohmann::json map;
  for (const auto& t : a) map[t.name] = "model-00001-of-00002.safetensors";
  for (const auto& t : b) map[t.name] = "model-00002-of-00002.safetensors";
  write_json(dir / "model.safetensors.index.json", {{"weight_map", map}});
  ConvertOptions opt;
  opt.hf_dir = dir.string();
  opt.out_path = (tmp / "sharded.gguf").string();
  opt.name = "n";
  convert::convert_checkpoint(opt);
  opt.hf_dir = fixture_dir("hf-bf16").string();
  opt.out_path = (tmp / "single.gguf").string();
  convert::convert_checkpoint(opt);
  std::ifstream x(tmp / "sharded.gguf", std::ios::binary), y(tmp / "single.gguf", std::ios::binary);
  const std::string sx((std::istreambuf_iterator<char>(x)), {}), sy((std::istreambuf_iterator<char>(y)), {});
  EXPECT_GT(sx.size(), 100000u);
  EXPECT_TRUE(sx == sy);
}

// The models committed in models/ are what the converter writes for the trained checkpoints
// (checked here through their content; the checkpoints themselves are not in the repository).
TEST(ShippedModels, StructureMetadataAndTokenizer) {
  for (const std::string name : {"tiny-bitnet-b1.58", "tiny-bitnet-a4.8"}) {
    SCOPED_TRACE(name);
    auto f = gguf::File::open((fs::path(BITNET_SOURCE_DIR) / "models" / (name + ".gguf")).string());
    EXPECT_EQ(f->architecture(), "bitnet-b1.58");
    EXPECT_EQ(f->get_string("general.name", ""), name);
    EXPECT_EQ(f->get("bitnet-b1.58.block_count").as_u64(), 8u);
    EXPECT_EQ(f->get("bitnet-b1.58.embedding_length").as_u64(), 512u);
    EXPECT_EQ(f->get("bitnet-b1.58.feed_forward_length").as_u64(), 1536u);
    EXPECT_EQ(f->get("bitnet-b1.58.attention.head_count_kv").as_u64(), 2u);
    EXPECT_EQ(f->tensors().size(), 146u);
    EXPECT_EQ(f->find("libbitnet.a48") != nullptr, name == "tiny-bitnet-a4.8");
    size_t zeros = 0, total = 0;
    for (const auto& t : f->tensors()) {
      if (t.type != TensorType::BT2) continue;
      const auto tw = decode_ternary(t, f->find_tensor(scale_tensor_name(t.name)));
      EXPECT_GT(tw.scale, 0.0f) << t.name;
      zeros += std::count(tw.values.begin(), tw.values.end(), 0);
      total += tw.values.size();
    }
    EXPECT_EQ(total, 8u * (512 * 512 * 2 + 512 * 128 * 2 + 512 * 1536 * 3));
    // The model card's "about 34% of the ternary weights are 0".
    EXPECT_NEAR(double(zeros) / double(total), 0.34, 0.03);
    const Tokenizer tok(vocab_from_gguf(*f));
    const auto prompts = read_json(fs::path(BITNET_TEST_DATA) / "tiny-bitnet" / "reference" / "prompts.json");
    for (const auto& p : prompts)
      EXPECT_EQ(tok.encode(p["prompt"].get<std::string>(), true, false), p["input_ids"].get<std::vector<int32_t>>());
  }
}

// ---- broken checkpoints

class BrokenCheckpoint : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = copy_fixture(tmp_, "hf-packed"); }
  void expect_convert_error(const std::vector<std::string>& needles) {
    const fs::path out = tmp_ / "out.gguf";
    expect_error([&] { convert_dir(dir_, out); }, needles);
    EXPECT_FALSE(fs::exists(out)) << "a failed conversion must not leave an output file";
    for (const auto& e : fs::directory_iterator(tmp_.path()))
      EXPECT_EQ(e.path().filename().string().find("out.gguf.tmp"), std::string::npos) << "leftover " << e.path();
  }
  void edit_config(const std::function<void(nlohmann::json&)>& fn) {
    auto cfg = read_json(dir_ / "config.json");
    fn(cfg);
    write_json(dir_ / "config.json", cfg);
  }
  void edit_tensors(const std::function<void(std::vector<StTensor>&)>& fn) {
    auto t = read_all(dir_ / "model.safetensors");
    fn(t);
    write_safetensors(dir_ / "model.safetensors", t);
  }
  StTensor& find(std::vector<StTensor>& ts, const std::string& name) {
    for (auto& t : ts)
      if (t.name == name) return t;
    throw std::runtime_error("no " + name);
  }
  TempDir tmp_;
  fs::path dir_;
};

TEST_F(BrokenCheckpoint, MissingTensor) {
  edit_tensors([](auto& ts) {
    std::erase_if(ts, [](const StTensor& t) { return t.name == "model.layers.1.mlp.up_proj.weight"; });
  });
  expect_convert_error({"no tensor 'model.layers.1.mlp.up_proj.weight'"});
}

TEST_F(BrokenCheckpoint, MissingWeightScale) {
  edit_tensors([](auto& ts) {
    std::erase_if(ts, [](const StTensor& t) { return t.name == "model.layers.0.self_attn.k_proj.weight_scale"; });
  });
  expect_convert_error({"model.layers.0.self_attn.k_proj.weight_scale"});
}

TEST_F(BrokenCheckpoint, ShapeMismatchAgainstConfig) {
  edit_config([](auto& c) { c["intermediate_size"] = 128; });
  expect_convert_error({"model.layers.0.mlp.gate_proj.weight", "has shape [48, 64], expected [32, 64]"});
}

TEST_F(BrokenCheckpoint, NormShapeMismatch) {
  edit_tensors([&](auto& ts) {
    auto& t = find(ts, "model.norm.weight");
    t.shape = {32};
    t.bytes.resize(64);
  });
  expect_convert_error({"model.norm.weight", "has shape [32], expected [64]"});
}

TEST_F(BrokenCheckpoint, UnknownArchitecture) {
  edit_config([](auto& c) {
    c["architectures"] = {"FooForCausalLM"};
    c["model_type"] = "foo";
  });
  expect_convert_error({"config.json", "unknown architecture 'FooForCausalLM'", "BitNet b1.58"});
}

TEST_F(BrokenCheckpoint, OtherFamiliesRefuseThisCheckpoint) {
  // Llama and 1bitLLM are converted now (llama_ternary_test.cpp, onebitllm_test.cpp), but this
  // packed BitNet checkpoint is neither.
  edit_config([](auto& c) { c["architectures"] = {"LlamaForCausalLM"}; });
  expect_convert_error({"hidden_act 'relu2' is not supported for llama"});
  edit_config([](auto& c) { c["architectures"] = {"BitnetForCausalLM"}; });
  expect_convert_error({"BitnetForCausalLM", "quantization_config", "1bitLLM"});
}

TEST_F(BrokenCheckpoint, UnsupportedDtype) {
  edit_tensors([&](auto& ts) { find(ts, "model.layers.0.self_attn.o_proj.weight").dtype = "I8"; });
  expect_convert_error({"model.layers.0.self_attn.o_proj.weight", "unsupported dtype I8"});
}

TEST_F(BrokenCheckpoint, UnsupportedNormDtype) {
  edit_tensors([&](auto& ts) { find(ts, "model.layers.1.input_layernorm.weight").dtype = "I16"; });
  expect_convert_error({"model.layers.1.input_layernorm.weight", "unsupported dtype I16"});
}

TEST_F(BrokenCheckpoint, TruncatedSafetensors) {
  const fs::path st = dir_ / "model.safetensors";
  fs::resize_file(st, fs::file_size(st) - 1000);
  expect_convert_error({"model.safetensors", "past the end", "truncated"});
}

TEST_F(BrokenCheckpoint, InvalidTernaryCode) {
  edit_tensors([&](auto& ts) { find(ts, "model.layers.1.self_attn.v_proj.weight").bytes[5] = 0xff; });
  expect_convert_error({"model.layers.1.self_attn.v_proj.weight", "not a ternary value"});
}

TEST_F(BrokenCheckpoint, UnknownLinearClass) {
  edit_config([](auto& c) { c["quantization_config"]["linear_class"] = "mystery"; });
  expect_convert_error({"'mystery'", "bitlinear"});
}

TEST_F(BrokenCheckpoint, PackedWithoutLinearClass) {
  edit_config([](auto& c) { c.erase("quantization_config"); });
  expect_convert_error({"packed uint8", "linear_class"});
}

TEST_F(BrokenCheckpoint, UnexpectedExtraTensor) {
  edit_tensors([](auto& ts) { ts.push_back({"model.layers.0.mlp.extra.weight", "F32", {1}, {0, 0, 0, 0}}); });
  expect_convert_error({"'model.layers.0.mlp.extra.weight'", "not used"});
}

TEST_F(BrokenCheckpoint, MissingConfigKeyAndBadValue) {
  edit_config([](auto& c) { c.erase("hidden_size"); });
  expect_convert_error({"config.json", "'hidden_size' is missing"});
  edit_config([](auto& c) {
    c["hidden_size"] = 64;
    c["num_hidden_layers"] = "two";
  });
  expect_convert_error({"'num_hidden_layers' must be a positive integer"});
}

TEST_F(BrokenCheckpoint, NonFiniteMasterWeight) {
  dir_ = copy_fixture(tmp_, "hf-bf16");
  edit_tensors([&](auto& ts) {
    auto& t = find(ts, "model.layers.0.mlp.down_proj.weight");
    t.bytes[2 * 7] = 0x80;  // bf16 0x7f80 = +inf at element 7
    t.bytes[2 * 7 + 1] = 0x7f;
  });
  expect_convert_error({"model.layers.0.mlp.down_proj.weight", "element 7", "not finite"});
}

TEST_F(BrokenCheckpoint, ExistingOutputSurvivesFailure) {
  const fs::path out = tmp_ / "keep.gguf";
  { std::ofstream(out) << "previous"; }
  edit_config([](auto& c) { c["intermediate_size"] = 128; });
  expect_error([&] { convert_dir(dir_, out); }, {"gate_proj"});
  std::ifstream in(out);
  std::string s;
  in >> s;
  EXPECT_EQ(s, "previous");
}

}  // namespace
}  // namespace bitnet::test
