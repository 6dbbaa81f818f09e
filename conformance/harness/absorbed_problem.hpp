// SPDX-License-Identifier: MIT
// Host images of every buffer of one op-A case, built from its parameters:
// logical values drawn in double and rounded to each dtype, a paged cache
// with a permuted block table and NaN in every slot no sequence owns, queries
// with NaN in their gaps, outputs filled with the poison pattern.  The same
// logical values, gathered with the harness's own indexing, feed the oracle.
#pragma once
#include "case_spec.hpp"
#include "strided_layout.hpp"

#include <oracle.hpp>

#include <cstdint>
#include <vector>

namespace conformance {

struct absorbed_images {
  absorbed_case spec;
  oracle::absorbed_problem logical;  // rounded values, latent first, as the oracle wants
  int64_t total_q = 0;
  int32_t max_seqlen_q = 0;
  host_tensor q, out, lse;           // lse is empty when !spec.want_lse

  std::vector<unsigned char> cache;  // [num_pages][page_stride] elements of spec.cache_dtype
  int64_t num_pages = 0, page_stride = 0, row_stride = 0;
  int32_t latent_offset = 0, rope_offset = 0;
  std::vector<int32_t> cu_seqlens_q, seqlens_k, block_table;
  int64_t block_table_stride = 1;
  int32_t unused_page = 0;           // an all-NaN page, also used to fill unused block-table slots

  int64_t out_row_count() const { return total_q * spec.heads; }
};

absorbed_images build_absorbed(const absorbed_case& spec);

// Guard elements around outputs (and queries).
constexpr int64_t guard_elements = 32;

}  // namespace conformance
