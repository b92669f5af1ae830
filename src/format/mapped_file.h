// A read-only memory mapping of a whole file (POSIX mmap). The mapping lives as long as the object.
#pragma once

#include <cstdint>
#include <string>

namespace bitnet {

class MappedFile {
 public:
  // Throws Error naming the path and the OS error if the file cannot be opened or mapped.
  explicit MappedFile(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  uint64_t size() const { return size_; }

 private:
  const uint8_t* data_ = nullptr;
  uint64_t size_ = 0;
};

}  // namespace bitnet
