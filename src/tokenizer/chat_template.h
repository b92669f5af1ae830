// Chat formats of the models we run, chosen from tokenizer.chat_template by content (no Jinja
// engine, as llama.cpp's built-in templates) or by name.
//
// render() returns the conversation text WITHOUT the leading BOS: tokenize it with
// encode(text, /*add_special=*/true, /*parse_special=*/true) so BOS comes from the vocab's add_bos
// and the markers (<|eot_id|>, headers) become their control tokens.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/vocab.h"

namespace bitnet {

struct ChatMessage {
  std::string role;  // "system", "user", "assistant" (other roles are rendered by name)
  std::string content;
};

enum class ChatFormat {
  kBitNet,          // BitNet b1.58 2B-4T (HF tokenizer_config): "Role: content<|eot_id|>", "Assistant: "
  kBitNetEmbedded,  // the template bitnet.cpp embeds in its GGUF: "Human: ...\n\nBITNETAssistant: "+eos
  kBitNetLlamaCpp,  // what bitnet.cpp's llama.cpp renders for it: "User: ...<|eot_id|>Assistant: "
  kLlama3,          // <|start_header_id|>role<|end_header_id|>\n\ncontent<|eot_id|>
  kChatML,          // <|im_start|>role\ncontent<|im_end|>\n
  kPlain,           // "User: ...\n" lines; for models without a known template
};

class ChatTemplate {
 public:
  // Picks the format from vocab.chat_template; a non-empty `override_name` wins (see names()).
  static ChatTemplate for_vocab(const Vocab& vocab, std::string_view override_name = "");
  // By name; throws Error listing the known names otherwise.
  static ChatTemplate by_name(std::string_view name, std::string eos_text = "");
  // The format a template text stands for; kPlain when it is empty or not recognised.
  static ChatFormat detect(std::string_view template_text, bool* recognised = nullptr);
  static std::vector<std::string> names();

  ChatFormat format() const { return format_; }
  std::string_view name() const;

  std::string render(const std::vector<ChatMessage>& messages, bool add_generation_prompt) const;

 private:
  ChatTemplate(ChatFormat f, std::string eos_text) : format_(f), eos_text_(std::move(eos_text)) {}
  ChatFormat format_;
  std::string eos_text_;  // needed by kBitNetEmbedded
};

}  // namespace bitnet
