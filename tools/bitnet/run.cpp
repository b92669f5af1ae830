// `bitnet run`: text completion, streamed to stdout as tokens are produced.
// stdout carries only the prompt and the generated text; logs and the summary go to stderr.
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "command.h"
#include "model_options.h"
#include "sampling/sampler.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"
#include "util/log.h"

namespace bitnet::cli {
namespace {

std::atomic<int> g_interrupts{0};

void on_sigint(int) {
  // First Ctrl-C stops generation (the summary still prints); a second one exits at once.
  if (g_interrupts.fetch_add(1) >= 1) std::_Exit(130);
}

struct RunOptions {
  ModelOptions model;
  std::string prompt;
  std::string prompt_file;
  int64_t n_predict = -1;
  int64_t seed = -1;
  SamplerParams sampling;
  bool ignore_eos = false;
  bool no_display_prompt = false;
};

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

void run(const RunOptions& o) {
  std::string prompt = o.prompt;
  if (!o.prompt_file.empty()) {
    std::ifstream in(o.prompt_file, std::ios::binary);
    if (!in) fail("cannot open prompt file '{}'", o.prompt_file);
    std::stringstream ss;
    ss << in.rdbuf();
    prompt = ss.str();
  }
  double load_ms = 0;
  auto model = load_model(o.model, &load_ms);
  Tokenizer tokenizer(model->vocab());
  const std::vector<int32_t> prompt_ids = tokenizer.encode(prompt, /*add_special=*/true, /*parse_special=*/true);
  if (prompt_ids.empty()) fail("the prompt is empty and the model adds no BOS token; give -p TEXT");
  Context ctx(*model, context_params(o.model));
  if (int64_t(prompt_ids.size()) > ctx.n_ctx())
    fail("the prompt is {} tokens long but the context holds only {} (raise -c, at most the model's {})",
         prompt_ids.size(), ctx.n_ctx(), model->params().n_ctx_train);

  Sampler sampler(resolve_seed(o.sampling, o.seed));
  for (int32_t id : prompt_ids) sampler.accept(id);

  g_interrupts = 0;
  auto previous = std::signal(SIGINT, on_sigint);

  if (!o.no_display_prompt) {
    std::fwrite(prompt.data(), 1, prompt.size(), stdout);
    std::fflush(stdout);
  }
  const auto t_prompt = std::chrono::steady_clock::now();
  ctx.eval(prompt_ids);
  const double prompt_ms = ms_since(t_prompt);

  const int64_t budget = ctx.n_ctx() - ctx.n_past();
  const int64_t n_predict = o.n_predict < 0 ? budget : std::min(o.n_predict, budget);
  Tokenizer::StreamDecoder stream(tokenizer);
  int64_t n_generated = 0;
  const auto t_gen = std::chrono::steady_clock::now();
  const char* stop_reason = "length";
  while (n_generated < n_predict) {
    if (g_interrupts.load()) {
      stop_reason = "interrupted";
      break;
    }
    const int32_t id = sampler.sample(ctx.logits(), model->params().n_vocab);
    sampler.accept(id);
    ++n_generated;
    if (!o.ignore_eos && tokenizer.is_eog(id)) {
      stop_reason = "end of text";
      break;
    }
    const std::string piece = stream.push(id);
    std::fwrite(piece.data(), 1, piece.size(), stdout);
    std::fflush(stdout);
    if (n_generated < n_predict) ctx.eval(std::span<const int32_t>(&id, 1));
  }
  const std::string rest = stream.flush();
  std::fwrite(rest.data(), 1, rest.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
  const double gen_ms = ms_since(t_gen);
  std::signal(SIGINT, previous);

  // n_generated counts sampled tokens; all but the last were also evaluated.
  std::fprintf(stderr,
               "\n[%s] load %.1f ms | prompt %zu tokens in %.1f ms (%.2f t/s) | generated %lld tokens in %.1f ms "
               "(%.2f t/s) | %d threads, kernel %s, seed %llu\n[mode] %s\n",
               stop_reason, load_ms, prompt_ids.size(), prompt_ms, 1000.0 * double(prompt_ids.size()) / prompt_ms,
               static_cast<long long>(n_generated), gen_ms, n_generated > 0 ? 1000.0 * double(n_generated) / gen_ms : 0.0,
               ctx.n_threads(), model->kernel_name(), static_cast<unsigned long long>(sampler.seed()),
               ctx.scheme().describe().c_str());
}

void setup_run(CLI::App& app) {
  auto o = std::make_shared<RunOptions>();
  CLI::App* sub = app.add_subcommand("run", "Complete a prompt, streaming the generated text to stdout");
  add_model_options(sub, o->model);
  sub->add_option("-p,--prompt", o->prompt, "Prompt text")->capture_default_str();
  sub->add_option("-f,--file", o->prompt_file, "Read the prompt from a file");
  sub->add_option("-n,--n-predict", o->n_predict, "Tokens to generate (-1 = until end of text or a full context)")
      ->capture_default_str();
  add_sampling_options(sub, o->sampling, o->seed);
  sub->add_flag("--ignore-eos", o->ignore_eos, "Keep generating after an end-of-text token");
  sub->add_flag("--no-display-prompt", o->no_display_prompt, "Do not echo the prompt to stdout");
  sub->callback([o] { run(*o); });
}

}  // namespace

BITNET_REGISTER_COMMAND(run, setup_run)

}  // namespace bitnet::cli
