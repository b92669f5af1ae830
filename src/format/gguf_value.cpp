// gguf::Value: scalars, strings and (nested) arrays, plus their on-disk parsing and serialization.
//
// Large arrays (token lists, merges, scores) are stored compactly (raw scalar bits or strings) and
// only turned into per-element Value objects if someone asks for at(i).
#include <cmath>
#include <limits>
#include <mutex>

#include "format/gguf.h"
#include "format/gguf_internal.h"
#include "util/checked_math.h"

namespace bitnet::gguf {

struct Value::Impl {
  ValueType type = ValueType::U8;
  // Scalars: unsigned types and BOOL in u, signed types in i, F32/F64 in d (F32 exactly).
  union Scalar {
    uint64_t u;
    int64_t i;
    double d;
  } s{};
  std::string str;

  ValueType elem = ValueType::U8;
  std::vector<Scalar> scalars;       // array of scalars
  std::vector<std::string> strings;  // array of STRING
  std::vector<Value> arrays;         // array of ARRAY
  mutable std::once_flag once;
  mutable std::vector<Value> cache;  // materialized elements of scalar / string arrays

  size_t count() const {
    if (elem == ValueType::STRING) return strings.size();
    if (elem == ValueType::ARRAY) return arrays.size();
    return scalars.size();
  }
};

namespace {

using Impl = Value::Impl;
using Scalar = Impl::Scalar;
using detail::ValueAccess;

bool is_unsigned(ValueType t) {
  return t == ValueType::U8 || t == ValueType::U16 || t == ValueType::U32 || t == ValueType::U64;
}
bool is_signed(ValueType t) {
  return t == ValueType::I8 || t == ValueType::I16 || t == ValueType::I32 || t == ValueType::I64;
}
bool is_scalar(ValueType t) { return t != ValueType::STRING && t != ValueType::ARRAY; }

Value make_scalar(ValueType t, Scalar s) {
  auto impl = std::make_shared<Impl>();
  impl->type = t;
  impl->s = s;
  return ValueAccess::make(std::move(impl));
}
Scalar su(uint64_t v) { Scalar s; s.u = v; return s; }
Scalar si(int64_t v) { Scalar s; s.i = v; return s; }
Scalar sd(double v) { Scalar s; s.d = v; return s; }

uint64_t bits(const Scalar& s) { return s.u; }

// as_* on a scalar of type t.
uint64_t scalar_as_u64(ValueType t, Scalar s) {
  if (is_unsigned(t)) return s.u;
  if (is_signed(t)) {
    if (s.i < 0) fail("metadata value {} is negative where an unsigned integer is expected", s.i);
    return uint64_t(s.i);
  }
  fail("metadata value has type {}, expected an integer", value_type_name(t));
}
int64_t scalar_as_i64(ValueType t, Scalar s) {
  if (is_signed(t)) return s.i;
  if (is_unsigned(t)) {
    if (s.u > uint64_t(std::numeric_limits<int64_t>::max()))
      fail("metadata value {} does not fit a signed 64-bit integer", s.u);
    return int64_t(s.u);
  }
  fail("metadata value has type {}, expected an integer", value_type_name(t));
}
double scalar_as_f64(ValueType t, Scalar s) {
  if (t == ValueType::F32 || t == ValueType::F64) return s.d;
  if (is_unsigned(t)) return double(s.u);
  if (is_signed(t)) return double(s.i);
  fail("metadata value has type {}, expected a number", value_type_name(t));
}

std::string scalar_display(ValueType t, Scalar s) {
  switch (t) {
    case ValueType::BOOL: return s.u ? "true" : "false";
    case ValueType::F32: return fmt::format("{}", float(s.d));
    case ValueType::F64: return fmt::format("{}", s.d);
    default: return is_signed(t) ? fmt::format("{}", s.i) : fmt::format("{}", s.u);
  }
}

std::string quote(const std::string& s, size_t max_chars) {
  std::string out = "\"";
  size_t n = 0;
  for (unsigned char ch : s) {
    if (n++ >= max_chars) return out + fmt::format("\"... ({} bytes)", s.size());
    switch (ch) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (ch < 0x20 || ch == 0x7f) out += fmt::format("\\x{:02x}", ch);
        else out += char(ch);
    }
  }
  return out + "\"";
}

const Impl& array_impl(const std::shared_ptr<const Impl>& impl) {
  if (impl->type != ValueType::ARRAY)
    fail("metadata value has type {}, expected an array", value_type_name(impl->type));
  return *impl;
}

}  // namespace

std::string_view value_type_name(ValueType type) {
  switch (type) {
    case ValueType::U8: return "u8";
    case ValueType::I8: return "i8";
    case ValueType::U16: return "u16";
    case ValueType::I16: return "i16";
    case ValueType::U32: return "u32";
    case ValueType::I32: return "i32";
    case ValueType::F32: return "f32";
    case ValueType::BOOL: return "bool";
    case ValueType::STRING: return "string";
    case ValueType::ARRAY: return "array";
    case ValueType::U64: return "u64";
    case ValueType::I64: return "i64";
    case ValueType::F64: return "f64";
  }
  return "invalid";
}

Value::Value() : impl_(std::make_shared<Impl>()) {}
Value::Value(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

Value Value::u8(uint8_t v) { return make_scalar(ValueType::U8, su(v)); }
Value Value::i8(int8_t v) { return make_scalar(ValueType::I8, si(v)); }
Value Value::u16(uint16_t v) { return make_scalar(ValueType::U16, su(v)); }
Value Value::i16(int16_t v) { return make_scalar(ValueType::I16, si(v)); }
Value Value::u32(uint32_t v) { return make_scalar(ValueType::U32, su(v)); }
Value Value::i32(int32_t v) { return make_scalar(ValueType::I32, si(v)); }
Value Value::u64(uint64_t v) { return make_scalar(ValueType::U64, su(v)); }
Value Value::i64(int64_t v) { return make_scalar(ValueType::I64, si(v)); }
Value Value::f32(float v) { return make_scalar(ValueType::F32, sd(v)); }
Value Value::f64(double v) { return make_scalar(ValueType::F64, sd(v)); }
Value Value::boolean(bool v) { return make_scalar(ValueType::BOOL, su(v ? 1 : 0)); }

Value Value::string(std::string v) {
  auto impl = std::make_shared<Impl>();
  impl->type = ValueType::STRING;
  impl->str = std::move(v);
  return Value(std::move(impl));
}

Value Value::array(ValueType elem_type, std::vector<Value> elements) {
  if (value_type_name(elem_type) == "invalid") fail("invalid array element type {}", uint32_t(elem_type));
  auto impl = std::make_shared<Impl>();
  impl->type = ValueType::ARRAY;
  impl->elem = elem_type;
  for (size_t i = 0; i < elements.size(); ++i)
    if (elements[i].type() != elem_type)
      fail("array element {} has type {}, but the array holds {}", i, value_type_name(elements[i].type()),
           value_type_name(elem_type));
  if (elem_type == ValueType::ARRAY) {
    impl->arrays = std::move(elements);
  } else if (elem_type == ValueType::STRING) {
    impl->strings.reserve(elements.size());
    for (const Value& e : elements) impl->strings.push_back(e.impl_->str);
  } else {
    impl->scalars.reserve(elements.size());
    for (const Value& e : elements) impl->scalars.push_back(e.impl_->s);
  }
  return Value(std::move(impl));
}

Value Value::string_array(std::vector<std::string> elements) {
  auto impl = std::make_shared<Impl>();
  impl->type = ValueType::ARRAY;
  impl->elem = ValueType::STRING;
  impl->strings = std::move(elements);
  return Value(std::move(impl));
}

Value Value::f32_array(std::vector<float> elements) {
  auto impl = std::make_shared<Impl>();
  impl->type = ValueType::ARRAY;
  impl->elem = ValueType::F32;
  impl->scalars.reserve(elements.size());
  for (float f : elements) impl->scalars.push_back(sd(f));
  return Value(std::move(impl));
}

Value Value::i32_array(std::vector<int32_t> elements) {
  auto impl = std::make_shared<Impl>();
  impl->type = ValueType::ARRAY;
  impl->elem = ValueType::I32;
  impl->scalars.reserve(elements.size());
  for (int32_t x : elements) impl->scalars.push_back(si(x));
  return Value(std::move(impl));
}

ValueType Value::type() const { return impl_->type; }
bool Value::is_integer() const { return is_unsigned(impl_->type) || is_signed(impl_->type); }
bool Value::is_float() const { return impl_->type == ValueType::F32 || impl_->type == ValueType::F64; }

uint64_t Value::as_u64() const { return scalar_as_u64(impl_->type, impl_->s); }
int64_t Value::as_i64() const { return scalar_as_i64(impl_->type, impl_->s); }
double Value::as_f64() const { return scalar_as_f64(impl_->type, impl_->s); }

bool Value::as_bool() const {
  if (impl_->type != ValueType::BOOL)
    fail("metadata value has type {}, expected bool", value_type_name(impl_->type));
  return impl_->s.u != 0;
}

const std::string& Value::as_string() const {
  if (impl_->type != ValueType::STRING)
    fail("metadata value has type {}, expected string", value_type_name(impl_->type));
  return impl_->str;
}

ValueType Value::array_type() const { return array_impl(impl_).elem; }
size_t Value::size() const { return array_impl(impl_).count(); }

const Value& Value::at(size_t i) const {
  const Impl& a = array_impl(impl_);
  if (i >= a.count()) fail("array index {} out of range (size {})", i, a.count());
  if (a.elem == ValueType::ARRAY) return a.arrays[i];
  std::call_once(a.once, [&a] {
    a.cache.reserve(a.count());
    if (a.elem == ValueType::STRING)
      for (const std::string& s : a.strings) a.cache.push_back(Value::string(s));
    else
      for (const Scalar& s : a.scalars) a.cache.push_back(make_scalar(a.elem, s));
  });
  return a.cache[i];
}

std::vector<std::string> Value::as_strings() const {
  const Impl& a = array_impl(impl_);
  if (a.elem != ValueType::STRING)
    fail("metadata array holds {}, expected strings", value_type_name(a.elem));
  return a.strings;
}

std::vector<float> Value::as_f32s() const {
  const Impl& a = array_impl(impl_);
  if (!is_scalar(a.elem) || a.elem == ValueType::BOOL)
    fail("metadata array holds {}, expected numbers", value_type_name(a.elem));
  std::vector<float> out;
  out.reserve(a.scalars.size());
  for (const Scalar& s : a.scalars) out.push_back(float(scalar_as_f64(a.elem, s)));
  return out;
}

std::vector<int32_t> Value::as_i32s() const {
  const Impl& a = array_impl(impl_);
  if (!is_unsigned(a.elem) && !is_signed(a.elem))
    fail("metadata array holds {}, expected integers", value_type_name(a.elem));
  std::vector<int32_t> out;
  out.reserve(a.scalars.size());
  for (size_t i = 0; i < a.scalars.size(); ++i) {
    const Scalar s = a.scalars[i];
    const bool fits = is_signed(a.elem) ? (s.i >= INT32_MIN && s.i <= INT32_MAX) : s.u <= uint64_t(INT32_MAX);
    if (!fits)
      fail("metadata array element {} = {} does not fit a 32-bit integer", i, scalar_display(a.elem, s));
    out.push_back(is_signed(a.elem) ? int32_t(s.i) : int32_t(s.u));
  }
  return out;
}

std::string Value::to_display(size_t max_elements) const {
  const Impl& v = *impl_;
  const size_t max_chars = max_elements == SIZE_MAX ? SIZE_MAX : std::max<size_t>(20 * max_elements, 40);
  if (v.type == ValueType::STRING) return quote(v.str, max_chars);
  if (v.type != ValueType::ARRAY) return scalar_display(v.type, v.s);
  const size_t n = v.count();
  const size_t shown = std::min(n, max_elements);
  std::string out = "[";
  for (size_t i = 0; i < shown; ++i) {
    if (i) out += ", ";
    if (v.elem == ValueType::STRING) out += quote(v.strings[i], max_chars);
    else if (v.elem == ValueType::ARRAY) out += v.arrays[i].to_display(max_elements);
    else out += scalar_display(v.elem, v.scalars[i]);
  }
  if (shown < n) out += fmt::format("{}... {} more", shown ? ", " : "", n - shown);
  out += "]";
  return out;
}

bool Value::operator==(const Value& other) const {
  const Impl& a = *impl_;
  const Impl& b = *other.impl_;
  if (a.type != b.type) return false;
  if (a.type == ValueType::STRING) return a.str == b.str;
  if (a.type != ValueType::ARRAY) return bits(a.s) == bits(b.s);
  if (a.elem != b.elem || a.count() != b.count()) return false;
  if (a.elem == ValueType::STRING) return a.strings == b.strings;
  if (a.elem == ValueType::ARRAY) return a.arrays == b.arrays;
  for (size_t i = 0; i < a.scalars.size(); ++i)
    if (bits(a.scalars[i]) != bits(b.scalars[i])) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------
// On-disk form.

namespace detail {

bool is_valid_value_type(uint32_t t) { return t <= uint32_t(ValueType::F64); }

uint64_t min_value_bytes(ValueType t) {
  switch (t) {
    case ValueType::U8: case ValueType::I8: case ValueType::BOOL: return 1;
    case ValueType::U16: case ValueType::I16: return 2;
    case ValueType::U32: case ValueType::I32: case ValueType::F32: return 4;
    case ValueType::U64: case ValueType::I64: case ValueType::F64: return 8;
    case ValueType::STRING: return 8;   // the length
    case ValueType::ARRAY: return 12;   // element type + count
  }
  return 1;
}

namespace {

Scalar read_scalar(Cursor& c, ValueType t, std::string_view key) {
  switch (t) {
    case ValueType::U8: return su(c.read<uint8_t>("a u8 value"));
    case ValueType::I8: return si(c.read<int8_t>("an i8 value"));
    case ValueType::U16: return su(c.read<uint16_t>("a u16 value"));
    case ValueType::I16: return si(c.read<int16_t>("an i16 value"));
    case ValueType::U32: return su(c.read<uint32_t>("a u32 value"));
    case ValueType::I32: return si(c.read<int32_t>("an i32 value"));
    case ValueType::U64: return su(c.read<uint64_t>("a u64 value"));
    case ValueType::I64: return si(c.read<int64_t>("an i64 value"));
    case ValueType::F32: return sd(c.read<float>("an f32 value"));
    case ValueType::F64: return sd(c.read<double>("an f64 value"));
    case ValueType::BOOL: {
      const uint64_t at = c.pos();
      const uint8_t b = c.read<uint8_t>("a bool value");
      if (b > 1) c.fail_at(at, "key '{}': bool value {} (must be 0 or 1)", key, b);
      return su(b);
    }
    default: break;
  }
  c.fail_at(c.pos(), "key '{}': internal error, {} is not a scalar type", key, value_type_name(t));
}

}  // namespace

Value parse_value(Cursor& c, uint32_t type_id, std::string_view key, uint32_t depth) {
  const auto type = ValueType(type_id);
  if (type == ValueType::STRING) return Value::string(c.read_string(fmt::format("string value of key '{}'", key)));
  if (type != ValueType::ARRAY) return make_scalar(type, read_scalar(c, type, key));

  const uint64_t at = c.pos();
  const uint32_t elem_id = c.read<uint32_t>("an array element type");
  if (!is_valid_value_type(elem_id)) c.fail_at(at, "key '{}': invalid array element type {}", key, elem_id);
  const auto elem = ValueType(elem_id);
  if (elem == ValueType::ARRAY && depth + 1 >= kMaxArrayDepth)
    c.fail_at(at, "key '{}': arrays nested more than {} levels deep", key, kMaxArrayDepth);
  const uint64_t count = c.read<uint64_t>("an array length");
  const auto needed = checked_mul(count, min_value_bytes(elem));
  if (!needed || *needed > c.remaining())
    c.fail_at(at, "key '{}': array of {} {} elements cannot fit in the {} bytes left in the file", key, count,
              value_type_name(elem), c.remaining());

  auto impl = std::make_shared<Impl>();
  impl->type = ValueType::ARRAY;
  impl->elem = elem;
  if (elem == ValueType::STRING) {
    impl->strings.reserve(count);
    const std::string what = fmt::format("string element of key '{}'", key);
    for (uint64_t i = 0; i < count; ++i) impl->strings.push_back(c.read_string(what));
  } else if (elem == ValueType::ARRAY) {
    impl->arrays.reserve(count);
    for (uint64_t i = 0; i < count; ++i) impl->arrays.push_back(parse_value(c, elem_id, key, depth + 1));
  } else {
    impl->scalars.reserve(count);
    for (uint64_t i = 0; i < count; ++i) impl->scalars.push_back(read_scalar(c, elem, key));
  }
  return ValueAccess::make(std::move(impl));
}

namespace {

template <class T>
void put(std::string& out, T v) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  out.append(b, sizeof(T));
}

void put_scalar(std::string& out, ValueType t, Scalar s) {
  switch (t) {
    case ValueType::U8: put<uint8_t>(out, uint8_t(s.u)); break;
    case ValueType::BOOL: put<uint8_t>(out, uint8_t(s.u ? 1 : 0)); break;
    case ValueType::I8: put<int8_t>(out, int8_t(s.i)); break;
    case ValueType::U16: put<uint16_t>(out, uint16_t(s.u)); break;
    case ValueType::I16: put<int16_t>(out, int16_t(s.i)); break;
    case ValueType::U32: put<uint32_t>(out, uint32_t(s.u)); break;
    case ValueType::I32: put<int32_t>(out, int32_t(s.i)); break;
    case ValueType::U64: put<uint64_t>(out, s.u); break;
    case ValueType::I64: put<int64_t>(out, s.i); break;
    case ValueType::F32: put<float>(out, float(s.d)); break;
    case ValueType::F64: put<double>(out, s.d); break;
    default: fail("internal error: {} is not a scalar type", value_type_name(t));
  }
}

void put_string(std::string& out, const std::string& s) {
  put<uint64_t>(out, s.size());
  out += s;
}

}  // namespace

void serialize_value(const Value& v, std::string& out) {
  const Impl& a = ValueAccess::impl(v);
  if (a.type == ValueType::STRING) return put_string(out, a.str);
  if (a.type != ValueType::ARRAY) return put_scalar(out, a.type, a.s);
  put<uint32_t>(out, uint32_t(a.elem));
  put<uint64_t>(out, a.count());
  if (a.elem == ValueType::STRING)
    for (const std::string& s : a.strings) put_string(out, s);
  else if (a.elem == ValueType::ARRAY)
    for (const Value& e : a.arrays) serialize_value(e, out);
  else
    for (const Scalar& s : a.scalars) put_scalar(out, a.elem, s);
}

}  // namespace detail
}  // namespace bitnet::gguf
