// UTF-8 handling and the Unicode facts the tokenizers need: general-category flags (generated
// table, see gen_unicode_data.py) and GPT-2's byte <-> printable-code-point mapping.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace bitnet::unicode {

enum Flag : uint8_t {
  kLetter = 1,       // \p{L}
  kNumber = 2,       // \p{N}
  kPunctuation = 4,  // \p{P}
  kWhitespace = 8,   // \s (White_Space property)
  kMark = 16,        // \p{M}
  kSymbol = 32,      // \p{S}
  kOther = 64,       // \p{C} (controls, unassigned, surrogates, private use)
};

// Category flags of a code point (0 for separators that are not whitespace, and past U+10FFFF).
uint8_t flags(uint32_t cp);

inline bool is_letter(uint32_t cp) { return flags(cp) & kLetter; }
inline bool is_number(uint32_t cp) { return flags(cp) & kNumber; }
inline bool is_whitespace(uint32_t cp) { return flags(cp) & kWhitespace; }
inline bool is_punctuation(uint32_t cp) { return flags(cp) & kPunctuation; }

// Length of the UTF-8 sequence announced by a lead byte; 0 for a continuation or invalid byte.
inline size_t utf8_sequence_length(uint8_t lead) {
  if (lead < 0x80) return 1;
  if (lead < 0xC2) return 0;
  if (lead < 0xE0) return 2;
  if (lead < 0xF0) return 3;
  if (lead < 0xF5) return 4;
  return 0;
}

// Decodes the code point at s[pos] and advances pos. Returns false (pos unchanged) when the bytes
// there are not well-formed UTF-8 (overlong forms, surrogates, > U+10FFFF, truncation).
bool decode_utf8(std::string_view s, size_t& pos, uint32_t& cp);

// Offset of the first byte that is not part of well-formed UTF-8, or npos if s is valid.
size_t find_invalid_utf8(std::string_view s);

// Throws Error naming `what` and the byte offset if s is not valid UTF-8.
void require_valid_utf8(std::string_view s, std::string_view what);

void append_utf8(std::string& out, uint32_t cp);

// GPT-2 byte-level mapping: every byte gets a printable code point (its UTF-8 form here).
const std::string& byte_to_unicode(uint8_t byte);
// Inverse mapping; -1 if the code point is not the image of a byte.
int unicode_to_byte(uint32_t cp);

}  // namespace bitnet::unicode
