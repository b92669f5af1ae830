#include "tokenizer/chat_template.h"

#include <fmt/format.h>

#include "util/error.h"
#include "util/log.h"

namespace bitnet {

namespace {

struct NamedFormat {
  std::string_view name;
  ChatFormat format;
};
constexpr NamedFormat kFormats[] = {
    {"bitnet", ChatFormat::kBitNet},
    {"bitnet-embedded", ChatFormat::kBitNetEmbedded},
    {"bitnet-llamacpp", ChatFormat::kBitNetLlamaCpp},
    {"llama3", ChatFormat::kLlama3},
    {"chatml", ChatFormat::kChatML},
    {"plain", ChatFormat::kPlain},
};

bool contains(std::string_view s, std::string_view what) { return s.find(what) != std::string_view::npos; }

// Jinja's `| trim` (Python str.strip(): ASCII whitespace is what matters here).
std::string_view trim(std::string_view s) {
  constexpr std::string_view ws = " \t\n\r\f\v";
  const size_t b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

// Jinja's `| capitalize`: first character upper case, the rest lower case (ASCII roles).
std::string capitalize(std::string_view s) {
  std::string r(s);
  for (size_t i = 0; i < r.size(); ++i) {
    const char c = r[i];
    if (i == 0 && c >= 'a' && c <= 'z') r[i] = char(c - 32);
    if (i > 0 && c >= 'A' && c <= 'Z') r[i] = char(c + 32);
  }
  return r;
}

}  // namespace

ChatFormat ChatTemplate::detect(std::string_view t, bool* recognised) {
  ChatFormat f = ChatFormat::kPlain;
  bool ok = true;
  if (contains(t, "<|start_header_id|>") && contains(t, "<|end_header_id|>")) {
    f = ChatFormat::kLlama3;
  } else if (contains(t, "<|im_start|>")) {
    f = ChatFormat::kChatML;
  } else if (contains(t, "BITNET")) {
    // The official 2B-4T GGUF embeds a "Human: ...BITNETAssistant: " template that does not match
    // how the model was trained; the model's own (Hugging Face) format is the right one.
    f = ChatFormat::kBitNet;
  } else if (contains(t, "<|eot_id|>") && contains(t, "capitalize") && contains(t, "Assistant: ")) {
    f = ChatFormat::kBitNet;
  } else {
    ok = false;
  }
  if (recognised) *recognised = ok;
  return f;
}

ChatTemplate ChatTemplate::by_name(std::string_view name, std::string eos_text) {
  for (const auto& nf : kFormats)
    if (nf.name == name) return ChatTemplate(nf.format, std::move(eos_text));
  fail("unknown chat template '{}' (known: {})", name, fmt::join(names(), ", "));
}

std::vector<std::string> ChatTemplate::names() {
  std::vector<std::string> r;
  for (const auto& nf : kFormats) r.emplace_back(nf.name);
  return r;
}

ChatTemplate ChatTemplate::for_vocab(const Vocab& vocab, std::string_view override_name) {
  std::string eos_text;
  if (vocab.eos_id >= 0 && size_t(vocab.eos_id) < vocab.tokens.size()) eos_text = vocab.tokens[size_t(vocab.eos_id)];
  if (!override_name.empty()) return by_name(override_name, std::move(eos_text));
  bool recognised = false;
  const ChatFormat f = detect(vocab.chat_template, &recognised);
  if (!recognised)
    log_warn("chat: {}; using the plain format (choose one with --chat-template: {})",
             vocab.chat_template.empty() ? "the model has no chat template"
                                         : "the model's chat template is not one we recognise",
             fmt::join(names(), ", "));
  return ChatTemplate(f, std::move(eos_text));
}

std::string_view ChatTemplate::name() const {
  for (const auto& nf : kFormats)
    if (nf.format == format_) return nf.name;
  return "?";
}

std::string ChatTemplate::render(const std::vector<ChatMessage>& messages,
                                 bool add_generation_prompt) const {
  std::string out;
  switch (format_) {
    case ChatFormat::kBitNet:
      for (const auto& m : messages)
        out += capitalize(m.role) + ": " + std::string(trim(m.content)) + "<|eot_id|>";
      if (add_generation_prompt) out += "Assistant: ";
      break;
    case ChatFormat::kBitNetEmbedded:
      // Literal rendering of the embedded Jinja: system messages are not part of it.
      for (const auto& m : messages) {
        if (m.role == "user") out += "Human: " + m.content + "\n\nBITNETAssistant: " + eos_text_;
        else if (m.role == "assistant") out += m.content + eos_text_;
      }
      break;
    case ChatFormat::kBitNetLlamaCpp:
      for (const auto& m : messages) {
        if (m.role == "system") out += "System: " + m.content;
        else if (m.role == "user") out += "User: " + m.content + "<|eot_id|>Assistant: ";
        else out += m.content;
      }
      break;
    case ChatFormat::kLlama3:
      for (const auto& m : messages)
        out += "<|start_header_id|>" + m.role + "<|end_header_id|>\n\n" + std::string(trim(m.content)) + "<|eot_id|>";
      if (add_generation_prompt) out += "<|start_header_id|>assistant<|end_header_id|>\n\n";
      break;
    case ChatFormat::kChatML:
      for (const auto& m : messages) out += "<|im_start|>" + m.role + "\n" + m.content + "<|im_end|>\n";
      if (add_generation_prompt) out += "<|im_start|>assistant\n";
      break;
    case ChatFormat::kPlain:
      for (const auto& m : messages) {
        if (m.role == "system") out += m.content + "\n\n";
        else out += capitalize(m.role) + ": " + m.content + "\n";
      }
      if (add_generation_prompt) out += "Assistant:";
      break;
  }
  return out;
}

}  // namespace bitnet
