// The 1bitLLM converter family (BitnetForCausalLM -> GGUF "bitnet") on a synthetic tiny checkpoint
// in the 1bitLLM/bitnet_b1_58 layout: fp16 latent weights, inner_attn_ln / ffn_layernorm sub-norms,
// tied embeddings, vocab_size 32002 and a SentencePiece tokenizer.model. The model's tokenizer.model
// is written here by a small protobuf encoder from the LLaMA 2 vocab in
// tests/data/tokenizer/ggml-vocab-llama-spm.gguf (the tokenizer the 1bitLLM models use).
//
// Checks: the ternary codes and alphas are a direct absmean computation of the latent weights; the
// GGUF loads and runs to the logits of the scalar reference forward (SiLU, rotate-half RoPE on the
// unpermuted q/k, sub-norms); the converted tokenizer passes llama.cpp's llama-spm vectors;
// malformed tokenizer.model files give clear errors.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <random>

#include "convert/converter.h"
#include "convert/family.h"
#include "convert/test_helpers.h"
#include "format/gguf.h"
#include "format/half.h"
#include "format/tensor_codec.h"
#include "model/synthetic_model.h"
#include "model/tensor_plan.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/tokenizer_fixtures.h"
#include "tokenizer/vocab.h"
#include "util/error.h"

namespace bitnet::test {
namespace {

// ---- a minimal protobuf encoder (test side) for sentencepiece.ModelProto

void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out += char(uint8_t(v) | 0x80);
    v >>= 7;
  }
  out += char(uint8_t(v));
}
void put_key(std::string& out, uint32_t field, uint32_t wire) { put_varint(out, (uint64_t(field) << 3) | wire); }
void put_len(std::string& out, uint32_t field, std::string_view payload) {
  put_key(out, field, 2);
  put_varint(out, payload.size());
  out += payload;
}
void put_int(std::string& out, uint32_t field, int64_t v) {  // int32/enum/bool: sign-extended varint
  put_key(out, field, 0);
  put_varint(out, uint64_t(v));
}
void put_float(std::string& out, uint32_t field, float v) {
  put_key(out, field, 5);
  uint32_t bits;
  std::memcpy(&bits, &v, 4);
  for (int i = 0; i < 4; ++i) out += char(uint8_t(bits >> (8 * i)));
}

std::string spm_piece(const std::string& text, float score, int type) {
  std::string p;
  put_len(p, 1, text);
  if (score != 0.0f) put_float(p, 2, score);  // proto2 defaults (score 0, NORMAL) are omitted, as
  if (type != 1) put_int(p, 3, type);          // sentencepiece's own writer does
  return p;
}

// ModelProto of a Vocab: pieces, trainer_spec (BPE, byte_fallback, special ids), normalizer_spec.
std::string encode_spm_model(const Vocab& v, int model_type = 2, int32_t pad_id = -1) {
  std::string out;
  for (size_t i = 0; i < v.tokens.size(); ++i) put_len(out, 1, spm_piece(v.tokens[i], v.scores[i], int(v.types[i])));
  std::string trainer;
  put_int(trainer, 3, model_type);
  put_int(trainer, 4, int64_t(v.tokens.size()));  // vocab_size: skipped by the reader
  put_int(trainer, 35, 1);                        // byte_fallback
  put_int(trainer, 40, 0);
  put_int(trainer, 41, 1);
  put_int(trainer, 42, 2);
  put_int(trainer, 43, pad_id);  // -1: a 10-byte varint
  put_len(trainer, 45, "<unk>");
  put_len(out, 2, trainer);
  std::string norm;
  put_len(norm, 1, "identity");
  put_int(norm, 3, 1);  // add_dummy_prefix
  put_int(norm, 4, 0);  // remove_extra_whitespaces
  put_len(out, 3, norm);
  return out;
}

const Vocab& llama_spm_vocab() {
  static const Vocab v = [] {
    auto f = gguf::File::open(std::string(BITNET_TEST_DATA) + "/tokenizer/ggml-vocab-llama-spm.gguf");
    return vocab_from_gguf(*f);
  }();
  return v;
}

const std::string& llama_spm_model_bytes() {
  static const std::string bytes = encode_spm_model(llama_spm_vocab());
  return bytes;
}

void write_bytes(const fs::path& p, std::string_view bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), std::streamsize(bytes.size()));
}

// ---- the synthetic checkpoint

SynthSpec onebitllm_spec() {
  SynthSpec s;
  s.arch = "bitnet";
  s.n_embd = 64;
  s.n_ff = 128;
  s.n_head = 4;
  s.n_head_kv = 2;
  s.n_layer = 2;
  s.n_vocab = 32002;  // LLaMA 2's 32000 pieces + 2, as bitnet_b1_58-large / -3B
  s.rms_eps = 1e-5f;
  s.rope_theta = 10000.0f;
  s.sub_norms = true;
  s.separate_output = false;
  s.seed = 11;
  return s;
}

// fp16 latent weights [rows, cols]: k/4096/2^j with |k| < 2048 (exact in f16), some exact zeros.
std::vector<float> latent_weights(int64_t rows, int64_t cols, std::mt19937_64& rng) {
  std::uniform_int_distribution<int> k(-2047, 2047);
  const float spread = float(1 << (rng() % 3));  // per-tensor magnitude 1, 1/2, 1/4: alphas differ
  std::vector<float> w(size_t(rows * cols));
  for (auto& x : w) x = float(k(rng)) / 4096.0f / spread;
  return w;
}

// The direct absmean computation the converter must reproduce (1bitLLM's utils_quant.weight_quant):
// s = 1 / max(mean|W|, 1e-5) in float32, Wq = clamp(round_half_even(W * s), -1, 1), alpha = 1 / s.
SynthTernary absmean_ternary(const std::vector<float>& w, int64_t rows, int64_t cols) {
  double sum = 0;
  for (float x : w) sum += std::fabs(double(x));
  const float mean = float(sum / double(w.size()));
  const float s = 1.0f / std::fmax(mean, 1e-5f);
  SynthTernary t;
  t.rows = rows;
  t.cols = cols;
  t.codes.resize(w.size());
  for (size_t i = 0; i < w.size(); ++i) {
    const float q = std::nearbyint(w[i] * s);
    t.codes[i] = int8_t(std::clamp(q, -1.0f, 1.0f));
  }
  t.alpha = 1.0f / s;
  return t;
}

StTensor f16_tensor(const std::string& name, std::vector<uint64_t> shape, const std::vector<float>& v) {
  StTensor t{name, "F16", std::move(shape), std::vector<uint8_t>(v.size() * 2)};
  for (size_t i = 0; i < v.size(); ++i) {
    const uint16_t h = f32_to_f16(v[i]);
    if (f16_to_f32(h) != v[i]) throw std::runtime_error("test value not exact in f16: " + name);
    std::memcpy(t.bytes.data() + 2 * i, &h, 2);
  }
  return t;
}

struct Checkpoint {
  fs::path dir;
  SynthSpec spec;
  SynthWeights weights;  // ternary parts = the direct absmean result of the latent weights
};

nlohmann::json onebitllm_config(const SynthSpec& s, bool tied) {
  // The keys of 1bitLLM/bitnet_b1_58-*'s config.json (remote-code BitnetConfig = LlamaConfig +
  // weight_bits / input_bits).
  return {{"architectures", {"BitnetForCausalLM"}},
          {"auto_map", {{"AutoConfig", "configuration_bitnet.BitnetConfig"},
                        {"AutoModelForCausalLM", "modeling_bitnet.BitnetForCausalLM"}}},
          {"model_type", "llama"},
          {"attention_bias", false},
          {"bos_token_id", 1},
          {"eos_token_id", 2},
          {"pad_token_id", 32000},
          {"hidden_act", "silu"},
          {"hidden_size", s.n_embd},
          {"intermediate_size", s.n_ff},
          {"num_attention_heads", s.n_head},
          {"num_key_value_heads", s.n_head_kv},
          {"num_hidden_layers", s.n_layer},
          {"max_position_embeddings", 2048},
          {"rms_norm_eps", s.rms_eps},
          {"rope_scaling", nullptr},
          {"rope_theta", s.rope_theta},
          {"tie_word_embeddings", tied},
          {"torch_dtype", "float16"},
          {"vocab_size", s.n_vocab},
          {"weight_bits", 1},
          {"input_bits", 8}};
}

const char* kTokenizerConfig = R"({
  "add_bos_token": true, "add_eos_token": false,
  "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<pad>",
  "added_tokens_decoder": {
    "0": {"content": "<unk>", "special": true}, "1": {"content": "<s>", "special": true},
    "2": {"content": "</s>", "special": true}, "32000": {"content": "<pad>", "special": true}
  }
})";

Checkpoint write_checkpoint(const TempDir& tmp, bool tied = true, bool with_spm = true) {
  Checkpoint ck;
  ck.spec = onebitllm_spec();
  ck.spec.separate_output = !tied;
  const SynthSpec& s = ck.spec;
  ck.weights = make_synth_weights(s);  // embeddings and norms (exact in f16); ternaries replaced below
  ck.dir = tmp / "bitnet_b1_58-tiny";
  fs::create_directories(ck.dir);
  write_json(ck.dir / "config.json", onebitllm_config(s, tied));
  write_json(ck.dir / "generation_config.json", {{"bos_token_id", 1}, {"eos_token_id", 2}, {"pad_token_id", 32000}});
  if (with_spm) {
    write_bytes(ck.dir / "tokenizer.model", llama_spm_model_bytes());
    write_bytes(ck.dir / "tokenizer_config.json", kTokenizerConfig);
  }

  std::mt19937_64 rng(1234);
  std::vector<StTensor> ts;
  const uint64_t d = uint64_t(s.n_embd), nv = uint64_t(s.n_vocab);
  ts.push_back(f16_tensor("model.embed_tokens.weight", {nv, d}, ck.weights.embd));
  if (!tied) ts.push_back(f16_tensor("lm_head.weight", {nv, d}, ck.weights.output));
  ts.push_back(f16_tensor("model.norm.weight", {d}, ck.weights.output_norm));
  for (int64_t l = 0; l < s.n_layer; ++l) {
    SynthLayer& L = ck.weights.layers[size_t(l)];
    const std::string b = "model.layers." + std::to_string(l) + ".";
    ts.push_back(f16_tensor(b + "input_layernorm.weight", {d}, L.attn_norm));
    ts.push_back(f16_tensor(b + "post_attention_layernorm.weight", {d}, L.ffn_norm));
    ts.push_back(f16_tensor(b + "self_attn.inner_attn_ln.weight", {uint64_t(L.attn_sub_norm.size())}, L.attn_sub_norm));
    ts.push_back(f16_tensor(b + "mlp.ffn_layernorm.weight", {uint64_t(s.n_ff)}, L.ffn_sub_norm));
    for (auto& [name, t] : std::vector<std::pair<std::string, SynthTernary*>>{
             {"self_attn.q_proj", &L.wq}, {"self_attn.k_proj", &L.wk}, {"self_attn.v_proj", &L.wv},
             {"self_attn.o_proj", &L.wo}, {"mlp.gate_proj", &L.gate}, {"mlp.up_proj", &L.up},
             {"mlp.down_proj", &L.down}}) {
      const std::vector<float> latent = latent_weights(t->rows, t->cols, rng);
      ts.push_back(f16_tensor(b + name + ".weight", {uint64_t(t->rows), uint64_t(t->cols)}, latent));
      *t = absmean_ternary(latent, t->rows, t->cols);
    }
  }
  // A buffer some exporters save; the converter skips it.
  ts.push_back(f16_tensor("model.layers.0.self_attn.rotary_emb.inv_freq", {uint64_t(s.head_dim() / 2)},
                          std::vector<float>(size_t(s.head_dim() / 2), 1.0f)));
  write_safetensors(ck.dir / "model.safetensors", ts);
  return ck;
}

std::string convert(const TempDir& tmp, const fs::path& dir, bool vocab_only = false) {
  convert::ConvertOptions o;
  o.hf_dir = dir.string();
  o.out_path = (tmp / (vocab_only ? "vocab.gguf" : "model.gguf")).string();
  o.vocab_only = vocab_only;
  convert::convert_checkpoint(o);
  return o.out_path;
}

std::string show(const std::vector<int32_t>& ids) {
  std::string s;
  for (int32_t id : ids) {
    s += ' ';
    s += std::to_string(id);
  }
  return s;
}

// ---- conversion

TEST(OneBitLlmConvert, FamilyIsSelected) {
  convert::HfConfig c;
  c.json = onebitllm_config(onebitllm_spec(), true);
  const convert::FamilyHandler* f = convert::find_family(c);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->id, "1bitllm");
  EXPECT_EQ(f->gguf_architecture, "bitnet");
  EXPECT_NE(f->convert, nullptr);
}

class OneBitLlm : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tmp_ = new TempDir();
    ck_ = new Checkpoint(write_checkpoint(*tmp_));
    path_ = new std::string(convert(*tmp_, ck_->dir));
  }
  static void TearDownTestSuite() {
    delete path_;
    delete ck_;
    delete tmp_;
  }
  static TempDir* tmp_;
  static Checkpoint* ck_;
  static std::string* path_;
};
TempDir* OneBitLlm::tmp_ = nullptr;
Checkpoint* OneBitLlm::ck_ = nullptr;
std::string* OneBitLlm::path_ = nullptr;

TEST_F(OneBitLlm, MetadataAndTensorLayout) {
  auto f = gguf::File::open(*path_);
  const SynthSpec& s = ck_->spec;
  EXPECT_EQ(f->architecture(), "bitnet");
  EXPECT_EQ(f->get("bitnet.embedding_length").as_i64(), s.n_embd);
  EXPECT_EQ(f->get("bitnet.feed_forward_length").as_i64(), s.n_ff);
  EXPECT_EQ(f->get("bitnet.block_count").as_i64(), s.n_layer);
  EXPECT_EQ(f->get("bitnet.attention.head_count").as_i64(), s.n_head);
  EXPECT_EQ(f->get("bitnet.attention.head_count_kv").as_i64(), s.n_head_kv);
  EXPECT_EQ(f->get("bitnet.rope.dimension_count").as_i64(), s.head_dim());
  EXPECT_EQ(f->get("bitnet.vocab_size").as_i64(), s.n_vocab);
  EXPECT_EQ(f->get("bitnet.context_length").as_i64(), 2048);
  EXPECT_EQ(f->get_string("bitnet.hidden_activation", ""), "silu");
  EXPECT_EQ(f->get_string("bitnet.rope.scaling.type", ""), "linear");
  EXPECT_EQ(f->get_f64("bitnet.rope.scaling.factor", 0.0), 1.0);
  EXPECT_FLOAT_EQ(float(f->get_f64("bitnet.attention.layer_norm_rms_epsilon", 0.0)), s.rms_eps);
  EXPECT_EQ(f->get("general.file_type").as_i64(), int64_t(convert::kFileTypeMostlyBT2));
  EXPECT_EQ(f->get_string("tokenizer.ggml.model", ""), "llama");
  EXPECT_EQ(f->get_string("tokenizer.ggml.pre", ""), "default");

  // llama.cpp's LLM_ARCH_BITNET tensor set: no output.weight (tied), sub-norms, per-tensor scales.
  EXPECT_EQ(f->find_tensor("output.weight"), nullptr);
  EXPECT_EQ(f->tensors().size(), size_t(2 + s.n_layer * (4 + 2 * 7)));
  for (const char* n : {"blk.1.attn_sub_norm.weight", "blk.1.ffn_sub_norm.weight", "blk.0.attn_q.scale",
                        "blk.0.ffn_down.scale"})
    EXPECT_NE(f->find_tensor(n), nullptr) << n;
  EXPECT_EQ(f->find_tensor("blk.0.attn_q.weight")->type, TensorType::BT2);
  EXPECT_EQ(f->find_tensor("blk.0.attn_sub_norm.weight")->dims, (std::vector<uint64_t>{uint64_t(s.n_embd)}));
  EXPECT_EQ(f->find_tensor("blk.0.ffn_sub_norm.weight")->dims, (std::vector<uint64_t>{uint64_t(s.n_ff)}));
  EXPECT_TRUE(check_model_file(*f).empty());
}

TEST_F(OneBitLlm, TernaryCodesAndAlphasAreTheDirectAbsmean) {
  auto f = gguf::File::open(*path_);
  for (int64_t l = 0; l < ck_->spec.n_layer; ++l) {
    const SynthLayer& L = ck_->weights.layers[size_t(l)];
    // q/k unpermuted: GGUF row r is checkpoint row r (NEOX RoPE for arch bitnet).
    for (const auto& [gg, want] : std::vector<std::pair<std::string, const SynthTernary*>>{
             {"attn_q", &L.wq}, {"attn_k", &L.wk}, {"attn_v", &L.wv}, {"attn_output", &L.wo},
             {"ffn_gate", &L.gate}, {"ffn_up", &L.up}, {"ffn_down", &L.down}}) {
      const std::string base = "blk." + std::to_string(l) + "." + gg;
      const auto* wt = f->find_tensor(base + ".weight");
      const auto* sc = f->find_tensor(base + ".scale");
      ASSERT_NE(wt, nullptr) << base;
      ASSERT_NE(sc, nullptr) << base;
      const TernaryWeights got = decode_ternary(*wt, sc);
      EXPECT_EQ(got.rows, want->rows) << base;
      EXPECT_EQ(got.cols, want->cols) << base;
      EXPECT_TRUE(got.values == want->codes) << base;
      EXPECT_EQ(got.scale, want->alpha) << base;  // bit-exact: same float arithmetic
      size_t zeros = 0;
      for (int8_t c : got.values) zeros += c == 0;
      EXPECT_GT(zeros, 0u) << base;
      EXPECT_LT(zeros, got.values.size()) << base;
    }
  }
}

TEST_F(OneBitLlm, RunsLikeTheReferenceForward) {
  const SynthSpec& s = ck_->spec;
  const auto prompts = synth_prompts(s);
  const auto got = run_model(*path_, prompts);
  for (size_t i = 0; i < prompts.size(); ++i) {
    for (float x : got[i]) ASSERT_TRUE(std::isfinite(x)) << "prompt " << i;
    // The checkpoint's own semantics: SiLU gate, rotate-half RoPE on unpermuted q/k, sub-norms.
    const auto ref = reference_forward(s, ck_->weights, prompts[i], {.silu = true, .interleaved = false});
    const float err = max_abs_diff(got[i], ref);
    std::printf("prompt %zu: max abs err %.3g (max |logit| %.3g)\n", i, err, max_abs(ref));
    EXPECT_LE(err, 1e-4f * max_abs(ref)) << "prompt " << i;
  }
}

TEST_F(OneBitLlm, TokenizerPassesLlamaSpmVectors) {
  auto f = gguf::File::open(*path_);
  const Vocab v = vocab_from_gguf(*f);
  ASSERT_EQ(v.tokens.size(), 32002u);
  EXPECT_EQ(v.model, "llama");
  EXPECT_EQ(v.bos_id, 1);
  EXPECT_EQ(v.eos_id, 2);
  EXPECT_EQ(v.unk_id, 0);
  EXPECT_EQ(v.pad_id, 32000);
  EXPECT_TRUE(v.add_bos);
  EXPECT_FALSE(v.add_eos);
  EXPECT_TRUE(v.add_space_prefix);
  EXPECT_EQ(v.tokens[32000], "<pad>");
  EXPECT_EQ(v.types[32000], TokenType::Control);
  EXPECT_EQ(v.tokens[32001], "[PAD32001]");  // padding up to vocab_size, as llama.cpp's converter
  EXPECT_EQ(v.types[32001], TokenType::Unused);
  // The pieces themselves are exactly the LLaMA 2 vocab (scores of the ids tokenizer_config.json
  // lists are llama.cpp's -1000 for added tokens).
  const Vocab& ref = llama_spm_vocab();
  for (size_t i = 3; i < ref.tokens.size(); ++i) {
    ASSERT_EQ(v.tokens[i], ref.tokens[i]) << i;
    ASSERT_EQ(v.scores[i], ref.scores[i]) << i;
    ASSERT_EQ(v.types[i], ref.types[i]) << i;
  }
  const Tokenizer tok(v);
  const std::string data = std::string(BITNET_TEST_DATA) + "/tokenizer/ggml-vocab-llama-spm.gguf";
  const auto cases = load_vectors(data + ".inp", data + ".out");
  ASSERT_GE(cases.size(), 46u);
  size_t passed = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    const auto ids = tok.encode(cases[i].text, /*add_special=*/false, /*parse_special=*/false);
    if (ids == cases[i].ids) ++passed;
    else ADD_FAILURE() << "case " << i << " '" << cases[i].text << "'\n  expected:" << show(cases[i].ids)
                       << "\n  got:     " << show(ids);
  }
  std::printf("[ vectors  ] llama-spm via converted tokenizer.model: %zu/%zu passed\n", passed, cases.size());
  EXPECT_EQ(passed, cases.size());
  // BOS is added by default, as the LLaMA tokenizer does.
  const auto with_bos = tok.encode("Hello world", /*add_special=*/true, /*parse_special=*/false);
  ASSERT_FALSE(with_bos.empty());
  EXPECT_EQ(with_bos.front(), 1);
}

TEST(OneBitLlmConvert, UntiedCheckpointGetsOutputWeight) {
  TempDir tmp;
  const Checkpoint ck = write_checkpoint(tmp, /*tied=*/false);
  const std::string path = convert(tmp, ck.dir);
  auto f = gguf::File::open(path);
  ASSERT_NE(f->find_tensor("output.weight"), nullptr);
  EXPECT_TRUE(check_model_file(*f).empty());
  const auto prompts = synth_prompts(ck.spec);
  const auto got = run_model(path, {prompts[0]});
  const auto ref = reference_forward(ck.spec, ck.weights, prompts[0], {.silu = true, .interleaved = false});
  EXPECT_LE(max_abs_diff(got[0], ref), 1e-4f * max_abs(ref));
}

TEST(OneBitLlmConvert, VocabOnly) {
  TempDir tmp;
  const Checkpoint ck = write_checkpoint(tmp);
  fs::remove(ck.dir / "model.safetensors");
  auto f = gguf::File::open(convert(tmp, ck.dir, /*vocab_only=*/true));
  EXPECT_EQ(f->architecture(), "bitnet");
  EXPECT_EQ(f->tensors().size(), 0u);
  EXPECT_EQ(f->get("bitnet.block_count").as_i64(), ck.spec.n_layer);
  EXPECT_EQ(f->get("tokenizer.ggml.tokens").size(), 32001u);  // 32000 pieces + <pad>; no padding in vocab-only
}

TEST(OneBitLlmConvert, TokenizerJsonFallbackAndPreference) {
  TempDir tmp;
  Checkpoint ck = write_checkpoint(tmp, true, /*with_spm=*/false);
  // Only tokenizer.json (here the tiny fixture's byte-level BPE): it is used.
  for (const char* n : {"tokenizer.json", "tokenizer_config.json"})
    fs::copy_file(fixture_dir("hf-bf16") / n, ck.dir / n, fs::copy_options::overwrite_existing);
  {
    auto f = gguf::File::open(convert(tmp, ck.dir));
    EXPECT_EQ(f->get_string("tokenizer.ggml.model", ""), "gpt2");
    EXPECT_EQ(f->get("tokenizer.ggml.tokens").size(), 32002u);
  }
  // Both: tokenizer.model wins, as in llama.cpp's converter.
  write_bytes(ck.dir / "tokenizer.model", llama_spm_model_bytes());
  write_bytes(ck.dir / "tokenizer_config.json", kTokenizerConfig);
  {
    auto f = gguf::File::open(convert(tmp, ck.dir));
    EXPECT_EQ(f->get_string("tokenizer.ggml.model", ""), "llama");
  }
  // Neither: a clear error.
  fs::remove(ck.dir / "tokenizer.model");
  fs::remove(ck.dir / "tokenizer.json");
  expect_error([&] { convert(tmp, ck.dir); }, {"no tokenizer.model", "tokenizer.json"});
}

TEST(OneBitLlmConvert, ConfigErrors) {
  TempDir tmp;
  const Checkpoint ck = write_checkpoint(tmp);
  auto edit = [&](const std::function<void(nlohmann::json&)>& fn) {
    nlohmann::json c = onebitllm_config(ck.spec, true);
    fn(c);
    write_json(ck.dir / "config.json", c);
  };
  edit([](auto& c) { c["weight_bits"] = 2; });
  expect_error([&] { convert(tmp, ck.dir); }, {"weight_bits 2"});
  edit([](auto& c) { c["input_bits"] = 4; });
  expect_error([&] { convert(tmp, ck.dir); }, {"input_bits 4"});
  edit([](auto& c) { c["hidden_act"] = "gelu"; });
  expect_error([&] { convert(tmp, ck.dir); }, {"hidden_act 'gelu'"});
  edit([](auto& c) { c["rope_scaling"] = {{"type", "linear"}, {"factor", 2.0}}; });
  expect_error([&] { convert(tmp, ck.dir); }, {"rope_scaling", "not supported"});
  edit([](auto& c) { c["intermediate_size"] = 96; });
  expect_error([&] { convert(tmp, ck.dir); }, {"mlp.gate_proj.weight", "expected [96, 64]"});
  edit([](auto&) {});
  // A 2B-4T-style tensor name in a 1bitLLM checkpoint: missing inner_attn_ln.
  auto ts = read_all(ck.dir / "model.safetensors");
  for (auto& t : ts)
    if (t.name == "model.layers.1.self_attn.inner_attn_ln.weight") t.name = "model.layers.1.self_attn.attn_sub_norm.weight";
  write_safetensors(ck.dir / "model.safetensors", ts);
  expect_error([&] { convert(tmp, ck.dir); }, {"model.layers.1.self_attn.inner_attn_ln.weight", "blk.1.attn_sub_norm"});
}

// ---- tokenizer.model parsing

TEST(SpmModel, ParsesPiecesAndSpecs) {
  const Vocab v = vocab_from_spm_proto(llama_spm_model_bytes(), "tokenizer.model");
  const Vocab& ref = llama_spm_vocab();
  EXPECT_EQ(v.model, "llama");
  EXPECT_TRUE(v.tokens == ref.tokens);
  EXPECT_TRUE(v.scores == ref.scores);
  EXPECT_TRUE(v.types == ref.types);
  EXPECT_EQ(v.unk_id, 0);
  EXPECT_EQ(v.bos_id, 1);
  EXPECT_EQ(v.eos_id, 2);
  EXPECT_EQ(v.pad_id, -1);
  EXPECT_TRUE(v.add_bos);
  EXPECT_TRUE(v.add_space_prefix);
}

TEST(SpmModel, DirectoryWithoutConfigAndVocabFromPath) {
  TempDir tmp;
  write_bytes(tmp / "tokenizer.model", llama_spm_model_bytes());
  const Vocab a = vocab_from_spm_model(tmp.path().string());
  const Vocab b = vocab_from_path((tmp / "tokenizer.model").string());
  const Vocab c = vocab_from_path(tmp.path().string());
  EXPECT_EQ(a.tokens.size(), 32000u);
  EXPECT_TRUE(a.tokens == b.tokens && a.tokens == c.tokens);
  // add_dummy_prefix false -> no leading space piece.
  std::string proto = llama_spm_model_bytes();
  std::string norm;
  put_int(norm, 3, 0);
  put_len(proto, 3, norm);  // a later field of a message merges into the earlier one
  EXPECT_FALSE(vocab_from_spm_proto(proto, "m").add_space_prefix);
}

std::string expect_spm_error(std::string_view bytes, const std::vector<std::string>& needles) {
  try {
    vocab_from_spm_proto(bytes, "tokenizer.model");
  } catch (const Error& e) {
    const std::string msg = e.what();
    for (const auto& n : needles) EXPECT_NE(msg.find(n), std::string::npos) << "message: " << msg << "\nmissing: " << n;
    return msg;
  }
  ADD_FAILURE() << "expected an error containing '" << needles.front() << "'";
  return "";
}

std::string small_model(const std::vector<std::string>& extra_pieces = {}) {
  std::string out;
  put_len(out, 1, spm_piece("<unk>", 0, 2));
  put_len(out, 1, spm_piece("<s>", 0, 3));
  put_len(out, 1, spm_piece("</s>", 0, 3));
  put_len(out, 1, spm_piece("\xE2\x96\x81" "a", -1.0f, 1));
  for (const auto& p : extra_pieces) put_len(out, 1, p);
  std::string trainer;
  put_int(trainer, 3, 2);
  put_len(out, 2, trainer);
  return out;
}

TEST(SpmModel, MalformedDataGivesClearErrors) {
  ASSERT_EQ(vocab_from_spm_proto(small_model(), "m").tokens.size(), 4u);
  // Truncated varint: a length prefix whose continuation bit runs into the end of the data.
  expect_spm_error(std::string("\x0a\x85", 2), {"tokenizer.model", "truncated varint", "byte 1"});
  // Truncated key varint.
  expect_spm_error(small_model() + "\x80", {"truncated varint", "field key"});
  // Length past the end.
  expect_spm_error(std::string("\x0a\x05" "ab", 4), {"field 1 at byte 0", "length 5 runs past the end", "2 byte(s) left"});
  // Same inside a nested message: the piece's text claims more than the piece holds.
  {
    std::string piece;
    put_key(piece, 1, 2);
    put_varint(piece, 40);
    piece += "abc";
    std::string m;
    put_len(m, 1, piece);
    expect_spm_error(m, {"length 40 runs past the end"});
  }
  // Wrong wire types: pieces as a varint, a score as a varint, a type as a string.
  expect_spm_error(std::string("\x08\x01", 2), {"field 1 (piece 0)", "wire type 0 (VARINT), expected 2 (LEN)"});
  {
    std::string piece;
    put_len(piece, 1, "x");
    put_int(piece, 2, 5);
    std::string m;
    put_len(m, 1, piece);
    expect_spm_error(m, {"piece 0 score", "expected 5 (I32)"});
    std::string piece2;
    put_len(piece2, 1, "x");
    put_len(piece2, 3, "NORMAL");
    std::string m2;
    put_len(m2, 1, piece2);
    expect_spm_error(m2, {"piece 0 type", "expected 0 (VARINT)"});
  }
  // Trainer spec as a fixed64.
  expect_spm_error(small_model() + std::string("\x11" "12345678", 9), {"field 2 (trainer_spec)", "wire type 1"});
  // Groups, invalid wire type, field number 0.
  expect_spm_error(small_model() + "\x0b", {"groups", "not supported"});
  expect_spm_error(small_model() + "\x0f", {"invalid wire type 7"});
  expect_spm_error(std::string("\x02\x00", 2), {"invalid field number 0"});
  // Varint overflow and over-long varints.
  expect_spm_error(small_model() + std::string("\x18") + std::string(9, '\xff') + "\x02", {"overflows 64 bits"});
  expect_spm_error(small_model() + std::string("\x18") + std::string(10, '\xff') + "\x01", {"overflows 64 bits"});
  // Truncated fixed32 (a score cut short at the end of its piece).
  {
    std::string piece;
    put_len(piece, 1, "x");
    put_key(piece, 2, 5);
    piece += "\x01\x02";
    std::string m;
    put_len(m, 1, piece);
    expect_spm_error(m, {"4-byte value runs past the end", "2 byte(s) left"});
  }
  // Content errors.
  expect_spm_error("", {"no pieces"});
  expect_spm_error(small_model({spm_piece("", 0, 1)}), {"piece 4", "has no text"});
  expect_spm_error(small_model({spm_piece("b", 0, 9)}), {"piece 4 ('b') has type 9"});
  expect_spm_error(small_model({spm_piece("b", std::nanf(""), 1)}), {"piece 4 ('b') has a NaN score"});
  expect_spm_error(small_model({spm_piece("\xff", 0, 1)}), {"piece 4", "invalid UTF-8"});
  {
    std::string m = small_model();
    std::string trainer;
    put_int(trainer, 41, 99);
    put_len(m, 2, trainer);
    expect_spm_error(m, {"bos_id = 99 is out of range"});
  }
  {
    std::string m;
    put_len(m, 1, spm_piece("a", 0, 1));
    std::string trainer;
    put_int(trainer, 3, 1);
    put_len(m, 2, trainer);
    expect_spm_error(m, {"model_type 1 (UNIGRAM) is not supported", "BPE"});
  }
}

TEST(SpmModel, TruncationsAndCorruptionsNeverCrash) {
  // Every prefix of a small model and random single-byte corruptions of the real one: either a
  // vocab or a bitnet::Error, nothing else.
  const std::string small = small_model();
  for (size_t n = 0; n < small.size(); ++n) {
    try {
      vocab_from_spm_proto(std::string_view(small).substr(0, n), "m");
    } catch (const Error&) {
    }
  }
  const std::string& real = llama_spm_model_bytes();
  std::mt19937_64 rng(99);
  size_t errors = 0;
  for (int i = 0; i < 100; ++i) {
    std::string bad = real.substr(0, real.size() - rng() % 64);
    bad[rng() % bad.size()] = char(rng());
    try {
      vocab_from_spm_proto(bad, "m");
    } catch (const Error&) {
      ++errors;
    }
  }
  EXPECT_GT(errors, 0u);
}

TEST(SpmModel, FileErrors) {
  TempDir tmp;
  expect_error([&] { vocab_from_spm_model(tmp.path().string()); }, {"no tokenizer.model"});
  write_bytes(tmp / "tokenizer.model", std::string("\x0a\x05" "ab", 4));
  expect_error([&] { vocab_from_spm_model(tmp.path().string()); },
               {(tmp / "tokenizer.model").string(), "length 5 runs past the end"});
  write_bytes(tmp / "tokenizer.model", llama_spm_model_bytes());
  write_bytes(tmp / "tokenizer_config.json", R"({"added_tokens_decoder": {"x": {"content": "<a>"}}})");
  expect_error([&] { vocab_from_spm_model(tmp.path().string()); }, {"added_tokens_decoder key 'x'"});
  write_bytes(tmp / "tokenizer_config.json", "{}");
  write_bytes(tmp / "added_tokens.json", R"({"<extra>": 32005, "\u2581hi": 32001})");
  const Vocab v = vocab_from_spm_model(tmp.path().string());
  ASSERT_EQ(v.tokens.size(), 32006u);
  EXPECT_EQ(v.tokens[32005], "<extra>");
  EXPECT_EQ(v.types[32005], TokenType::UserDefined);
  EXPECT_EQ(v.tokens[32002], "[PAD32002]");
  EXPECT_EQ(v.types[32002], TokenType::Unused);
}

}  // namespace
}  // namespace bitnet::test
