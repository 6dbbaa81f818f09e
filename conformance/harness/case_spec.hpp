// SPDX-License-Identifier: MIT
// What one catalogue case is: the parameters from which all its data is
// generated (the data itself comes from `seed`, so a case replays exactly).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace conformance {

// How a strided tensor is laid out in memory (outputs and queries).
enum class layout_mode {
  contiguous,     // dense, row-major
  padded,         // row-major with gaps after every row and head
  head_major,     // heads outermost: [H][rows][...] with gaps
  inner_stride2   // the innermost dimension steps by 2 elements
};
const char* layout_label(layout_mode mode);

struct absorbed_case {
  std::string name;
  uint64_t seed = 0;
  int heads = 1, latent_dim = 512, rope_dim = 64;
  bool rope_first = false;          // row = [kR | c] instead of [c | kR]
  std::vector<int> s_q, s_k;        // per sequence (ragged)
  int page_size = 16;
  bool causal = true;
  double scale = 0.0721687836;      // 1/sqrt(192)
  int32_t q_dtype = 1, cache_dtype = 1, out_dtype = 1;
  layout_mode q_layout = layout_mode::contiguous, out_layout = layout_mode::contiguous;
  bool want_lse = true;
  int row_pad = 0;                  // extra (NaN) elements at the end of each cache row
  int extra_pages = 1;              // unused (NaN) pages in the pool, >= 1
  double q_magnitude = 1.0;         // larger values sharpen the softmax
  // A schedule-scale case (a GPU's worth of sequences split over every SM,
  // as the D shapes): in the quick suite only device-memory backends run it.
  bool device_only = false;
};

struct merge_case {
  std::string name;
  uint64_t seed = 0;
  int parts = 2, rows = 1, heads = 1, dim = 512;
  int32_t parts_dtype = 1, out_dtype = 1;
  layout_mode parts_layout = layout_mode::contiguous, out_layout = layout_mode::contiguous;
  bool want_lse = true;
  double empty_fraction = 0.1;      // share of (part, row, head) states with lse = -inf
  double lse_spread = 4.0;          // partial lse values drawn from [-spread, spread]
};

// How op B's weights lie in memory.
enum class weight_layout {
  per_head,    // w_uk [H][Dn][Dl] and w_uv [H][Dv][Dl], each dense
  kv_b_proj,   // DeepSeek's kv_b_proj [H][Dn+Dv][Dl]: w_uk and w_uv interleaved per head, no copy
  transposed   // [H][Dl][Dn] and [H][Dl][Dv]: the Dl index innermost-but-one (inner stride Dn / Dv)
};
const char* weight_layout_label(weight_layout w);

// One op B case: the attention part (heads, dims, the paged cache, s_q/s_k,
// dtypes and layouts of q/out, lse) as an op A case, plus op B's own
// parameters.  q is [total_q][H][Dn+Dr], out [total_q][H][Dv].
struct decompressed_case {
  std::string name;
  uint64_t seed = 0;
  absorbed_case attention;          // its name and seed are unused
  int nope_dim = 128, v_dim = 128;  // Dn, Dv
  int32_t weight_dtype = 1;
  weight_layout weights = weight_layout::per_head;
  int32_t mode = 0;                 // mla_decompressed_mode
};

// Rough cost in oracle multiply-adds, used to keep suites within their time budget.
double oracle_cost(const absorbed_case& c);
double oracle_cost(const decompressed_case& c);

}  // namespace conformance
