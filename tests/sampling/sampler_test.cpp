#include "sampling/sampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <vector>

namespace bitnet {
namespace {

TEST(Sampler, DefaultsFollowLlamaCpp) {
  const SamplerParams p;
  EXPECT_FLOAT_EQ(p.temperature, 0.8f);
  EXPECT_EQ(p.top_k, 40);
  EXPECT_FLOAT_EQ(p.top_p, 0.95f);
  EXPECT_FLOAT_EQ(p.min_p, 0.05f);
  EXPECT_FLOAT_EQ(p.repeat_penalty, 1.0f);
  EXPECT_EQ(p.repeat_last_n, 64);
}

TEST(Sampler, ZeroTemperatureIsArgmaxWithLowestIdOnTies) {
  SamplerParams p;
  p.temperature = 0;
  Sampler s(p);
  const std::vector<float> logits = {0.5f, 3.0f, -1.0f, 3.0f};
  EXPECT_EQ(s.sample(logits.data(), 4), 1);
}

TEST(Sampler, SameSeedSameSequence) {
  SamplerParams p;
  p.seed = 1234;
  std::vector<float> logits(100);
  for (int i = 0; i < 100; ++i) logits[i] = std::sin(float(i)) * 3.0f;
  Sampler a(p), b(p);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(a.sample(logits.data(), 100), b.sample(logits.data(), 100));
}

TEST(Sampler, TopKOneIsGreedy) {
  SamplerParams p;
  p.top_k = 1;
  p.seed = 7;
  Sampler s(p);
  const std::vector<float> logits = {1.0f, 2.0f, 1.9f, 0.0f};
  for (int i = 0; i < 20; ++i) EXPECT_EQ(s.sample(logits.data(), 4), 1);
}

TEST(Sampler, MinPDropsUnlikelyTokens) {
  SamplerParams p;
  p.top_k = 0;
  p.top_p = 1.0f;
  p.min_p = 0.5f;  // keeps tokens with p >= 0.5 * p_max
  p.temperature = 1.0f;
  p.seed = 3;
  Sampler s(p);
  // token 0: p_max; token 1: e^-0.5 = 0.61 of it (kept); token 2: e^-3 (dropped).
  const std::vector<float> logits = {0.0f, -0.5f, -3.0f};
  std::map<int, int> counts;
  for (int i = 0; i < 2000; ++i) counts[s.sample(logits.data(), 3)]++;
  EXPECT_EQ(counts[2], 0);
  EXPECT_GT(counts[1], 400);
  EXPECT_GT(counts[0], counts[1]);
}

TEST(Sampler, TopPKeepsSmallestPrefixReachingMass) {
  SamplerParams p;
  p.top_k = 0;
  p.min_p = 0;
  p.top_p = 0.5f;
  p.seed = 11;
  p.temperature = 1.0f;
  Sampler s(p);
  // softmax ~ {0.665, 0.245, 0.09}: the first token alone reaches 0.5.
  const std::vector<float> logits = {2.0f, 1.0f, 0.0f};
  for (int i = 0; i < 200; ++i) EXPECT_EQ(s.sample(logits.data(), 3), 0);
}

TEST(Sampler, RepeatPenaltyDemotesRecentTokens) {
  SamplerParams p;
  p.temperature = 0;
  p.repeat_penalty = 2.0f;
  Sampler s(p);
  const std::vector<float> logits = {2.0f, 1.5f};
  EXPECT_EQ(s.sample(logits.data(), 2), 0);
  s.accept(0);  // 2.0 / 2 = 1.0 < 1.5
  EXPECT_EQ(s.sample(logits.data(), 2), 1);
}

TEST(Sampler, RepeatWindowForgetsOldTokens) {
  SamplerParams p;
  p.temperature = 0;
  p.repeat_penalty = 2.0f;
  p.repeat_last_n = 2;
  Sampler s(p);
  const std::vector<float> logits = {2.0f, 1.5f, 0.0f};
  s.accept(0);
  s.accept(2);
  s.accept(2);  // token 0 has left the 2-token window
  EXPECT_EQ(s.sample(logits.data(), 3), 0);
}

}  // namespace
}  // namespace bitnet
