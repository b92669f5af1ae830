// `bitnet inspect FILE.gguf [--all]`: what is in a GGUF file, and whether libbitnet can read it.
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <map>

#include "command.h"
#include "format/gguf.h"
#include "format/tensor_types.h"
#include "model/tensor_plan.h"

namespace bitnet::cli {
namespace {

std::string shape_string(const std::vector<uint64_t>& dims) { return fmt::format("[{}]", fmt::join(dims, ", ")); }

std::string human_bytes(uint64_t b) {
  if (b < 10 * 1024) return fmt::format("{} B", b);
  if (b < 10 * 1024 * 1024) return fmt::format("{:.1f} KiB", b / 1024.0);
  if (b < 10ull * 1024 * 1024 * 1024) return fmt::format("{:.1f} MiB", b / (1024.0 * 1024));
  return fmt::format("{:.2f} GiB", b / (1024.0 * 1024 * 1024));
}

// Format-level remarks: tensor types libbitnet recognises but cannot compute with.
std::vector<std::string> format_remarks(const gguf::File& f) {
  std::vector<std::string> out;
  size_t tl2 = 0;
  for (const auto& t : f.tensors()) tl2 += t.type == TensorType::TL2;
  if (tl2)
    out.push_back(fmt::format(
        "{} tensor(s) use bitnet.cpp's TL2 layout, which depends on per-model kernel parameters that the "
        "file does not record; libbitnet cannot run this file (convert the Hugging Face checkpoint with "
        "`bitnet convert`, or use bitnet.cpp's I2_S file)", tl2));
  return out;
}

void run_inspect(const std::string& path, bool all) {
  const auto f = gguf::File::open(path);
  const size_t max_elems = all ? SIZE_MAX : 8;
  std::printf("file:          %s\n", path.c_str());
  std::printf("size:          %s (%llu bytes)\n", human_bytes(f->file_size()).c_str(),
              static_cast<unsigned long long>(f->file_size()));
  std::printf("GGUF version:  %u\n", f->version());
  std::printf("alignment:     %u\n", f->alignment());
  std::printf("data offset:   %llu\n", static_cast<unsigned long long>(f->data_offset()));
  const std::string arch = f->architecture();
  std::printf("architecture:  %s\n", arch.empty() ? "(none)" : arch.c_str());

  std::printf("\nmetadata (%zu keys):\n", f->metadata().size());
  size_t key_w = 0;
  for (const auto& [k, v] : f->metadata()) key_w = std::max(key_w, k.size());
  for (const auto& [k, v] : f->metadata()) {
    std::string type(gguf::value_type_name(v.type()));
    if (v.type() == gguf::ValueType::ARRAY)
      type = fmt::format("{}[{}]", gguf::value_type_name(v.array_type()), v.size());
    std::printf("  %-*s  %-14s %s\n", int(key_w), k.c_str(), type.c_str(), v.to_display(max_elems).c_str());
  }

  std::printf("\ntensors (%zu):\n", f->tensors().size());
  size_t name_w = 4;
  for (const auto& t : f->tensors()) name_w = std::max(name_w, t.name.size());
  std::printf("  %-*s  %-6s %-22s %12s %12s\n", int(name_w), "name", "type", "shape", "bytes", "offset");
  uint64_t total_bytes = 0, total_params = 0, ternary_bytes = 0, ternary_params = 0;
  std::map<std::string, size_t> per_type;
  for (const auto& t : f->tensors()) {
    const auto& tr = tensor_type_traits(t.type);
    std::printf("  %-*s  %-6s %-22s %12llu %12llu\n", int(name_w), t.name.c_str(), std::string(tr.name).c_str(),
                shape_string(t.dims).c_str(), static_cast<unsigned long long>(t.nbytes),
                static_cast<unsigned long long>(t.offset));
    total_bytes += t.nbytes;
    total_params += t.n_elements();
    per_type[std::string(tr.name)]++;
    if (tr.ternary) {
      ternary_bytes += t.nbytes;
      ternary_params += t.n_elements();
    }
  }

  std::printf("\ntotals:\n");
  std::printf("  tensors:     %zu (", f->tensors().size());
  bool first = true;
  for (const auto& [name, n] : per_type) {
    std::printf("%s%zu %s", first ? "" : ", ", n, name.c_str());
    first = false;
  }
  std::printf(")\n");
  std::printf("  data bytes:  %s (%llu)\n", human_bytes(total_bytes).c_str(), static_cast<unsigned long long>(total_bytes));
  std::printf("  parameters:  %llu\n", static_cast<unsigned long long>(total_params));
  if (ternary_params)
    std::printf("  ternary:     %llu parameters in %s, %.3f bits per weight\n",
                static_cast<unsigned long long>(ternary_params), human_bytes(ternary_bytes).c_str(),
                8.0 * double(ternary_bytes) / double(ternary_params));
  else
    std::printf("  ternary:     no tensors of a ternary type (f32/f16 files may still hold ternary values)\n");

  std::vector<std::string> remarks = format_remarks(*f);
  // The model layer's verdict (format/ must not depend on model/, so the call lives here).
  const std::vector<std::string> problems = check_model_file(*f);
  if (problems.empty()) {
    std::printf("\nrunnable:    yes (%s)\n", f->architecture().c_str());
  } else {
    std::printf("\nrunnable:    no\n");
    for (const auto& p : problems) std::printf("  - %s\n", p.c_str());
  }
  if (!remarks.empty()) {
    std::printf("\nremarks:\n");
    for (const auto& r : remarks) std::printf("  - %s\n", r.c_str());
  }
}

}  // namespace

void setup_inspect(CLI::App& app) {
  auto* sub = app.add_subcommand("inspect", "Show a GGUF file's header, metadata and tensors");
  auto path = std::make_shared<std::string>();
  auto all = std::make_shared<bool>(false);
  sub->add_option("file", *path, "GGUF file")->required();
  sub->add_flag("--all", *all, "Print metadata arrays and long strings in full");
  add_verbosity_flags(*sub);
  sub->callback([path, all] { run_inspect(*path, *all); });
}

}  // namespace bitnet::cli

BITNET_REGISTER_COMMAND(inspect, bitnet::cli::setup_inspect)
