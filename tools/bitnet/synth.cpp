// `bitnet synth --preset 2b-4t -o FILE`: a random-weight GGUF of a real model's shape, for
// benchmarks that need no download (see src/runtime/synth.h).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "command.h"
#include "convert/converter.h"
#include "runtime/synth.h"
#include "util/error.h"
#include "util/log.h"

namespace bitnet::cli {
namespace {

void setup_synth(CLI::App& app) {
  struct Args {
    std::string preset, out, embd = "f16";
    uint64_t seed = 1;
  };
  auto args = std::make_shared<Args>();
  std::string presets_help = "Model shape:";
  std::vector<std::string> names;
  for (const SynthPreset& p : synth_presets()) {
    presets_help += " " + p.name + " (" + p.description + ");";
    names.push_back(p.name);
  }
  auto* sub = app.add_subcommand("synth", "Write a GGUF with random ternary weights of a real model's shape");
  sub->add_option("--preset", args->preset, presets_help)->required()->check(CLI::IsMember(names));
  sub->add_option("-o,--output", args->out, "Output GGUF file (written atomically)")->required();
  sub->add_option("--seed", args->seed, "Random seed (the same seed writes the same file)")->capture_default_str();
  sub->add_option("--embd-type", args->embd, "Type of token_embd / output: f16 (as the official 2B-4T file), f32, q8_0")
      ->capture_default_str()
      ->check(CLI::IsMember({"f16", "f32", "q8_0"}));
  add_verbosity_flags(*sub);
  sub->callback([args] {
    const SynthPreset* preset = find_synth_preset(args->preset);
    if (!preset) fail("unknown preset '{}'", args->preset);
    SynthOptions o;
    o.out_path = args->out;
    o.seed = args->seed;
    o.embd_type = convert::parse_embd_type(args->embd);
    const bool tty = ::isatty(STDERR_FILENO) == 1;
    o.progress = [tty, t0 = std::chrono::steady_clock::now()](size_t done, size_t total) {
      if (!tty || total == 0) return;
      constexpr int kWidth = 40;
      const int filled = int(kWidth * done / total);
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::fprintf(stderr, "\r[%.*s%*s] %zu/%zu tensors, %.1f s", filled, "========================================",
                   kWidth - filled, "", done, total, secs);
      if (done == total) std::fputc('\n', stderr);
      std::fflush(stderr);
    };
    const auto t0 = std::chrono::steady_clock::now();
    const SynthResult r = synth_model(*preset, o);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    log_info("wrote {}: preset {} ({}, {} layers, {} embd, {} vocab), {} tensors, {:.3f} B params, {:.3f} GB, seed {}, "
             "in {:.1f} s",
             args->out, preset->name, preset->architecture, preset->n_layer, preset->n_embd, preset->n_vocab,
             r.tensor_count, double(r.n_params) * 1e-9, double(r.file_bytes) * 1e-9, args->seed, secs);
  });
}

}  // namespace

BITNET_REGISTER_COMMAND(synth, setup_synth)

}  // namespace bitnet::cli
