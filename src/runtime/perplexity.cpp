#include "runtime/perplexity.h"

#include <algorithm>
#include <cmath>

#include "graph/context.h"
#include "model/model.h"
#include "util/error.h"

namespace bitnet {

double PerplexityResult::ppl() const {
  return n_predicted > 0 ? std::exp(nll_sum / double(n_predicted)) : 0.0;
}

double negative_log_likelihood(const float* logits, int64_t n_vocab, int32_t target) {
  float mx = logits[0];
  for (int64_t i = 1; i < n_vocab; ++i) mx = std::max(mx, logits[i]);
  double sum = 0;
  for (int64_t i = 0; i < n_vocab; ++i) sum += std::exp(double(logits[i]) - double(mx));
  return std::log(sum) - (double(logits[target]) - double(mx));
}

PerplexityResult compute_perplexity(Context& ctx, std::span<const int32_t> tokens, int64_t block,
                                    const std::function<void(const PerplexityResult&)>& on_block) {
  if (block < 2) fail("perplexity block size {} is too small (need at least 2)", block);
  if (block > ctx.n_ctx()) fail("perplexity block size {} exceeds the context size {}", block, ctx.n_ctx());
  const int64_t n_vocab = ctx.model().params().n_vocab;
  PerplexityResult r;
  for (int64_t start = 0; start + 1 < int64_t(tokens.size()); start += block) {
    const int64_t len = std::min<int64_t>(block, int64_t(tokens.size()) - start);
    ctx.reset();
    ctx.eval(tokens.subspan(size_t(start), size_t(len)), /*all_logits=*/true);
    PerplexityBlock b{start, len, len - 1, 0.0};
    for (int64_t i = 0; i + 1 < len; ++i)
      b.nll_sum += negative_log_likelihood(ctx.logits(i), n_vocab, tokens[size_t(start + i + 1)]);
    r.nll_sum += b.nll_sum;
    r.n_predicted += b.n_pred;
    r.blocks.push_back(b);
    if (on_block) on_block(r);
  }
  return r;
}

}  // namespace bitnet
