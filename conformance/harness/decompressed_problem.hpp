// SPDX-License-Identifier: MIT
// Host images of every buffer of one op B case: the paged cache, index
// arrays and logical cache rows of its attention part (built as an op A
// case), q [total_q][H][Dn+Dr], the weights W_UK and W_UV in one buffer laid
// out as the case says (NaN wherever no weight is), out [total_q][H][Dv] and
// lse poisoned.  The logical values (rounded to their dtypes) feed the oracle.
#pragma once
#include "absorbed_problem.hpp"

#include <oracle.hpp>

namespace conformance {

struct decompressed_images {
  decompressed_case spec;
  absorbed_images base;  // cache, cu_seqlens_q, seqlens_k, block_table (its q/out are not op B's)
  oracle::decompressed_problem logical;
  host_tensor q, out, lse;                 // lse is empty when !want_lse
  std::vector<unsigned char> weights;      // W_UK and W_UV, guard + elements + guard, NaN elsewhere
  int64_t w_uk_offset = 0, w_uv_offset = 0;  // elements from the buffer start
  int64_t w_uk_stride[3] = {0, 0, 0}, w_uv_stride[3] = {0, 0, 0};

  int64_t total_q() const { return base.total_q; }
};

decompressed_images build_decompressed(const decompressed_case& spec);

// The op A case of the A<->B identity: the same cache and sequences, q~ =
// [W_UK^T q_nope | q_rope] (computed in double, stored as f32), f32 out and
// lse: op A on it gives o_A with W_UV o_A = op B's out.
absorbed_images identity_images(const decompressed_images& im);

}  // namespace conformance
