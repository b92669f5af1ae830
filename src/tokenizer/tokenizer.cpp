#include "tokenizer/tokenizer.h"

#include <algorithm>
#include <array>

#include "tokenizer/bpe.h"
#include "tokenizer/spm.h"
#include "tokenizer/token_index.h"
#include "tokenizer/unicode.h"
#include "tokenizer/vocab_detect.h"
#include "util/error.h"
#include "util/log.h"

namespace bitnet {

namespace {

enum class PieceKind : uint8_t {
  kText,     // normal text: always part of the decoded output
  kSpecial,  // control tokens (and unused/pad slots): only rendered on request
};

// Texts of control tokens that end a turn in the chat formats we know (llama.cpp's list, trimmed
// to tokenizers in our scope).
constexpr std::string_view kEogTexts[] = {
    "<|eot_id|>", "<|eom_id|>", "<|end_of_text|>", "<|endoftext|>", "<|im_end|>", "<|end|>",
    "<end_of_turn>", "<EOT>",
};

}  // namespace

struct Tokenizer::Impl {
  Vocab vocab;
  bool spm = false;
  std::string pre_name;
  tok::TokenIndex all_index;
  tok::TokenIndex bpe_index;
  std::unique_ptr<tok::BytePairEncoder> bpe;
  std::unique_ptr<tok::SentencePieceEncoder> sp;
  std::vector<std::string> pieces;
  std::vector<PieceKind> kinds;
  std::vector<bool> eog;
  // Tokens matched in the raw text before BPE, bucketed by first byte, longest first.
  std::array<std::vector<int32_t>, 256> specials;
  std::vector<bool> needs_parse_special;  // control/unknown: only when parse_special is asked

  void validate();
  void build_pieces();
  void build_specials();
  void encode_fragment(std::string_view text, bool prefix_space, std::vector<int32_t>& out) const;
};

void Tokenizer::Impl::validate() {
  const size_t n = vocab.tokens.size();
  if (n == 0) fail("tokenizer: the vocab has no tokens");
  if (n > size_t(INT32_MAX)) fail("tokenizer: {} tokens is more than ids can address", n);
  if (vocab.types.empty()) vocab.types.assign(n, TokenType::Normal);
  if (vocab.types.size() != n)
    fail("tokenizer: {} token types for {} tokens", vocab.types.size(), n);
  if (!vocab.scores.empty() && vocab.scores.size() != n)
    fail("tokenizer: {} scores for {} tokens", vocab.scores.size(), n);
  auto check = [&](int32_t id, const char* what) {
    if (id >= int64_t(n)) fail("tokenizer: {} id {} is out of range (vocab has {} tokens)", what, id, n);
  };
  check(vocab.bos_id, "bos");
  check(vocab.eos_id, "eos");
  check(vocab.eot_id, "eot");
  check(vocab.unk_id, "unknown-token");
  check(vocab.pad_id, "padding");
  for (size_t i = 0; i < n; ++i) unicode::require_valid_utf8(vocab.tokens[i], "tokenizer: token text");
}

void Tokenizer::Impl::build_pieces() {
  const size_t n = vocab.tokens.size();
  pieces.resize(n);
  kinds.resize(n);
  static constexpr std::string_view kSpaceMark = "\xE2\x96\x81";  // U+2581
  for (size_t i = 0; i < n; ++i) {
    const std::string& text = vocab.tokens[i];
    const TokenType type = vocab.types[i];
    std::string& piece = pieces[i];
    kinds[i] = PieceKind::kText;
    if (type == TokenType::Control || type == TokenType::Unused) {
      kinds[i] = PieceKind::kSpecial;
      piece = text;
    } else if (type == TokenType::UserDefined) {
      piece = text;  // stored raw in both model families
    } else if (spm) {
      if (type == TokenType::Byte && text.size() == 6 && text.compare(0, 3, "<0x") == 0) {
        piece = char(std::stoi(text.substr(3, 2), nullptr, 16));
      } else if (type == TokenType::Unknown) {
        piece = " \xE2\x81\x87 ";  // " ⁇ ", what SentencePiece prints for <unk>
      } else {
        for (size_t p = 0; p < text.size();) {
          if (text.compare(p, kSpaceMark.size(), kSpaceMark) == 0) {
            piece += ' ';
            p += kSpaceMark.size();
          } else {
            piece += text[p++];
          }
        }
      }
    } else {
      // Byte-level: every code point of the text stands for one byte. Code points outside the
      // mapping (not produced by BPE) are kept as they are.
      size_t p = 0;
      uint32_t cp = 0;
      while (p < text.size()) {
        const size_t start = p;
        unicode::decode_utf8(text, p, cp);  // validated above
        const int b = unicode::unicode_to_byte(cp);
        if (b >= 0) piece += char(b);
        else piece.append(text, start, p - start);
      }
    }
  }
}

void Tokenizer::Impl::build_specials() {
  const size_t n = vocab.tokens.size();
  needs_parse_special.assign(n, false);
  for (size_t i = 0; i < n; ++i) {
    const TokenType t = vocab.types[i];
    const std::string& text = vocab.tokens[i];
    if (text.empty()) continue;
    if (t == TokenType::Control || t == TokenType::Unknown) {
      needs_parse_special[i] = true;
    } else if (t != TokenType::UserDefined) {
      continue;
    }
    specials[uint8_t(text[0])].push_back(int32_t(i));
  }
  for (auto& bucket : specials) {
    std::stable_sort(bucket.begin(), bucket.end(), [&](int32_t a, int32_t b) {
      return vocab.tokens[size_t(a)].size() > vocab.tokens[size_t(b)].size();
    });
  }
}

void Tokenizer::Impl::encode_fragment(std::string_view text, bool prefix_space,
                                      std::vector<int32_t>& out) const {
  if (spm) sp->encode(text, prefix_space, out);
  else bpe->encode(text, out);
}

Tokenizer::Tokenizer(Vocab vocab) : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.vocab = std::move(vocab);
  m.validate();
  const size_t n = m.vocab.tokens.size();
  m.all_index.reserve(n);
  for (size_t i = 0; i < n; ++i) m.all_index.add(m.vocab.tokens[i], int32_t(i));

  if (m.vocab.model == "llama") {
    m.spm = true;
    m.pre_name = "spm";
    m.sp = std::make_unique<tok::SentencePieceEncoder>(m.vocab);
  } else if (m.vocab.model == "gpt2") {
    std::string pre = m.vocab.pre;
    if (pre.empty()) {
      if (tok::looks_like_llama3_vocab(m.vocab)) {
        pre = "llama-bpe";
        log_warn("tokenizer: the model has no tokenizer.ggml.pre but its vocab is Llama 3's; using "
                 "the llama-bpe pre-tokenizer");
      } else {
        pre = "default";
        log_warn("tokenizer: the model has no tokenizer.ggml.pre; using the default pre-tokenizer "
                 "(results may differ from the reference tokenizer)");
      }
    }
    m.bpe_index.reserve(n);
    for (size_t i = 0; i < n; ++i)
      if (m.vocab.types[i] == TokenType::Normal || m.vocab.types[i] == TokenType::Byte)
        m.bpe_index.add(m.vocab.tokens[i], int32_t(i));
    m.bpe = std::make_unique<tok::BytePairEncoder>(m.vocab, m.bpe_index, tok::pre_tokenizer_for(pre));
    m.pre_name = m.bpe->pre_tokenizer().name;
  } else {
    fail("tokenizer: unsupported tokenizer.ggml.model '{}' (supported: gpt2, llama)", m.vocab.model);
  }
  m.build_pieces();
  m.build_specials();

  m.eog.assign(n, false);
  if (m.vocab.eos_id >= 0) m.eog[size_t(m.vocab.eos_id)] = true;
  if (m.vocab.eot_id >= 0) m.eog[size_t(m.vocab.eot_id)] = true;
  for (std::string_view t : kEogTexts) {
    const int32_t id = m.all_index.find(t);
    if (id >= 0 && m.vocab.types[size_t(id)] == TokenType::Control) m.eog[size_t(id)] = true;
  }
}

Tokenizer::~Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_special,
                                       bool parse_special) const {
  const Impl& m = *impl_;
  unicode::require_valid_utf8(text, "tokenize: input text");
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 4);
  if (add_special && m.vocab.add_bos) {
    if (m.vocab.bos_id < 0) fail("tokenize: the vocab asks for BOS but has no BOS token");
    out.push_back(m.vocab.bos_id);
  }
  // The SentencePiece dummy prefix goes before text that starts the input or follows a special.
  bool prev_special = true;
  size_t frag_start = 0, pos = 0;
  auto flush_text = [&](size_t end) {
    if (end > frag_start) {
      m.encode_fragment(text.substr(frag_start, end - frag_start),
                        m.vocab.add_space_prefix && prev_special, out);
      prev_special = false;
    }
  };
  while (pos < text.size()) {
    int32_t match = -1;
    for (int32_t id : m.specials[uint8_t(text[pos])]) {
      if (m.needs_parse_special[size_t(id)] && !parse_special) continue;
      const std::string& t = m.vocab.tokens[size_t(id)];
      if (text.compare(pos, t.size(), t) == 0) {
        match = id;
        break;
      }
    }
    if (match < 0) {
      ++pos;
      continue;
    }
    flush_text(pos);
    out.push_back(match);
    prev_special = true;
    pos += m.vocab.tokens[size_t(match)].size();
    frag_start = pos;
  }
  flush_text(text.size());
  if (add_special && m.vocab.add_eos) {
    if (m.vocab.eos_id < 0) fail("tokenize: the vocab asks for EOS but has no EOS token");
    out.push_back(m.vocab.eos_id);
  }
  return out;
}

void Tokenizer::check_id(int32_t id) const {
  if (id < 0 || size_t(id) >= impl_->vocab.tokens.size())
    fail("token id {} is out of range (the vocab has {} tokens)", id, impl_->vocab.tokens.size());
}

void Tokenizer::append_piece(int32_t id, bool render_special, bool& at_start, std::string& out) const {
  check_id(id);
  const Impl& m = *impl_;
  const std::string& piece = m.pieces[size_t(id)];
  if (m.kinds[size_t(id)] == PieceKind::kSpecial) {
    if (render_special) out += piece;
    return;
  }
  // SentencePiece: the first piece of text loses the space the encoder put in front of it.
  if (at_start && m.spm && m.vocab.add_space_prefix && m.vocab.types[size_t(id)] == TokenType::Normal &&
      !piece.empty() && piece[0] == ' ') {
    out.append(piece, 1);
  } else {
    out += piece;
  }
  at_start = false;
}

std::string Tokenizer::decode(std::span<const int32_t> ids, bool render_special) const {
  std::string out;
  bool at_start = true;
  for (int32_t id : ids) append_piece(id, render_special, at_start, out);
  return out;
}

std::string Tokenizer::token_piece(int32_t id) const {
  check_id(id);
  return impl_->pieces[size_t(id)];
}

const std::string& Tokenizer::token_text(int32_t id) const {
  check_id(id);
  return impl_->vocab.tokens[size_t(id)];
}

int32_t Tokenizer::find_token(std::string_view text) const { return impl_->all_index.find(text); }

bool Tokenizer::is_eog(int32_t id) const {
  return id >= 0 && size_t(id) < impl_->eog.size() && impl_->eog[size_t(id)];
}
bool Tokenizer::is_control(int32_t id) const {
  check_id(id);
  return impl_->kinds[size_t(id)] == PieceKind::kSpecial;
}
int32_t Tokenizer::n_vocab() const { return int32_t(impl_->vocab.tokens.size()); }
int32_t Tokenizer::bos() const { return impl_->vocab.bos_id; }
int32_t Tokenizer::eos() const { return impl_->vocab.eos_id; }
int32_t Tokenizer::eot() const { return impl_->vocab.eot_id; }
bool Tokenizer::add_bos() const { return impl_->vocab.add_bos; }
const Vocab& Tokenizer::vocab() const { return impl_->vocab; }
const std::string& Tokenizer::pre_tokenizer_name() const { return impl_->pre_name; }

// ---- streaming decode ----

Tokenizer::StreamDecoder::StreamDecoder(const Tokenizer& tokenizer, bool render_special)
    : tok_(&tokenizer), render_special_(render_special) {}

std::string Tokenizer::StreamDecoder::push(int32_t id) {
  tok_->append_piece(id, render_special_, at_start_, pending_);
  // Hold back a trailing lead byte (plus its continuations) whose sequence is not complete yet.
  const size_t n = pending_.size();
  size_t keep_from = n;
  for (size_t back = 1; back <= 4 && back <= n; ++back) {
    const auto b = uint8_t(pending_[n - back]);
    if ((b & 0xC0) == 0x80) continue;  // continuation byte: look further back
    const size_t need = unicode::utf8_sequence_length(b);
    if (need > back) keep_from = n - back;
    break;
  }
  std::string ready = pending_.substr(0, keep_from);
  pending_.erase(0, keep_from);
  return ready;
}

std::string Tokenizer::StreamDecoder::flush() {
  std::string rest;
  rest.swap(pending_);
  at_start_ = true;
  return rest;
}

}  // namespace bitnet
