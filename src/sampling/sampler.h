// Token sampling with llama.cpp's defaults and chain order:
// repetition penalty -> top-k -> top-p -> min-p -> temperature -> draw. temp <= 0 is greedy.
#pragma once

#include <cstdint>
#include <deque>
#include <random>
#include <vector>

namespace bitnet {

struct SamplerParams {
  float temperature = 0.8f;
  int32_t top_k = 40;       // <= 0: off
  float top_p = 0.95f;      // >= 1: off
  float min_p = 0.05f;      // <= 0: off
  float repeat_penalty = 1.0f;  // 1: off
  int32_t repeat_last_n = 64;   // 0: off, -1: whole context
  uint64_t seed = 0xFFFFFFFFu;  // LLAMA_DEFAULT_SEED: pick a random seed
};

class Sampler {
 public:
  explicit Sampler(const SamplerParams& params);

  // Picks the next token from logits[n_vocab]. Does not record it; call accept().
  int32_t sample(const float* logits, int64_t n_vocab);
  // Records a token (prompt or generated) for the repetition penalty window.
  void accept(int32_t token);
  void reset();
  uint64_t seed() const { return seed_; }

 private:
  struct Candidate {
    int32_t id;
    float logit;
    float p;
  };
  SamplerParams params_;
  uint64_t seed_;
  std::mt19937_64 rng_;
  std::deque<int32_t> recent_;
  std::vector<Candidate> cand_;  // reused between calls
};

}  // namespace bitnet
