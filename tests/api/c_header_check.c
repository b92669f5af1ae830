/* Compiled as C11 by the build: the public header must be valid C. */
#include "bitnet/bitnet.h"

int main(void) {
  bitnet_model_params mp = bitnet_model_default_params();
  bitnet_context_params cp = bitnet_context_default_params();
  bitnet_model* model = 0;
  (void)cp;
  /* Loading a missing file must return an error status, not crash. */
  return bitnet_model_load("/nonexistent.gguf", mp, &model) == BITNET_ERROR_FILE && model == 0 ? 0 : 1;
}
