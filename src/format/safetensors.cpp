#include "format/safetensors.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "format/half.h"
#include "format/mapped_file.h"
#include "util/checked_math.h"
#include "util/error.h"

namespace bitnet::safetensors {

namespace {

struct DTypeInfo {
  DType dtype;
  std::string_view name;
  uint32_t size;
};

constexpr DTypeInfo kDTypes[] = {
    {DType::BOOL, "BOOL", 1}, {DType::U8, "U8", 1},     {DType::I8, "I8", 1},
    {DType::U16, "U16", 2},   {DType::I16, "I16", 2},   {DType::U32, "U32", 4},
    {DType::I32, "I32", 4},   {DType::U64, "U64", 8},   {DType::I64, "I64", 8},
    {DType::F16, "F16", 2},   {DType::BF16, "BF16", 2}, {DType::F32, "F32", 4},
    {DType::F64, "F64", 8},   {DType::F8_E4M3, "F8_E4M3", 1}, {DType::F8_E5M2, "F8_E5M2", 1},
};

// Header JSON larger than this is not a real checkpoint (the 2B-4T header is ~40 KB); refusing
// early keeps a corrupt length from making us parse gigabytes.
constexpr uint64_t kMaxHeaderBytes = 100ull << 20;

}  // namespace

std::string_view dtype_name(DType dtype) {
  for (const auto& d : kDTypes)
    if (d.dtype == dtype) return d.name;
  return "?";
}

std::optional<DType> dtype_from_name(std::string_view name) {
  for (const auto& d : kDTypes)
    if (d.name == name) return d.dtype;
  return std::nullopt;
}

uint32_t dtype_size(DType dtype) {
  for (const auto& d : kDTypes)
    if (d.dtype == dtype) return d.size;
  return 0;
}

uint64_t Tensor::n_elements() const {
  uint64_t n = 1;
  for (uint64_t d : shape) n *= d;  // validated not to overflow when the file was opened
  return n;
}

std::string Tensor::shape_string() const {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

std::unique_ptr<File> File::open(const std::string& path) {
  std::unique_ptr<File> f(new File());
  f->path_ = path;
  f->map_ = std::make_unique<MappedFile>(path);
  const uint8_t* base = f->map_->data();
  const uint64_t file_size = f->map_->size();
  if (file_size < 8)
    fail("{}: file is {} bytes, too small for a safetensors header (8-byte length + JSON)", path, file_size);

  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | base[i];
  if (header_len > kMaxHeaderBytes)
    fail("{}: header length {} is implausible (limit {} bytes); not a safetensors file?", path,
         header_len, kMaxHeaderBytes);
  if (header_len > file_size - 8)
    fail("{}: header length {} runs past the end of the file ({} bytes); file truncated?", path,
         header_len, file_size);
  const uint64_t data_begin = 8 + header_len;
  const uint64_t data_size = file_size - data_begin;

  nlohmann::json header;
  try {
    header = nlohmann::json::parse(base + 8, base + data_begin);
  } catch (const nlohmann::json::exception& e) {
    fail("{}: header is not valid JSON: {}", path, e.what());
  }
  if (!header.is_object()) fail("{}: header is not a JSON object", path);

  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    const auto& v = it.value();
    if (name == "__metadata__") {
      if (!v.is_object()) fail("{}: __metadata__ is not an object", path);
      for (auto m2 = v.begin(); m2 != v.end(); ++m2)
        f->metadata_[m2.key()] = m2.value().is_string() ? m2.value().get<std::string>() : m2.value().dump();
      continue;
    }
    if (!v.is_object() || !v.contains("dtype") || !v.contains("shape") || !v.contains("data_offsets"))
      fail("{}: tensor '{}': entry must be an object with dtype, shape and data_offsets", path, name);
    Tensor t;
    t.name = name;
    const auto& jd = v["dtype"];
    if (!jd.is_string()) fail("{}: tensor '{}': dtype is not a string", path, name);
    const auto dt = dtype_from_name(jd.get<std::string>());
    if (!dt) fail("{}: tensor '{}': unknown dtype '{}'", path, name, jd.get<std::string>());
    t.dtype = *dt;
    const auto& js = v["shape"];
    if (!js.is_array()) fail("{}: tensor '{}': shape is not an array", path, name);
    uint64_t n = 1;
    for (const auto& d : js) {
      if (!d.is_number_unsigned()) fail("{}: tensor '{}': shape entry {} is not a non-negative integer", path, name, d.dump());
      t.shape.push_back(d.get<uint64_t>());
      const auto m2 = checked_mul(n, t.shape.back());
      if (!m2) fail("{}: tensor '{}': shape {} overflows", path, name, js.dump());
      n = *m2;
    }
    const auto expected = checked_mul(n, dtype_size(t.dtype));
    if (!expected) fail("{}: tensor '{}': byte size of shape {} overflows", path, name, js.dump());
    const auto& jo = v["data_offsets"];
    if (!jo.is_array() || jo.size() != 2 || !jo[0].is_number_unsigned() || !jo[1].is_number_unsigned())
      fail("{}: tensor '{}': data_offsets must be two non-negative integers", path, name);
    const uint64_t begin = jo[0].get<uint64_t>(), end = jo[1].get<uint64_t>();
    if (begin > end) fail("{}: tensor '{}': data_offsets [{}, {}] are reversed", path, name, begin, end);
    if (end > data_size)
      fail("{}: tensor '{}': data_offsets [{}, {}] run past the end of the data section ({} bytes); file truncated?",
           path, name, begin, end, data_size);
    if (end - begin != *expected)
      fail("{}: tensor '{}': {} {} needs {} bytes but data_offsets [{}, {}] span {}", path, name,
           dtype_name(t.dtype), js.dump(), *expected, begin, end, end - begin);
    t.data = base + data_begin + begin;
    t.nbytes = *expected;
    t.file = &f->path_;
    f->tensors_.push_back(std::move(t));
  }
  std::sort(f->tensors_.begin(), f->tensors_.end(),
            [&](const Tensor& a, const Tensor& b) { return a.data < b.data; });
  // Overlapping tensors mean a corrupt header (the format requires disjoint, packed ranges).
  for (size_t i = 1; i < f->tensors_.size(); ++i) {
    const auto& a = f->tensors_[i - 1];
    const auto& b = f->tensors_[i];
    if (a.data + a.nbytes > b.data)
      fail("{}: tensors '{}' and '{}' overlap in the data section", path, a.name, b.name);
  }
  for (size_t i = 0; i < f->tensors_.size(); ++i) f->index_[f->tensors_[i].name] = i;
  return f;
}

File::~File() = default;

const Tensor* File::find(std::string_view name) const {
  const auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

Checkpoint Checkpoint::open_dir(const std::string& dir) {
  namespace fs = std::filesystem;
  Checkpoint c;
  c.dir_ = dir;
  if (!fs::is_directory(dir)) fail("{}: not a directory", dir);
  const fs::path index_path = fs::path(dir) / "model.safetensors.index.json";
  if (fs::exists(index_path)) {
    nlohmann::json index;
    try {
      std::ifstream in(index_path);
      index = nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) {
      fail("{}: not valid JSON: {}", index_path.string(), e.what());
    }
    if (!index.is_object() || !index.contains("weight_map") || !index["weight_map"].is_object())
      fail("{}: has no \"weight_map\" object", index_path.string());
    std::map<std::string, size_t> shard_ids;
    for (auto it = index["weight_map"].begin(); it != index["weight_map"].end(); ++it) {
      if (!it.value().is_string())
        fail("{}: weight_map entry '{}' is not a file name", index_path.string(), it.key());
      const std::string shard = it.value().get<std::string>();
      if (shard.find('/') != std::string::npos || shard == "..")
        fail("{}: weight_map entry '{}' names '{}', which is not a file in the directory",
             index_path.string(), it.key(), shard);
      if (!shard_ids.count(shard)) {
        const fs::path p = fs::path(dir) / shard;
        if (!fs::exists(p)) fail("{}: shard '{}' (holding '{}') does not exist", index_path.string(), shard, it.key());
        shard_ids[shard] = c.files_.size();
        c.files_.push_back(File::open(p.string()));
      }
      const File& f = *c.files_[shard_ids[shard]];
      const Tensor* t = f.find(it.key());
      if (!t) fail("{}: tensor '{}' is listed in the index but missing from {}", index_path.string(), it.key(), f.path());
      c.by_name_[it.key()] = t;
    }
    // Tensors present in a shard but absent from the index would be silently ignored otherwise.
    for (const auto& f : c.files_)
      for (const auto& t : f->tensors())
        if (!c.by_name_.count(t.name))
          fail("{}: tensor '{}' in {} is not listed in the index", index_path.string(), t.name, f->path());
    return c;
  }
  fs::path single = fs::path(dir) / "model.safetensors";
  if (!fs::exists(single)) {
    std::vector<fs::path> found;
    for (const auto& e : fs::directory_iterator(dir))
      if (e.path().extension() == ".safetensors") found.push_back(e.path());
    if (found.empty()) fail("{}: no model.safetensors, model.safetensors.index.json or *.safetensors file", dir);
    if (found.size() > 1)
      fail("{}: {} .safetensors files but no model.safetensors.index.json to say how they fit together", dir,
           found.size());
    single = found[0];
  }
  c.files_.push_back(File::open(single.string()));
  for (const auto& t : c.files_[0]->tensors()) c.by_name_[t.name] = &t;
  return c;
}

const Tensor* Checkpoint::find(std::string_view name) const {
  const auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

const Tensor& Checkpoint::get(std::string_view name) const {
  const Tensor* t = find(name);
  if (!t) fail("{}: checkpoint has no tensor '{}'", dir_, name);
  return *t;
}

std::vector<std::string> Checkpoint::names() const {
  std::vector<std::string> out;
  out.reserve(by_name_.size());
  for (const auto& [name, t] : by_name_) out.push_back(name);
  return out;
}

bool is_float_dtype(DType dtype) {
  return dtype == DType::F32 || dtype == DType::F16 || dtype == DType::BF16 || dtype == DType::F64;
}

void to_f32(const Tensor& t, uint64_t first, uint64_t count, float* out) {
  const std::string& file = t.file ? *t.file : std::string();
  if (!is_float_dtype(t.dtype))
    fail("{}: tensor '{}' has dtype {}, expected a floating-point type (F32, F16, BF16, F64)", file,
         t.name, dtype_name(t.dtype));
  const uint64_t n = t.n_elements();
  if (first > n || count > n - first)
    fail("{}: tensor '{}': element range [{}, +{}) outside its {} elements", file, t.name, first, count, n);
  const uint8_t* p = t.data + first * dtype_size(t.dtype);
  switch (t.dtype) {
    case DType::F32:
      std::memcpy(out, p, count * 4);
      return;
    case DType::F64:
      for (uint64_t i = 0; i < count; ++i) {
        double d;
        std::memcpy(&d, p + 8 * i, 8);
        out[i] = static_cast<float>(d);
      }
      return;
    case DType::F16:
      for (uint64_t i = 0; i < count; ++i) {
        uint16_t h;
        std::memcpy(&h, p + 2 * i, 2);
        out[i] = f16_to_f32(h);
      }
      return;
    default:  // BF16: the top half of a float32
      for (uint64_t i = 0; i < count; ++i) {
        uint16_t h;
        std::memcpy(&h, p + 2 * i, 2);
        const uint32_t bits = uint32_t(h) << 16;
        std::memcpy(out + i, &bits, 4);
      }
      return;
  }
}

}  // namespace bitnet::safetensors
