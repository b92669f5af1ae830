// The C API as an application sees it: status codes and messages, never exceptions or aborts.
#include "bitnet/bitnet.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/reference_data.h"

namespace {

const std::string kModel = std::string(BITNET_SOURCE_DIR) + "/models/tiny-bitnet-b1.58.gguf";

TEST(CApi, GreedyCompletionMatchesReference) {
  bitnet_model* model = nullptr;
  bitnet_model_params mp = bitnet_model_default_params();
  mp.exact_lm_head = true;
  ASSERT_EQ(bitnet_model_load(kModel.c_str(), mp, &model), BITNET_OK)
      << bitnet_last_error();
  bitnet_context_params cp = bitnet_context_default_params();
  cp.n_ctx = 256;
  cp.n_threads = 2;
  bitnet_context* ctx = nullptr;
  ASSERT_EQ(bitnet_context_new(model, cp, &ctx), BITNET_OK) << bitnet_last_error();

  const auto greedy = bitnet::testing::read_json(std::string(BITNET_TEST_DATA) + "/tiny-bitnet/reference/greedy.json");
  const std::string prompt = greedy[0]["prompt"];
  std::vector<bitnet_token> ids(64);
  size_t n = 0;
  ASSERT_EQ(bitnet_tokenize(model, prompt.data(), prompt.size(), true, false, ids.data(), ids.size(), &n), BITNET_OK);
  ids.resize(n);
  EXPECT_EQ(ids, greedy[0]["input_ids"].get<std::vector<bitnet_token>>());

  bitnet_sampler_params sp = bitnet_sampler_default_params();
  sp.temperature = 0;
  bitnet_sampler* sampler = nullptr;
  ASSERT_EQ(bitnet_sampler_new(sp, &sampler), BITNET_OK);
  ASSERT_EQ(bitnet_eval(ctx, ids.data(), ids.size()), BITNET_OK) << bitnet_last_error();
  std::vector<bitnet_token> out;
  for (int i = 0; i < 16; ++i) {
    bitnet_token t;
    ASSERT_EQ(bitnet_sampler_sample(sampler, ctx, &t), BITNET_OK);
    out.push_back(t);
    ASSERT_EQ(bitnet_eval(ctx, &t, 1), BITNET_OK);
  }
  const auto want = greedy[0]["new_ids"].get<std::vector<bitnet_token>>();
  EXPECT_EQ(out, std::vector<bitnet_token>(want.begin(), want.begin() + 16));
  EXPECT_EQ(bitnet_context_n_past(ctx), int32_t(ids.size() + 16));

  char piece[64];
  size_t len = 0;
  ASSERT_EQ(bitnet_token_to_piece(model, out[0], piece, sizeof piece, &len), BITNET_OK);
  EXPECT_GT(len, 0u);
  EXPECT_TRUE(bitnet_token_is_eog(model, bitnet_token_eos(model)));

  bitnet_sampler_free(sampler);
  bitnet_context_free(ctx);
  bitnet_model_free(model);
}

TEST(CApi, ErrorsAreStatusesWithMessages) {
  bitnet_model* model = reinterpret_cast<bitnet_model*>(0x1);
  EXPECT_EQ(bitnet_model_load("/no/such/file.gguf", bitnet_model_default_params(), &model), BITNET_ERROR_FILE);
  EXPECT_EQ(model, nullptr);
  EXPECT_NE(std::string(bitnet_last_error()).find("/no/such/file.gguf"), std::string::npos);
  EXPECT_EQ(bitnet_model_load(nullptr, bitnet_model_default_params(), &model), BITNET_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(bitnet_eval(nullptr, nullptr, 0), BITNET_ERROR_INVALID_ARGUMENT);

  // A malformed file: a GGUF header claiming more metadata than the file holds.
  const std::string bad = std::string(BITNET_BINARY_DIR) + "/capi_bad.gguf";
  FILE* f = std::fopen(bad.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  const unsigned char header[] = {'G', 'G', 'U', 'F', 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0};
  std::fwrite(header, 1, sizeof header, f);
  std::fclose(f);
  EXPECT_EQ(bitnet_model_load(bad.c_str(), bitnet_model_default_params(), &model), BITNET_ERROR_FILE);
  EXPECT_NE(std::string(bitnet_last_error()).find("capi_bad.gguf"), std::string::npos) << bitnet_last_error();
}

TEST(CApi, ContextFullAndBadTokensAreReported) {
  bitnet_model* model = nullptr;
  ASSERT_EQ(bitnet_model_load(kModel.c_str(), bitnet_model_default_params(), &model), BITNET_OK);
  bitnet_context_params cp = bitnet_context_default_params();
  cp.n_ctx = 8;
  cp.n_threads = 1;
  bitnet_context* ctx = nullptr;
  ASSERT_EQ(bitnet_context_new(model, cp, &ctx), BITNET_OK);
  std::vector<bitnet_token> many(9, 415);
  EXPECT_EQ(bitnet_eval(ctx, many.data(), many.size()), BITNET_ERROR_CONTEXT_FULL);
  bitnet_token bad = 1 << 30;
  EXPECT_EQ(bitnet_eval(ctx, &bad, 1), BITNET_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(bitnet_get_logits(ctx), nullptr);
  bitnet_token small_buf[1];
  size_t n = 0;
  EXPECT_EQ(bitnet_tokenize(model, "Once upon a time", 16, true, false, small_buf, 1, &n), BITNET_ERROR_BUFFER_TOO_SMALL);
  EXPECT_EQ(n, 5u);
  bitnet_context_free(ctx);
  bitnet_model_free(model);
}

}  // namespace
