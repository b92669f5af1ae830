#include "format/protobuf.h"

#include <cstring>

#include "util/error.h"

namespace bitnet::protobuf {

std::string_view wire_type_name(WireType type) {
  switch (type) {
    case WireType::Varint: return "VARINT";
    case WireType::I64: return "I64";
    case WireType::Len: return "LEN";
    case WireType::StartGroup: return "SGROUP";
    case WireType::EndGroup: return "EGROUP";
    case WireType::I32: return "I32";
  }
  return "?";
}

namespace {

[[noreturn]] void wrong_type(const Field& f, std::string_view source, std::string_view what, WireType want) {
  fail("{}: field {} ({}) at byte {} has wire type {} ({}), expected {} ({})", source, f.number, what, f.offset,
       int(f.type), wire_type_name(f.type), int(want), wire_type_name(want));
}

}  // namespace

uint64_t Field::as_uint64(std::string_view source, std::string_view what) const {
  if (type != WireType::Varint) wrong_type(*this, source, what, WireType::Varint);
  return varint;
}

int32_t Field::as_int32(std::string_view source, std::string_view what) const {
  if (type != WireType::Varint) wrong_type(*this, source, what, WireType::Varint);
  const auto v = static_cast<int64_t>(varint);
  if (v < INT32_MIN || v > INT32_MAX)
    fail("{}: field {} ({}) at byte {} = {} does not fit an int32", source, number, what, offset, v);
  return static_cast<int32_t>(v);
}

bool Field::as_bool(std::string_view source, std::string_view what) const {
  if (type != WireType::Varint) wrong_type(*this, source, what, WireType::Varint);
  return varint != 0;
}

float Field::as_float(std::string_view source, std::string_view what) const {
  if (type != WireType::I32) wrong_type(*this, source, what, WireType::I32);
  const auto bits = static_cast<uint32_t>(fixed);
  float v;
  std::memcpy(&v, &bits, 4);
  return v;
}

std::string_view Field::as_bytes(std::string_view source, std::string_view what) const {
  if (type != WireType::Len) wrong_type(*this, source, what, WireType::Len);
  return bytes;
}

uint64_t Reader::read_varint(std::string_view what) {
  const uint64_t start = base_ + pos_;
  uint64_t v = 0;
  for (int i = 0; i < 10; ++i) {
    if (pos_ >= data_.size())
      fail("{}: truncated varint ({}) at byte {}: the data ends after {} byte(s) of it", source_, what, start, i);
    const auto b = static_cast<uint8_t>(data_[pos_++]);
    // The 10th byte holds bit 63 only: anything above its lowest bit overflows 64 bits.
    if (i == 9 && (b & 0x7E) != 0) fail("{}: varint ({}) at byte {} overflows 64 bits", source_, what, start);
    v |= static_cast<uint64_t>(b & 0x7F) << (7 * i);
    if (!(b & 0x80)) return v;
  }
  fail("{}: varint ({}) at byte {} is longer than 10 bytes", source_, what, start);
}

bool Reader::next(Field& f) {
  if (pos_ >= data_.size()) return false;
  f = Field{};
  f.offset = base_ + pos_;
  const uint64_t key = read_varint("field key");
  const uint64_t number = key >> 3;
  const auto wt = static_cast<uint8_t>(key & 7);
  if (number == 0 || number > 0x1FFFFFFF)
    fail("{}: invalid field number {} at byte {}", source_, number, f.offset);
  f.number = static_cast<uint32_t>(number);
  f.type = static_cast<WireType>(wt);
  const size_t left_before = data_.size() - pos_;
  switch (wt) {
    case 0:
      f.value_offset = base_ + pos_;
      f.varint = read_varint("field value");
      break;
    case 1:
    case 5: {
      const size_t n = wt == 1 ? 8 : 4;
      f.value_offset = base_ + pos_;
      if (left_before < n)
        fail("{}: field {} at byte {}: its {}-byte value runs past the end of the data ({} byte(s) left)", source_,
             f.number, f.offset, n, left_before);
      uint64_t v = 0;
      for (size_t i = 0; i < n; ++i) v |= static_cast<uint64_t>(static_cast<uint8_t>(data_[pos_ + i])) << (8 * i);
      f.fixed = v;
      pos_ += n;
      break;
    }
    case 2: {
      const uint64_t len = read_varint("length");
      const size_t left = data_.size() - pos_;
      f.value_offset = base_ + pos_;
      if (len > left)
        fail("{}: field {} at byte {}: length {} runs past the end of the data ({} byte(s) left)", source_, f.number,
             f.offset, len, left);
      f.bytes = data_.substr(pos_, static_cast<size_t>(len));
      pos_ += static_cast<size_t>(len);
      break;
    }
    case 3:
    case 4:
      fail("{}: field {} at byte {} uses wire type {} (groups), which is not supported", source_, f.number, f.offset,
           int(wt));
    default:
      fail("{}: field {} at byte {} has invalid wire type {}", source_, f.number, f.offset, int(wt));
  }
  return true;
}

Reader Reader::sub(const Field& f, std::string_view what) const {
  return Reader(f.as_bytes(source_, what), source_, f.value_offset);
}

}  // namespace bitnet::protobuf
