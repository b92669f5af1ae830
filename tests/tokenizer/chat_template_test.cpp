#include "tokenizer/chat_template.h"

#include <gtest/gtest.h>

#include "tokenizer_fixtures.h"

namespace bitnet::test {
namespace {

const std::vector<ChatMessage> kConversation = {
    {"system", "You are a helpful assistant."},
    {"user", "  Hello!  "},
    {"assistant", "Hi there."},
    {"user", "How are you?"},
};

TEST(ChatTemplate, TinyModelTemplateIsDetectedAsBitNet) {
  const Vocab v = vocab_from_hf_json(data_path("tiny-fixture/hf-packed"));
  const ChatTemplate t = ChatTemplate::for_vocab(v);
  EXPECT_EQ(t.format(), ChatFormat::kBitNet);
  EXPECT_EQ(t.render(kConversation, true),
            "System: You are a helpful assistant.<|eot_id|>User: Hello!<|eot_id|>"
            "Assistant: Hi there.<|eot_id|>User: How are you?<|eot_id|>Assistant: ");
  EXPECT_EQ(t.render({{"user", "Hi"}}, false), "User: Hi<|eot_id|>");
}

TEST(ChatTemplate, BitNetPromptTokenizesWithOneBosAndControlTokens) {
  const Tokenizer& tok = tokenizer("tiny");
  const ChatTemplate t = ChatTemplate::for_vocab(tok.vocab());
  const auto ids = tok.encode(t.render({{"user", "Hi"}}, true), true, true);
  EXPECT_EQ(ids.front(), 4093);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 4093), 1);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 4095), 1);
  EXPECT_EQ(tok.decode(ids, true), "<|begin_of_text|>User: Hi<|eot_id|>Assistant: ");
}

TEST(ChatTemplate, Llama3Template) {
  const Vocab v = vocab_from_hf_json(data_path("tokenizer/llama3"));
  const ChatTemplate t = ChatTemplate::for_vocab(v);
  ASSERT_FALSE(v.chat_template.empty());
  EXPECT_EQ(t.format(), ChatFormat::kLlama3);
  EXPECT_EQ(t.render({{"system", "Be brief."}, {"user", "Hi"}}, true),
            "<|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
            "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\n");
}

TEST(ChatTemplate, BitNetCppEmbeddedTemplate) {
  // The template convert-ms-to-gguf-bitnet.py writes into the official 2B-4T GGUF.
  const std::string embedded =
      "{% for message in messages %}{% if loop.first %}{{ bos_token }}{% endif %}"
      "{% if message['role'] == 'user' %}{{ 'Human: ' + message['content'] + '\\n\\nBITNETAssistant: ' "
      "+ eos_token }}{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token }}"
      "{% endif %}{% endfor %}";
  EXPECT_EQ(ChatTemplate::detect(embedded), ChatFormat::kBitNet);
  const ChatTemplate literal = ChatTemplate::by_name("bitnet-embedded", "<|end_of_text|>");
  EXPECT_EQ(literal.render({{"user", "Hi"}, {"assistant", "Hello"}}, true),
            "Human: Hi\n\nBITNETAssistant: <|end_of_text|>Hello<|end_of_text|>");
  const ChatTemplate lcpp = ChatTemplate::by_name("bitnet-llamacpp");
  EXPECT_EQ(lcpp.render({{"system", "S"}, {"user", "Hello"}, {"assistant", "Hi there"},
                         {"user", "How are you?"}}, true),
            "System: SUser: Hello<|eot_id|>Assistant: Hi thereUser: How are you?<|eot_id|>Assistant: ");
}

TEST(ChatTemplate, OverrideAndFallback) {
  Vocab v;
  v.chat_template = "{{ something unknown }}";
  EXPECT_EQ(ChatTemplate::for_vocab(v).format(), ChatFormat::kPlain);
  EXPECT_EQ(ChatTemplate::for_vocab(v, "llama3").format(), ChatFormat::kLlama3);
  v.chat_template.clear();
  EXPECT_EQ(ChatTemplate::for_vocab(v).format(), ChatFormat::kPlain);
  EXPECT_EQ(ChatTemplate::by_name("plain").render({{"system", "S"}, {"user", "Q"}}, true),
            "S\n\nUser: Q\nAssistant:");
  EXPECT_EQ(ChatTemplate::by_name("chatml").render({{"user", "Q"}}, true),
            "<|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\n");
  EXPECT_THROW(ChatTemplate::by_name("jinja2"), Error);
  for (const auto& n : ChatTemplate::names()) EXPECT_EQ(ChatTemplate::by_name(n).name(), n);
}

}  // namespace
}  // namespace bitnet::test
