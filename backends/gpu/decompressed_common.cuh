// Device helpers every op-B kernel shares (the SIMT kernels here and the
// vendors' tensor-core kernels): the keys a query row sees, and what one
// round of the decompressed form covers for one sequence.
#pragma once
#include <math.h>
#include <stdint.h>

#include "decompressed_params.hpp"
#include "element.cuh"
#include "vendor.h"

namespace mla_gpu {

// Keys seen by row i (0-based within its sequence): bottom-right causal.
__device__ __forceinline__ int64_t opb_visible(int causal, int s_q, int s_k, int64_t i) {
  if (!causal) return s_k;
  const int64_t end = (int64_t)s_k - s_q + i + 1;
  return end < 0 ? 0 : (end > s_k ? s_k : end);
}

// What round (row0, chunk) covers of a sequence: its rows [q_lo, q_hi)
// inside the pass (sequence-relative) and the keys [key_lo, key_hi) of the
// chunk that those rows see.  false: nothing (not decompressed form, invalid,
// no row in the pass, or no key of the chunk seen).
struct opb_span {
  int q_lo, q_hi;
  int key_lo, key_hi;
};

__device__ __forceinline__ bool opb_round_span(const opb_params& p, const opb_seq& s, int row0, int chunk,
                                               opb_span& sp) {
  if (!s.valid || s.form != opb_form_decompressed) return false;
  const int64_t lo = s.q_begin > row0 ? s.q_begin : row0;
  const int64_t seq_end = (int64_t)s.q_begin + s.s_q, pass_end = (int64_t)row0 + p.pass_rows;
  const int64_t hi = seq_end < pass_end ? seq_end : pass_end;
  if (lo >= hi) return false;
  const int64_t kend = opb_visible(p.causal, s.s_q, s.s_k, hi - 1 - s.q_begin);
  const int64_t k0 = (int64_t)chunk * p.chunk_keys, k1 = k0 + p.chunk_keys;
  if (k0 >= kend) return false;
  sp.q_lo = (int)(lo - s.q_begin);
  sp.q_hi = (int)(hi - s.q_begin);
  sp.key_lo = (int)k0;
  sp.key_hi = (int)(k1 < kend ? k1 : kend);
  return true;
}

// Element offset of the cache row of key t of sequence b; a page index
// outside [0, num_pages) (the table changed after the plan) gives -1.
__device__ __forceinline__ int64_t opb_cache_row(const opb_params& p, int b, int64_t t) {
  const int32_t page = p.block_table[(int64_t)b * p.block_table_stride + t / p.page_size];
  if (page < 0 || page >= p.num_pages) return -1;
  return (int64_t)page * p.page_stride + (t % p.page_size) * p.row_stride;
}

// Index of (pass-local row, head) in the running state.
__device__ __forceinline__ int64_t opb_state_pair(const opb_params& p, int64_t pass_row, int head) {
  return pass_row * p.heads + head;
}

// The first sequence of a round's group and the sequence of its slot.
__device__ __forceinline__ int opb_round_seq(const opb_params& p, const opb_round& r, int slot) {
  return r.group * p.group_seqs + slot;
}

}  // namespace mla_gpu
