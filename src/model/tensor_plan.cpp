#include "model/tensor_plan.h"

#include <fmt/format.h>

#include "format/gguf.h"
#include "tokenizer/vocab.h"
#include "util/error.h"

namespace bitnet {

bool has_sub_norms(const ModelParams& p) { return p.architecture != "llama"; }

std::vector<PlannedTensor> plan_tensors(const ModelParams& p) {
  // BitNet b1.58 graphs normalise the attention output and the FFN hidden state before their
  // projections (sub-norms); the ternary `llama` files (Llama3-8B-1.58, Falcon3 1.58bit) have none.
  // output.weight is optional everywhere: without it the LM head is the token embedding, as in
  // llama.cpp (tied models such as 2B-4T, and llama files converted from tied checkpoints).
  const bool sub_norms = has_sub_norms(p);
  const uint64_t d = uint64_t(p.n_embd), ff = uint64_t(p.n_ff), qd = uint64_t(p.q_dim()),
                 kvd = uint64_t(p.kv_dim()), nv = uint64_t(p.n_vocab);
  std::vector<PlannedTensor> t = {
      {"token_embd.weight", {d, nv}, TensorRole::Dense},
      {"output.weight", {d, nv}, TensorRole::Dense, /*optional=*/true},
      {"output_norm.weight", {d}, TensorRole::Vector},
  };
  for (int64_t il = 0; il < p.n_layer; ++il) {
    const std::string b = fmt::format("blk.{}.", il);
    t.push_back({b + "attn_norm.weight", {d}, TensorRole::Vector});
    t.push_back({b + "attn_q.weight", {d, qd}, TensorRole::Ternary});
    t.push_back({b + "attn_k.weight", {d, kvd}, TensorRole::Ternary});
    t.push_back({b + "attn_v.weight", {d, kvd}, TensorRole::Ternary});
    if (sub_norms) t.push_back({b + "attn_sub_norm.weight", {qd}, TensorRole::Vector});
    t.push_back({b + "attn_output.weight", {qd, d}, TensorRole::Ternary});
    t.push_back({b + "ffn_norm.weight", {d}, TensorRole::Vector});
    t.push_back({b + "ffn_gate.weight", {d, ff}, TensorRole::Ternary});
    t.push_back({b + "ffn_up.weight", {d, ff}, TensorRole::Ternary});
    if (sub_norms) t.push_back({b + "ffn_sub_norm.weight", {ff}, TensorRole::Vector});
    t.push_back({b + "ffn_down.weight", {ff, d}, TensorRole::Ternary});
  }
  return t;
}

namespace {

bool type_fits_role(TensorType type, TensorRole role) {
  switch (role) {
    case TensorRole::Vector:
      return type == TensorType::F32 || type == TensorType::F16 || type == TensorType::BF16;
    case TensorRole::Dense:
      return type == TensorType::F32 || type == TensorType::F16 || type == TensorType::BF16 || type == TensorType::Q8_0;
    case TensorRole::Ternary:
      return type == TensorType::BT2 || type == TensorType::I2_S || type == TensorType::TQ1_0 ||
             type == TensorType::TQ2_0 || type == TensorType::F32 || type == TensorType::F16 ||
             type == TensorType::BF16;
  }
  return false;
}

std::vector<uint64_t> trimmed(std::vector<uint64_t> dims, size_t rank) {
  while (dims.size() > rank && dims.back() == 1) dims.pop_back();
  return dims;
}

}  // namespace

std::vector<std::string> check_model_file(const gguf::File& f) {
  std::vector<std::string> problems;
  ModelParams p;
  try {
    p = read_model_params(f);
  } catch (const Error& e) {
    problems.push_back(e.what());
    return problems;
  }
  try {
    const Vocab v = vocab_from_gguf(f);
    if (int64_t(v.tokens.size()) != p.n_vocab)
      problems.push_back(fmt::format("vocab_size {} but the tokenizer has {} tokens", p.n_vocab, v.tokens.size()));
  } catch (const Error& e) {
    problems.push_back(e.what());
  }
  for (const PlannedTensor& want : plan_tensors(p)) {
    const gguf::TensorInfo* t = f.find_tensor(want.name);
    if (!t) {
      if (!want.optional) problems.push_back(fmt::format("missing tensor '{}'", want.name));
      continue;
    }
    if (trimmed(t->dims, want.dims.size()) != want.dims)
      problems.push_back(fmt::format("tensor '{}' has shape [{}], expected [{}]", want.name, fmt::join(t->dims, ", "),
                                     fmt::join(want.dims, ", ")));
    if (t->type == TensorType::TL2)
      problems.push_back(fmt::format(
          "tensor '{}' is bitnet.cpp's TL2, whose layout depends on per-model kernel parameters that the file does "
          "not record; convert the Hugging Face checkpoint with `bitnet convert` (or use bitnet.cpp's I2_S file)",
          want.name));
    else if (!type_fits_role(t->type, want.role))
      problems.push_back(fmt::format("tensor '{}' has type {}, which cannot be used as a {} tensor", want.name,
                                     tensor_type_traits(t->type).name,
                                     want.role == TensorRole::Ternary ? "ternary" : "dense"));
  }
  if (problems.size() > 12) {
    const size_t more = problems.size() - 10;
    problems.resize(10);
    problems.push_back(fmt::format("... and {} more", more));
  }
  return problems;
}

}  // namespace bitnet
