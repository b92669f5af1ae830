#include "model/hparams.h"

#include <utility>

#include "format/gguf.h"
#include "util/error.h"

namespace bitnet {
namespace {

// Caps that keep a hostile file from asking for absurd allocations before any tensor is checked.
constexpr int64_t kMaxLayers = 512;
constexpr int64_t kMaxDim = 1 << 20;
constexpr int64_t kMaxVocab = 1 << 24;

int64_t read_count(const gguf::File& f, const std::string& key, int64_t max, bool required,
                   int64_t fallback = 0) {
  const gguf::Value* v = f.find(key);
  if (!v) {
    if (required) fail("{}: missing metadata key '{}'", f.path(), key);
    return fallback;
  }
  if (!v->is_integer()) fail("{}: metadata '{}' must be an integer, got {}", f.path(), key,
                             gguf::value_type_name(v->type()));
  const int64_t n = v->as_i64();
  if (n <= 0 || n > max) fail("{}: metadata '{}' = {} is out of range (1..{})", f.path(), key, n, max);
  return n;
}

}  // namespace

bool is_supported_architecture(const std::string& arch) {
  return arch == "bitnet-b1.58" || arch == "bitnet-25" || arch == "bitnet" || arch == "llama";
}

const char* activation_name(FfnActivation a) { return a == FfnActivation::Relu2 ? "relu2" : "silu"; }

ModelParams read_model_params(const gguf::File& f) {
  ModelParams p;
  p.architecture = f.architecture();
  if (p.architecture.empty()) fail("{}: missing general.architecture", f.path());
  if (!is_supported_architecture(p.architecture))
    fail("{}: architecture '{}' is not supported (supported: bitnet-b1.58, bitnet-25, bitnet, llama with "
         "ternary projections)",
         f.path(), p.architecture);
  const std::string a = p.architecture + ".";
  p.name = f.get_string("general.name", "");
  p.n_embd = read_count(f, a + "embedding_length", kMaxDim, true);
  p.n_layer = read_count(f, a + "block_count", kMaxLayers, true);
  p.n_head = read_count(f, a + "attention.head_count", kMaxDim, true);
  p.n_head_kv = read_count(f, a + "attention.head_count_kv", kMaxDim, false, p.n_head);
  p.n_ff = read_count(f, a + "feed_forward_length", kMaxDim, true);
  p.n_ctx_train = read_count(f, a + "context_length", kMaxDim, false, 2048);
  if (p.n_embd % p.n_head != 0)
    fail("{}: embedding_length {} is not a multiple of head_count {}", f.path(), p.n_embd, p.n_head);
  p.head_dim = read_count(f, a + "rope.dimension_count", kMaxDim, false, p.n_embd / p.n_head);
  if (p.head_dim % 2 != 0) fail("{}: rope.dimension_count {} must be even", f.path(), p.head_dim);
  if (p.n_head % p.n_head_kv != 0)
    fail("{}: head_count {} is not a multiple of head_count_kv {}", f.path(), p.n_head, p.n_head_kv);
  // The int8 matmul kernels sum codes scaled by up to 64 times 128-valued activations exactly in
  // int32 only while a row has fewer than 2^17 entries (kernels.h); the largest real models use
  // ~29k, so a wider input is refused here rather than silently wrapping around.
  constexpr int64_t kMaxRowLength = (int64_t(1) << 17) - 1;
  const std::pair<const char*, int64_t> inputs[] = {
      {"embedding_length", p.n_embd}, {"feed_forward_length", p.n_ff}, {"head_count x head dim", p.n_head * p.head_dim}};
  for (const auto& [what, n] : inputs)
    if (n > kMaxRowLength)
      fail("{}: {} = {} exceeds {}, the widest matmul input this runtime computes exactly", f.path(), what, n,
           kMaxRowLength);
  // The vocab size comes from the token list when the key is absent (llama.cpp files omit it).
  const gguf::Value* tokens = f.find("tokenizer.ggml.tokens");
  const int64_t n_tokens = tokens && tokens->type() == gguf::ValueType::ARRAY ? int64_t(tokens->size()) : 0;
  p.n_vocab = read_count(f, a + "vocab_size", kMaxVocab, n_tokens == 0, n_tokens);
  p.rms_eps = float(f.get_f64(a + "attention.layer_norm_rms_epsilon", 1e-5));
  if (!(p.rms_eps > 0.0f && p.rms_eps < 1.0f)) fail("{}: layer_norm_rms_epsilon {} out of range", f.path(), p.rms_eps);
  p.rope_theta = float(f.get_f64(a + "rope.freq_base", 10000.0));
  if (!(p.rope_theta > 0.0f)) fail("{}: rope.freq_base {} must be positive", f.path(), p.rope_theta);

  // bitnet-b1.58 / bitnet-25 are ReLU² models; the 1bitLLM `bitnet` graph and `llama` are SiLU
  // unless the file says otherwise (llama.cpp's proposed bitnet.hidden_activation key).
  const bool silu_default = p.architecture == "bitnet" || p.architecture == "llama";
  std::string act = f.get_string(a + "hidden_activation", "");
  if (act.empty()) act = f.get_string(a + "hidden_act", "");
  if (act.empty()) act = silu_default ? "silu" : "relu2";
  if (act == "relu2" || act == "relu_sqr" || act == "relu_squared") p.activation = FfnActivation::Relu2;
  else if (act == "silu" || act == "swiglu") p.activation = FfnActivation::Silu;
  else fail("{}: unsupported hidden activation '{}' (expected relu2 or silu)", f.path(), act);
  // llama.cpp's rope types: LLAMA is NORM (adjacent pairs; its converter permutes q/k rows so that
  // this equals the checkpoint's rotate-half), BITNET and bitnet.cpp's BITNET_25/B158 are NEOX.
  p.rope_style = p.architecture == "llama" ? RopeStyle::Interleaved : RopeStyle::RotateHalf;
  // Context extension (Llama 3.1's frequency factors, YaRN, linear scaling) changes RoPE; we only
  // implement the plain form, so refuse rather than run it wrong.
  const std::string scaling = f.get_string(a + "rope.scaling.type", "none");
  const double factor = f.get_f64(a + "rope.scaling.factor", 1.0);
  if (scaling != "none" && !(scaling == "linear" && factor == 1.0))
    fail("{}: rope scaling '{}' (factor {}) is not supported; only unscaled RoPE is", f.path(), scaling, factor);
  if (f.find_tensor("rope_freqs.weight"))
    fail("{}: the file has rope_freqs.weight (Llama 3.1-style RoPE frequency factors), which is not supported",
         f.path());
  p.a48_trained = f.get_bool("libbitnet.a48", false);
  return p;
}

}  // namespace bitnet
