// SPDX-License-Identifier: MIT
// Op B (decompressed prefill) on a GPU: the device-side view of one call,
// its schedule and the workspace layout.  Plain structs of raw pointers and
// 64-bit element strides, shared by host code and kernels (docs/cuda.md,
// "Op B on CUDA").
//
// The schedule, all of it fixed on the host from the batch description (so
// that nothing needs the index arrays' contents, which live on the device):
//   * decompressed form: passes over the global query rows (pass_rows rows
//     whose running O / max / sum fit the state budget), and inside a pass
//     rounds (group of group_seqs sequences, chunk of chunk_keys keys).  A
//     round gathers the chunk's latent rows, expands K and V for every head
//     and runs attention for every query of the pass that sees the chunk,
//     merging into the running state.  Rounds past a sequence's keys exit at
//     once on the device.
//   * absorbed form (op A inside the call): the rows of absorbed-form
//     sequences, cut at multiples of abs_rows from each sequence's start and
//     packed in sequence order into passes of abs_rows rows (the plan does
//     the packing on the device).  A pass: q~ = [W_UK^T q_nope | q_rope],
//     op A's kernels, out = W_UV o_A.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "absorbed_params.hpp"

namespace mla_gpu {

// Sizes.  A chunk holds a whole sequence's keys where the K/V budget
// allows: every extra chunk is another round trip of the pass's f32 state
// and another Q load per query tile, and on the H200 (2026-11-29) chunks of
// 4096 keys instead of S/16 ran P2-P7 1.3-2.0x faster (docs/cuda.md).
constexpr int kOpbKeyTile = 64;                        // keys of one expansion / attention tile
constexpr int kOpbMinChunk = 512;                      // keys per chunk: at least (or the longest sequence) ...
constexpr int kOpbMaxChunk = 32768;                    // ... at most
constexpr size_t kOpbKvBudget = size_t(512) << 20;     // bytes of latent + K + V of one round
constexpr size_t kOpbStateBudget = size_t(512) << 20;  // bytes of running O / max / sum of one pass
constexpr int kOpbAbsorbedPairs = 16384;               // (row, head) pairs of one absorbed pass (at least)
// caps.decompressed_break_even_q: AUTO takes the decompressed form from this
// many queries per sequence.  Measured (mla-bench --break-even 4096, H200,
// 2026-11-29, the warp-specialized wgmma attention): 18 queries at H 128;
// at H 16 the decompressed form was faster from 2 queries on.  caps has one
// value, and H 128 is DeepSeek V2/V3's (docs/cuda.md "The break-even").
constexpr int32_t kOpbBreakEvenQ = 18;

enum opb_form : int { opb_form_decompressed = 1, opb_form_absorbed = 2 };
// Values of mla_decompressed_mode (kept equal to api/include/mla/mla_plugin.h).
enum : int { opb_mode_auto = 0, opb_mode_force = 1, opb_mode_force_absorbed = 2 };

// Largest dims of the SIMT kernels (registers per lane).
constexpr int kOpbSimtMaxDk = 384;  // Dn + Dr
constexpr int kOpbSimtMaxDv = 256;
constexpr int kOpbMaxNope = 256;  // caps.max_nope_dim
constexpr int kOpbMaxV = 256;     // caps.max_v_dim

// One sequence as the plan saw it.
struct opb_seq {
  int q_begin;   // cu_seqlens_q[b], clamped to [0, total_q]
  int s_q;       // its rows (clamped)
  int s_k;       // keys (0 when invalid)
  int valid;     // 0: invalid indices, its rows are written as NaN
  int form;      // opb_form
  int abs_pass;  // absorbed form: the pass holding its first rows ...
  int abs_row;   // ... and their first row there
  int reserved;
};

struct opb_params {
  // q: [total_q, H, Dn+Dr]
  const void* q;
  int q_dtype;
  int64_t q_stride[3];
  // weights: [H, Dn, Dl] and [H, Dv, Dl] as given
  const void* w_uk;
  int w_uk_dtype;
  int64_t w_uk_stride[3];
  const void* w_uv;
  int w_uv_dtype;
  int64_t w_uv_stride[3];
  // out: [total_q, H, Dv]; lse: [total_q, H] f32 or NULL
  void* out;
  int out_dtype;
  int64_t out_stride[3];
  float* lse;
  int64_t lse_stride[2];
  // the paged latent cache
  const void* kv;
  int kv_dtype;
  int page_size;
  int64_t num_pages, page_stride, row_stride;
  int latent_offset, rope_offset;
  const int32_t* block_table;
  int64_t block_table_stride;
  const int32_t* seqlens_k;
  const int32_t* cu_seqlens_q;
  // problem
  int batch, heads, latent_dim, rope_dim, nope_dim, v_dim;
  int64_t total_q;
  int max_seqlen_q, causal, mode, break_even;
  float scale;
  // schedule (host)
  int compute_dtype;  // of the latent / K / V buffers
  int chunk_keys;     // C, a multiple of kOpbKeyTile
  int group_seqs;     // G sequences per round
  int pass_rows;      // global query rows per decompressed pass
  int abs_rows;       // rows per absorbed pass
  int abs_passes;     // absorbed passes the host runs (a bound)
  // expansion weights the kernels read: [head][row][Dl] with these strides
  // (the caller's tensors, or the converted copy in the workspace); inner stride 1
  const void* wk;
  int64_t wk_head_stride, wk_row_stride;
  const void* wv;
  int64_t wv_head_stride, wv_row_stride;
  // workspace
  int* status;      // [4]: status[0] != 0: cu_seqlens_q invalid as a whole
  opb_seq* seqs;    // [batch]
  void* lat;        // [G][C][Dl+Dr]  compute dtype
  void* k;          // [G][H][C][Dn+Dr]
  void* v;          // [G][H][C][Dv]
  float* state_o;   // [pass_rows][H][Dv]  unnormalized, relative to the max
  float* state_ml;  // [pass_rows][H][2]   max (log2 units, scale folded in), sum
  void* qa;         // [abs_rows][H][Dl+Dr]  q~, dtype qa_dtype
  int qa_dtype;
  float* oa;   // [abs_rows][H][Dl]  op A's output
  float* la;   // [abs_rows][H]      op A's lse
  int* owner;  // [abs_rows]  sequence of each absorbed row (-1: none)
};

// Where one round is: the pass's first global row, the group and the chunk.
struct opb_round {
  int row0;
  int group;
  int chunk;
};

// Byte offsets in the workspace; every piece 256-B aligned.  The plan's
// part (status, seqs) comes first and does not depend on dtypes.
struct opb_layout {
  size_t status = 0, seqs = 0, lat = 0, k = 0, v = 0, w = 0, state_o = 0, state_ml = 0;
  size_t qa = 0, oa = 0, la = 0, owner = 0;
  size_t a_status = 0, a_seqs = 0, a_pieces = 0, a_parts = 0;  // op A's plan for an absorbed pass
  size_t total = 0;
};

}  // namespace mla_gpu
