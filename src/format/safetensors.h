// Read-only access to Hugging Face .safetensors checkpoints, memory-mapped (zero copies).
//
// A .safetensors file is: u64 little-endian header length N, N bytes of JSON
// {"name": {"dtype": "BF16", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {..}},
// then the data section (offsets are relative to its start). Every offset, size and shape product
// is checked against the file before use; problems throw bitnet::Error naming the file (and the
// tensor when there is one).
//
// Sharded checkpoints (model-00001-of-0000N.safetensors + model.safetensors.index.json) are opened
// through Checkpoint, which presents all shards as one tensor namespace.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bitnet { class MappedFile; }

namespace bitnet::safetensors {

enum class DType : uint8_t { BOOL, U8, I8, U16, I16, U32, I32, U64, I64, F16, BF16, F32, F64, F8_E4M3, F8_E5M2 };

std::string_view dtype_name(DType dtype);
std::optional<DType> dtype_from_name(std::string_view name);
uint32_t dtype_size(DType dtype);  // bytes per element

struct Tensor {
  std::string name;
  DType dtype{};
  std::vector<uint64_t> shape;  // outermost first, as in PyTorch
  const uint8_t* data = nullptr;  // into the mapped file
  uint64_t nbytes = 0;
  const std::string* file = nullptr;  // path of the file holding it (for messages)

  uint64_t n_elements() const;
  std::string shape_string() const;  // "[128, 512]"
};

class File {
 public:
  // Maps and validates the whole header. Throws Error on any problem.
  static std::unique_ptr<File> open(const std::string& path);
  ~File();
  File(const File&) = delete;
  File& operator=(const File&) = delete;

  const std::string& path() const { return path_; }
  const std::vector<Tensor>& tensors() const { return tensors_; }  // in data-offset order
  const Tensor* find(std::string_view name) const;
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

 private:
  File() = default;
  std::string path_;
  std::unique_ptr<MappedFile> map_;
  std::vector<Tensor> tensors_;
  std::map<std::string, size_t, std::less<>> index_;
  std::map<std::string, std::string> metadata_;
};

// All tensors of a checkpoint directory: model.safetensors.index.json if present (every shard it
// names is opened and every tensor must be in the shard the index says), else model.safetensors,
// else the single *.safetensors file in the directory.
class Checkpoint {
 public:
  static Checkpoint open_dir(const std::string& dir);

  const Tensor* find(std::string_view name) const;
  // Throws Error naming the tensor and the directory.
  const Tensor& get(std::string_view name) const;
  std::vector<std::string> names() const;  // sorted
  const std::string& dir() const { return dir_; }
  size_t file_count() const { return files_.size(); }

 private:
  std::string dir_;
  std::vector<std::unique_ptr<File>> files_;
  std::map<std::string, const Tensor*, std::less<>> by_name_;
};

// Element conversions used by the converter: elements [first, first + count) of `t` (flat,
// row-major) as float32. Supports F32, F16, BF16 and F64; anything else throws Error naming the
// tensor and its dtype. The range must lie inside the tensor (checked).
bool is_float_dtype(DType dtype);
void to_f32(const Tensor& t, uint64_t first, uint64_t count, float* out);
inline void to_f32(const Tensor& t, float* out) { to_f32(t, 0, t.n_elements(), out); }

}  // namespace bitnet::safetensors
