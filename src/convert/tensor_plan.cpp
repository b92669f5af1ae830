#include "convert/tensor_plan.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "format/gguf.h"
#include "format/tensor_codec.h"
#include "util/error.h"

namespace bitnet::convert {

namespace {

std::string shape_str(const std::vector<uint64_t>& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

std::string where(const safetensors::Tensor& t) { return t.file ? *t.file : std::string("checkpoint"); }

// Converting a whole 2B-4T embedding (328M elements) at once would need 1.3 GB of floats; rows of
// a few thousand elements keep the converter's memory flat.
constexpr uint64_t kChunkElems = 1 << 16;

}  // namespace

const safetensors::Tensor& TensorSource::take(const std::string& name, std::string_view purpose) {
  const auto* t = ckpt_.find(name);
  if (!t) fail("{}: checkpoint has no tensor '{}' (needed for {})", ckpt_.dir(), name, purpose);
  used_.insert(name);
  return *t;
}

const safetensors::Tensor* TensorSource::take_optional(const std::string& name) {
  const auto* t = ckpt_.find(name);
  if (t) used_.insert(name);
  return t;
}

std::vector<std::string> TensorSource::unused() const {
  std::vector<std::string> out;
  for (const auto& n : ckpt_.names())
    if (!used_.count(n)) out.push_back(n);
  return out;
}

void expect_shape(const safetensors::Tensor& t, const std::vector<uint64_t>& shape, std::string_view why) {
  if (t.shape != shape)
    fail("{}: tensor '{}' has shape {}, expected {} ({})", where(t), t.name, t.shape_string(), shape_str(shape), why);
}

void expect_float(const safetensors::Tensor& t, std::string_view what) {
  if (!safetensors::is_float_dtype(t.dtype))
    fail("{}: tensor '{}' ({}) has unsupported dtype {}; expected F32, F16 or BF16", where(t), t.name, what,
         safetensors::dtype_name(t.dtype));
}

static uint64_t encoded_size(TensorType type, uint64_t n) {
  switch (type) {
    case TensorType::F32: return n * 4;
    case TensorType::F16:
    case TensorType::BF16: return n * 2;
    case TensorType::Q8_0: return n / 32 * 34;
    default: fail("embedding output type {} is not supported (f32, f16, bf16, q8_0)", tensor_type_traits(type).name);
  }
}

void add_float_tensor(gguf::Writer& w, const std::string& gguf_name, const safetensors::Tensor& t,
                      const std::vector<uint64_t>& shape, TensorType type) {
  expect_float(t, gguf_name);
  expect_shape(t, shape, "from config.json");
  const uint64_t inner = shape.empty() ? 1 : shape.back();
  encoded_size(type, inner);  // rejects unsupported types before anything is written
  if (type == TensorType::Q8_0 && inner % 32 != 0)
    fail("tensor '{}': Q8_0 needs rows that are a multiple of 32 elements, this one has {}", gguf_name, inner);
  std::vector<uint64_t> dims(shape.rbegin(), shape.rend());
  const safetensors::Tensor* tp = &t;
  w.add_tensor(gguf_name, dims, type, [tp, type, inner, gguf_name](uint8_t* out, uint64_t nbytes) {
    const uint64_t n = tp->n_elements();
    if (nbytes != encoded_size(type, n))
      fail("tensor '{}': writer asked for {} bytes, encoding gives {}", gguf_name, nbytes, encoded_size(type, n));
    // Whole rows per chunk so that Q8_0 blocks never straddle chunks.
    const uint64_t rows_per_chunk = std::max<uint64_t>(1, kChunkElems / inner);
    std::vector<float> buf(rows_per_chunk * inner);
    for (uint64_t first = 0; first < n; first += rows_per_chunk * inner) {
      const uint64_t count = std::min<uint64_t>(rows_per_chunk * inner, n - first);
      safetensors::to_f32(*tp, first, count, buf.data());
      uint8_t* dst = out + encoded_size(type, first);
      switch (type) {
        case TensorType::F16: {
          const auto e = encode_f16(buf.data(), count);
          std::memcpy(dst, e.data(), e.size());
          break;
        }
        case TensorType::BF16: {
          const auto e = encode_bf16(buf.data(), count);
          std::memcpy(dst, e.data(), e.size());
          break;
        }
        case TensorType::Q8_0: {
          const auto e = encode_q8_0(buf.data(), count);
          std::memcpy(dst, e.data(), e.size());
          break;
        }
        default:
          std::memcpy(dst, buf.data(), count * 4);
      }
    }
  });
}

TernarySource plan_ternary(TensorSource& src, const std::string& hf_base, uint64_t out, uint64_t in,
                           const WeightScaleKind* scale_kind) {
  TernarySource ts;
  const std::string wname = hf_base + ".weight";
  const auto& t = src.take(wname, "a ternary projection");
  ts.weight = &t;
  if (t.dtype == safetensors::DType::U8) {
    ts.packed = true;
    expect_shape(t, {(out + 3) / 4, in}, "packed 4 rows per byte from config.json's [out, in]");
    const auto* ws = src.take_optional(hf_base + ".weight_scale");
    if (!ws) fail("{}: packed tensor '{}' has no '{}.weight_scale'", where(t), wname, hf_base);
    if (!scale_kind)
      fail("{}: '{}' is packed uint8, but config.json has no quantization_config.linear_class to say how "
           "weight_scale is meant (bitlinear: 1/mean|W|, autobitlinear: mean|W|)",
           where(t), wname);
    expect_float(*ws, "weight_scale");
    if (ws->n_elements() != 1)
      fail("{}: tensor '{}' has shape {}, expected a single per-tensor scale", where(*ws), ws->name,
           ws->shape_string());
    float scale = 0.0f;
    safetensors::to_f32(*ws, &scale);
    if (!std::isfinite(scale) || scale <= 0.0f)
      fail("{}: tensor '{}' = {} is not a positive finite scale", where(*ws), ws->name, scale);
    ts.alpha = alpha_from_weight_scale(scale, *scale_kind);
  } else if (safetensors::is_float_dtype(t.dtype)) {
    expect_shape(t, {out, in}, "[out, in] from config.json");
    if (src.checkpoint().find(hf_base + ".weight_scale"))
      fail("{}: '{}' holds float master weights but '{}.weight_scale' is present too; mixed checkpoint?",
           where(t), wname, hf_base);
    // Accumulating |w| while converting chunk by chunk: same sum as absmean_inverse_scale.
    const uint64_t n = t.n_elements();
    std::vector<float> buf(std::min<uint64_t>(n, kChunkElems));
    double sum = 0.0;
    for (uint64_t first = 0; first < n; first += buf.size()) {
      const uint64_t count = std::min<uint64_t>(buf.size(), n - first);
      safetensors::to_f32(t, first, count, buf.data());
      for (uint64_t i = 0; i < count; ++i) {
        if (!std::isfinite(buf[i])) fail("{}: tensor '{}': element {} is not finite", where(t), wname, first + i);
        sum += std::fabs(static_cast<double>(buf[i]));
      }
    }
    const float mean = n ? static_cast<float>(sum / static_cast<double>(n)) : 0.0f;
    ts.s_w = 1.0f / std::fmax(mean, 1e-5f);
    ts.alpha = 1.0f / ts.s_w;
  } else {
    fail("{}: tensor '{}' has unsupported dtype {}; expected packed U8 (with weight_scale) or F32/F16/BF16",
         where(t), wname, safetensors::dtype_name(t.dtype));
  }
  return ts;
}

void add_ternary_tensor(gguf::Writer& w, const std::string& gguf_base, const TernarySource& ts, uint64_t out,
                        uint64_t in) {
  const std::string wname = gguf_base + ".weight";
  const TernarySource s = ts;
  w.add_tensor(wname, {in, out}, TensorType::BT2, [s, out, in, wname](uint8_t* dst, uint64_t nbytes) {
    const uint64_t expected = bt2_nbytes(static_cast<int64_t>(out), static_cast<int64_t>(in));
    if (nbytes != expected) fail("tensor '{}': writer asked for {} bytes, BT2 needs {}", wname, nbytes, expected);
    std::vector<int8_t> codes(out * in);
    std::vector<float> row(s.packed ? 0 : in);
    for (uint64_t r = 0; r < out; ++r) {
      if (s.packed) {
        unpack_hf_ternary_row(s.weight->data, out, in, r, codes.data() + r * in, s.weight->name);
      } else {
        safetensors::to_f32(*s.weight, r * in, in, row.data());
        ternarize(row.data(), in, s.s_w, codes.data() + r * in, s.weight->name);
      }
    }
    const auto packed = encode_bt2(codes.data(), static_cast<int64_t>(out), static_cast<int64_t>(in));
    std::memcpy(dst, packed.data(), packed.size());
  });
  const float alpha = s.alpha;
  w.add_tensor(gguf_base + ".scale", {1}, TensorType::F32,
               [alpha](uint8_t* dst, uint64_t nbytes) {
                 if (nbytes != 4) fail("scale tensor: writer asked for {} bytes, expected 4", nbytes);
                 std::memcpy(dst, &alpha, 4);
               });
}

}  // namespace bitnet::convert
