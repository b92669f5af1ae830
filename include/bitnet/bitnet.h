/* libbitnet C API: opaque handles, default-params structs, init/free pairs, status codes.
 *
 * Nothing here aborts: every failure returns a status, and bitnet_last_error() gives a message that
 * says what was wrong and where (file, byte offset, tensor, ...). The message is per thread.
 *
 * Thread safety: a bitnet_model is immutable after load and may be shared by contexts on several
 * threads. A bitnet_context or bitnet_sampler must be used by one thread at a time.
 *
 * Stability: functions are only added; existing signatures do not change within a major version.
 * BITNET_API_VERSION increases with every addition. */
#ifndef BITNET_BITNET_H
#define BITNET_BITNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BITNET_API_VERSION 1

#if defined(__GNUC__)
#define BITNET_API __attribute__((visibility("default")))
#else
#define BITNET_API
#endif

typedef enum bitnet_status {
  BITNET_OK = 0,
  BITNET_ERROR_INVALID_ARGUMENT = 1, /* a NULL handle, a bad size, an id out of range */
  BITNET_ERROR_FILE = 2,             /* cannot open/read/parse a file, or it is malformed */
  BITNET_ERROR_UNSUPPORTED = 3,      /* valid file, but an architecture or type we cannot run */
  BITNET_ERROR_CONTEXT_FULL = 4,     /* tokens do not fit in the context */
  BITNET_ERROR_BUFFER_TOO_SMALL = 5, /* the required size is returned through the size argument */
  BITNET_ERROR_CANCELLED = 6,        /* a progress callback returned false */
  BITNET_ERROR_OUT_OF_MEMORY = 7,
  BITNET_ERROR_INTERNAL = 8
} bitnet_status;

typedef struct bitnet_model bitnet_model;
typedef struct bitnet_context bitnet_context;
typedef struct bitnet_sampler bitnet_sampler;
typedef int32_t bitnet_token;

/* Message of the last failed call on this thread ("" if none). Valid until the next call. */
BITNET_API const char* bitnet_last_error(void);
BITNET_API const char* bitnet_status_string(bitnet_status status);
BITNET_API const char* bitnet_version(void);  /* "libbitnet <commit>" */
BITNET_API const char* bitnet_system_info(void);  /* CPU features and the chosen kernel ISA */

/* ---- model ---- */
typedef struct bitnet_model_params {
  /* Called with a fraction in [0,1] during loading; return false to cancel. May be NULL. */
  bool (*progress_callback)(float fraction, void* user_data);
  void* progress_user_data;
  /* false (default): the LM head is multiplied as a per-row int8 copy made at load (half the bytes
   * of f16 per token); true: in the file's own precision. */
  bool exact_lm_head;
} bitnet_model_params;

BITNET_API bitnet_model_params bitnet_model_default_params(void);
BITNET_API bitnet_status bitnet_model_load(const char* path, bitnet_model_params params, bitnet_model** out);
BITNET_API void bitnet_model_free(bitnet_model* model);

BITNET_API int32_t bitnet_model_n_vocab(const bitnet_model* model);
BITNET_API int32_t bitnet_model_n_ctx_train(const bitnet_model* model);
BITNET_API int32_t bitnet_model_n_embd(const bitnet_model* model);
BITNET_API int32_t bitnet_model_n_layer(const bitnet_model* model);
/* Writes a description like "bitnet-b1.58 8L 512d" into buf (always NUL-terminated). */
BITNET_API bitnet_status bitnet_model_desc(const bitnet_model* model, char* buf, size_t buf_size);

/* ---- tokenizer ---- */
BITNET_API bitnet_token bitnet_token_bos(const bitnet_model* model);  /* -1 if none */
BITNET_API bitnet_token bitnet_token_eos(const bitnet_model* model);
BITNET_API bool bitnet_token_is_eog(const bitnet_model* model, bitnet_token token);

/* Tokenizes text[0..len). On BITNET_ERROR_BUFFER_TOO_SMALL, *n_tokens holds the needed count. */
BITNET_API bitnet_status bitnet_tokenize(const bitnet_model* model, const char* text, size_t len,
                                         bool add_special, bool parse_special, bitnet_token* tokens,
                                         size_t capacity, size_t* n_tokens);
/* The bytes of one token (may be part of a UTF-8 sequence). *len receives the byte count. */
BITNET_API bitnet_status bitnet_token_to_piece(const bitnet_model* model, bitnet_token token, char* buf,
                                               size_t buf_size, size_t* len);

/* ---- context ---- */
typedef struct bitnet_context_params {
  int32_t n_ctx;     /* 0: the model's training context */
  int32_t n_batch;   /* max tokens per forward pass during prompt processing (default 512) */
  int32_t n_threads; /* 0: all hardware threads */
} bitnet_context_params;

BITNET_API bitnet_context_params bitnet_context_default_params(void);
BITNET_API bitnet_status bitnet_context_new(const bitnet_model* model, bitnet_context_params params,
                                            bitnet_context** out);
BITNET_API void bitnet_context_free(bitnet_context* ctx);
BITNET_API int32_t bitnet_context_n_ctx(const bitnet_context* ctx);
BITNET_API int32_t bitnet_context_n_past(const bitnet_context* ctx);
/* Forgets all tokens (the KV cache is reused). */
BITNET_API void bitnet_context_reset(bitnet_context* ctx);

/* Appends tokens and runs the model; afterwards bitnet_get_logits gives the last token's logits. */
BITNET_API bitnet_status bitnet_eval(bitnet_context* ctx, const bitnet_token* tokens, size_t n_tokens);
/* n_vocab floats for the last evaluated token; NULL before the first eval. */
BITNET_API const float* bitnet_get_logits(const bitnet_context* ctx);

/* ---- sampling (llama.cpp defaults) ---- */
typedef struct bitnet_sampler_params {
  float temperature;    /* 0.8; <= 0 is greedy */
  int32_t top_k;        /* 40; <= 0 off */
  float top_p;          /* 0.95; >= 1 off */
  float min_p;          /* 0.05; <= 0 off */
  float repeat_penalty; /* 1.0 (off) */
  int32_t repeat_last_n;/* 64 */
  uint32_t seed;        /* 0xFFFFFFFF: random */
} bitnet_sampler_params;

BITNET_API bitnet_sampler_params bitnet_sampler_default_params(void);
BITNET_API bitnet_status bitnet_sampler_new(bitnet_sampler_params params, bitnet_sampler** out);
BITNET_API void bitnet_sampler_free(bitnet_sampler* sampler);
/* Samples from the context's current logits; *token receives the id. Records it for penalties. */
BITNET_API bitnet_status bitnet_sampler_sample(bitnet_sampler* sampler, const bitnet_context* ctx,
                                               bitnet_token* token);
/* Records a token (e.g. the prompt) for the repetition penalty window. */
BITNET_API void bitnet_sampler_accept(bitnet_sampler* sampler, bitnet_token token);

#ifdef __cplusplus
}
#endif

#endif /* BITNET_BITNET_H */
