// GGUF v2/v3 container: a validating, memory-mapped reader and a streaming writer.
//
// The reader maps the file once; tensor data is never copied (TensorInfo::data points into the map).
// Every count, length, offset and size is checked against the file size with overflow-safe
// arithmetic before use. Any problem throws bitnet::Error with the file name, the byte offset and
// what was wrong, e.g. "model.gguf: at byte 24: metadata count 2^60 exceeds what the file can hold".
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "format/tensor_types.h"

namespace bitnet::gguf {

namespace detail {
struct ValueAccess;
}

enum class ValueType : uint32_t {
  U8 = 0, I8 = 1, U16 = 2, I16 = 3, U32 = 4, I32 = 5, F32 = 6, BOOL = 7,
  STRING = 8, ARRAY = 9, U64 = 10, I64 = 11, F64 = 12,
};
std::string_view value_type_name(ValueType type);

// A metadata value. Scalars, strings and (possibly nested) arrays.
class Value {
 public:
  Value();  // U8 0
  static Value u8(uint8_t v);
  static Value i8(int8_t v);
  static Value u16(uint16_t v);
  static Value i16(int16_t v);
  static Value u32(uint32_t v);
  static Value i32(int32_t v);
  static Value u64(uint64_t v);
  static Value i64(int64_t v);
  static Value f32(float v);
  static Value f64(double v);
  static Value boolean(bool v);
  static Value string(std::string v);
  // All elements must have type elem_type (checked; throws Error otherwise).
  static Value array(ValueType elem_type, std::vector<Value> elements);
  static Value string_array(std::vector<std::string> elements);
  static Value f32_array(std::vector<float> elements);
  static Value i32_array(std::vector<int32_t> elements);

  ValueType type() const;
  bool is_integer() const;  // any of U8..I64 (not BOOL)
  bool is_float() const;    // F32 or F64

  // Typed access; throw Error naming the actual type on mismatch.
  uint64_t as_u64() const;       // any non-negative integer type
  int64_t as_i64() const;        // any integer type that fits
  double as_f64() const;         // F32, F64 or integer
  bool as_bool() const;
  const std::string& as_string() const;

  // Arrays.
  ValueType array_type() const;  // element type; throws if not an array
  size_t size() const;           // element count; throws if not an array
  const Value& at(size_t i) const;
  std::vector<std::string> as_strings() const;  // array of STRING
  std::vector<float> as_f32s() const;            // array of F32 (or any numeric)
  std::vector<int32_t> as_i32s() const;          // array of any integer type that fits

  // For `bitnet inspect`: arrays show at most max_elements elements (recursively) and strings at
  // most 20 * max_elements characters; SIZE_MAX shows everything.
  std::string to_display(size_t max_elements = 8) const;

  // Same type and contents (floats compared bit for bit, so NaN == NaN).
  bool operator==(const Value& other) const;

  struct Impl;
 private:
  friend struct detail::ValueAccess;
  explicit Value(std::shared_ptr<const Impl> impl);
  std::shared_ptr<const Impl> impl_;
};

struct TensorInfo {
  std::string name;
  std::vector<uint64_t> dims;  // dims[0] is innermost (ggml ne0)
  uint32_t gguf_type = 0;      // raw id from the file
  TensorType type{};           // resolved with the file's architecture
  uint64_t offset = 0;         // relative to the data section
  uint64_t nbytes = 0;
  const uint8_t* data = nullptr;  // into the mapped file

  uint64_t n_elements() const;
};

class File {
 public:
  // Maps and fully validates the file. Throws Error on any problem.
  static std::unique_ptr<File> open(const std::string& path);
  // Validates an in-memory image (used by tests and fuzzers); `name` is used in messages.
  static std::unique_ptr<File> from_memory(const uint8_t* data, size_t size, std::string name);
  ~File();

  const std::string& path() const;
  uint32_t version() const;
  uint32_t alignment() const;
  uint64_t data_offset() const;  // absolute file offset of the tensor data section
  uint64_t file_size() const;

  const std::vector<std::pair<std::string, Value>>& metadata() const;
  const Value* find(std::string_view key) const;  // nullptr if absent
  const Value& get(std::string_view key) const;   // throws Error naming the key if absent

  std::string get_string(std::string_view key, std::string_view fallback) const;
  uint64_t get_u64(std::string_view key, uint64_t fallback) const;
  double get_f64(std::string_view key, double fallback) const;
  bool get_bool(std::string_view key, bool fallback) const;

  std::string architecture() const;  // general.architecture, "" if absent

  const std::vector<TensorInfo>& tensors() const;
  const TensorInfo* find_tensor(std::string_view name) const;  // nullptr if absent

  struct Impl;
 private:
  explicit File(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Streaming writer: metadata and tensor infos are collected, then write() emits header, infos,
// aligned data. Tensor bytes are pulled through a callback so large models are never held in memory
// twice.
class Writer {
 public:
  explicit Writer(uint32_t alignment = 32);

  void set(std::string key, Value value);  // replaces an existing key of the same name
  // `fill` must write exactly nbytes to `out` when called.
  using Fill = std::function<void(uint8_t* out, uint64_t nbytes)>;
  void add_tensor(std::string name, std::vector<uint64_t> dims, TensorType type, Fill fill);
  void add_tensor_raw(std::string name, std::vector<uint64_t> dims, uint32_t gguf_type,
                      uint64_t nbytes, Fill fill);  // for tests: arbitrary ids
  void add_tensor_copy(std::string name, std::vector<uint64_t> dims, TensorType type,
                       const void* data, uint64_t nbytes);

  // progress(done_tensors, total_tensors) after each tensor.
  void write(const std::string& path, const std::function<void(size_t, size_t)>& progress = {}) const;
  std::vector<uint8_t> write_to_memory() const;

  size_t tensor_count() const;

 private:
  struct PendingTensor {
    std::string name;
    std::vector<uint64_t> dims;
    uint32_t gguf_type;
    uint64_t nbytes;
    Fill fill;
  };
  uint32_t alignment_;
  std::vector<std::pair<std::string, Value>> metadata_;
  std::vector<PendingTensor> tensors_;
};

}  // namespace bitnet::gguf
