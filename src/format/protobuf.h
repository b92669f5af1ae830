// A minimal reader of the protobuf wire format (proto2/proto3 binary encoding), enough to walk a
// message field by field: the SentencePiece tokenizer.model (ModelProto) is its only user.
//
// Wire format: a message is a sequence of fields; each starts with a varint key
// (field_number << 3 | wire_type) followed by the value: VARINT (0) a base-128 varint of at most
// 10 bytes, I64 (1) 8 little-endian bytes, LEN (2) a varint length then that many bytes (strings,
// bytes, sub-messages, packed repeated fields), I32 (5) 4 little-endian bytes. Groups (3, 4) are
// deprecated and refused. Every varint and every length is checked against the bytes that remain
// in the enclosing message; problems throw bitnet::Error naming the source, the byte offset (from
// the start of the file) and the field.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace bitnet::protobuf {

enum class WireType : uint8_t { Varint = 0, I64 = 1, Len = 2, StartGroup = 3, EndGroup = 4, I32 = 5 };

std::string_view wire_type_name(WireType type);

struct Field {
  uint32_t number = 0;
  WireType type = WireType::Varint;
  uint64_t varint = 0;     // Varint
  uint64_t fixed = 0;      // I64, or I32 in the low 32 bits
  std::string_view bytes;  // Len: the payload (a view into the reader's data)
  uint64_t offset = 0;     // of the field's key, from the start of the outermost data
  uint64_t value_offset = 0;  // of the payload (Len: after the length prefix)

  // Typed views; each throws Error ("<source>: field N (<what>) at byte B has wire type X,
  // expected Y") when the wire type does not fit.
  uint64_t as_uint64(std::string_view source, std::string_view what) const;
  // int32 fields are encoded as sign-extended 64-bit varints (so -1 takes 10 bytes).
  int32_t as_int32(std::string_view source, std::string_view what) const;
  bool as_bool(std::string_view source, std::string_view what) const;
  float as_float(std::string_view source, std::string_view what) const;
  std::string_view as_bytes(std::string_view source, std::string_view what) const;
};

class Reader {
 public:
  // `source` names the data in messages (e.g. the file path); `base_offset` is where `data`
  // starts within it (for sub-message readers).
  Reader(std::string_view data, std::string source, uint64_t base_offset = 0)
      : data_(data), source_(std::move(source)), base_(base_offset) {}

  // Reads the next field into `f`; false at the end of the data. Throws Error on a truncated
  // varint, a varint longer than 10 bytes or overflowing 64 bits, field number 0, a length or
  // fixed-size value running past the end, or a group / unknown wire type.
  bool next(Field& f);

  // A reader over a Len field's payload (a sub-message), with offsets that stay file-relative.
  Reader sub(const Field& f, std::string_view what) const;

  uint64_t position() const { return base_ + pos_; }

 private:
  uint64_t read_varint(std::string_view what);

  std::string_view data_;
  std::string source_;
  uint64_t base_ = 0;
  size_t pos_ = 0;
};

}  // namespace bitnet::protobuf
