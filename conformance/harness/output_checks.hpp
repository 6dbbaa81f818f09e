// SPDX-License-Identifier: MIT
// Comparisons shared by op A and op C: values against the oracle, LSE,
// unwritten outputs, writes outside outputs (guards and gaps), bitwise
// equality of two runs, and backend-vs-backend agreement.  Each returns ""
// when the check passes, else a message saying where and by how much.
#pragma once
#include "strided_layout.hpp"
#include "tolerance.hpp"

#include <string>
#include <vector>

namespace conformance {

// The oracle's answer for one case: [rows][dim] outputs and [rows] lse
// (rows = tokens x heads), exact and the low-precision estimate's error.
struct reference_outputs {
  std::vector<double> out, lse;
  double lowp_error = 0.0;      // max |low-precision oracle - exact| over out
  double lowp_lse_error = 0.0;  // the same over finite lse (non-zero only for mixed q/cache dtypes)
  double value_scale = 1.0; // max |V| (or |parts_out|), for the absolute floor
  int dim = 0;
  double lse_tolerance(double exact_lse, const tolerance_policy& tol) const {
    return tol.multiple * lowp_lse_error + tol.lse_tolerance(exact_lse);
  }
  // The largest error allowed for out elements.
  double out_tolerance(int32_t out_dtype, const tolerance_policy& tol) const {
    return tol.multiple * lowp_error + tol.output_floor(out_dtype) * value_scale;
  }
};

std::string check_values(const host_tensor& out, const reference_outputs& ref, const tolerance_policy& tol,
                         std::string& note);
std::string check_lse(const host_tensor& lse, const reference_outputs& ref, const tolerance_policy& tol,
                      std::string& note);
// Elements that still hold the poison pattern.
std::string check_unwritten(const host_tensor& t, const char* what);
// Buffer positions that are not elements (guards, gaps) must keep `before`'s bits.
std::string check_outside_untouched(const host_tensor& after, const host_tensor& before, const char* what);
std::string bitwise_difference(const host_tensor& a, const host_tensor& b, const char* what);
// The same over rows [row_begin, row_end) of the outermost dimension only.
std::string bitwise_difference_rows(const host_tensor& a, const host_tensor& b, int64_t row_begin, int64_t row_end,
                                    const char* what);
// Two backends' outputs of the same case: each may be off by its tolerance.
std::string compare_outputs(const host_tensor& a, const host_tensor& b, const reference_outputs& ref,
                            const tolerance_policy& tol);

std::string format_index(const strided_layout& l, int64_t linear);

}  // namespace conformance
