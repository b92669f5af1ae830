// Readers for the transformers reference files (tests/data/*/reference): .npy float32 arrays and
// the JSON files. Test-only helpers.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace bitnet::testing {

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline nlohmann::json read_json(const std::string& path) { return nlohmann::json::parse(read_text(path)); }

struct NpyF32 {
  std::vector<int64_t> shape;
  std::vector<float> data;
};

// Minimal .npy v1/v2 reader for little-endian '<f4' C-order arrays.
inline NpyF32 read_npy_f32(const std::string& path) {
  const std::string raw = read_text(path);
  if (raw.size() < 10 || raw.compare(0, 6, "\x93NUMPY") != 0) throw std::runtime_error(path + ": not a .npy file");
  const int major = uint8_t(raw[6]);
  size_t header_len, header_start;
  if (major == 1) {
    header_len = uint8_t(raw[8]) | (size_t(uint8_t(raw[9])) << 8);
    header_start = 10;
  } else {
    header_len = uint8_t(raw[8]) | (size_t(uint8_t(raw[9])) << 8) | (size_t(uint8_t(raw[10])) << 16) |
                 (size_t(uint8_t(raw[11])) << 24);
    header_start = 12;
  }
  const std::string header = raw.substr(header_start, header_len);
  if (header.find("'<f4'") == std::string::npos || header.find("'fortran_order': False") == std::string::npos)
    throw std::runtime_error(path + ": expected little-endian float32 C-order array");
  NpyF32 out;
  const size_t open = header.find('(', header.find("'shape'"));
  const size_t close = header.find(')', open);
  std::stringstream dims(header.substr(open + 1, close - open - 1));
  std::string item;
  int64_t count = 1;
  while (std::getline(dims, item, ','))
    if (item.find_first_not_of(' ') != std::string::npos) {
      out.shape.push_back(std::stoll(item));
      count *= out.shape.back();
    }
  const size_t data_start = header_start + header_len;
  if (raw.size() - data_start != size_t(count) * 4) throw std::runtime_error(path + ": size mismatch");
  out.data.resize(size_t(count));
  std::memcpy(out.data.data(), raw.data() + data_start, size_t(count) * 4);
  return out;
}

}  // namespace bitnet::testing
