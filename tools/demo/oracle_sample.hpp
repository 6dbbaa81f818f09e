// SPDX-License-Identifier: MIT
// Checks sampled query rows of a backend's output against the fp64 oracle
// (conformance/oracle).  The tools verify a sample, not everything: the
// conformance harness is where every element is checked.
//
// Tolerance, per output element of head h (u = unit roundoff of the coarser
// of the input and output dtypes: bf16 2^-8, f16 2^-11, f32 floored at 2^-16
// because an f32 pipeline may still round softmax weights before P.V):
//     |got - ref| <= 2u * (|ref| + rms(ref over head h))
// 2u*|ref| covers rounding the result to the output dtype (u) plus f32
// accumulation; 2u*rms covers rounding each softmax weight to the input
// dtype before the P.V product (what tensor-core kernels do), whose error
// scales with the head's output magnitude, not with one element.
// lse: |got - ref| <= 1e-3 * (1 + |ref|): scores come from exactly
// representable inputs accumulated in f32 (error ~1e-6); the rest is
// headroom for fast exp2/log2.  NaN or Inf where the oracle has none fails.
#pragma once
#include <mla/mla_plugin.h>

#include <string>
#include <vector>

namespace mla_tools {

double unit_roundoff(mla_dtype input_dtype, mla_dtype output_dtype);

struct sample_result {
  bool ok = true;
  double worst_ratio = 0;  // max |err| / allowed over the sample (<= 1 passes)
  std::string detail;      // first failure, "" when ok
};

// One query row, all heads.  q: [heads][latent+rope] and keys: [visible][latent+rope],
// both the values the backend saw (already rounded to their dtype); latent first.
// got_out: [heads][latent]; got_lse: [heads] or nullptr.
sample_result check_query_row(int heads, int latent_dim, int rope_dim, double scale,
                              const std::vector<double>& q, const std::vector<double>& keys, int visible,
                              const float* got_out, const float* got_lse, mla_dtype input_dtype,
                              mla_dtype output_dtype);

}  // namespace mla_tools
