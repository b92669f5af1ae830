// `bitnet convert HF_DIR -o OUT.gguf`: Hugging Face checkpoint -> GGUF (see src/convert/).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "command.h"
#include "convert/converter.h"
#include "util/log.h"

namespace bitnet::cli {
namespace {

// A bar redrawn in place when stderr is a terminal; otherwise (logs, CI) one line per ~10%, so
// captured output stays short and readable.
class Progress {
 public:
  Progress() : tty_(::isatty(STDERR_FILENO) == 1) {}
  void operator()(size_t done, size_t total) {
    if (total == 0) return;
    if (tty_) {
      constexpr int kWidth = 40;
      const int filled = static_cast<int>(kWidth * done / total);
      std::fprintf(stderr, "\r[%.*s%*s] %zu/%zu tensors", filled, "========================================",
                   kWidth - filled, "", done, total);
      if (done == total) std::fputc('\n', stderr);
      std::fflush(stderr);
    } else {
      const size_t decile = done * 10 / total;
      if (decile != last_decile_ || done == total) {
        last_decile_ = decile;
        log_info("convert: {}/{} tensors written", done, total);
      }
    }
  }

 private:
  bool tty_;
  size_t last_decile_ = 0;
};

void setup_convert(CLI::App& app) {
  struct Args {
    std::string hf_dir, out, embd = "f32", name;
    bool vocab_only = false;
  };
  auto args = std::make_shared<Args>();
  auto* sub = app.add_subcommand("convert", "Convert a Hugging Face checkpoint directory to GGUF");
  sub->add_option("hf_dir", args->hf_dir,
                  "Directory with config.json, *.safetensors (or model.safetensors.index.json + shards), "
                  "tokenizer.model (SentencePiece) or tokenizer.json, tokenizer_config.json")
      ->required()
      ->check(CLI::ExistingDirectory);
  sub->add_option("-o,--output", args->out, "Output GGUF file (written atomically)")->required();
  sub->add_option("--outtype-embd", args->embd, "Type of token_embd / output: f32 (default), f16, bf16, q8_0")
      ->check(CLI::IsMember({"f32", "f16", "bf16", "q8_0"}));
  sub->add_option("--name", args->name, "general.name (default: the checkpoint directory's name)");
  sub->add_flag("--vocab-only", args->vocab_only, "Write only the tokenizer metadata (no tensors)");
  add_verbosity_flags(*sub);
  sub->callback([args] {
    convert::ConvertOptions opt;
    opt.hf_dir = args->hf_dir;
    opt.out_path = args->out;
    opt.embd_type = convert::parse_embd_type(args->embd);
    opt.vocab_only = args->vocab_only;
    opt.name = args->name;
    auto progress = std::make_shared<Progress>();
    opt.progress = [progress](size_t done, size_t total) { (*progress)(done, total); };
    const auto t0 = std::chrono::steady_clock::now();
    const auto result = convert::convert_checkpoint(opt);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::error_code ec;
    const auto bytes = std::filesystem::file_size(args->out, ec);
    log_info("wrote {} ({}{} tensors, {} bytes) in {:.2f} s", args->out,
             result.architecture.empty() ? "" : result.architecture + ", ", result.tensor_count,
             ec ? 0 : bytes, secs);
  });
}

}  // namespace
}  // namespace bitnet::cli

BITNET_REGISTER_COMMAND(convert, bitnet::cli::setup_convert)
