#include "tokenizer/pretokenize.h"

#include <fmt/format.h>

#include "tokenizer/unicode.h"
#include "util/error.h"

namespace bitnet::tok {

namespace {

constexpr uint32_t kEnd = 0xFFFFFFFF;  // "no code point": past the end of the current piece

struct Cursor {
  const uint32_t* cpts;
  uint32_t begin, end;
  uint32_t at(uint32_t i) const { return i < end ? cpts[i] : kEnd; }
};

inline uint8_t fl(uint32_t cp) { return cp == kEnd ? 0 : unicode::flags(cp); }
inline bool is_l(uint32_t cp) { return fl(cp) & unicode::kLetter; }
inline bool is_n(uint32_t cp) { return fl(cp) & unicode::kNumber; }
inline bool is_s(uint32_t cp) { return fl(cp) & unicode::kWhitespace; }
inline bool is_nl(uint32_t cp) { return cp == '\r' || cp == '\n'; }
// [^\s\p{L}\p{N}] (and not past the end)
inline bool is_other(uint32_t cp) {
  return cp != kEnd && !(fl(cp) & (unicode::kWhitespace | unicode::kLetter | unicode::kNumber));
}
inline uint32_t ascii_lower(uint32_t cp) { return (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp; }

// Length of a contraction at pos ('s 't 're 've 'm 'll 'd), 0 if none.
uint32_t contraction(const Cursor& c, uint32_t pos, bool case_insensitive) {
  if (c.at(pos) != '\'') return 0;
  auto norm = [&](uint32_t cp) { return case_insensitive ? ascii_lower(cp) : cp; };
  const uint32_t c1 = norm(c.at(pos + 1));
  if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') return 2;
  const uint32_t c2 = norm(c.at(pos + 2));
  if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l')) return 3;
  return 0;
}

// \s+(?!\S) followed by \s+ : a whitespace run, minus its last character when that one precedes
// a non-space (so the space can join the next word).
uint32_t whitespace_run(const Cursor& c, uint32_t pos) {
  uint32_t n = 0;
  while (is_s(c.at(pos + n))) ++n;
  if (n > 1 && c.at(pos + n) != kEnd) return n - 1;
  return n;
}

void split_llama3(const Cursor& c, std::vector<uint32_t>& out) {
  uint32_t pos = c.begin;
  while (pos < c.end) {
    const uint32_t cp = c.at(pos);
    uint32_t len = contraction(c, pos, /*case_insensitive=*/true);
    if (len == 0) {
      // [^\r\n\p{L}\p{N}]?\p{L}+
      if (is_l(cp) || (!is_nl(cp) && !is_n(cp) && is_l(c.at(pos + 1)))) {
        len = 1;
        while (is_l(c.at(pos + len))) ++len;
      } else if (is_n(cp)) {  // \p{N}{1,3}
        len = 1;
        while (len < 3 && is_n(c.at(pos + len))) ++len;
      } else if (is_other(cp) || (cp == ' ' && is_other(c.at(pos + 1)))) {
        // " ?[^\s\p{L}\p{N}]+[\r\n]*"
        len = cp == ' ' ? 1 : 0;
        while (is_other(c.at(pos + len))) ++len;
        while (is_nl(c.at(pos + len))) ++len;
      } else {
        // \s*[\r\n]+ : up to the last newline of the whitespace run
        uint32_t n = 0, last_nl = 0;
        while (is_s(c.at(pos + n))) {
          if (is_nl(c.at(pos + n))) last_nl = n + 1;
          ++n;
        }
        if (last_nl > 0) {
          len = last_nl;
        } else if (n > 0) {
          len = whitespace_run(c, pos);
        } else {
          len = 1;  // cannot happen with this regex (it covers every code point); be safe
        }
      }
    }
    pos += len;
    out.push_back(pos);
  }
}

void split_gpt2(const Cursor& c, std::vector<uint32_t>& out) {
  uint32_t pos = c.begin;
  while (pos < c.end) {
    const uint32_t cp = c.at(pos);
    uint32_t len = contraction(c, pos, /*case_insensitive=*/false);
    if (len == 0) {
      const uint32_t lead = cp == ' ' ? 1 : 0;
      const uint32_t head = c.at(pos + lead);
      if (is_l(head)) {
        len = lead + 1;
        while (is_l(c.at(pos + len))) ++len;
      } else if (is_n(head)) {
        len = lead + 1;
        while (is_n(c.at(pos + len))) ++len;
      } else if (is_other(head)) {
        len = lead + 1;
        while (is_other(c.at(pos + len))) ++len;
      } else if (is_s(cp)) {
        len = whitespace_run(c, pos);
      } else {
        len = 1;
      }
    }
    pos += len;
    out.push_back(pos);
  }
}

bool is_punct_symbol(uint32_t cp, bool with_backtick) {
  if (cp < 0x80) {
    switch (cp) {
      case '$': case '+': case '<': case '=': case '>': case '^': case '~': case '|':
        return true;
      case '`':
        return with_backtick;
      default:
        break;
    }
  }
  return unicode::flags(cp) & unicode::kPunctuation;
}

// Runs of code points satisfying `pred` become pieces; the stretches between them too.
template <class Pred>
void split_runs(const Cursor& c, std::vector<uint32_t>& out, Pred pred) {
  uint32_t pos = c.begin;
  while (pos < c.end) {
    const bool in = pred(c.at(pos));
    while (pos < c.end && pred(c.at(pos)) == in) ++pos;
    out.push_back(pos);
  }
}

void split_digits3(const Cursor& c, std::vector<uint32_t>& out) {
  auto digit = [](uint32_t cp) { return cp >= '0' && cp <= '9'; };
  uint32_t pos = c.begin, piece_start = c.begin;
  while (pos < c.end) {
    if (digit(c.at(pos)) && digit(c.at(pos + 1)) && digit(c.at(pos + 2))) {
      if (pos > piece_start) out.push_back(pos);
      pos += 3;
      out.push_back(pos);
      piece_start = pos;
    } else {
      ++pos;
    }
  }
  if (piece_start < c.end) out.push_back(c.end);
}

}  // namespace

PreTokenizer pre_tokenizer_for(std::string_view pre) {
  PreTokenizer p;
  // Falcon3 / Falcon-E / Falcon-H1 ship the Llama 3 split; llama.cpp maps their names to it too.
  if (pre == "llama-bpe" || pre == "llama3" || pre == "llama-v3" || pre == "falcon3" || pre == "falcon_e" ||
      pre == "falcon-h1" || pre == "smaug-bpe" || pre == "dbrx") {
    p.stages = {SplitStage::kLlama3};
    p.ignore_merges = true;
    p.name = "llama-bpe";
  } else if (pre == "gpt-2" || pre == "gpt2") {
    p.stages = {SplitStage::kGpt2};
    p.name = "gpt-2";
  } else if (pre == "falcon") {
    p.stages = {SplitStage::kPunctRun, SplitStage::kGpt2, SplitStage::kDigits3};
    p.name = "falcon";
  } else if (pre == "default" || pre.empty()) {
    // llama.cpp's fallback for byte-level vocabs without a known pre-tokenizer.
    p.stages = {SplitStage::kPunctRunNoTick, SplitStage::kGpt2, SplitStage::kNumberRun,
                SplitStage::kDigits3};
    p.name = "default";
  } else {
    fail("unsupported tokenizer.ggml.pre '{}' (supported: {})", pre,
         fmt::join(supported_pre_tokenizers(), ", "));
  }
  return p;
}

std::vector<std::string> supported_pre_tokenizers() {
  return {"llama-bpe", "llama3", "llama-v3", "falcon3", "falcon_e", "falcon-h1",
          "smaug-bpe", "dbrx",   "gpt-2",    "falcon",  "default"};
}

void pre_tokenize(const PreTokenizer& pre, std::string_view text, SplitScratch& s,
                  std::vector<std::string_view>& pieces) {
  pieces.clear();
  if (text.empty()) return;
  s.cpts.clear();
  s.offsets.clear();
  size_t pos = 0;
  while (pos < text.size()) {
    uint32_t cp;
    s.offsets.push_back(uint32_t(pos));
    if (!unicode::decode_utf8(text, pos, cp)) fail("pre_tokenize: invalid UTF-8 at byte {}", pos);
    s.cpts.push_back(cp);
  }
  s.offsets.push_back(uint32_t(text.size()));
  const uint32_t n = uint32_t(s.cpts.size());

  // Piece boundaries as end indices (in code points); start with one piece covering everything.
  std::vector<uint32_t>* cur = &s.bounds_a;
  std::vector<uint32_t>* next = &s.bounds_b;
  cur->assign(1, n);
  for (SplitStage stage : pre.stages) {
    next->clear();
    uint32_t begin = 0;
    for (uint32_t end : *cur) {
      const Cursor c{s.cpts.data(), begin, end};
      switch (stage) {
        case SplitStage::kLlama3: split_llama3(c, *next); break;
        case SplitStage::kGpt2: split_gpt2(c, *next); break;
        case SplitStage::kPunctRun:
          split_runs(c, *next, [](uint32_t cp) { return is_punct_symbol(cp, true); });
          break;
        case SplitStage::kPunctRunNoTick:
          split_runs(c, *next, [](uint32_t cp) { return is_punct_symbol(cp, false); });
          break;
        case SplitStage::kNumberRun: split_runs(c, *next, is_n); break;
        case SplitStage::kDigits3: split_digits3(c, *next); break;
      }
      begin = end;
    }
    std::swap(cur, next);
  }
  uint32_t begin = 0;
  for (uint32_t end : *cur) {
    pieces.push_back(text.substr(s.offsets[begin], s.offsets[end] - s.offsets[begin]));
    begin = end;
  }
}

}  // namespace bitnet::tok
