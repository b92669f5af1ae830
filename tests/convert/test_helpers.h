// Helpers for the converter tests: temporary directories, a minimal .safetensors writer (to build
// broken checkpoints) and copies of the fixture checkpoints that tests can modify.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "format/safetensors.h"

namespace bitnet::test {

namespace fs = std::filesystem;

inline fs::path fixture_dir(const std::string& kind) {  // "hf-packed" or "hf-bf16"
  return fs::path(BITNET_TEST_DATA) / "tiny-fixture" / kind;
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "bitnet-convert-test-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }
  fs::path operator/(const std::string& name) const { return path_ / name; }

 private:
  fs::path path_;
};

struct StTensor {
  std::string name;
  std::string dtype;
  std::vector<uint64_t> shape;
  std::vector<uint8_t> bytes;
};

// Writes tensors in the given order with consecutive data offsets.
inline void write_safetensors(const fs::path& path, const std::vector<StTensor>& tensors) {
  nlohmann::ordered_json header;
  header["__metadata__"] = {{"format", "pt"}};
  uint64_t off = 0;
  for (const auto& t : tensors) {
    header[t.name] = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {off, off + t.bytes.size()}}};
    off += t.bytes.size();
  }
  std::string h = header.dump();
  while (h.size() % 8) h += ' ';
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  const uint64_t n = h.size();
  out.write(reinterpret_cast<const char*>(&n), 8);
  out.write(h.data(), static_cast<std::streamsize>(h.size()));
  for (const auto& t : tensors) out.write(reinterpret_cast<const char*>(t.bytes.data()), static_cast<std::streamsize>(t.bytes.size()));
}

// All tensors of a safetensors file, copied out, in file order.
inline std::vector<StTensor> read_all(const fs::path& path) {
  auto f = safetensors::File::open(path.string());
  std::vector<StTensor> out;
  for (const auto& t : f->tensors())
    out.push_back({t.name, std::string(safetensors::dtype_name(t.dtype)), t.shape,
                   std::vector<uint8_t>(t.data, t.data + t.nbytes)});
  return out;
}

// A modifiable copy of a fixture checkpoint directory.
inline fs::path copy_fixture(const TempDir& tmp, const std::string& kind) {
  const fs::path dst = tmp / kind;
  fs::create_directories(dst);
  for (const auto& e : fs::directory_iterator(fixture_dir(kind)))
    fs::copy_file(e.path(), dst / e.path().filename(), fs::copy_options::overwrite_existing);
  for (const auto& e : fs::directory_iterator(dst))
    fs::permissions(e.path(), fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::add);
  return dst;
}

inline nlohmann::json read_json(const fs::path& p) {
  std::ifstream in(p);
  return nlohmann::json::parse(in);
}

inline void write_json(const fs::path& p, const nlohmann::json& j) {
  std::ofstream out(p, std::ios::trunc);
  out << j.dump(2);
}

// Runs `fn`, expects bitnet::Error whose message contains every string in `needles`.
template <class Fn>
void expect_error(Fn&& fn, const std::vector<std::string>& needles) {
  try {
    fn();
    ADD_FAILURE() << "expected an error containing '" << needles.front() << "'";
  } catch (const std::exception& e) {
    const std::string msg = e.what();
    for (const auto& n : needles) EXPECT_NE(msg.find(n), std::string::npos) << "message: " << msg << "\nmissing: " << n;
  }
}

}  // namespace bitnet::test
