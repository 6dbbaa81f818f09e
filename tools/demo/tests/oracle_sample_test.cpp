// SPDX-License-Identifier: MIT
// The sampled oracle check must accept a correct row and reject wrong ones.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "oracle.hpp"
#include "oracle_sample.hpp"
#include "random_fill.hpp"

using namespace mla_tools;

namespace {
struct row_case {
  int heads = 3, latent = 8, rope = 4, visible = 5;
  double scale = 0.3;
  std::vector<double> q, keys;
  std::vector<float> out, lse;
  row_case() {
    splitmix64 g(11);
    for (int i = 0; i < heads * (latent + rope); ++i) q.push_back(g.uniform01() - 0.5);
    for (int i = 0; i < visible * (latent + rope); ++i) keys.push_back(g.uniform01() - 0.5);
    oracle::absorbed_problem p;
    p.batch = 1, p.heads = heads, p.latent_dim = latent, p.rope_dim = rope, p.scale = scale;
    p.cu_seqlens_q = {0, 1};
    p.seqlens_k = {visible};
    p.q = q;
    p.rows = {keys};
    std::vector<double> o, l;
    oracle::absorbed(p, o, l);
    out.assign(o.begin(), o.end());
    lse.assign(l.begin(), l.end());
  }
  sample_result check(mla_dtype d = MLA_DTYPE_F32) const {
    return check_query_row(heads, latent, rope, scale, q, keys, visible, out.data(), lse.data(), d, d);
  }
};
}  // namespace

TEST_CASE("an exact row passes; an error past the tolerance fails and is described") {
  row_case c;
  CHECK(c.check().ok);
  row_case wrong = c;
  wrong.out[2 * 8 + 5] += 0.01f;  // far beyond 2^-15 relative
  const auto r = wrong.check();
  CHECK_FALSE(r.ok);
  CHECK(r.detail.find("head 2 [5]") != std::string::npos);
}

TEST_CASE("the tolerance is 2u * (|ref| + rms of the head), u = 2^-8 for bf16") {
  row_case c;
  const int h = 1, d = 3;
  double sum_sq = 0;
  for (int i = 0; i < c.latent; ++i) sum_sq += double(c.out[h * c.latent + i]) * c.out[h * c.latent + i];
  const double allowed = 2 * std::ldexp(1.0, -8) * (std::fabs(c.out[h * c.latent + d]) + std::sqrt(sum_sq / c.latent));
  row_case inside = c, outside = c;
  inside.out[h * c.latent + d] += float(0.8 * allowed);
  outside.out[h * c.latent + d] += float(1.25 * allowed);
  const auto in = inside.check(MLA_DTYPE_BF16), out = outside.check(MLA_DTYPE_BF16);
  CHECK(in.ok);
  CHECK(in.worst_ratio == doctest::Approx(0.8).epsilon(0.01));
  CHECK_FALSE(out.ok);
  CHECK(out.worst_ratio == doctest::Approx(1.25).epsilon(0.01));
  CHECK(unit_roundoff(MLA_DTYPE_BF16, MLA_DTYPE_F32) == std::ldexp(1.0, -8));
  CHECK(unit_roundoff(MLA_DTYPE_F16, MLA_DTYPE_F16) == std::ldexp(1.0, -11));
  CHECK(unit_roundoff(MLA_DTYPE_F32, MLA_DTYPE_F32) == std::ldexp(1.0, -16));
}

TEST_CASE("NaN, a wrong lse and a wrong number of visible keys fail") {
  row_case c;
  row_case nan_out = c;
  nan_out.out[1] = std::numeric_limits<float>::quiet_NaN();
  CHECK_FALSE(nan_out.check().ok);
  row_case bad_lse = c;
  bad_lse.lse[1] += 0.05f;
  CHECK_FALSE(bad_lse.check().ok);
  row_case fewer = c;
  fewer.visible = 4;  // the output of 5 keys is not the output of 4
  CHECK_FALSE(fewer.check(MLA_DTYPE_BF16).ok);
}

TEST_CASE("a row that sees no key must be 0 with lse = -inf") {
  row_case c;
  c.visible = 0;
  std::fill(c.out.begin(), c.out.end(), 0.0f);
  std::fill(c.lse.begin(), c.lse.end(), -std::numeric_limits<float>::infinity());
  CHECK(c.check().ok);
  c.lse[0] = 0;
  CHECK_FALSE(c.check().ok);
}
