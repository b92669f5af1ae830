#include "model_options.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "command.h"
#include "kernels.h"
#include "util/error.h"
#include "util/log.h"

namespace bitnet::cli {

void add_model_options(CLI::App* sub, ModelOptions& o, int64_t default_ctx) {
  o.n_ctx = default_ctx;
  sub->add_option("-m,--model", o.model, "Model file (GGUF); default: the model shipped in models/")
      ->envname("BITNET_MODEL");
  sub->add_option("-c,--ctx-size", o.n_ctx, "Context size in tokens (0 = the model's training context)")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  sub->add_option("-b,--batch-size", o.n_batch, "Max tokens per forward pass during prompt processing")
      ->capture_default_str()->check(CLI::PositiveNumber);
  sub->add_option("-t,--threads", o.n_threads, "Threads (0 = all hardware threads)")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  sub->add_option("--isa", o.isa, "Force a kernel ISA level: scalar, avx2, avx512, neon (default: best available)")
      ->envname("BITNET_ISA");
  add_mode_options(sub, o);
  add_verbosity_flags(*sub);
}

void add_mode_options(CLI::App* sub, ModelOptions& o) {
  sub->add_flag("--a48", o.a48, "Run in BitNet a4.8 mode (int4 q/k/v/gate/up inputs, top-50% o_proj input); "
                "default for files trained for it");
  sub->add_flag("--no-a48", o.no_a48, "Run a4.8-trained files in plain b1.58 mode (int8 activations)");
  sub->add_option("--act-bits", o.act_bits, "Bits of the q/k/v and gate/up inputs: 8 or 4 (default: 4 in a4.8 mode, else 8)")
      ->check(CLI::IsMember({8, 4}));
  sub->add_option("--kv-bits", o.kv_bits, "KV cache precision: 32 (f32, default), 16, 8, 4 or 3 (BOS kept at 4)")
      ->check(CLI::IsMember({32, 16, 8, 4, 3}));
  sub->add_option("--topk-o", o.topk_o, "Top-50% sparsification of the o_proj input: on or off (default: on in a4.8 mode)")
      ->check(CLI::IsMember({"on", "off"}));
  sub->add_option("--lm-head", o.lm_head,
                  "LM head precision: int8 (a per-row int8 copy made at load, default: half the bytes of f16) or "
                  "f16 (keep the file's own precision)")
      ->check(CLI::IsMember({"int8", "f16"}))->capture_default_str();
  sub->add_option("--sparse", o.sparse,
                  "Exact-sparsity decode (skip up rows whose ReLU² gate is 0 and zero inputs of down/o_proj; same "
                  "results): auto (ReLU² models, each matmul only when at least 75% of its work is zero), on (always), "
                  "off (dense kernels only)")
      ->check(CLI::IsMember({"auto", "on", "off"}))->capture_default_str();
}

void add_sampling_options(CLI::App* sub, SamplerParams& s, int64_t& seed) {
  sub->add_option("-s,--seed", seed, "RNG seed (-1 = random)")->capture_default_str();
  sub->add_option("--temp", s.temperature, "Temperature (0 = greedy)")->capture_default_str();
  sub->add_option("--top-k", s.top_k, "Top-k sampling (0 = off)")->capture_default_str();
  sub->add_option("--top-p", s.top_p, "Top-p sampling (1.0 = off)")->capture_default_str();
  sub->add_option("--min-p", s.min_p, "Min-p sampling (0.0 = off)")->capture_default_str();
  sub->add_option("--repeat-penalty", s.repeat_penalty, "Penalty for repeated tokens (1.0 = off)")->capture_default_str();
  sub->add_option("--repeat-last-n", s.repeat_last_n, "Tokens considered for the penalty (0 = off, -1 = context)")
      ->capture_default_str();
}

SamplerParams resolve_seed(SamplerParams s, int64_t seed) {
  s.seed = seed < 0 ? 0xFFFFFFFFu : uint64_t(seed);
  return s;
}

std::unique_ptr<Model> load_model(const ModelOptions& o, double* load_ms) {
  if (!o.isa.empty()) {
    kernels::Isa isa;
    if (!kernels::parse_isa(o.isa.c_str(), &isa)) fail("unknown --isa '{}' (scalar, avx2, avx512, neon)", o.isa);
    if (!kernels::kernels_for(isa)) fail("--isa {}: not supported by this CPU or build", o.isa);
    kernels::force_isa(isa);
  }
  const std::string path = o.model.empty() ? default_model_path() : o.model;
  const bool tty = isatty(fileno(stderr));
  LoadOptions lo;
  lo.lm_head = o.lm_head == "f16" ? LmHeadMode::Original : LmHeadMode::Int8;
  lo.sparse = o.sparse == "off" ? 0 : o.sparse == "on" ? 1 : -1;
  // TopK-50% asked for on any model: build o_proj's column layout so its zeroed half is skipped.
  if (o.sparse == "off") lo.sparse_o = 0;
  else if (o.a48 || o.topk_o == "on") lo.sparse_o = 1;
  int last_percent = -1;
  if (tty) {
    lo.progress = [&](float f) {
      const int percent = int(f * 100);
      if (percent != last_percent) {
        std::fprintf(stderr, "\rloading %s: %3d%%", path.c_str(), percent);
        last_percent = percent;
      }
      return true;
    };
  }
  const auto t0 = std::chrono::steady_clock::now();
  auto model = Model::load(path, lo);
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  if (tty) std::fprintf(stderr, "\r\033[K");
  const ModelParams& p = model->params();
  log_info("model: {} ({}, {} layers, {} embd, {} vocab); kernel {}; loaded in {:.0f} ms", path,
           p.architecture, p.n_layer, p.n_embd, p.n_vocab, model->kernel_name(), ms);
  if (load_ms) *load_ms = ms;
  return model;
}

ContextParams context_params(const ModelOptions& o) {
  ContextParams cp;
  cp.n_ctx = o.n_ctx;
  cp.n_batch = o.n_batch;
  cp.n_threads = o.n_threads;
  if (o.a48 && o.no_a48) fail("--a48 and --no-a48 contradict each other");
  cp.a48 = o.a48 ? 1 : o.no_a48 ? 0 : -1;
  cp.act_bits = o.act_bits;
  cp.kv_bits = o.kv_bits;
  cp.topk_o = o.topk_o.empty() ? -1 : o.topk_o == "on" ? 1 : 0;
  return cp;
}

}  // namespace bitnet::cli
