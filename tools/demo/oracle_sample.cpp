// SPDX-License-Identifier: MIT
#include "oracle_sample.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "oracle.hpp"

namespace mla_tools {
namespace {

double dtype_roundoff(mla_dtype d) {
  switch (d) {
    case MLA_DTYPE_BF16: return std::ldexp(1.0, -8);
    case MLA_DTYPE_F16: return std::ldexp(1.0, -11);
    default: return std::ldexp(1.0, -16);  // f32, floored (see the header)
  }
}

std::string describe(const char* what, int head, int index, double got, double ref, double allowed) {
  char buf[192];
  std::snprintf(buf, sizeof buf, "%s head %d [%d]: got %.7g, oracle %.7g (allowed error %.3g)", what, head, index,
                got, ref, allowed);
  return buf;
}

}  // namespace

double unit_roundoff(mla_dtype input_dtype, mla_dtype output_dtype) {
  return std::max(dtype_roundoff(input_dtype), dtype_roundoff(output_dtype));
}

sample_result check_query_row(int heads, int latent_dim, int rope_dim, double scale, const std::vector<double>& q,
                              const std::vector<double>& keys, int visible, const float* got_out,
                              const float* got_lse, mla_dtype input_dtype, mla_dtype output_dtype) {
  // A single query row that sees `visible` keys is a non-causal problem of
  // one query over exactly those keys.
  oracle::absorbed_problem p;
  p.batch = 1;
  p.heads = heads;
  p.latent_dim = latent_dim;
  p.rope_dim = rope_dim;
  p.causal = false;
  p.scale = scale;
  p.cu_seqlens_q = {0, 1};
  p.seqlens_k = {visible};
  p.q = q;
  p.rows = {std::vector<double>(keys.begin(), keys.begin() + (size_t)visible * (latent_dim + rope_dim))};
  std::vector<double> ref_out, ref_lse;
  oracle::absorbed(p, ref_out, ref_lse);

  const double u2 = 2 * unit_roundoff(input_dtype, output_dtype);
  sample_result r;
  auto consider = [&](const char* what, int h, int i, double got, double ref, double allowed) {
    const bool finite_mismatch = std::isfinite(ref) != std::isfinite(got);
    const double err = std::isfinite(ref) ? std::fabs(got - ref) : (got == ref ? 0.0 : INFINITY);
    double ratio = err == 0 ? 0.0 : err / allowed;  // allowed may be 0 (an empty row): then only exact passes
    if (std::isnan(got) || finite_mismatch || std::isnan(ratio)) ratio = INFINITY;
    if (!(ratio <= 1.0) && r.ok) {
      r.ok = false;
      r.detail = describe(what, h, i, got, ref, allowed);
    }
    if (!(ratio <= r.worst_ratio)) r.worst_ratio = ratio;
  };
  for (int h = 0; h < heads; ++h) {
    const double* ref = &ref_out[(size_t)h * latent_dim];
    double sum_sq = 0;
    for (int d = 0; d < latent_dim; ++d) sum_sq += ref[d] * ref[d];
    const double rms = std::sqrt(sum_sq / latent_dim);
    for (int d = 0; d < latent_dim; ++d)
      consider("out", h, d, got_out[(size_t)h * latent_dim + d], ref[d], u2 * (std::fabs(ref[d]) + rms));
    if (got_lse) consider("lse", h, 0, got_lse[h], ref_lse[h], 1e-3 * (1 + std::fabs(ref_lse[h])));
  }
  return r;
}

}  // namespace mla_tools
