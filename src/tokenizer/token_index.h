// Text -> token id lookup with string_view keys (no temporary strings on the hot path).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace bitnet::tok {

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

class TokenIndex {
 public:
  void reserve(size_t n) { map_.reserve(n); }
  // Keeps the first id for a text (duplicates in a vocab resolve to the lowest id, as llama.cpp).
  void add(std::string_view text, int32_t id) { map_.emplace(std::string(text), id); }
  int32_t find(std::string_view text) const {
    auto it = map_.find(text);
    return it == map_.end() ? -1 : it->second;
  }
  size_t size() const { return map_.size(); }

 private:
  std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>> map_;
};

}  // namespace bitnet::tok
