// Pieces shared by gguf_value.cpp, gguf_reader.cpp and gguf_writer.cpp (not a public interface).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "format/gguf.h"
#include "util/error.h"

namespace bitnet::gguf::detail {

// Arrays may nest (array of arrays of strings ...); deeper nesting is rejected so a hostile file
// cannot recurse the parser into a stack overflow.
inline constexpr uint32_t kMaxArrayDepth = 8;
// ggml keeps tensor names in a 64-byte buffer including the terminator.
inline constexpr size_t kMaxTensorName = 63;
inline constexpr uint32_t kMaxDims = 4;
inline constexpr uint32_t kDefaultAlignment = 32;

// Bounds-checked little-endian reader over the file image. Every read checks the remaining size
// first; failures name the file and the absolute byte offset.
class Cursor {
 public:
  Cursor(const uint8_t* data, uint64_t size, const std::string& name)
      : data_(data), size_(size), name_(name) {}

  uint64_t pos() const { return pos_; }
  uint64_t remaining() const { return size_ - pos_; }
  const std::string& name() const { return name_; }
  const uint8_t* data() const { return data_; }
  uint64_t size() const { return size_; }

  template <class... Args>
  [[noreturn]] void fail_at(uint64_t at, fmt::format_string<Args...> f, Args&&... args) const {
    throw Error(fmt::format("{}: at byte {}: {}", name_, at, fmt::format(f, std::forward<Args>(args)...)));
  }

  void need(uint64_t n, std::string_view what) const {
    if (n > remaining())
      fail_at(pos_, "unexpected end of file reading {} (needs {} bytes, {} left)", what, n, remaining());
  }

  template <class T>
  T read(std::string_view what) {
    need(sizeof(T), what);
    T v;
    std::memcpy(&v, data_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }

  // A gguf_string: uint64 length + bytes.
  std::string read_string(std::string_view what) {
    const uint64_t at = pos_;
    const uint64_t len = read<uint64_t>(what);
    if (len > remaining())
      fail_at(at, "{} length {} exceeds the {} bytes left in the file", what, len, remaining());
    std::string s(reinterpret_cast<const char*>(data_ + pos_), size_t(len));
    pos_ += len;
    return s;
  }

 private:
  const uint8_t* data_;
  uint64_t size_;
  uint64_t pos_ = 0;
  const std::string& name_;
};

// Parses one value of `type` at the cursor (`key` only for messages; `depth` counts array levels).
Value parse_value(Cursor& c, uint32_t type, std::string_view key, uint32_t depth);

// Appends the serialized value (without its type tag) to `out`.
void serialize_value(const Value& v, std::string& out);

// Smallest number of bytes one element of this type occupies in a file (for bounding counts).
uint64_t min_value_bytes(ValueType t);

bool is_valid_value_type(uint32_t t);

}  // namespace bitnet::gguf::detail

namespace bitnet::gguf::detail {
struct ValueAccess {
  static Value make(std::shared_ptr<const Value::Impl> impl) { return Value(std::move(impl)); }
  static const Value::Impl& impl(const Value& v) { return *v.impl_; }
};
}  // namespace bitnet::gguf::detail
