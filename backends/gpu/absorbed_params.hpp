// SPDX-License-Identifier: MIT
// The device-side view of one absorbed-attention call (op A) and of the
// schedule ("split plan") the plan step leaves in the caller's workspace.
// Plain structs of raw pointers and 64-bit element strides, passed to
// kernels by value; shared by host launchers and device code.
#pragma once
#include <stddef.h>
#include <stdint.h>

namespace mla_gpu {

// Values of mla_dtype (kept equal to api/include/mla/mla_plugin.h).
enum : int { dtype_f32 = 1, dtype_f16 = 2, dtype_bf16 = 3 };

// Tile shape a kernel family works on: `rows` (query, head) rows of one
// sequence share a KV tile of `block_n` cache rows.  Chosen once per batch
// description (absorbed_workspace_size / plan) and then fixed for the run.
struct tile_config {
  int rows = 16;
  int block_n = 64;
};

// One sequence as the plan step saw it (written by the plan kernels).
struct seq_plan {
  int q_begin;    // first row of q/out (cu_seqlens_q[b], clamped to [0, total_q])
  int s_q;        // queries of the sequence (rows of q/out it owns)
  int s_k;        // keys
  int n_blocks;   // KV tiles of block_n keys (0 for an invalid sequence)
  int valid;      // 0: its indices are invalid -> its rows are written as NaN
  int slot_base;  // first partial slot when split over several CTAs, else -1
  int pieces;     // CTAs that work on it (> 1: the combine kernel merges them)
  int reserved;
};

// One piece of work: tiles [tile_begin, tile_end) of sequence b, written to
// partial slot `slot` (>= 0, the sequence is split: the combine kernel
// merges its pieces in order) or straight to out/lse (slot -1).  An invalid
// or key-less sequence is one piece with no tiles.
struct piece_plan {
  int b, tile_begin, tile_end, slot;
};

// The pieces [first_piece, end_piece) of one CTA column (one "part").
struct part_plan {
  int first_piece, end_piece;
};

// Split points of the batch-invariant schedule (MLA_CONTEXT_BATCH_INVARIANT):
// a sequence of n KV tiles is cut into min(kInvariantMaxPieces,
// ceil(n / kInvariantMinPieceTiles)) pieces at floor(j * n / pieces): from
// its own length only, whatever else is in the batch.
constexpr int kInvariantMaxPieces = 8;
constexpr int kInvariantMinPieceTiles = 8;

// Pointers into the caller's workspace (see workspace_layout).
struct plan_view {
  int* status;          // [4]; status[0] != 0: cu_seqlens_q invalid as a whole
  seq_plan* seqs;       // [batch]
  piece_plan* pieces;   // [max_pieces], in sequence order
  part_plan* parts;     // [num_parts]
  float* partial_lse;   // [num_slots][m_blocks][rows], natural log
  float* partial_out;   // [num_slots][m_blocks][rows][partial_row_stride(latent_dim)], normalized
  int num_slots;
};

// Everything a kernel needs for op A.  Strides are in elements.
struct absorbed_params {
  // q: [total_q, H, Dl+Dr], latent first
  const void* q;
  int q_dtype;
  int64_t q_stride[3];
  // out: [total_q, H, Dl]
  void* out;
  int out_dtype;
  int64_t out_stride[3];
  // lse: [total_q, H] f32, may be NULL
  float* lse;
  int64_t lse_stride[2];
  // paged latent cache
  const void* kv;
  int kv_dtype;
  int page_size;
  int64_t num_pages;
  int64_t page_stride;
  int64_t row_stride;
  int latent_offset;
  int rope_offset;
  const int32_t* block_table;
  int64_t block_table_stride;
  const int32_t* seqlens_k;
  const int32_t* cu_seqlens_q;
  // problem
  int batch;
  int heads;
  int latent_dim;
  int rope_dim;
  int64_t total_q;
  int max_seqlen_q;
  int causal;
  float scale;
  // schedule
  tile_config tile;
  int num_parts;  // CTA columns (grid.y)
  int m_blocks;   // row tiles per sequence (grid.x) = ceil(max_seqlen_q * H / rows)
  int batch_invariant;  // the plan splits each sequence from its own length alone
  plan_view plan;
};

// Byte offsets of the plan inside the workspace; every piece 256-B aligned.
struct workspace_layout {
  size_t status = 0, seqs = 0, pieces = 0, parts = 0, partial_lse = 0, partial_out = 0, total = 0;
  int num_slots = 0;
};

inline size_t align_up_256(size_t n) { return (n + 255) & ~(size_t)255; }

// Floats between partial rows: latent_dim rounded up to 4, so that the
// combine kernel reads whole 16-byte vectors (constexpr: usable in device
// code too).
constexpr int64_t partial_row_stride(int latent_dim) { return (latent_dim + 3) & ~3; }

// Default schedule: a CTA column's run of work touches at most two split
// sequences (its first and its last), so 2 * num_parts partial slots and
// batch + num_parts pieces always suffice: the workspace grows with the GPU
// (parts x tile), not with the context length.  Batch-invariant schedule:
// kInvariantMaxPieces slots and pieces per sequence.
inline workspace_layout layout_workspace(int batch, int num_parts, int m_blocks, int rows, int latent_dim,
                                         bool batch_invariant) {
  workspace_layout w;
  w.num_slots = batch_invariant ? batch * kInvariantMaxPieces : 2 * num_parts;
  const size_t max_pieces = batch_invariant ? (size_t)batch * kInvariantMaxPieces : (size_t)batch + num_parts;
  size_t at = 0;
  w.status = at;
  at += align_up_256(4 * sizeof(int));
  w.seqs = at;
  at += align_up_256((size_t)batch * sizeof(seq_plan));
  w.pieces = at;
  at += align_up_256(max_pieces * sizeof(piece_plan));
  w.parts = at;
  at += align_up_256((size_t)num_parts * sizeof(part_plan));
  const size_t slot_rows = (size_t)w.num_slots * (size_t)m_blocks * (size_t)rows;
  w.partial_lse = at;
  at += align_up_256(slot_rows * sizeof(float));
  w.partial_out = at;
  at += align_up_256(slot_rows * (size_t)partial_row_stride(latent_dim) * sizeof(float));
  w.total = at;
  return w;
}

inline plan_view make_plan_view(void* workspace, const workspace_layout& w) {
  char* base = static_cast<char*>(workspace);
  plan_view v;
  v.status = reinterpret_cast<int*>(base + w.status);
  v.seqs = reinterpret_cast<seq_plan*>(base + w.seqs);
  v.pieces = reinterpret_cast<piece_plan*>(base + w.pieces);
  v.parts = reinterpret_cast<part_plan*>(base + w.parts);
  v.partial_lse = reinterpret_cast<float*>(base + w.partial_lse);
  v.partial_out = reinterpret_cast<float*>(base + w.partial_out);
  v.num_slots = w.num_slots;
  return v;
}

}  // namespace mla_gpu
