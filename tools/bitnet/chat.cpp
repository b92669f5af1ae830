// `bitnet chat`: a conversation on stdin/stdout, rendered with the model's chat template (detected
// from tokenizer.chat_template, or --chat-template NAME). Each reply streams to stdout and ends at
// an end-of-generation token (eos, <|eot_id|>). The KV cache keeps the conversation: each turn only
// evaluates the tokens the template adds after what is already cached.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "command.h"
#include "model_options.h"
#include "sampling/sampler.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace bitnet::cli {
namespace {

struct ChatOptions {
  ModelOptions model;
  SamplerParams sampling;
  int64_t seed = -1;
  std::string system_prompt;
  std::string template_name;
  int64_t n_predict = -1;
};

void run_chat(const ChatOptions& o) {
  auto model = load_model(o.model, nullptr);
  Tokenizer tokenizer(model->vocab());
  const ChatTemplate tmpl = ChatTemplate::for_vocab(model->vocab(), o.template_name);
  Context ctx(*model, context_params(o.model));
  Sampler sampler(resolve_seed(o.sampling, o.seed));
  const bool tty = isatty(fileno(stdin));
  std::fprintf(stderr, "chat template: %.*s; %s. Type a message, end with Ctrl-D.\n", int(tmpl.name().size()),
               tmpl.name().data(), ctx.scheme().describe().c_str());

  std::vector<ChatMessage> messages;
  if (!o.system_prompt.empty()) messages.push_back({"system", o.system_prompt});
  std::vector<int32_t> cached;  // tokens whose K/V are in the context, in order
  std::string line;
  for (;;) {
    if (tty) std::fprintf(stderr, "\n> ");
    if (!std::getline(std::cin, line)) break;
    if (line.empty()) continue;
    messages.push_back({"user", line});
    const std::vector<int32_t> prompt = tokenizer.encode(tmpl.render(messages, true), true, true);
    if (int64_t(prompt.size()) >= ctx.n_ctx())
      fail("the conversation is {} tokens long and no longer fits the context of {} (raise -c)", prompt.size(),
           ctx.n_ctx());
    // Reuse the cached prefix; re-evaluate from the first token that differs.
    size_t common = 0;
    while (common < cached.size() && common < prompt.size() && cached[common] == prompt[common]) ++common;
    if (common == prompt.size()) --common;  // at least one token must run to get logits
    if (common < cached.size()) {
      ctx.reset();
      ctx.eval(std::span<const int32_t>(prompt.data(), common));
    }
    ctx.eval(std::span<const int32_t>(prompt.data() + common, prompt.size() - common));
    cached = prompt;
    for (int32_t id : prompt) sampler.accept(id);

    Tokenizer::StreamDecoder stream(tokenizer);
    std::string reply;
    const int64_t budget = ctx.n_ctx() - ctx.n_past();
    const int64_t limit = o.n_predict < 0 ? budget : std::min(o.n_predict, budget);
    for (int64_t n = 0; n < limit; ++n) {
      const int32_t id = sampler.sample(ctx.logits(), model->params().n_vocab);
      sampler.accept(id);
      if (tokenizer.is_eog(id)) break;
      const std::string piece = stream.push(id);
      reply += piece;
      std::fwrite(piece.data(), 1, piece.size(), stdout);
      std::fflush(stdout);
      if (n + 1 < limit) {
        ctx.eval(std::span<const int32_t>(&id, 1));
        cached.push_back(id);
      }
    }
    const std::string rest = stream.flush();
    reply += rest;
    std::fwrite(rest.data(), 1, rest.size(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
    messages.push_back({"assistant", reply});
  }
}

void setup_chat(CLI::App& app) {
  auto o = std::make_shared<ChatOptions>();
  CLI::App* sub = app.add_subcommand("chat", "Chat with a model on stdin/stdout using its chat template");
  add_model_options(sub, o->model);
  add_sampling_options(sub, o->sampling, o->seed);
  sub->add_option("-n,--n-predict", o->n_predict, "Max tokens per reply (-1 = until end of turn)")->capture_default_str();
  sub->add_option("--system-prompt,--sys", o->system_prompt, "System message at the start of the conversation");
  std::string names;
  for (const auto& n : ChatTemplate::names()) names += (names.empty() ? "" : ", ") + n;
  sub->add_option("--chat-template", o->template_name,
                  "Chat format by name instead of the one detected from the model (" + names + ")");
  sub->callback([o] { run_chat(*o); });
}

}  // namespace

BITNET_REGISTER_COMMAND(chat, setup_chat)

}  // namespace bitnet::cli
