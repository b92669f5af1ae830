// GGUF reader: maps the file and validates every field against the file size before using it.
#include <algorithm>
#include <limits>
#include <numeric>
#include <unordered_map>

#include "format/gguf.h"
#include "format/gguf_internal.h"
#include "format/mapped_file.h"
#include "util/aligned_buffer.h"
#include "util/checked_math.h"

namespace bitnet::gguf {

using detail::Cursor;

struct File::Impl {
  std::string path;
  std::unique_ptr<MappedFile> map;
  AlignedBuffer<uint8_t> owned;  // from_memory images
  const uint8_t* base = nullptr;
  uint64_t size = 0;

  uint32_t version = 0;
  uint32_t alignment = detail::kDefaultAlignment;
  uint64_t data_offset = 0;
  std::vector<std::pair<std::string, Value>> metadata;
  std::unordered_map<std::string, size_t> metadata_index;
  std::vector<TensorInfo> tensors;
  std::unordered_map<std::string, size_t> tensor_index;

  void parse();
};

uint64_t TensorInfo::n_elements() const {
  uint64_t n = 1;
  for (uint64_t d : dims) n *= d;
  return n;
}

namespace {

// Minimum on-disk sizes used to reject absurd counts before allocating anything.
constexpr uint64_t kMinKvBytes = 8 + 4 + 1;                 // key length, type, 1-byte value
constexpr uint64_t kMinTensorInfoBytes = 8 + 4 + 8 + 4 + 8;  // name length, n_dims, 1 dim, type, offset
constexpr uint64_t kMaxKeyLength = 65535;                    // GGUF spec

std::string dims_string(const std::vector<uint64_t>& dims) { return fmt::format("[{}]", fmt::join(dims, ", ")); }

}  // namespace

void File::Impl::parse() {
  Cursor c(base, size, path);
  if (size < 4) c.fail_at(0, "file is too small to be a GGUF file ({} bytes)", size);
  if (std::memcmp(base, "GGUF", 4) != 0)
    c.fail_at(0, "not a GGUF file (magic bytes {:02x} {:02x} {:02x} {:02x}, expected \"GGUF\")", base[0], base[1],
              base[2], base[3]);
  c.read<uint32_t>("the magic");
  version = c.read<uint32_t>("the version");
  if (version == 1)
    c.fail_at(4, "GGUF version 1 is not supported (it predates 64-bit counts); re-convert the model with a "
                 "current converter");
  if ((version & 0xffff) == 0 && (__builtin_bswap32(version) == 2 || __builtin_bswap32(version) == 3))
    c.fail_at(4, "big-endian GGUF files are not supported");
  if (version != 2 && version != 3) c.fail_at(4, "unsupported GGUF version {} (supported: 2 and 3)", version);

  const uint64_t n_tensors = c.read<uint64_t>("the tensor count");
  const uint64_t n_kv = c.read<uint64_t>("the metadata count");
  {
    const auto kv_bytes = checked_mul(n_kv, kMinKvBytes);
    if (!kv_bytes || *kv_bytes > c.remaining())
      c.fail_at(16, "metadata count {} exceeds what the file can hold ({} bytes left)", n_kv, c.remaining());
    const auto ti_bytes = checked_mul(n_tensors, kMinTensorInfoBytes);
    const auto total = ti_bytes ? checked_add(*ti_bytes, *kv_bytes) : std::nullopt;
    if (!total || *total > c.remaining())
      c.fail_at(8, "tensor count {} exceeds what the file can hold ({} bytes left)", n_tensors, c.remaining());
  }

  // ---- metadata
  metadata.reserve(n_kv);
  std::vector<uint64_t> kv_pos;
  kv_pos.reserve(n_kv);
  for (uint64_t i = 0; i < n_kv; ++i) {
    const uint64_t at = c.pos();
    std::string key = c.read_string("a metadata key");
    if (key.empty()) c.fail_at(at, "metadata key {} is empty", i);
    if (key.size() > kMaxKeyLength) c.fail_at(at, "metadata key of {} bytes (at most {} allowed)", key.size(), kMaxKeyLength);
    if (metadata_index.count(key)) c.fail_at(at, "duplicate metadata key '{}'", key);
    const uint64_t type_at = c.pos();
    const uint32_t type = c.read<uint32_t>("a metadata value type");
    if (!detail::is_valid_value_type(type)) c.fail_at(type_at, "key '{}': invalid value type {}", key, type);
    Value v = detail::parse_value(c, type, key, 0);
    metadata_index.emplace(key, metadata.size());
    metadata.emplace_back(std::move(key), std::move(v));
    kv_pos.push_back(at);
  }

  if (auto it = metadata_index.find("general.alignment"); it != metadata_index.end()) {
    const Value& v = metadata[it->second].second;
    const uint64_t at = kv_pos[it->second];
    if (v.type() != ValueType::U32)
      c.fail_at(at, "general.alignment has type {}, expected u32", value_type_name(v.type()));
    const uint64_t a = v.as_u64();
    if (a == 0 || (a & (a - 1)) != 0) c.fail_at(at, "general.alignment {} is not a power of two", a);
    alignment = uint32_t(a);
  }
  std::string arch;
  if (auto it = metadata_index.find("general.architecture"); it != metadata_index.end()) {
    const Value& v = metadata[it->second].second;
    if (v.type() != ValueType::STRING)
      c.fail_at(kv_pos[it->second], "general.architecture has type {}, expected string", value_type_name(v.type()));
    arch = v.as_string();
  }
  int64_t file_type = -1;  // only to resolve bitnet.cpp's I2_S id under "llama" (see resolve_tensor_type)
  if (auto it = metadata_index.find("general.file_type"); it != metadata_index.end()) {
    const Value& v = metadata[it->second].second;
    if (v.is_integer() && v.as_i64() >= 0) file_type = v.as_i64();
  }

  // ---- tensor infos
  {
    const auto ti_bytes = checked_mul(n_tensors, kMinTensorInfoBytes);
    if (!ti_bytes || *ti_bytes > c.remaining())
      c.fail_at(c.pos(), "tensor count {} exceeds what the rest of the file can hold ({} bytes left)", n_tensors,
                c.remaining());
  }
  tensors.reserve(n_tensors);
  std::vector<uint64_t> info_pos;
  info_pos.reserve(n_tensors);
  for (uint64_t i = 0; i < n_tensors; ++i) {
    const uint64_t at = c.pos();
    TensorInfo t;
    t.name = c.read_string("a tensor name");
    if (t.name.empty()) c.fail_at(at, "tensor {} has an empty name", i);
    if (tensor_index.count(t.name)) c.fail_at(at, "duplicate tensor name '{}'", t.name);
    const uint64_t nd_at = c.pos();
    const uint32_t n_dims = c.read<uint32_t>("a tensor's n_dims");
    if (n_dims == 0 || n_dims > detail::kMaxDims)
      c.fail_at(nd_at, "tensor '{}': n_dims {} (must be 1..{})", t.name, n_dims, detail::kMaxDims);
    uint64_t n_elem = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      const uint64_t dim_at = c.pos();
      const uint64_t dim = c.read<uint64_t>("a tensor dimension");
      if (dim == 0) c.fail_at(dim_at, "tensor '{}': dimension {} is 0", t.name, d);
      t.dims.push_back(dim);
      const auto n = checked_mul(n_elem, dim);
      if (!n || *n > uint64_t(std::numeric_limits<int64_t>::max()))
        c.fail_at(dim_at, "tensor '{}': element count of dims {}... overflows", t.name, dims_string(t.dims));
      n_elem = *n;
    }
    const uint64_t type_at = c.pos();
    t.gguf_type = c.read<uint32_t>("a tensor type");
    const auto type = resolve_tensor_type(t.gguf_type, arch, file_type);
    if (!type) {
      if (t.gguf_type == kBitnetCppI2_S || t.gguf_type == kBitnetCppTL2)
        c.fail_at(type_at,
                  "tensor '{}': type id {} is {} in bitnet.cpp files (architectures bitnet, bitnet-25, "
                  "bitnet-b1.58, or llama with general.file_type 40), but this file's architecture is '{}'; "
                  "libbitnet cannot read it",
                  t.name, t.gguf_type, t.gguf_type == kBitnetCppI2_S ? "i2_s" : "tl2", arch);
      c.fail_at(type_at, "tensor '{}': unknown or unsupported tensor type id {} ({})", t.name, t.gguf_type,
                ggml_type_name(t.gguf_type));
    }
    t.type = *type;
    const uint64_t off_at = c.pos();
    t.offset = c.read<uint64_t>("a tensor data offset");
    if (t.offset % alignment != 0)
      c.fail_at(off_at, "tensor '{}': data offset {} is not a multiple of the alignment {}", t.name, t.offset,
                alignment);
    if (t.type != TensorType::TL2) {
      const auto nb = tensor_nbytes(t.type, t.dims.data(), n_dims);
      if (!nb) {
        const auto& tr = tensor_type_traits(t.type);
        if (t.type == TensorType::I2_S)
          c.fail_at(nd_at, "tensor '{}': i2_s needs an element count that is a multiple of 128, dims are {}", t.name,
                    dims_string(t.dims));
        if (t.dims[0] % tr.block_elems != 0)
          c.fail_at(nd_at, "tensor '{}': dimension 0 ({}) is not a multiple of the {} block size {}", t.name,
                    t.dims[0], tr.name, tr.block_elems);
        c.fail_at(nd_at, "tensor '{}': byte size of dims {} overflows", t.name, dims_string(t.dims));
      }
      t.nbytes = *nb;
    }
    tensor_index.emplace(t.name, tensors.size());
    tensors.push_back(std::move(t));
    info_pos.push_back(at);
  }

  // ---- data section
  const uint64_t infos_end = c.pos();
  const auto padded = checked_add(infos_end, (alignment - infos_end % alignment) % alignment);
  if (!padded) c.fail_at(infos_end, "data section offset overflows");
  data_offset = *padded;
  const uint64_t data_size = data_offset <= size ? size - data_offset : 0;

  std::vector<size_t> order(tensors.size());
  std::iota(order.begin(), order.end(), size_t(0));
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return tensors[a].offset < tensors[b].offset; });
  // TL2's size depends on per-model kernel parameters we do not have; it owns everything up to the
  // next tensor (or the end of the file). See docs/file-format.md.
  for (size_t k = 0; k < order.size(); ++k) {
    TensorInfo& t = tensors[order[k]];
    if (t.type != TensorType::TL2) continue;
    uint64_t end = data_size;
    for (size_t j = k + 1; j < order.size(); ++j)
      if (tensors[order[j]].offset > t.offset) {
        end = tensors[order[j]].offset;
        break;
      }
    if (t.offset >= end)
      c.fail_at(info_pos[order[k]], "tensor '{}' data at offset {} lies past the end of the file (size {})", t.name,
                data_offset + t.offset, size);
    t.nbytes = end - t.offset;
  }
  for (size_t k = 0; k < order.size(); ++k) {
    const TensorInfo& t = tensors[order[k]];
    const auto begin = checked_add(data_offset, t.offset);
    const auto end = begin ? checked_add(*begin, t.nbytes) : std::nullopt;
    if (!end || *end > size)
      c.fail_at(info_pos[order[k]], "tensor '{}' data [{}, {}) extends past the end of the file (size {})", t.name,
                begin ? fmt::format("{}", *begin) : std::string("overflow"),
                end ? fmt::format("{}", *end) : std::string("overflow"), size);
    if (k > 0) {
      const TensorInfo& p = tensors[order[k - 1]];
      if (p.offset + p.nbytes > t.offset)
        c.fail_at(info_pos[order[k]], "tensor '{}' data [{}, {}) overlaps tensor '{}' [{}, {})", t.name, *begin, *end,
                  p.name, data_offset + p.offset, data_offset + p.offset + p.nbytes);
    }
  }
  for (TensorInfo& t : tensors) t.data = base + data_offset + t.offset;
}

File::File(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
File::~File() = default;

std::unique_ptr<File> File::open(const std::string& path) {
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->map = std::make_unique<MappedFile>(path);
  impl->base = impl->map->data();
  impl->size = impl->map->size();
  impl->parse();
  return std::unique_ptr<File>(new File(std::move(impl)));
}

std::unique_ptr<File> File::from_memory(const uint8_t* data, size_t size, std::string name) {
  auto impl = std::make_unique<Impl>();
  impl->path = std::move(name);
  // A private, 64-byte aligned copy: tensor pointers stay valid and aligned like in a mapping.
  impl->owned.resize(size);
  if (size) std::memcpy(impl->owned.data(), data, size);
  impl->base = impl->owned.data();
  impl->size = size;
  impl->parse();
  return std::unique_ptr<File>(new File(std::move(impl)));
}

const std::string& File::path() const { return impl_->path; }
uint32_t File::version() const { return impl_->version; }
uint32_t File::alignment() const { return impl_->alignment; }
uint64_t File::data_offset() const { return impl_->data_offset; }
uint64_t File::file_size() const { return impl_->size; }
const std::vector<std::pair<std::string, Value>>& File::metadata() const { return impl_->metadata; }
const std::vector<TensorInfo>& File::tensors() const { return impl_->tensors; }

const Value* File::find(std::string_view key) const {
  auto it = impl_->metadata_index.find(std::string(key));
  return it == impl_->metadata_index.end() ? nullptr : &impl_->metadata[it->second].second;
}

const Value& File::get(std::string_view key) const {
  const Value* v = find(key);
  if (!v) fail("{}: missing metadata key '{}'", impl_->path, key);
  return *v;
}

namespace {
template <class F>
auto with_key(const File& f, std::string_view key, F&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const Error& e) {
    throw Error(fmt::format("{}: metadata '{}': {}", f.path(), key, e.what()));
  }
}
}  // namespace

std::string File::get_string(std::string_view key, std::string_view fallback) const {
  const Value* v = find(key);
  if (!v) return std::string(fallback);
  return with_key(*this, key, [&] { return v->as_string(); });
}

uint64_t File::get_u64(std::string_view key, uint64_t fallback) const {
  const Value* v = find(key);
  if (!v) return fallback;
  return with_key(*this, key, [&] { return v->as_u64(); });
}

double File::get_f64(std::string_view key, double fallback) const {
  const Value* v = find(key);
  if (!v) return fallback;
  return with_key(*this, key, [&] { return v->as_f64(); });
}

bool File::get_bool(std::string_view key, bool fallback) const {
  const Value* v = find(key);
  if (!v) return fallback;
  return with_key(*this, key, [&] { return v->as_bool(); });
}

std::string File::architecture() const { return get_string("general.architecture", ""); }

const TensorInfo* File::find_tensor(std::string_view name) const {
  auto it = impl_->tensor_index.find(std::string(name));
  return it == impl_->tensor_index.end() ? nullptr : &impl_->tensors[it->second];
}

}  // namespace bitnet::gguf
