#include "tokenizer/unicode.h"

#include <algorithm>
#include <array>
#include <vector>

#include "util/error.h"

namespace bitnet::unicode {

namespace detail {
extern const uint32_t kCategoryRuns[];
extern const size_t kCategoryRunCount;
}  // namespace detail

namespace {

// The BMP is looked up in a flat byte table (64 KiB, built once) because pre-tokenizers ask for
// every code point of the input; the rest uses binary search over the runs.
const std::vector<uint8_t>& bmp_table() {
  static const std::vector<uint8_t> table = [] {
    std::vector<uint8_t> t(0x10000);
    for (size_t i = 0; i < detail::kCategoryRunCount; ++i) {
      const uint32_t start = detail::kCategoryRuns[i] >> 8;
      if (start >= 0x10000) break;
      const uint32_t end = i + 1 < detail::kCategoryRunCount
                               ? std::min<uint32_t>(detail::kCategoryRuns[i + 1] >> 8, 0x10000)
                               : 0x10000;
      std::fill(t.begin() + start, t.begin() + end, uint8_t(detail::kCategoryRuns[i] & 0xFF));
    }
    return t;
  }();
  return table;
}

struct ByteMaps {
  std::array<std::string, 256> to_unicode;
  std::array<int16_t, 324> from_unicode;  // images are all below U+0144
};

// GPT-2's bytes_to_unicode(): printable Latin-1 bytes map to themselves, the other 68 bytes to
// U+0100.. in byte order.
const ByteMaps& byte_maps() {
  static const ByteMaps maps = [] {
    ByteMaps m;
    m.from_unicode.fill(-1);
    int next = 256;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
      const int cp = printable ? b : next++;
      append_utf8(m.to_unicode[b], uint32_t(cp));
      m.from_unicode[cp] = int16_t(b);
    }
    return m;
  }();
  return maps;
}

}  // namespace

uint8_t flags(uint32_t cp) {
  if (cp < 0x10000) return bmp_table()[cp];
  if (cp > 0x10FFFF) return 0;
  const uint32_t* begin = detail::kCategoryRuns;
  const uint32_t* end = begin + detail::kCategoryRunCount;
  const uint32_t key = (cp << 8) | 0xFF;
  const uint32_t* it = std::upper_bound(begin, end, key);  // first run starting after cp
  return uint8_t(*(it - 1) & 0xFF);
}

bool decode_utf8(std::string_view s, size_t& pos, uint32_t& cp) {
  if (pos >= s.size()) return false;
  const auto b0 = uint8_t(s[pos]);
  const size_t n = utf8_sequence_length(b0);
  if (n == 0 || pos + n > s.size()) return false;
  if (n == 1) {
    cp = b0;
    pos += 1;
    return true;
  }
  uint32_t c = b0 & (0x7F >> n);
  for (size_t i = 1; i < n; ++i) {
    const auto b = uint8_t(s[pos + i]);
    if ((b & 0xC0) != 0x80) return false;
    c = (c << 6) | (b & 0x3F);
  }
  // Overlong 3/4-byte forms, surrogates and code points past U+10FFFF are ill-formed.
  if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10FFFF)) ||
      (c >= 0xD800 && c <= 0xDFFF))
    return false;
  cp = c;
  pos += n;
  return true;
}

size_t find_invalid_utf8(std::string_view s) {
  size_t pos = 0;
  uint32_t cp;
  while (pos < s.size()) {
    if (uint8_t(s[pos]) < 0x80) {
      ++pos;
      continue;
    }
    if (!decode_utf8(s, pos, cp)) return pos;
  }
  return std::string_view::npos;
}

void require_valid_utf8(std::string_view s, std::string_view what) {
  const size_t bad = find_invalid_utf8(s);
  if (bad != std::string_view::npos)
    fail("{}: invalid UTF-8 at byte {} (byte value 0x{:02X})", what, bad, uint8_t(s[bad]));
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xC0 | (cp >> 6));
    out += char(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += char(0xE0 | (cp >> 12));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  } else {
    out += char(0xF0 | (cp >> 18));
    out += char(0x80 | ((cp >> 12) & 0x3F));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  }
}

const std::string& byte_to_unicode(uint8_t byte) { return byte_maps().to_unicode[byte]; }

int unicode_to_byte(uint32_t cp) {
  return cp < byte_maps().from_unicode.size() ? byte_maps().from_unicode[cp] : -1;
}

}  // namespace bitnet::unicode
