// The C boundary: exceptions never cross it. Each entry point catches everything, records the
// message for bitnet_last_error() and returns a status.
#include "bitnet/bitnet.h"

#include <cstring>
#include <memory>
#include <new>
#include <string>

#include "graph/context.h"
#include "kernels.h"
#include "model/model.h"
#include "sampling/sampler.h"
#include "tokenizer/tokenizer.h"
#include "util/build_info.h"
#include "util/error.h"

struct bitnet_model {
  std::unique_ptr<bitnet::Model> model;
  std::unique_ptr<bitnet::Tokenizer> tokenizer;
};
struct bitnet_context {
  std::unique_ptr<bitnet::Context> ctx;
  bool has_logits = false;
};
struct bitnet_sampler {
  std::unique_ptr<bitnet::Sampler> sampler;
};

namespace {

thread_local std::string g_last_error;

bitnet_status set_error(bitnet_status status, std::string message) {
  g_last_error = std::move(message);
  return status;
}

// Classifies an exception message into a status; the message itself goes to bitnet_last_error.
template <class Fn>
bitnet_status guarded(Fn&& fn) {
  try {
    g_last_error.clear();
    return fn();
  } catch (const std::bad_alloc&) {
    return set_error(BITNET_ERROR_OUT_OF_MEMORY, "out of memory");
  } catch (const bitnet::Error& e) {
    const std::string what = e.what();
    if (what.find("cancelled") != std::string::npos) return set_error(BITNET_ERROR_CANCELLED, what);
    if (what.find("not supported") != std::string::npos || what.find("unsupported") != std::string::npos)
      return set_error(BITNET_ERROR_UNSUPPORTED, what);
    if (what.find("do not fit in the context") != std::string::npos) return set_error(BITNET_ERROR_CONTEXT_FULL, what);
    if (what.find("out of range") != std::string::npos && what.find("token id") != std::string::npos)
      return set_error(BITNET_ERROR_INVALID_ARGUMENT, what);
    return set_error(BITNET_ERROR_FILE, what);
  } catch (const std::exception& e) {
    return set_error(BITNET_ERROR_INTERNAL, e.what());
  } catch (...) {
    return set_error(BITNET_ERROR_INTERNAL, "unknown error");
  }
}

bitnet_status null_argument(const char* what) {
  return set_error(BITNET_ERROR_INVALID_ARGUMENT, std::string(what) + " is NULL");
}

}  // namespace

extern "C" {

const char* bitnet_last_error(void) { return g_last_error.c_str(); }

const char* bitnet_status_string(bitnet_status s) {
  switch (s) {
    case BITNET_OK: return "ok";
    case BITNET_ERROR_INVALID_ARGUMENT: return "invalid argument";
    case BITNET_ERROR_FILE: return "file error";
    case BITNET_ERROR_UNSUPPORTED: return "unsupported";
    case BITNET_ERROR_CONTEXT_FULL: return "context full";
    case BITNET_ERROR_BUFFER_TOO_SMALL: return "buffer too small";
    case BITNET_ERROR_CANCELLED: return "cancelled";
    case BITNET_ERROR_OUT_OF_MEMORY: return "out of memory";
    case BITNET_ERROR_INTERNAL: return "internal error";
  }
  return "unknown status";
}

const char* bitnet_version(void) { return bitnet::build_version(); }

const char* bitnet_system_info(void) {
  static const std::string info = [] {
    const auto& k = bitnet::kernels::kernels();
    return std::string("ISA = ") + bitnet::kernels::isa_name(k.isa) + " | matmul = " + k.matmul.name;
  }();
  return info.c_str();
}

bitnet_model_params bitnet_model_default_params(void) { return bitnet_model_params{nullptr, nullptr, false}; }

bitnet_status bitnet_model_load(const char* path, bitnet_model_params params, bitnet_model** out) {
  if (!path) return null_argument("path");
  if (!out) return null_argument("out");
  *out = nullptr;
  return guarded([&] {
    bitnet::LoadOptions lo;
    lo.lm_head = params.exact_lm_head ? bitnet::LmHeadMode::Original : bitnet::LmHeadMode::Int8;
    if (params.progress_callback)
      lo.progress = [&](float f) { return params.progress_callback(f, params.progress_user_data); };
    auto m = std::make_unique<bitnet_model>();
    m->model = bitnet::Model::load(path, lo);
    m->tokenizer = std::make_unique<bitnet::Tokenizer>(m->model->vocab());
    *out = m.release();
    return BITNET_OK;
  });
}

void bitnet_model_free(bitnet_model* model) { delete model; }

int32_t bitnet_model_n_vocab(const bitnet_model* m) { return m ? int32_t(m->model->params().n_vocab) : 0; }
int32_t bitnet_model_n_ctx_train(const bitnet_model* m) { return m ? int32_t(m->model->params().n_ctx_train) : 0; }
int32_t bitnet_model_n_embd(const bitnet_model* m) { return m ? int32_t(m->model->params().n_embd) : 0; }
int32_t bitnet_model_n_layer(const bitnet_model* m) { return m ? int32_t(m->model->params().n_layer) : 0; }

bitnet_status bitnet_model_desc(const bitnet_model* m, char* buf, size_t buf_size) {
  if (!m) return null_argument("model");
  if (!buf || buf_size == 0) return null_argument("buf");
  const auto& p = m->model->params();
  const std::string desc = p.architecture + " " + std::to_string(p.n_layer) + "L " + std::to_string(p.n_embd) + "d";
  std::snprintf(buf, buf_size, "%s", desc.c_str());
  return desc.size() < buf_size ? BITNET_OK : set_error(BITNET_ERROR_BUFFER_TOO_SMALL, "description truncated");
}

bitnet_token bitnet_token_bos(const bitnet_model* m) { return m ? m->model->vocab().bos_id : -1; }
bitnet_token bitnet_token_eos(const bitnet_model* m) { return m ? m->model->vocab().eos_id : -1; }
bool bitnet_token_is_eog(const bitnet_model* m, bitnet_token t) { return m && m->tokenizer->is_eog(t); }

bitnet_status bitnet_tokenize(const bitnet_model* m, const char* text, size_t len, bool add_special,
                              bool parse_special, bitnet_token* tokens, size_t capacity, size_t* n_tokens) {
  if (!m) return null_argument("model");
  if (!text && len) return null_argument("text");
  if (!n_tokens) return null_argument("n_tokens");
  return guarded([&] {
    const auto ids = m->tokenizer->encode(std::string_view(text ? text : "", len), add_special, parse_special);
    *n_tokens = ids.size();
    if (ids.size() > capacity || (!tokens && !ids.empty()))
      return set_error(BITNET_ERROR_BUFFER_TOO_SMALL,
                       "tokenize: " + std::to_string(ids.size()) + " tokens do not fit in " + std::to_string(capacity));
    std::copy(ids.begin(), ids.end(), tokens);
    return BITNET_OK;
  });
}

bitnet_status bitnet_token_to_piece(const bitnet_model* m, bitnet_token token, char* buf, size_t buf_size,
                                    size_t* len) {
  if (!m) return null_argument("model");
  if (!len) return null_argument("len");
  return guarded([&] {
    const std::string piece = m->tokenizer->token_piece(token);
    *len = piece.size();
    if (piece.size() > buf_size || (!buf && !piece.empty()))
      return set_error(BITNET_ERROR_BUFFER_TOO_SMALL, "token piece does not fit in the buffer");
    std::memcpy(buf, piece.data(), piece.size());
    return BITNET_OK;
  });
}

bitnet_context_params bitnet_context_default_params(void) { return bitnet_context_params{0, 512, 0}; }

bitnet_status bitnet_context_new(const bitnet_model* m, bitnet_context_params params, bitnet_context** out) {
  if (!m) return null_argument("model");
  if (!out) return null_argument("out");
  *out = nullptr;
  if (params.n_ctx < 0 || params.n_batch < 0 || params.n_threads < 0)
    return set_error(BITNET_ERROR_INVALID_ARGUMENT, "context params must not be negative");
  return guarded([&] {
    bitnet::ContextParams cp;
    cp.n_ctx = params.n_ctx;
    cp.n_batch = params.n_batch > 0 ? params.n_batch : 512;
    cp.n_threads = params.n_threads;
    auto c = std::make_unique<bitnet_context>();
    c->ctx = std::make_unique<bitnet::Context>(*m->model, cp);
    *out = c.release();
    return BITNET_OK;
  });
}

void bitnet_context_free(bitnet_context* ctx) { delete ctx; }
int32_t bitnet_context_n_ctx(const bitnet_context* c) { return c ? int32_t(c->ctx->n_ctx()) : 0; }
int32_t bitnet_context_n_past(const bitnet_context* c) { return c ? int32_t(c->ctx->n_past()) : 0; }
void bitnet_context_reset(bitnet_context* c) {
  if (!c) return;
  c->ctx->reset();
  c->has_logits = false;
}

bitnet_status bitnet_eval(bitnet_context* c, const bitnet_token* tokens, size_t n_tokens) {
  if (!c) return null_argument("ctx");
  if (!tokens && n_tokens) return null_argument("tokens");
  return guarded([&] {
    c->ctx->eval(std::span<const int32_t>(tokens, n_tokens));
    if (n_tokens) c->has_logits = true;
    return BITNET_OK;
  });
}

const float* bitnet_get_logits(const bitnet_context* c) { return c && c->has_logits ? c->ctx->logits() : nullptr; }

bitnet_sampler_params bitnet_sampler_default_params(void) {
  const bitnet::SamplerParams d;
  return bitnet_sampler_params{d.temperature, d.top_k, d.top_p, d.min_p, d.repeat_penalty, d.repeat_last_n, 0xFFFFFFFFu};
}

bitnet_status bitnet_sampler_new(bitnet_sampler_params p, bitnet_sampler** out) {
  if (!out) return null_argument("out");
  *out = nullptr;
  return guarded([&] {
    bitnet::SamplerParams sp;
    sp.temperature = p.temperature;
    sp.top_k = p.top_k;
    sp.top_p = p.top_p;
    sp.min_p = p.min_p;
    sp.repeat_penalty = p.repeat_penalty;
    sp.repeat_last_n = p.repeat_last_n;
    sp.seed = p.seed;
    auto s = std::make_unique<bitnet_sampler>();
    s->sampler = std::make_unique<bitnet::Sampler>(sp);
    *out = s.release();
    return BITNET_OK;
  });
}

void bitnet_sampler_free(bitnet_sampler* s) { delete s; }

bitnet_status bitnet_sampler_sample(bitnet_sampler* s, const bitnet_context* c, bitnet_token* token) {
  if (!s) return null_argument("sampler");
  if (!c) return null_argument("ctx");
  if (!token) return null_argument("token");
  if (!c->has_logits) return set_error(BITNET_ERROR_INVALID_ARGUMENT, "no logits yet: call bitnet_eval first");
  return guarded([&] {
    *token = s->sampler->sample(c->ctx->logits(), c->ctx->model().params().n_vocab);
    s->sampler->accept(*token);
    return BITNET_OK;
  });
}

void bitnet_sampler_accept(bitnet_sampler* s, bitnet_token token) {
  if (s) s->sampler->accept(token);
}

}  // extern "C"
