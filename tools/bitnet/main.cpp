// `bitnet`: one executable, one subcommand per file (see command.h).
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "command.h"
#include "util/build_info.h"
#include "util/error.h"
#include "util/log.h"

namespace bitnet::cli {
namespace {
std::vector<std::pair<std::string, CommandSetup>>& registry() {
  static std::vector<std::pair<std::string, CommandSetup>> commands;
  return commands;
}
}  // namespace

bool register_command(const char* name, CommandSetup setup) {
  registry().emplace_back(name, setup);
  return true;
}

std::string default_model_path() {
  namespace fs = std::filesystem;
  const char* env = std::getenv("BITNET_MODEL");
  if (env && *env) return env;
  const std::vector<fs::path> candidates = {
      fs::path("models") / "tiny-bitnet-b1.58.gguf",
      fs::path(BITNET_SOURCE_DIR) / "models" / "tiny-bitnet-b1.58.gguf",
  };
  for (const auto& c : candidates)
    if (fs::exists(c)) return c.string();
  return candidates.back().string();
}

void add_verbosity_flags(CLI::App& sub) {
  sub.add_flag_callback("-v,--verbose", [] { set_log_level(LogLevel::Debug); },
                        "Print debug information (ISA and kernel choice, timings) to stderr");
}

}  // namespace bitnet::cli

int main(int argc, char** argv) {
  CLI::App app{"bitnet: fast CPU inference for ternary (1.58-bit) language models"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string(bitnet::build_version()));
  bitnet::set_log_level(bitnet::LogLevel::Info);
  auto commands = bitnet::cli::registry();
  std::sort(commands.begin(), commands.end());
  for (auto& [name, setup] : commands) setup(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const bitnet::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
