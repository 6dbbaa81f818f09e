// SPDX-License-Identifier: MIT
// The fp64 oracle against cases small enough to work out by hand, and
// against its own merge (splitting the keys must not change the answer).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "oracle.hpp"

#include <cmath>
#include <limits>

namespace {

oracle::absorbed_problem one_dim_problem(bool causal, int s_q, std::vector<double> keys) {
  oracle::absorbed_problem p;
  p.batch = 1;
  p.heads = 1;
  p.latent_dim = 1;
  p.rope_dim = 0;
  p.causal = causal;
  p.scale = 0.5;
  p.cu_seqlens_q = {0, s_q};
  p.seqlens_k = {(int)keys.size()};
  p.q.assign((size_t)s_q, 1.0);
  p.rows = {keys};
  return p;
}

}  // namespace

TEST_CASE("softmax-weighted latent and natural-log lse") {
  // q = 1, keys 0 and 2, scale 0.5: scores 0 and 1.
  const oracle::absorbed_problem p = one_dim_problem(false, 1, {0.0, 2.0});
  std::vector<double> out, lse;
  oracle::absorbed(p, out, lse);
  const double e = std::exp(1.0);
  CHECK(out[0] == doctest::Approx(2.0 * e / (1.0 + e)).epsilon(1e-14));
  CHECK(lse[0] == doctest::Approx(std::log(1.0 + e)).epsilon(1e-14));
}

TEST_CASE("causal masking is bottom-right aligned; rows that see nothing are 0 and -inf") {
  // s_q = 2, s_k = 3: row 0 sees keys 0..1, row 1 sees 0..2.
  const oracle::absorbed_problem p = one_dim_problem(true, 2, {1.0, 1.0, 4.0});
  std::vector<double> out, lse;
  oracle::absorbed(p, out, lse);
  CHECK(out[0] == doctest::Approx(1.0));
  CHECK(lse[0] == doctest::Approx(std::log(2.0 * std::exp(0.5))));
  CHECK(out[1] > 1.0);
  // s_q = 3 > s_k = 1: row 0 and 1 see nothing.
  const oracle::absorbed_problem q = one_dim_problem(true, 3, {5.0});
  oracle::absorbed(q, out, lse);
  CHECK(out[0] == 0.0);
  CHECK(out[1] == 0.0);
  CHECK(std::isinf(lse[0]));
  CHECK(lse[0] < 0);
  CHECK(out[2] == doctest::Approx(5.0));
}

TEST_CASE("merging the states of two key halves gives the whole") {
  oracle::absorbed_problem p;
  p.batch = 1, p.heads = 2, p.latent_dim = 3, p.rope_dim = 1, p.scale = 0.3;
  p.cu_seqlens_q = {0, 1};
  p.seqlens_k = {5};
  p.q = {0.1, -0.4, 0.7, 1.0, 0.3, 0.2, -0.9, 0.5};
  std::vector<double> rows;
  for (int i = 0; i < 5 * 4; ++i) rows.push_back(std::sin(1.7 * i));
  p.rows = {rows};
  std::vector<double> whole_out, whole_lse, a_out, a_lse, b_out, b_lse;
  oracle::absorbed(p, whole_out, whole_lse);
  oracle::absorbed_problem a = p, b = p;
  a.seqlens_k = {2};
  a.rows = {std::vector<double>(rows.begin(), rows.begin() + 8)};
  b.seqlens_k = {3};
  b.rows = {std::vector<double>(rows.begin() + 8, rows.end())};
  oracle::absorbed(a, a_out, a_lse);
  oracle::absorbed(b, b_out, b_lse);
  std::vector<double> parts_out = a_out, parts_lse = a_lse, out, lse;
  parts_out.insert(parts_out.end(), b_out.begin(), b_out.end());
  parts_lse.insert(parts_lse.end(), b_lse.begin(), b_lse.end());
  oracle::merge(2, 2, 3, parts_out, parts_lse, out, lse);
  for (size_t i = 0; i < out.size(); ++i) CHECK(out[i] == doctest::Approx(whole_out[i]).epsilon(1e-13));
  for (size_t i = 0; i < lse.size(); ++i) CHECK(lse[i] == doctest::Approx(whole_lse[i]).epsilon(1e-13));
}

TEST_CASE("merge: empty parts contribute nothing; all empty gives 0 and -inf") {
  const double ninf = -std::numeric_limits<double>::infinity();
  std::vector<double> out, lse;
  oracle::merge(2, 2, 1, {3.0, 1.0, 100.0, 2.0}, {0.5, ninf, ninf, ninf}, out, lse);
  CHECK(out[0] == doctest::Approx(3.0));
  CHECK(lse[0] == doctest::Approx(0.5));
  CHECK(out[1] == 0.0);
  CHECK(lse[1] == ninf);
}

TEST_CASE("the rounding hooks see every weight and every output") {
  const oracle::absorbed_problem p = one_dim_problem(false, 1, {0.0, 2.0, 1.0});
  int weights = 0, outputs = 0;
  std::vector<double> out, lse;
  oracle::absorbed(p, out, lse, [&](double w) { ++weights; return w; }, [&](double o) { ++outputs; return o; });
  CHECK(weights == 3);
  CHECK(outputs == 1);
}

TEST_CASE("op B by hand: one latent, one rope element, Dn = Dv = 1") {
  // c = (1, 2), kR = (0, 1), W_UK = 2, W_UV = 3: k = (2, 0), (4, 1); v = 3, 6.
  oracle::decompressed_problem p;
  p.batch = 1, p.heads = 1, p.latent_dim = 1, p.rope_dim = 1, p.nope_dim = 1, p.v_dim = 1, p.scale = 0.5;
  p.cu_seqlens_q = {0, 2};
  p.seqlens_k = {2};
  p.q = {1.0, 1.0, 0.5, -2.0};  // rows (1, 1) and (0.5, -2)
  p.w_uk = {2.0};
  p.w_uv = {3.0};
  p.rows = {{1.0, 0.0, 2.0, 1.0}};
  p.causal = true;  // row 0 sees key 0 only, row 1 both
  std::vector<double> out, lse;
  oracle::decompressed(p, out, lse);
  CHECK(out[0] == doctest::Approx(3.0).epsilon(1e-14));
  CHECK(lse[0] == doctest::Approx(0.5 * 2.0).epsilon(1e-14));
  const double s0 = 0.5 * (0.5 * 2.0), s1 = 0.5 * (0.5 * 4.0 - 2.0);  // 0.5 and 0
  const double w0 = std::exp(s0) / (std::exp(s0) + std::exp(s1));
  CHECK(out[1] == doctest::Approx(3.0 * w0 + 6.0 * (1 - w0)).epsilon(1e-14));
  CHECK(lse[1] == doctest::Approx(std::log(std::exp(s0) + std::exp(s1))).epsilon(1e-14));
}

TEST_CASE("the A<->B identity holds between the two oracles") {
  // W_UV o_A(q~) = o_B(q) and equal lse, q~ = [W_UK^T q_nope | q_rope].
  oracle::decompressed_problem b;
  b.batch = 2, b.heads = 2, b.latent_dim = 5, b.rope_dim = 2, b.nope_dim = 3, b.v_dim = 4, b.scale = 0.4;
  b.causal = true;
  b.cu_seqlens_q = {0, 3, 4};
  b.seqlens_k = {5, 0};  // the second sequence sees nothing
  const int Dq = 5, D = 7;
  for (int i = 0; i < 4 * 2 * Dq; ++i) b.q.push_back(std::cos(0.37 * i));
  for (int i = 0; i < 2 * 3 * 5; ++i) b.w_uk.push_back(std::sin(0.91 * i + 0.2));
  for (int i = 0; i < 2 * 4 * 5; ++i) b.w_uv.push_back(std::cos(1.3 * i - 0.4));
  std::vector<double> rows;
  for (int i = 0; i < 5 * D; ++i) rows.push_back(std::sin(0.53 * i));
  b.rows = {rows, {}};
  oracle::absorbed_problem a;
  a.batch = 2, a.heads = 2, a.latent_dim = 5, a.rope_dim = 2, a.scale = b.scale, a.causal = true;
  a.cu_seqlens_q = b.cu_seqlens_q;
  a.seqlens_k = b.seqlens_k;
  a.rows = b.rows;
  for (int t = 0; t < 4; ++t)
    for (int h = 0; h < 2; ++h) {
      const double* q = &b.q[((size_t)t * 2 + h) * Dq];
      for (int d = 0; d < 5; ++d) {
        double v = 0;
        for (int n = 0; n < 3; ++n) v += b.w_uk[((size_t)h * 3 + n) * 5 + d] * q[n];
        a.q.push_back(v);
      }
      a.q.push_back(q[3]);
      a.q.push_back(q[4]);
    }
  std::vector<double> out_a, lse_a, out_b, lse_b;
  oracle::absorbed(a, out_a, lse_a);
  oracle::decompressed(b, out_b, lse_b);
  for (int t = 0; t < 4; ++t)
    for (int h = 0; h < 2; ++h) {
      const double la = lse_a[(size_t)t * 2 + h], lb = lse_b[(size_t)t * 2 + h];
      if (std::isinf(la)) CHECK(lb == la);
      else CHECK(lb == doctest::Approx(la).epsilon(1e-13));
      for (int j = 0; j < 4; ++j) {
        double v = 0;
        for (int d = 0; d < 5; ++d) v += b.w_uv[((size_t)h * 4 + j) * 5 + d] * out_a[((size_t)t * 2 + h) * 5 + d];
        CHECK(out_b[((size_t)t * 2 + h) * 4 + j] == doctest::Approx(v).epsilon(1e-13));
      }
    }
  CHECK(out_b[3 * 2 * 4] == 0.0);
  CHECK(std::isinf(lse_b[3 * 2]));
}
