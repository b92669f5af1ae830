#include "sampling/sampler.h"

#include <algorithm>
#include <cmath>
#include <unordered_set>

namespace bitnet {

Sampler::Sampler(const SamplerParams& params) : params_(params) {
  seed_ = params.seed == 0xFFFFFFFFu ? std::random_device{}() : params.seed;
  rng_.seed(seed_);
}

void Sampler::reset() {
  recent_.clear();
  rng_.seed(seed_);
}

void Sampler::accept(int32_t token) {
  if (params_.repeat_last_n == 0) return;
  recent_.push_back(token);
  if (params_.repeat_last_n > 0)
    while (int32_t(recent_.size()) > params_.repeat_last_n) recent_.pop_front();
}

int32_t Sampler::sample(const float* logits, int64_t n_vocab) {
  cand_.resize(size_t(n_vocab));
  for (int64_t i = 0; i < n_vocab; ++i) cand_[i] = {int32_t(i), logits[i], 0.0f};

  // Repetition penalty (CTRL-style, as llama.cpp): divide positive logits, multiply negative ones.
  if (params_.repeat_penalty != 1.0f && !recent_.empty()) {
    std::unordered_set<int32_t> seen(recent_.begin(), recent_.end());
    for (int32_t id : seen) {
      if (id < 0 || id >= n_vocab) continue;
      float& l = cand_[id].logit;
      l = l > 0 ? l / params_.repeat_penalty : l * params_.repeat_penalty;
    }
  }

  auto by_logit = [](const Candidate& a, const Candidate& b) {
    return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
  };
  if (params_.temperature <= 0.0f) {
    return std::min_element(cand_.begin(), cand_.end(), by_logit)->id;
  }

  size_t n = cand_.size();
  if (params_.top_k > 0 && size_t(params_.top_k) < n) {
    std::partial_sort(cand_.begin(), cand_.begin() + params_.top_k, cand_.end(), by_logit);
    n = size_t(params_.top_k);
  } else {
    std::sort(cand_.begin(), cand_.end(), by_logit);
  }
  auto softmax = [&](size_t count) {
    const float mx = cand_[0].logit;
    double sum = 0;
    for (size_t i = 0; i < count; ++i) {
      cand_[i].p = std::exp(cand_[i].logit - mx);
      sum += cand_[i].p;
    }
    for (size_t i = 0; i < count; ++i) cand_[i].p = float(cand_[i].p / sum);
  };
  // top-p: smallest prefix whose probability mass reaches p.
  if (params_.top_p < 1.0f) {
    softmax(n);
    double cum = 0;
    size_t keep = n;
    for (size_t i = 0; i < n; ++i) {
      cum += cand_[i].p;
      if (cum >= params_.top_p) {
        keep = i + 1;
        break;
      }
    }
    n = std::max<size_t>(1, keep);
  }
  // min-p: drop tokens whose probability is below min_p times the best one.
  if (params_.min_p > 0.0f) {
    const float threshold = cand_[0].logit + std::log(params_.min_p);
    size_t keep = 1;
    while (keep < n && cand_[keep].logit >= threshold) ++keep;
    n = keep;
  }
  // Temperature, then draw.
  const float mx = cand_[0].logit;
  double sum = 0;
  for (size_t i = 0; i < n; ++i) {
    cand_[i].p = std::exp((cand_[i].logit - mx) / params_.temperature);
    sum += cand_[i].p;
  }
  std::uniform_real_distribution<double> uniform(0.0, sum);
  double r = uniform(rng_);
  for (size_t i = 0; i < n; ++i) {
    r -= cand_[i].p;
    if (r <= 0) return cand_[i].id;
  }
  return cand_[n - 1].id;
}

}  // namespace bitnet
