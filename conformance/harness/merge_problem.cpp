// SPDX-License-Identifier: MIT
#include "merge_problem.hpp"

#include "absorbed_problem.hpp"
#include "low_precision.hpp"

#include <cmath>
#include <limits>
#include <random>

namespace conformance {

merge_images build_merge(const merge_case& spec) {
  merge_images im;
  im.spec = spec;
  std::mt19937_64 rng(spec.seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  const int64_t P = spec.parts, R = spec.rows, H = spec.heads, Dv = spec.dim, RH = R * H;
  const double nan = std::nan(""), neg_inf = -std::numeric_limits<double>::infinity();

  im.logical_out.resize((size_t)(P * RH * Dv));
  for (double& v : im.logical_out) v = round_to_dtype(spec.parts_dtype, normal(rng));
  im.logical_lse.resize((size_t)(P * RH));
  for (int64_t i = 0; i < P * RH; ++i) {
    // An empty part has lse = -inf; some rows end up with every part empty.
    im.logical_lse[(size_t)i] = uniform(rng) < spec.empty_fraction
                                    ? neg_inf
                                    : round_to_dtype(1, spec.lse_spread * (2 * uniform(rng) - 1));
  }

  const int64_t po_ext[4] = {P, R, H, Dv};
  im.parts_out.allocate(spec.parts_dtype, make_layout(4, po_ext, spec.parts_layout, guard_elements, spec.seed ^ 0x1),
                        0);
  for (int64_t i = 0; i < im.parts_out.layout.buffer_elements(); ++i)
    store_element(spec.parts_dtype, im.parts_out.bytes.data(), i, nan);
  for (int64_t i = 0; i < (int64_t)im.logical_out.size(); ++i)
    store_element(spec.parts_dtype, im.parts_out.bytes.data(), im.parts_out.buffer_index(i), im.logical_out[(size_t)i]);

  const int64_t pl_ext[3] = {P, R, H};
  im.parts_lse.allocate(1, make_layout(3, pl_ext, spec.parts_layout, guard_elements, spec.seed ^ 0x2), 0);
  for (int64_t i = 0; i < im.parts_lse.layout.buffer_elements(); ++i)
    store_element(1, im.parts_lse.bytes.data(), i, nan);
  for (int64_t i = 0; i < (int64_t)im.logical_lse.size(); ++i)
    store_element(1, im.parts_lse.bytes.data(), im.parts_lse.buffer_index(i), im.logical_lse[(size_t)i]);

  const int64_t o_ext[3] = {R, H, Dv};
  im.out.allocate(spec.out_dtype, make_layout(3, o_ext, spec.out_layout, guard_elements, spec.seed ^ 0x3),
                  poison_bits(spec.out_dtype));
  if (spec.want_lse) {
    const int64_t l_ext[2] = {R, H};
    im.lse.allocate(1, make_layout(2, l_ext, spec.out_layout, guard_elements, spec.seed ^ 0x4), poison_bits(1));
  }
  return im;
}

}  // namespace conformance
