// Each subcommand lives in its own file and registers itself here at static-init time:
//
//   static void setup_inspect(CLI::App& app) { auto* sub = app.add_subcommand("inspect", "...");
//                                              ... sub->callback([=] { ... }); }
//   BITNET_REGISTER_COMMAND(inspect, setup_inspect)
//
// A callback reports failure by throwing bitnet::Error (printed as "error: ..." with exit code 1)
// or by throwing CLI::RuntimeError(code) after printing its own message.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace bitnet::cli {

using CommandSetup = void (*)(CLI::App& app);
bool register_command(const char* name, CommandSetup setup);

// Path of the model shipped in models/ (used when -m is omitted): looks next to the executable's
// source tree and in the current directory.
std::string default_model_path();

// Logging verbosity flags shared by all subcommands (-v / --log-level); applied before callbacks.
void add_verbosity_flags(CLI::App& sub);

}  // namespace bitnet::cli

#define BITNET_REGISTER_COMMAND(name, fn) \
  static const bool bitnet_command_registered_##name = ::bitnet::cli::register_command(#name, fn);
