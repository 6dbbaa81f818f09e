// SPDX-License-Identifier: MIT
// The index math of op B's GPU schedule (decompressed_params.hpp), written
// once for the kernels and for a host test (backends/gpu/tests/
// opb_schedule_test.cpp, which runs in every build, GPU or not): the keys a
// row sees, what a round covers of a sequence, the packing of absorbed-form
// rows into passes and a sequence's item in a pass.
#pragma once
#include <stdint.h>

#include "decompressed_params.hpp"

#if defined(__CUDACC__) || defined(__HIPCC__) || defined(__HIP__)
#define MLA_OPB_HD __host__ __device__ __forceinline__
#else
#define MLA_OPB_HD inline
#endif

namespace mla_gpu {

// Keys seen by row i (0-based within its sequence): bottom-right causal.
MLA_OPB_HD int64_t opb_visible(int causal, int s_q, int s_k, int64_t i) {
  if (!causal) return s_k;
  const int64_t end = (int64_t)s_k - s_q + i + 1;
  return end < 0 ? 0 : (end > s_k ? s_k : end);
}

// What round (row0, chunk) covers of a sequence: its rows [q_lo, q_hi)
// inside the pass (sequence-relative) and the keys [key_lo, key_hi) of the
// chunk that those rows see.  false: nothing (not decompressed form,
// invalid, no row in the pass, or no key of the chunk seen).
struct opb_span {
  int q_lo, q_hi;
  int key_lo, key_hi;
};

MLA_OPB_HD bool opb_round_span(int pass_rows, int chunk_keys, int causal, const opb_seq& s, int row0, int chunk,
                               opb_span& sp) {
  if (!s.valid || s.form != opb_form_decompressed) return false;
  const int64_t lo = s.q_begin > row0 ? s.q_begin : row0;
  const int64_t seq_end = (int64_t)s.q_begin + s.s_q, pass_end = (int64_t)row0 + pass_rows;
  const int64_t hi = seq_end < pass_end ? seq_end : pass_end;
  if (lo >= hi) return false;
  const int64_t kend = opb_visible(causal, s.s_q, s.s_k, hi - 1 - s.q_begin);
  const int64_t k0 = (int64_t)chunk * chunk_keys, k1 = k0 + chunk_keys;
  if (k0 >= kend) return false;
  sp.q_lo = (int)(lo - s.q_begin);
  sp.q_hi = (int)(hi - s.q_begin);
  sp.key_lo = (int)k0;
  sp.key_hi = (int)(k1 < kend ? k1 : kend);
  return true;
}

// Packs the rows of absorbed-form sequences into passes of abs_rows rows.
// A sequence's rows are cut into items at multiples of abs_rows from its
// own start (so what op A sees of a row does not depend on the batch), and
// items go in sequence order into the current pass while they fit ("next
// fit").  Every item but a sequence's last fills a pass alone, so a
// sequence's items sit in consecutive passes, the first at row abs_row, the
// others at row 0.  Next fit uses at most min(n + B - 1, 2n + 1) passes for
// A rows of B sequences, n = ceil(A / abs_rows): no more passes than items
// (sum of ceil(a_b / abs_rows) < A / abs_rows + B), and two neighbouring
// passes hold more than abs_rows rows.  That is the bound the host launches (abs_passes); a
// sequence past it would be a bug and is made invalid (NaN rows) rather
// than dropped.  Returns the passes used.
MLA_OPB_HD int opb_pack_absorbed(opb_seq* seqs, int batch, int abs_rows, int abs_passes) {
  if (abs_rows <= 0) abs_passes = 0;  // no absorbed pass (the host's schedule has none): nothing fits
  int pass = 0, fill = 0;
  bool any = false;
  for (int b = 0; b < batch; ++b) {
    opb_seq& s = seqs[b];
    s.abs_pass = -1;
    s.abs_row = 0;
    if (!s.valid || s.form != opb_form_absorbed || s.s_q == 0) continue;
    if (abs_passes == 0) {
      s.valid = 0;
      continue;
    }
    const int items = (int)(((int64_t)s.s_q + abs_rows - 1) / abs_rows);
    if (!any) {
      any = true;
    } else if (items > 1 ? fill > 0 : (int64_t)fill + s.s_q > abs_rows) {
      ++pass;
      fill = 0;
    }
    s.abs_pass = pass;
    s.abs_row = fill;
    pass += items - 1;
    fill = (int)((int64_t)s.s_q - (int64_t)(items - 1) * abs_rows) + (items > 1 ? 0 : s.abs_row);
    if (pass >= abs_passes) {
      s.valid = 0;
      s.abs_pass = -1;
    }
  }
  return any ? pass + 1 : 0;
}

// Sequence s's item in absorbed pass `pass`: rows [i0, i0 + n) of the
// sequence at rows [dst, dst + n) of the pass, and the keys op A must see
// so that its bottom-right alignment puts them at their place in the
// sequence (the keys the item's last row sees).  false: none.
struct opb_item {
  int64_t i0;
  int n, dst, keys;
};

MLA_OPB_HD bool opb_absorbed_item(const opb_seq& s, int pass, int abs_rows, int causal, opb_item& it) {
  if (!s.valid || s.form != opb_form_absorbed || s.abs_pass < 0) return false;
  const int item = pass - s.abs_pass;
  if (item < 0 || (int64_t)item * abs_rows >= s.s_q) return false;
  it.i0 = (int64_t)item * abs_rows;
  it.n = (int)(s.s_q - it.i0 < abs_rows ? s.s_q - it.i0 : abs_rows);
  it.dst = item == 0 ? s.abs_row : 0;
  it.keys = (int)opb_visible(causal, s.s_q, s.s_k, it.i0 + it.n - 1);
  return true;
}

}  // namespace mla_gpu
