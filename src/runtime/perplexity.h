// Perplexity over non-overlapping windows (the protocol of the tiny-bitnet reference ppl.json):
// the token stream (BOS first, as the tokenizer adds it) is cut into blocks of n_ctx tokens; in
// each block, tokens 1..n-1 are predicted from the block prefix only.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

namespace bitnet {

class Context;

struct PerplexityBlock {
  int64_t start = 0, len = 0, n_pred = 0;
  double nll_sum = 0;
};

struct PerplexityResult {
  std::vector<PerplexityBlock> blocks;
  double nll_sum = 0;
  int64_t n_predicted = 0;
  double ppl() const;
};

// on_block(result so far) after each block, e.g. to print llama.cpp's "[i]ppl" progress.
PerplexityResult compute_perplexity(Context& ctx, std::span<const int32_t> tokens, int64_t block,
                                    const std::function<void(const PerplexityResult&)>& on_block = {});

// -log softmax(logits)[target], computed stably in double.
double negative_log_likelihood(const float* logits, int64_t n_vocab, int32_t target);

}  // namespace bitnet
