// `bitnet perplexity`: perplexity of a text over non-overlapping windows of -c tokens, ending with
// llama.cpp's "Final estimate: PPL = X" line.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "command.h"
#include "model_options.h"
#include "runtime/perplexity.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace bitnet::cli {
namespace {

struct PerplexityOptions {
  ModelOptions model;
  std::string file;
};

void run_perplexity(const PerplexityOptions& o) {
  std::ifstream in(o.file, std::ios::binary);
  if (!in) fail("cannot open text file '{}'", o.file);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();

  double load_ms = 0;
  auto model = load_model(o.model, &load_ms);
  Tokenizer tokenizer(model->vocab());
  const std::vector<int32_t> tokens = tokenizer.encode(text, /*add_special=*/true, /*parse_special=*/false);
  ModelOptions mo = o.model;
  ContextParams cp = context_params(mo);
  Context ctx(*model, cp);
  const int64_t block = ctx.n_ctx();
  if (int64_t(tokens.size()) < 2) fail("'{}' has {} tokens; need at least 2", o.file, tokens.size());
  const int64_t n_blocks = (int64_t(tokens.size()) - 1 + block - 1) / block;
  std::fprintf(stderr, "perplexity: %zu tokens, %lld windows of %lld tokens, %d threads, mode %s\n", tokens.size(),
               static_cast<long long>(n_blocks), static_cast<long long>(block), ctx.n_threads(),
               ctx.scheme().describe().c_str());
  const auto t0 = std::chrono::steady_clock::now();
  const PerplexityResult r = compute_perplexity(ctx, tokens, block, [&](const PerplexityResult& so_far) {
    std::fprintf(stderr, "[%zu]%.4f,", so_far.blocks.size(), so_far.ppl());
    std::fflush(stderr);
  });
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::fprintf(stderr, "\n%lld tokens scored in %.2f s (%.1f t/s)\n", static_cast<long long>(r.n_predicted), secs,
               double(tokens.size()) / secs);
  std::printf("Final estimate: PPL = %.4f\n", r.ppl());
}

void setup_perplexity(CLI::App& app) {
  auto o = std::make_shared<PerplexityOptions>();
  CLI::App* sub = app.add_subcommand("perplexity", "Perplexity of a text file over non-overlapping windows");
  add_model_options(sub, o->model, /*default_ctx=*/512);
  sub->add_option("-f,--file", o->file, "Text file to score")->required();
  sub->callback([o] { run_perplexity(*o); });
}

}  // namespace

BITNET_REGISTER_COMMAND(perplexity, setup_perplexity)

}  // namespace bitnet::cli
