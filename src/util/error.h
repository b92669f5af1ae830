// Errors inside libbitnet are exceptions of type bitnet::Error; the C API turns them into status
// codes. Messages say what was wrong and where (file, byte offset, tensor name...).
#pragma once

#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace bitnet {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

template <class... Args>
[[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) {
  throw Error(fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace bitnet
