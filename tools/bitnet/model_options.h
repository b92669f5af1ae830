// Flags shared by every subcommand that loads a model (run, perplexity, bench, ...), named as in
// llama.cpp: -m, -c, -t, -b, plus --isa.
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <string>

#include "graph/context.h"
#include "model/model.h"
#include "sampling/sampler.h"

namespace bitnet::cli {

struct ModelOptions {
  std::string model;  // empty: the model shipped in models/
  int64_t n_ctx = 0;
  int64_t n_batch = 512;
  int n_threads = 0;
  std::string isa;
  // BitNet a4.8 switches (ContextParams semantics; see docs/a48.md).
  bool a48 = false, no_a48 = false;
  int act_bits = 0;
  int kv_bits = 0;
  std::string topk_o;  // "", "on", "off"
  std::string lm_head = "int8";
  std::string sparse = "auto";  // exact-sparsity layouts: auto (ReLU² models), on, off
};

void add_model_options(CLI::App* sub, ModelOptions& o, int64_t default_ctx = 0);
// Only the precision/mode switches of ModelOptions (--lm-head, --a48, --act-bits, --kv-bits,
// --topk-o, --sparse), for commands with their own -c/-t handling such as bench.
void add_mode_options(CLI::App* sub, ModelOptions& o);

// llama.cpp's sampling flags and defaults: -s --temp --top-k --top-p --min-p --repeat-penalty
// --repeat-last-n. seed < 0 means random.
void add_sampling_options(CLI::App* sub, SamplerParams& s, int64_t& seed);
SamplerParams resolve_seed(SamplerParams s, int64_t seed);

// Applies --isa, resolves the default model path, loads the model (with a progress line on a
// terminal) and logs the load time. load_ms receives the wall time.
std::unique_ptr<Model> load_model(const ModelOptions& o, double* load_ms);
ContextParams context_params(const ModelOptions& o);

}  // namespace bitnet::cli
