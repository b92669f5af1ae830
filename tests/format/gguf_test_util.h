// Raw little-endian byte builder for handcrafted (possibly malformed) GGUF images.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace bitnet::gguf::testing {

class Bytes {
 public:
  template <class T>
  Bytes& put(T v) {
    uint8_t b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));
    d_.insert(d_.end(), b, b + sizeof(T));
    return *this;
  }
  Bytes& u8(uint8_t v) { return put(v); }
  Bytes& u32(uint32_t v) { return put(v); }
  Bytes& u64(uint64_t v) { return put(v); }
  Bytes& raw(const std::string& s) {
    d_.insert(d_.end(), s.begin(), s.end());
    return *this;
  }
  Bytes& str(const std::string& s) { return u64(s.size()).raw(s); }
  Bytes& header(uint64_t n_tensors, uint64_t n_kv, uint32_t version = 3) {
    return raw("GGUF").u32(version).u64(n_tensors).u64(n_kv);
  }
  // A key/value with a u32 value.
  Bytes& kv_u32(const std::string& key, uint32_t v) { return str(key).u32(4).u32(v); }
  Bytes& kv_str(const std::string& key, const std::string& v) { return str(key).u32(8).str(v); }
  Bytes& tensor(const std::string& name, std::vector<uint64_t> dims, uint32_t type, uint64_t offset) {
    str(name).u32(uint32_t(dims.size()));
    for (uint64_t x : dims) u64(x);
    return u32(type).u64(offset);
  }
  Bytes& pad_to(size_t alignment) {
    while (d_.size() % alignment) d_.push_back(0);
    return *this;
  }
  Bytes& zeros(size_t n) {
    d_.insert(d_.end(), n, 0);
    return *this;
  }
  size_t size() const { return d_.size(); }
  const std::vector<uint8_t>& data() const { return d_; }

 private:
  std::vector<uint8_t> d_;
};

}  // namespace bitnet::gguf::testing
