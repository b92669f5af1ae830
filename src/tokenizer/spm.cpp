#include "tokenizer/spm.h"

#include <fmt/format.h>

#include <queue>
#include <string>

#include "tokenizer/unicode.h"
#include "util/error.h"
#include "util/log.h"

namespace bitnet::tok {

SentencePieceEncoder::SentencePieceEncoder(const Vocab& vocab) : vocab_(vocab) {
  if (vocab.scores.size() != vocab.tokens.size())
    fail("tokenizer: a SentencePiece vocab needs one score per token ({} scores, {} tokens)",
         vocab.scores.size(), vocab.tokens.size());
  pieces_.reserve(vocab.tokens.size());
  for (size_t i = 0; i < vocab.tokens.size(); ++i) {
    const TokenType t = vocab.types[i];
    if (t == TokenType::Normal || t == TokenType::UserDefined) pieces_.add(vocab.tokens[i], int32_t(i));
  }
  for (size_t i = 0; i < vocab.tokens.size(); ++i) {
    const TokenType t = vocab.types[i];
    if (t != TokenType::Normal && t != TokenType::UserDefined) continue;
    const std::string& s = vocab.tokens[i];
    size_t pos = 0;
    uint32_t prev = 0, cp = 0;
    bool first = true;
    while (pos < s.size() && unicode::decode_utf8(s, pos, cp)) {
      if (!first) inner_pairs_.insert((uint64_t(prev) << 32) | cp);
      prev = cp;
      first = false;
    }
  }
  for (int b = 0; b < 256; ++b) byte_token_[b] = -1;
  for (size_t i = 0; i < vocab.tokens.size(); ++i) {
    const std::string& s = vocab.tokens[i];
    if (vocab.types[i] == TokenType::Byte && s.size() == 6 && s.compare(0, 3, "<0x") == 0 && s[5] == '>') {
      const int v = std::stoi(s.substr(3, 2), nullptr, 16);
      if (byte_token_[v] < 0) byte_token_[v] = int32_t(i);
    }
  }
}

void SentencePieceEncoder::encode(std::string_view raw, bool prefix_space,
                                  std::vector<int32_t>& out) const {
  // Whitespace escaping: ' ' -> U+2581, plus the dummy prefix.
  static constexpr std::string_view kSpace = "\xE2\x96\x81";
  std::string text;
  text.reserve(raw.size() + 8);
  if (prefix_space) text += kSpace;
  for (char ch : raw) {
    if (ch == ' ') text += kSpace;
    else text += ch;
  }
  size_t seg_start = 0, pos = 0;
  uint32_t prev = 0, cp = 0;
  while (pos < text.size()) {
    const size_t at = pos;
    if (!unicode::decode_utf8(text, pos, cp)) fail("tokenize: invalid UTF-8 at byte {}", at);
    if (at > 0 && !inner_pairs_.count((uint64_t(prev) << 32) | cp)) {
      encode_segment(std::string_view(text).substr(seg_start, at - seg_start), out);
      seg_start = at;
    }
    prev = cp;
  }
  if (seg_start < text.size()) encode_segment(std::string_view(text).substr(seg_start), out);
}

void SentencePieceEncoder::encode_segment(std::string_view text, std::vector<int32_t>& out) const {
  struct Symbol {
    uint32_t start, len;
    int32_t prev, next;
  };
  std::vector<Symbol> sym;
  for (size_t pos = 0; pos < text.size();) {
    size_t len = unicode::utf8_sequence_length(uint8_t(text[pos]));
    if (len == 0 || pos + len > text.size()) len = 1;  // input was validated; be safe anyway
    const int32_t i = int32_t(sym.size());
    sym.push_back({uint32_t(pos), uint32_t(len), i - 1, -1});
    if (i > 0) sym[size_t(i - 1)].next = i;
    pos += len;
  }

  struct Bigram {
    float score;
    int32_t left, right;
    uint32_t size;
    bool operator<(const Bigram& o) const {  // highest score first, then leftmost
      return score != o.score ? score < o.score : left > o.left;
    }
  };
  std::priority_queue<Bigram> queue;
  auto try_add = [&](int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    const Symbol& l = sym[size_t(left)];
    const Symbol& r = sym[size_t(right)];
    const std::string_view joined(text.data() + l.start, l.len + r.len);
    const int32_t id = pieces_.find(joined);
    if (id < 0) return;
    queue.push({vocab_.scores[size_t(id)], left, right, uint32_t(joined.size())});
  };
  for (size_t i = 1; i < sym.size(); ++i) try_add(int32_t(i - 1), int32_t(i));

  while (!queue.empty()) {
    const Bigram b = queue.top();
    queue.pop();
    Symbol& l = sym[size_t(b.left)];
    Symbol& r = sym[size_t(b.right)];
    // Stale if either side was merged away or grew since the bigram was queued.
    if (l.len == 0 || r.len == 0 || l.len + r.len != b.size || l.next != b.right) continue;
    l.len += r.len;
    r.len = 0;
    l.next = r.next;
    if (r.next >= 0) sym[size_t(r.next)].prev = b.left;
    try_add(l.prev, b.left);
    try_add(b.left, l.next);
  }

  for (int32_t i = 0; i >= 0; i = sym[size_t(i)].next) {
    const Symbol& s = sym[size_t(i)];
    const std::string_view piece(text.data() + s.start, s.len);
    const int32_t id = pieces_.find(piece);
    if (id >= 0) {
      out.push_back(id);
      continue;
    }
    for (char ch : piece) {
      const int32_t bt = byte_token_[uint8_t(ch)];
      if (bt >= 0) {
        out.push_back(bt);
      } else if (vocab_.unk_id >= 0) {
        out.push_back(vocab_.unk_id);
        break;  // one <unk> per unknown character, as SentencePiece without byte fallback
      } else {
        fail("tokenizer: byte 0x{:02X} has no <0x..> token and the vocab has no unknown token",
             uint8_t(ch));
      }
    }
  }
}

}  // namespace bitnet::tok
