// SPDX-License-Identifier: MIT
// Host images of one op-C case: P partial states (some empty, lse = -inf)
// in strided buffers, and poisoned outputs; plus the logical values for the
// oracle's merge.
#pragma once
#include "case_spec.hpp"
#include "strided_layout.hpp"

#include <vector>

namespace conformance {

struct merge_images {
  merge_case spec;
  std::vector<double> logical_out;  // [P][R*H][Dv], rounded to parts_dtype
  std::vector<double> logical_lse;  // [P][R*H], f32 values or -inf
  host_tensor parts_out;            // [P, R, H, Dv], NaN in gaps and guards
  host_tensor parts_lse;            // [P, R, H] f32
  host_tensor out, lse;             // poisoned; lse empty when !spec.want_lse
};

merge_images build_merge(const merge_case& spec);

}  // namespace conformance
