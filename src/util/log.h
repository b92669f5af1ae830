// Minimal leveled logging to stderr (the C API will route it through a user callback).
#pragma once

#include <fmt/format.h>

#include <cstdio>

namespace bitnet {

enum class LogLevel { Error = 0, Warn = 1, Info = 2, Debug = 3 };

void set_log_level(LogLevel level);
LogLevel log_level();
void log_message(LogLevel level, const std::string& message);

template <class... Args>
void log_info(fmt::format_string<Args...> f, Args&&... a) {
  if (log_level() >= LogLevel::Info) log_message(LogLevel::Info, fmt::format(f, std::forward<Args>(a)...));
}
template <class... Args>
void log_warn(fmt::format_string<Args...> f, Args&&... a) {
  if (log_level() >= LogLevel::Warn) log_message(LogLevel::Warn, fmt::format(f, std::forward<Args>(a)...));
}
template <class... Args>
void log_debug(fmt::format_string<Args...> f, Args&&... a) {
  if (log_level() >= LogLevel::Debug) log_message(LogLevel::Debug, fmt::format(f, std::forward<Args>(a)...));
}

}  // namespace bitnet
