#include <filesystem>

#include "format/gguf.h"
#include "tokenizer/vocab.h"
#include "util/error.h"

namespace bitnet {

Vocab vocab_from_path(const std::string& path) {
  namespace fs = std::filesystem;
  if (!fs::exists(path)) fail("{}: no such file or directory", path);
  if (fs::is_directory(path)) return vocab_from_hf_dir(path);
  if (fs::path(path).extension() == ".json") return vocab_from_hf_json(path);
  if (fs::path(path).extension() == ".model") return vocab_from_spm_model(path);
  auto file = gguf::File::open(path);
  return vocab_from_gguf(*file);
}

}  // namespace bitnet
