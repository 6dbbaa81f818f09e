// SPDX-License-Identifier: MIT
// The tolerance policy (docs/conformance.md, "Tolerances").  A backend's
// output error against the exact fp64 oracle may be at most
//   multiple * (error of the low-precision oracle) + floor(out dtype) * max|V|
// where the low-precision oracle computes in the compute dtype (the less
// precise of q and cache: both operands of a mixed product converted to it,
// each softmax weight rounded to it, as a tensor-core pipeline does) and
// rounds each output to the out dtype.  Inputs are already rounded
// identically for the oracle and the backend, so only compute and output
// rounding remain to be allowed for.  LSE gets the same multiple of the
// low-precision LSE error (zero unless q and cache dtypes differ) plus its
// own floor.
#pragma once
#include <cstdint>

namespace conformance {

struct tolerance_policy {
  double multiple = 2.0;  // of the low-precision oracle's max error
  // Absolute floor per output dtype, relative to max|V| (f32 accumulation
  // over up to 65536 keys, reordered by split-KV and online softmax).
  double output_floor(int32_t out_dtype) const;
  // LSE is always f32 and its inputs are identical for oracle and backend:
  // only f32 score accumulation differs.  Absolute: lse_abs * (1 + |lse|).
  double lse_abs = 1e-4;
  double lse_tolerance(double exact_lse) const;
};

const tolerance_policy& default_tolerance();

}  // namespace conformance
