// SPDX-License-Identifier: MIT
// Device helpers every op-A kernel shares (SIMT fallback and the vendors'
// tensor-core paths): walking a CTA's share of the split plan, the visible
// key count of a row, cache row addresses, and writing a finished row either
// to out/lse or to a partial slot for the combine kernel.
#pragma once
#include <math.h>
#include <stdint.h>

#include "absorbed_params.hpp"
#include "element.cuh"
#include "vendor.h"

namespace mla_gpu {

// Calls f(b, seq, tile_begin, tile_end, slot) for each piece of work of CTA
// column `part`: tiles [tile_begin, tile_end) of sequence b (plan `seq`); slot >= 0
// means the sequence is split and this piece goes to partial slot `slot`.
// An invalid or key-less sequence comes as one piece with no tiles.
template <class F>
__device__ __forceinline__ void for_each_piece(const absorbed_params& p, int part, F&& f) {
  const part_plan pp = p.plan.parts[part];
  for (int k = pp.first_piece; k < pp.end_piece; ++k) {
    const piece_plan piece = p.plan.pieces[k];
    f(piece.b, p.plan.seqs[piece.b], piece.tile_begin, piece.tile_end, piece.slot);
  }
}

// Keys visible to sequence row r (r = query * H + head): bottom-right causal.
__device__ __forceinline__ int visible_keys(const absorbed_params& p, const seq_plan& s, int r) {
  if (!p.causal) return s.s_k;
  const int query = r / p.heads;
  const int limit = s.s_k - s.s_q + query + 1;
  return limit < 0 ? 0 : (limit > s.s_k ? s.s_k : limit);
}

// Element offset of q[query, head, 0] for sequence row r (r = query * H +
// head) of the sequence planned as `s`.
__device__ __forceinline__ int64_t q_row_offset(const absorbed_params& p, const seq_plan& s, int r) {
  return (s.q_begin + r / p.heads) * p.q_stride[0] + (int64_t)(r % p.heads) * p.q_stride[1];
}

// Element offset of cache row `token` of sequence b.  A page index outside
// [0, num_pages) (the table changed after the plan checked it) reads page 0
// and sets *bad, so the row comes out NaN instead of reading out of bounds.
__device__ __forceinline__ int64_t cache_row_offset(const absorbed_params& p, int b, int token, bool* bad) {
  int32_t page = p.block_table[(int64_t)b * p.block_table_stride + token / p.page_size];
  if (page < 0 || page >= p.num_pages) {
    *bad = true;
    page = 0;
  }
  return (int64_t)page * p.page_stride + (int64_t)(token % p.page_size) * p.row_stride;
}

// Where a finished row goes: out/lse directly, or the partial slot.  Holds
// copies, not a pointer to the params, so kernels never take their address.
struct row_sink {
  void* out;           // element [query, head, 0] of out (direct)
  int64_t out_step;    // out_stride[2]
  int out_dtype;
  float* lse;          // lse[query, head] (direct; NULL: not wanted)
  float* partial;      // [latent_dim] (split) or NULL
  float* partial_lse;  // (split) or NULL

  __device__ __forceinline__ void store(int d, float v) const {
    if (partial) partial[d] = v;
    else store_element(out, (int64_t)d * out_step, out_dtype, v);
  }
  __device__ __forceinline__ void store_lse(float v) const {
    if (partial_lse) *partial_lse = v;
    else if (lse) *lse = v;
  }
};

// Sink of sequence row r (0 <= r < s_q * H) in row tile m.
__device__ __forceinline__ row_sink make_row_sink(const absorbed_params& p, const seq_plan& s, int m, int r,
                                                  int slot) {
  row_sink k;
  const int64_t query = s.q_begin + r / p.heads;
  const int head = r % p.heads;
  const int es = p.out_dtype == dtype_f32 ? 4 : 2;
  k.out = static_cast<char*>(p.out) + (query * p.out_stride[0] + (int64_t)head * p.out_stride[1]) * es;
  k.out_step = p.out_stride[2];
  k.out_dtype = p.out_dtype;
  k.lse = p.lse ? p.lse + query * p.lse_stride[0] + (int64_t)head * p.lse_stride[1] : nullptr;
  if (slot >= 0) {
    const int64_t row = ((int64_t)slot * p.m_blocks + m) * p.tile.rows + (r - m * p.tile.rows);
    k.partial = p.plan.partial_out + row * partial_row_stride(p.latent_dim);
    k.partial_lse = p.plan.partial_lse + row;
  } else {
    k.partial = nullptr;
    k.partial_lse = nullptr;
  }
  return k;
}

// Rows of an invalid sequence become NaN (out and lse).  Row tile m of the
// grid covers tiles m, m + m_blocks, ... so that a sequence longer than
// max_seqlen_q (one way to be invalid) is still written in full.
__device__ __forceinline__ void fill_invalid_rows(const absorbed_params& p, const seq_plan& s, int m) {
  const int64_t rows = (int64_t)s.s_q * p.heads;
  const int width = p.latent_dim + 1;  // the row, then its lse
  for (int64_t base = (int64_t)m * p.tile.rows; base < rows; base += (int64_t)p.m_blocks * p.tile.rows) {
    for (int e = threadIdx.x; e < p.tile.rows * width; e += blockDim.x) {
      const int64_t r = base + e / width;
      const int d = e % width;
      if (r >= rows) continue;
      const int64_t query = s.q_begin + r / p.heads;
      const int head = (int)(r % p.heads);
      if (d < p.latent_dim) {
        store_element(p.out, query * p.out_stride[0] + (int64_t)head * p.out_stride[1] + (int64_t)d * p.out_stride[2],
                      p.out_dtype, NAN);
      } else if (p.lse) {
        p.lse[query * p.lse_stride[0] + (int64_t)head * p.lse_stride[1]] = NAN;
      }
    }
  }
}

}  // namespace mla_gpu
