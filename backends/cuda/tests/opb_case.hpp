// SPDX-License-Identifier: MIT
// A random op-B problem (decompressed prefill) on the CUDA plugin, checked
// against the fp64 oracle (conformance/oracle).  Host side as the op-A case
// (cuda_case.hpp): seeded data rounded to each dtype, a paged cache with a
// permuted block table and NaN in every row no sequence owns, NaN around
// the weights, outputs poisoned and padded so that stray writes are seen.
#pragma once
#include <mla/mla_plugin.h>

#include <cstdint>
#include <string>
#include <vector>

#include "test_values.hpp"

namespace cuda_test {

enum class weight_layout {
  perhead,     // W_UK [H][Dn][Dl], then W_UV [H][Dv][Dl]
  kvbproj,     // DeepSeek's kv_b_proj [H][Dn+Dv][Dl], the two views interleaved
  transposed,  // [H][Dl][Dn] and [H][Dl][Dv]: inner stride Dn / Dv
};

struct opb_desc {
  std::vector<int> s_q, s_k;  // per sequence
  int heads = 16, latent_dim = 512, rope_dim = 64, nope_dim = 128, v_dim = 128;
  int page_size = 64;
  int q_dtype = MLA_DTYPE_BF16, kv_dtype = MLA_DTYPE_BF16, w_dtype = MLA_DTYPE_BF16, out_dtype = MLA_DTYPE_BF16;
  weight_layout layout = weight_layout::perhead;
  bool causal = true;
  bool want_lse = true;
  int32_t mode = MLA_DECOMPRESSED_FORCE;
  uint32_t context_flags = 0;
  uint64_t seed = 1;
};

struct opb_result : output_check {
  std::vector<unsigned char> out_bits, lse_bits;  // what the call wrote (for bitwise comparisons)
};

// Tolerances on max|out - ref| / max|ref| and on |lse - ref| for the least
// precise of the case's dtypes (the compute dtype).
double opb_tolerance(const opb_desc& d);
double opb_lse_tolerance(const opb_desc& d);

class opb_case {
 public:
  explicit opb_case(const opb_desc& d);
  ~opb_case();
  opb_case(const opb_case&) = delete;
  opb_case& operator=(const opb_case&) = delete;

  size_t workspace_bytes() const;
  // Poison the outputs; plan (into a workspace refilled with `fill`, unless
  // `replan` is false) and run in `mode`; download and check.
  opb_result run(int32_t mode, bool replan = true, unsigned char fill = 0xff);
  // Capture plan + run into a CUDA graph; per replay: new q, poisoned
  // outputs, replay, check.  The worst result; out/lse bits of the last.
  opb_result graph_replay(int replays);
  // Sequence b's seqlens_k on the device becomes larger than its block-table
  // row: its rows must come out NaN, the others still right.
  void corrupt_sequence(int b);

 private:
  struct impl;
  impl* m_;
};

}  // namespace cuda_test
