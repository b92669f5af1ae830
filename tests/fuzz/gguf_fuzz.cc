// libFuzzer target for the GGUF reader and tensor decoders (built only with -DBITNET_FUZZ=ON and
// clang; see tests/fuzz/CMakeLists.txt). Any input must either load or throw bitnet::Error.
//   cmake -S . -B build-fuzz -DBITNET_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++ && \
//   cmake --build build-fuzz --target gguf_fuzz && build-fuzz/tests/fuzz/gguf_fuzz -max_len=65536
#include <cstddef>
#include <cstdint>

#include "format/gguf.h"
#include "format/tensor_codec.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace bitnet;
  try {
    auto f = gguf::File::from_memory(data, size, "fuzz.gguf");
    for (const auto& kv : f->metadata()) (void)kv.second.to_display(4);
    for (const auto& t : f->tensors()) {
      if (t.n_elements() > (1u << 22)) continue;  // keep each input fast
      try {
        const gguf::TensorInfo* scale = f->find_tensor(scale_tensor_name(t.name));
        (void)decode_to_f32(t, t.type == TensorType::BT2 ? scale : nullptr);
        (void)decode_ternary(t, scale);
      } catch (const Error&) {
      }
    }
  } catch (const Error&) {
  }
  return 0;
}
