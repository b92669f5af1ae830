// check_model_file (bitnet inspect's runnable verdict) for the file kinds of issue 6: runnable ones
// have no problems; the others say exactly why.
#include <gtest/gtest.h>

#include "model/synthetic_model.h"
#include "model/tensor_plan.h"
#include "util/error.h"

namespace bitnet::test {
namespace {

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += x + "\n";
  return s;
}

// Writes `src` again to `path` with extra (or replaced) metadata entries.
void rewrite_with_metadata(const gguf::File& src, const std::vector<std::pair<std::string, gguf::Value>>& extra,
                           const std::string& path) {
  gguf::Writer out;
  for (const auto& [k, v] : src.metadata()) out.set(k, v);
  for (const auto& [k, v] : extra) out.set(k, v);
  for (const auto& t : src.tensors()) out.add_tensor_copy(t.name, t.dims, t.type, t.data, t.nbytes);
  out.write(path);
}

SynthSpec small(const std::string& arch) {
  SynthSpec s;
  s.arch = arch;
  s.n_layer = 1;
  s.sub_norms = arch != "llama";
  return s;
}

TEST(ArchInspect, RunnableKindsHaveNoProblems) {
  for (const char* arch : {"bitnet-b1.58", "bitnet-25", "bitnet", "llama"})
    for (TensorType t : {TensorType::BT2, TensorType::I2_S, TensorType::TQ1_0, TensorType::TQ2_0, TensorType::F16}) {
      SynthSpec s = small(arch);
      s.ternary_type = t;
      if (std::string(arch) == "llama" && t == TensorType::I2_S) s.file_type = 40;
      TempGguf f("inspect-ok");
      write_synth_gguf(s, make_synth_weights(s), f.path());
      EXPECT_EQ(joined(check_model_file(*gguf::File::open(f.path()))), "") << arch << " " << tensor_type_traits(t).name;
    }
}

TEST(ArchInspect, LlamaLayoutLabelledBitnetMissesSubNorms) {
  SynthSpec s = small("bitnet");
  s.sub_norms = false;  // a llama-style file labelled bitnet
  TempGguf f("inspect-nosub");
  write_synth_gguf(s, make_synth_weights(s), f.path());
  const std::string v = joined(check_model_file(*gguf::File::open(f.path())));
  EXPECT_NE(v.find("missing tensor 'blk.0.attn_sub_norm.weight'"), std::string::npos) << v;
}

TEST(ArchInspect, RopeScalingIsExplained) {
  SynthSpec s = small("llama");
  const SynthWeights w = make_synth_weights(s);
  TempGguf f("inspect-rope");
  write_synth_gguf(s, w, f.path());
  TempGguf g("inspect-rope2");
  rewrite_with_metadata(*gguf::File::open(f.path()),
                        {{"llama.rope.scaling.type", gguf::Value::string("yarn")},
                         {"llama.rope.scaling.factor", gguf::Value::f32(4.0f)}},
                        g.path());
  const std::string v = joined(check_model_file(*gguf::File::open(g.path())));
  EXPECT_NE(v.find("rope scaling 'yarn'"), std::string::npos) << v;
}

TEST(ArchInspect, RowsWiderThanTheExactInt32RangeAreRefused) {
  // A feed-forward width of 2^17 would let the int8 kernels' int32 sums wrap: refused by name.
  SynthSpec s = small("bitnet-b1.58");
  TempGguf f("inspect-wide-src");
  write_synth_gguf(s, make_synth_weights(s), f.path());
  TempGguf g("inspect-wide");
  rewrite_with_metadata(*gguf::File::open(f.path()), {{"bitnet-b1.58.feed_forward_length", gguf::Value::u32(131072)}},
                        g.path());
  try {
    read_model_params(*gguf::File::open(g.path()));
    FAIL() << "a 131072-wide feed-forward was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("feed_forward_length = 131072 exceeds 131071"), std::string::npos) << e.what();
  }
}

TEST(ArchInspect, Tl2IsExplained) {
  SynthSpec s = small("bitnet-b1.58");
  TempGguf f("inspect-tl2-src");
  write_synth_gguf(s, make_synth_weights(s), f.path());
  auto src = gguf::File::open(f.path());
  gguf::Writer out;
  for (const auto& [k, v] : src->metadata()) out.set(k, v);
  for (const auto& t : src->tensors()) {
    if (t.name == "blk.0.attn_q.weight")
      out.add_tensor_raw(t.name, t.dims, kBitnetCppTL2, 256 * 256 / 4, [](uint8_t* p, uint64_t n) { std::fill(p, p + n, 0); });
    else if (t.name != "blk.0.attn_q.scale")
      out.add_tensor_copy(t.name, t.dims, t.type, t.data, t.nbytes);
  }
  TempGguf g("inspect-tl2");
  out.write(g.path());
  const std::string v = joined(check_model_file(*gguf::File::open(g.path())));
  EXPECT_NE(v.find("'blk.0.attn_q.weight' is bitnet.cpp's TL2"), std::string::npos) << v;
  EXPECT_NE(v.find("bitnet convert"), std::string::npos) << v;
}

}  // namespace
}  // namespace bitnet::test
