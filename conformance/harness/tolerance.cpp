// SPDX-License-Identifier: MIT
#include "tolerance.hpp"

#include <mla/mla_plugin.h>

#include <cmath>

namespace conformance {

double tolerance_policy::output_floor(int32_t out_dtype) const {
  switch (out_dtype) {
    case MLA_DTYPE_F32: return 1e-5;
    case MLA_DTYPE_F16: return 1e-5;   // output rounding itself is in the low-precision oracle
    case MLA_DTYPE_BF16: return 1e-5;
    default: return 0.0;
  }
}

double tolerance_policy::lse_tolerance(double exact_lse) const { return lse_abs * (1.0 + std::fabs(exact_lse)); }

const tolerance_policy& default_tolerance() {
  static const tolerance_policy policy;
  return policy;
}

}  // namespace conformance
