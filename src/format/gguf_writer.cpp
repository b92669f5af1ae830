// GGUF v3 writer: header, metadata, tensor infos, then each tensor's bytes pulled from its Fill
// callback one at a time (so a model is never held in memory twice), each padded to the alignment.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <unordered_set>

#include "format/gguf.h"
#include "format/gguf_internal.h"
#include "util/checked_math.h"

namespace bitnet::gguf {

namespace {

template <class T>
void put(std::string& out, T v) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  out.append(b, sizeof(T));
}

void put_string(std::string& out, const std::string& s) {
  put<uint64_t>(out, s.size());
  out += s;
}

uint64_t align_up(uint64_t x, uint64_t a) { return x + (a - x % a) % a; }

}  // namespace

Writer::Writer(uint32_t alignment) : alignment_(alignment) {
  if (alignment == 0 || (alignment & (alignment - 1)) != 0)
    fail("GGUF alignment {} is not a power of two", alignment);
}

void Writer::set(std::string key, Value value) {
  if (key.empty()) fail("metadata key must not be empty");
  if (key == "general.alignment") {
    if (value.type() != ValueType::U32) fail("general.alignment must be a u32");
    if (value.as_u64() != alignment_)
      fail("general.alignment {} differs from the writer's alignment {}", value.as_u64(), alignment_);
  }
  for (auto& kv : metadata_)
    if (kv.first == key) {
      kv.second = std::move(value);
      return;
    }
  metadata_.emplace_back(std::move(key), std::move(value));
}

void Writer::add_tensor(std::string name, std::vector<uint64_t> dims, TensorType type, Fill fill) {
  const auto& traits = tensor_type_traits(type);
  if (dims.empty() || dims.size() > detail::kMaxDims)
    fail("tensor '{}': {} dimensions (must be 1..{})", name, dims.size(), detail::kMaxDims);
  const auto nb = tensor_nbytes(type, dims.data(), uint32_t(dims.size()));
  if (!nb)
    fail("tensor '{}': cannot store dims [{}] as {} (block size {}, or no fixed size)", name, fmt::join(dims, ", "),
         traits.name, traits.block_elems);
  add_tensor_raw(std::move(name), std::move(dims), traits.gguf_id, *nb, std::move(fill));
}

void Writer::add_tensor_raw(std::string name, std::vector<uint64_t> dims, uint32_t gguf_type, uint64_t nbytes,
                            Fill fill) {
  if (name.empty() || name.size() > detail::kMaxTensorName)
    fail("tensor name '{}' must be 1..{} bytes (ggml's limit)", name, detail::kMaxTensorName);
  for (const auto& t : tensors_)
    if (t.name == name) fail("duplicate tensor name '{}'", name);
  for (uint64_t d : dims)
    if (d == 0) fail("tensor '{}': dimension of size 0", name);
  if (!fill) fail("tensor '{}': no fill callback", name);
  tensors_.push_back({std::move(name), std::move(dims), gguf_type, nbytes, std::move(fill)});
}

void Writer::add_tensor_copy(std::string name, std::vector<uint64_t> dims, TensorType type, const void* data,
                             uint64_t nbytes) {
  const auto expected = tensor_nbytes(type, dims.data(), uint32_t(dims.size()));
  if (!expected || *expected != nbytes)
    fail("tensor '{}': {} bytes given, its dims [{}] as {} need {}", name, nbytes, fmt::join(dims, ", "),
         tensor_type_traits(type).name, expected ? fmt::format("{}", *expected) : std::string("an invalid size"));
  add_tensor(std::move(name), std::move(dims), type, [data, nbytes](uint8_t* out, uint64_t n) {
    if (n != nbytes) fail("internal error: tensor size changed");
    std::memcpy(out, data, n);
  });
}

size_t Writer::tensor_count() const { return tensors_.size(); }

namespace {

// Serializes everything before the tensor data (including the padding up to the data section).
std::string build_header(uint32_t alignment, const std::vector<std::pair<std::string, Value>>& metadata,
                         const auto& tensors) {
  std::string out;
  out += "GGUF";
  put<uint32_t>(out, 3);
  put<uint64_t>(out, tensors.size());
  const bool add_alignment = alignment != detail::kDefaultAlignment &&
                             std::none_of(metadata.begin(), metadata.end(),
                                          [](const auto& kv) { return kv.first == "general.alignment"; });
  put<uint64_t>(out, metadata.size() + (add_alignment ? 1 : 0));
  auto put_kv = [&out](const std::string& key, const Value& v) {
    put_string(out, key);
    put<uint32_t>(out, uint32_t(v.type()));
    detail::serialize_value(v, out);
  };
  if (add_alignment) put_kv("general.alignment", Value::u32(alignment));
  for (const auto& [k, v] : metadata) put_kv(k, v);
  uint64_t offset = 0;
  for (const auto& t : tensors) {
    put_string(out, t.name);
    put<uint32_t>(out, uint32_t(t.dims.size()));
    for (uint64_t d : t.dims) put<uint64_t>(out, d);
    put<uint32_t>(out, t.gguf_type);
    put<uint64_t>(out, offset);
    const auto next = checked_add(offset, align_up(t.nbytes, alignment));
    if (!next) fail("tensor data exceeds 2^64 bytes");
    offset = *next;
  }
  out.resize(align_up(out.size(), alignment), '\0');
  return out;
}

template <class Sink>
void emit(uint32_t alignment, const std::vector<std::pair<std::string, Value>>& metadata, const auto& tensors,
          Sink&& sink, const std::function<void(size_t, size_t)>& progress) {
  const std::string header = build_header(alignment, metadata, tensors);
  sink(reinterpret_cast<const uint8_t*>(header.data()), header.size());
  std::vector<uint8_t> buf;
  static const uint8_t zeros[256] = {};
  for (size_t i = 0; i < tensors.size(); ++i) {
    const auto& t = tensors[i];
    if (t.nbytes > std::numeric_limits<size_t>::max()) fail("tensor '{}' is too large", t.name);
    buf.assign(size_t(t.nbytes), 0);  // zeroed: deterministic output even if fill skips bytes
    t.fill(buf.data(), t.nbytes);
    sink(buf.data(), buf.size());
    uint64_t pad = align_up(t.nbytes, alignment) - t.nbytes;
    while (pad > 0) {
      const size_t n = size_t(std::min<uint64_t>(pad, sizeof(zeros)));
      sink(zeros, n);
      pad -= n;
    }
    if (progress) progress(i + 1, tensors.size());
  }
}

}  // namespace

void Writer::write(const std::string& path, const std::function<void(size_t, size_t)>& progress) const {
  // Write to a temporary name and rename at the end, so a failed or interrupted write never leaves a
  // truncated file under the final name.
  const std::string tmp = path + ".partial";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) fail("{}: cannot create: {}", tmp, std::strerror(errno));
  try {
    emit(alignment_, metadata_, tensors_,
         [&](const uint8_t* p, size_t n) {
           if (n && std::fwrite(p, 1, n, f) != n) fail("{}: write failed: {}", tmp, std::strerror(errno));
         },
         progress);
    if (std::fflush(f) != 0) fail("{}: write failed: {}", tmp, std::strerror(errno));
  } catch (...) {
    std::fclose(f);
    std::remove(tmp.c_str());
    throw;
  }
  if (std::fclose(f) != 0) {
    std::remove(tmp.c_str());
    fail("{}: write failed: {}", tmp, std::strerror(errno));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::remove(tmp.c_str());
    fail("{}: cannot rename {} to it: {}", path, tmp, ec.message());
  }
}

std::vector<uint8_t> Writer::write_to_memory() const {
  std::vector<uint8_t> out;
  emit(alignment_, metadata_, tensors_, [&](const uint8_t* p, size_t n) { out.insert(out.end(), p, p + n); }, {});
  return out;
}

}  // namespace bitnet::gguf
