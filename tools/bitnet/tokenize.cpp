// `bitnet tokenize`: text -> token ids (and pieces) with a model's tokenizer.
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "command.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"
#include "tokenizer/vocab.h"
#include "util/error.h"

namespace bitnet::cli {
namespace {

struct TokenizeOptions {
  std::string model;
  std::string file;
  std::string text;
  bool no_bos = false;
  bool ids_only = false;
  bool parse_special = false;
};

// Printable form of a piece: valid UTF-8 stays, control characters and stray bytes are escaped.
std::string printable(const std::string& s) {
  std::string out;
  size_t pos = 0;
  while (pos < s.size()) {
    const size_t start = pos;
    uint32_t cp = 0;
    if (!unicode::decode_utf8(s, pos, cp)) {
      out += fmt::format("\\x{:02X}", uint8_t(s[pos]));
      ++pos;
      continue;
    }
    switch (cp) {
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\\': out += "\\\\"; break;
      case '\'': out += "\\'"; break;
      default:
        if (cp < 0x20 || cp == 0x7F) out += fmt::format("\\x{:02X}", cp);
        else out.append(s, start, pos - start);
    }
  }
  return out;
}

void run_tokenize(const TokenizeOptions& o) {
  std::string text = o.text;
  if (!o.file.empty()) {
    std::ifstream in(o.file, std::ios::binary);
    if (!in) fail("{}: cannot open", o.file);
    std::stringstream ss;
    ss << in.rdbuf();
    text = ss.str();
  }
  const Tokenizer tok(vocab_from_path(o.model.empty() ? default_model_path() : o.model));
  const std::vector<int32_t> ids = tok.encode(text, /*add_special=*/!o.no_bos, o.parse_special);
  if (o.ids_only) {
    std::string line;
    for (size_t i = 0; i < ids.size(); ++i) line += (i ? " " : "") + std::to_string(ids[i]);
    std::printf("%s\n", line.c_str());
    return;
  }
  for (int32_t id : ids) std::printf("%6d -> '%s'\n", id, printable(tok.token_piece(id)).c_str());
  std::printf("%zu tokens (pre-tokenizer %s)\n", ids.size(), tok.pre_tokenizer_name().c_str());
}

void setup_tokenize(CLI::App& app) {
  auto opts = std::make_shared<TokenizeOptions>();
  auto* sub = app.add_subcommand("tokenize", "Show the token ids (and pieces) of a text");
  sub->add_option("-m,--model", opts->model,
                  "Model .gguf, tokenizer.json, tokenizer.model, or a Hugging Face directory (default: the shipped model)");
  auto* file = sub->add_option("-f,--file", opts->file, "Read the text from this file");
  sub->add_option("text", opts->text, "The text to tokenize")->excludes(file);
  sub->add_flag("--no-bos", opts->no_bos, "Do not add BOS (or EOS) even if the vocab asks for it");
  sub->add_flag("--ids", opts->ids_only, "Print only the ids, space-separated on one line");
  sub->add_flag("--parse-special", opts->parse_special,
                "Turn special-token texts such as <|eot_id|> into their ids");
  add_verbosity_flags(*sub);
  sub->callback([opts] { run_tokenize(*opts); });
}

}  // namespace

BITNET_REGISTER_COMMAND(tokenize, setup_tokenize)

}  // namespace bitnet::cli
