// SPDX-License-Identifier: MIT
/*
 * libmla plugin ABI, version 1.0 — the contract between a host engine (or the
 * libmla loader) and one backend plugin (cpu, cuda, hip, ...).
 *
 * Read this header as the specification; docs/abi.md adds the rationale and
 * the changelog.  C99, usable from C and C++.  No C++ types, no exceptions
 * cross this boundary, and no call aborts the host process.
 *
 * ---------------------------------------------------------------------------
 * Versioning
 *   - A plugin exports exactly one symbol, `mla_get_api`, returning a pointer
 *     to a const, statically allocated `mla_api` table (lifetime: until the
 *     plugin is unloaded).
 *   - MLA_ABI_MAJOR changes only on a breaking change; a caller must reject a
 *     table whose `abi_major` differs from its own.
 *   - MLA_ABI_MINOR grows when fields or function pointers are appended.
 *     Nothing is ever removed, reordered or retyped within a major.
 *   - Every struct that crosses the ABI starts with `size_t struct_size`,
 *     which the writer of the struct sets to sizeof() as it was compiled.
 *     A callee accepts a struct at least as large as the ABI 1.0 size of
 *     that struct (frozen by api/tests/abi_layout_test) and reads only the
 *     fields it knows; a
 *     caller checks `struct_size` (or `api->struct_size`) before it reads a
 *     field that a later minor appended.
 *
 * Memory and ownership
 *   - The caller owns all memory: inputs, outputs and the workspace.  The
 *     plugin never frees or keeps a caller pointer beyond the call, except the
 *     workspace, which holds the plan from `absorbed_plan` until the caller
 *     reuses it.
 *   - "Backend memory" means host memory for the cpu plugin and device memory
 *     of the context's device for GPU plugins.  Every data pointer in the
 *     argument structs, including the int32 index arrays, is backend memory.
 *   - Run entry points (`absorbed_plan`, `absorbed_run`, `merge_states`)
 *     allocate nothing, never synchronize the host with the device, enqueue
 *     all work on the context's stream and may be captured into a CUDA/HIP
 *     graph.  Only `context_create`/`context_destroy` allocate.
 *
 * Errors
 *   - Every call returns an mla_status.  On failure, `last_error()` returns a
 *     human-readable message that names the offending argument, e.g.
 *     "absorbed_args.kv.page_size = 0: must be >= 1".
 *   - Every argument is validated before any memory is touched: a call that
 *     fails validation writes nothing (outputs, lse and workspace unchanged).
 *   - The contents of device-resident index arrays (cu_seqlens_q, seqlens_k,
 *     block_table) cannot be read by the host without a synchronization, so
 *     GPU plugins check them on the device: a kernel never reads or writes
 *     out of bounds because of them, and the rows of a sequence whose indices
 *     are invalid are written as NaN (never left as stale data).  The cpu
 *     plugin checks them on the host and fails the call instead.
 *
 * Threading
 *   - `mla_get_api`, `probe` and `last_error` may be called from any thread.
 *   - A context is used by one thread at a time; distinct contexts may be
 *     used from distinct threads at once.  `last_error` is per thread.
 * ---------------------------------------------------------------------------
 */
#ifndef MLA_PLUGIN_H
#define MLA_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MLA_ABI_MAJOR 1
#define MLA_ABI_MINOR 0

#if defined(_WIN32)
#define MLA_EXPORT __declspec(dllexport)
#else
#define MLA_EXPORT __attribute__((visibility("default")))
#endif

/* ----------------------------------------------------------------- status */
typedef enum mla_status {
  MLA_OK = 0,
  MLA_ERR_INVALID_ARGUMENT = 1, /* an argument is out of its documented range */
  MLA_ERR_UNSUPPORTED = 2,      /* valid, but this plugin cannot do it (see caps) */
  MLA_ERR_VERSION = 3,          /* struct_size or ABI version not understood */
  MLA_ERR_NO_DEVICE = 4,        /* the plugin's device/runtime is not usable here */
  MLA_ERR_DEVICE = 5,           /* the device runtime reported an error */
  MLA_ERR_WORKSPACE = 6,        /* workspace missing, too small or misaligned */
  MLA_ERR_NOT_PLANNED = 7,      /* absorbed_run without a matching absorbed_plan */
  MLA_ERR_OUT_OF_MEMORY = 8,    /* context_create could not allocate */
  MLA_ERR_INTERNAL = 9          /* a bug in the plugin; the message says where */
} mla_status;

/* ----------------------------------------------------------------- dtypes */
typedef enum mla_dtype {
  MLA_DTYPE_INVALID = 0,
  MLA_DTYPE_F32 = 1,
  MLA_DTYPE_F16 = 2,  /* IEEE binary16 */
  MLA_DTYPE_BF16 = 3, /* bfloat16 */
  MLA_DTYPE_Q8_0 = 4,     /* reserved: ggml block of 32 int8 + f16 scale (34 B) */
  MLA_DTYPE_FP8_E4M3 = 5  /* reserved: FlashMLA 656-byte row (fp8 + scales + bf16 RoPE) */
} mla_dtype;

/* Bit for a dtype in a capability mask: MLA_DTYPE_BIT(MLA_DTYPE_BF16). */
#define MLA_DTYPE_BIT(d) (1u << (unsigned)(d))

/* ---------------------------------------------------------------- ops */
typedef enum mla_op {
  MLA_OP_ABSORBED = 0,     /* op A: absorbed attention over the latent cache */
  MLA_OP_MERGE = 1,        /* op C: merge partial (o, lse) states */
  MLA_OP_DECOMPRESSED = 2  /* op B: reserved for ABI 1.1 (decompressed prefill) */
} mla_op;
#define MLA_OP_BIT(op) (1u << (unsigned)(op))

/* ---------------------------------------------------------- tensor view */
/* A strided view of backend memory.  The shape is fixed by the op (each use
 * below gives it); `stride[i]` is the distance in ELEMENTS between
 * neighbours along dimension i (may be any value >= 0 that keeps distinct
 * elements distinct for outputs).  Unused trailing strides must be 0.      */
typedef struct mla_tensor {
  size_t struct_size; /* sizeof(mla_tensor) */
  void* data;         /* backend memory; NULL only where the use says "optional" */
  int32_t dtype;      /* mla_dtype */
  int32_t reserved0;  /* must be 0 */
  int64_t stride[4];  /* elements */
} mla_tensor;

/* -------------------------------------------------------- paged cache */
/* The latent KV cache: one row of (Dl + Dr) values per token, shared by all
 * heads.  Row of token t of sequence b: page = block_table[b*block_table_stride
 * + t / page_size], slot = t % page_size, at
 *   data + page*page_stride + slot*row_stride        (elements of `dtype`)
 * with the latent c_t at [latent_offset, latent_offset+Dl) and the RoPE key
 * kR_t at [rope_offset, rope_offset+Dr) inside the row.                     */
typedef struct mla_paged_cache {
  size_t struct_size;        /* sizeof(mla_paged_cache) */
  const void* data;          /* [num_pages, page_size, row], backend memory */
  int32_t dtype;             /* mla_dtype of the cache elements */
  int32_t page_size;         /* tokens per page, >= 1 */
  int64_t num_pages;         /* pages addressable through data, >= 1 */
  int64_t page_stride;       /* elements between consecutive pages */
  int64_t row_stride;        /* elements between consecutive rows of a page */
  int32_t latent_offset;     /* elements from row start to c_t */
  int32_t rope_offset;       /* elements from row start to kR_t */
  const int32_t* block_table;  /* [batch, block_table_stride] page indices */
  int64_t block_table_stride;  /* elements between sequences' rows, >= pages needed */
  const int32_t* seqlens_k;    /* [batch] s_k per sequence, >= 0 */
} mla_paged_cache;

/* ------------------------------------------------- op A: absorbed attention */
/* Per sequence b with s_q = cu_seqlens_q[b+1]-cu_seqlens_q[b] queries and
 * s_k = seqlens_k[b] keys, per head h, per query row i of that sequence:
 *   s_t   = scale * (q[i,h,:] . row_t)          for visible t
 *   lse   = log(sum_t exp(s_t))                  natural log
 *   out   = sum_t softmax(s)_t * c_t             (V = the latent slice)
 * causal: query i sees keys t <= s_k - s_q + i (bottom-right aligned);
 * otherwise all s_k keys.  A row that sees no key gets out = 0 and
 * lse = -inf (FlashMLA returns +inf there).  Accumulation is f32 or better. */
typedef struct mla_absorbed_args {
  size_t struct_size;     /* sizeof(mla_absorbed_args) */
  int32_t batch;          /* B, sequences, >= 0 (0 is a no-op) */
  int32_t num_heads;      /* H, query heads sharing the one KV head, >= 1 */
  int32_t latent_dim;     /* Dl, e.g. 512 */
  int32_t rope_dim;       /* Dr, e.g. 64 (may be 0) */
  int64_t total_q;        /* rows of q/out = cu_seqlens_q[B], >= 0 */
  int32_t max_seqlen_q;   /* >= every sequence's s_q (scheduling bound), >= 0 */
  int32_t causal;         /* 0 or 1 */
  float scale;            /* softmax scale, finite and > 0 */
  int32_t reserved0;      /* must be 0 */
  const int32_t* cu_seqlens_q; /* [B+1], cu[0] = 0, non-decreasing, cu[B] = total_q */
  mla_tensor q;           /* [total_q, H, Dl+Dr], latent then rope; f32/f16/bf16 */
  mla_paged_cache kv;     /* the latent cache */
  mla_tensor out;         /* out: [total_q, H, Dl]; f32/f16/bf16 */
  mla_tensor lse;         /* out, optional (data NULL = not wanted): [total_q, H], f32 */
  void* workspace;        /* backend memory, >= absorbed_workspace_size bytes, 256-B aligned;
                             holds the plan between absorbed_plan and absorbed_run */
  size_t workspace_bytes; /* size of workspace */
} mla_absorbed_args;

/* ------------------------------------------------------- op C: merge */
/* Merges P partial states of the same rows:
 *   lse = log(sum_p exp(lse_p)),  out = sum_p out_p * exp(lse_p - lse)
 * A part with lse_p = -inf contributes nothing; if every part is -inf the
 * result is out = 0, lse = -inf.                                          */
typedef struct mla_merge_args {
  size_t struct_size;     /* sizeof(mla_merge_args) */
  int32_t num_parts;      /* P >= 1 */
  int32_t head_dim;       /* Dv >= 1 */
  int64_t num_rows;       /* R = tokens, >= 0 */
  int32_t num_heads;      /* H >= 1 */
  int32_t reserved0;      /* must be 0 */
  mla_tensor parts_out;   /* [P, R, H, Dv]; f32/f16/bf16 */
  mla_tensor parts_lse;   /* [P, R, H]; f32 */
  mla_tensor out;         /* out: [R, H, Dv]; f32/f16/bf16; must not alias inputs */
  mla_tensor lse;         /* out, optional: [R, H]; f32 */
} mla_merge_args;

/* ------------------------------------------------------------ context */
typedef struct mla_context mla_context; /* opaque; owned by the plugin */

typedef struct mla_context_desc {
  size_t struct_size;     /* sizeof(mla_context_desc) */
  int32_t device_ordinal; /* GPU index; ignored by the cpu plugin */
  int32_t reserved0;      /* must be 0 */
  void* stream;           /* cudaStream_t / hipStream_t, NULL = default stream;
                             borrowed: must outlive the context */
  int32_t num_threads;    /* cpu: 0 = OMP_NUM_THREADS/omp default; GPU: ignored */
  int32_t reserved1;      /* must be 0 */
} mla_context_desc;

/* ------------------------------------------------------- probe / caps */
typedef struct mla_probe_result {
  size_t struct_size;     /* set by the caller: sizeof(mla_probe_result) */
  int32_t usable;         /* out: 1 if a context can be created here */
  int32_t score;          /* out: preference for MLA_BACKEND=auto, higher wins */
  int32_t num_devices;    /* out: devices visible (cpu: 1) */
  int32_t reserved0;
  char reason[256];       /* out: why unusable, or a one-line device summary */
} mla_probe_result;

typedef struct mla_caps {
  size_t struct_size;        /* set by the caller: sizeof(mla_caps) */
  uint32_t ops;              /* out: MLA_OP_BIT mask */
  uint32_t q_dtypes;         /* out: MLA_DTYPE_BIT mask for q (op A) */
  uint32_t cache_dtypes;     /* out: MLA_DTYPE_BIT mask for the cache */
  uint32_t out_dtypes;       /* out: MLA_DTYPE_BIT mask for out (ops A, C) */
  int32_t max_heads;         /* out: largest H accepted */
  int32_t max_latent_dim;    /* out: largest Dl accepted */
  int32_t max_rope_dim;      /* out: largest Dr accepted */
  int32_t latent_dim_multiple; /* out: Dl must be a multiple of this (1 = any) */
  int32_t max_page_size;     /* out: largest page size (pages >= 1 always) */
  int32_t reserved0;
  char device_name[128];     /* out: e.g. "NVIDIA H200 (sm_90, 132 SMs)" */
} mla_caps;

/* ----------------------------------------------------- the function table */
typedef struct mla_api {
  size_t struct_size;       /* sizeof(mla_api) as the plugin was built */
  uint32_t abi_major;       /* MLA_ABI_MAJOR the plugin was built with */
  uint32_t abi_minor;       /* MLA_ABI_MINOR the plugin was built with */
  const char* name;         /* "cpu", "cuda", "hip", ...; static */
  const char* version;      /* plugin build version, e.g. "0.1.0"; static */

  /* ---- ABI 1.0 ---- */
  /* Is the plugin usable on this machine?  Never fails for "no device": it
   * reports usable = 0 with the reason instead. */
  mla_status (*probe)(mla_probe_result* result /* out */);
  /* The calling thread's last error message; "" if none.  Valid until the
   * thread's next call into this plugin. */
  const char* (*last_error)(void);
  mla_status (*context_create)(const mla_context_desc* desc, mla_context** ctx /* out */);
  /* NULL is accepted and ignored.  Waits for nothing: the caller must not
   * destroy a context while work it enqueued may still use the stream. */
  mla_status (*context_destroy)(mla_context* ctx);
  mla_status (*get_caps)(mla_context* ctx, mla_caps* caps /* out */);
  /* Bytes of workspace op A needs for this batch description (depends on
   * batch, num_heads, dims, max_seqlen_q, total_q and the device, never on
   * the context length).  Data pointers may be NULL here. */
  mla_status (*absorbed_workspace_size)(mla_context* ctx, const mla_absorbed_args* args,
                                        size_t* bytes /* out */);
  /* Enqueue the schedule for this batch description into args->workspace.
   * Call once per step; every layer that shares cu_seqlens_q, seqlens_k,
   * block_table, batch, num_heads and dims may then call absorbed_run with
   * the same workspace (q, out, lse, cache data may differ per layer). */
  mla_status (*absorbed_plan)(mla_context* ctx, const mla_absorbed_args* args);
  /* Enqueue op A.  Requires a preceding absorbed_plan on the same context
   * with the same batch description and workspace (else MLA_ERR_NOT_PLANNED). */
  mla_status (*absorbed_run)(mla_context* ctx, const mla_absorbed_args* args);
  /* Enqueue op C.  Needs no workspace. */
  mla_status (*merge_states)(mla_context* ctx, const mla_merge_args* args);
  /* ---- appended in later minors only below this line ---- */
} mla_api;

/* The one exported symbol of a plugin. */
typedef const mla_api* (*mla_get_api_fn)(void);
MLA_EXPORT const mla_api* mla_get_api(void);

#ifdef __cplusplus
}
#endif
#endif /* MLA_PLUGIN_H */
