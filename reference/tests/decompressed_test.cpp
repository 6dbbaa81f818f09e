// SPDX-License-Identifier: MIT
// Op B on the cpu plugin against the fp64 oracle in all three modes, the
// workspace bound (independent of s_k) and bitwise equality across thread
// counts and range splits.  The conformance harness checks much more; this
// is the plugin's own quick check.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "oracle.hpp"
#include "plugin_handle.hpp"
#include "test_dtypes.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <numeric>
#include <random>
#include <vector>

namespace {

using cpu_test::cpu_api;

struct opb_case {
  int H = 4, Dl = 512, Dr = 64, Dn = 128, Dv = 128, page = 16, dtype = MLA_DTYPE_F32;
  std::vector<int> s_q, s_k;
  bool causal = true;
};

struct opb_buffers {
  oracle::decompressed_problem p;
  std::vector<unsigned char> q, w_uk, w_uv, cache;
  std::vector<float> out, lse;
  std::vector<int32_t> cu, seqlens, table;
  int64_t total_q = 0, pages = 0, table_stride = 0;
  int max_q = 0;
};

opb_buffers make(const opb_case& c, uint64_t seed) {
  opb_buffers b;
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> nd(0.0, 1.0);
  const int B = (int)c.s_q.size(), D = c.Dl + c.Dr, Dq = c.Dn + c.Dr, es = cpu_test::elem_size(c.dtype);
  b.cu.assign(B + 1, 0);
  for (int i = 0; i < B; ++i) b.cu[i + 1] = b.cu[i] + c.s_q[i], b.max_q = std::max(b.max_q, c.s_q[i]);
  b.total_q = b.cu[B];
  b.seqlens.assign(c.s_k.begin(), c.s_k.end());
  oracle::decompressed_problem& p = b.p;
  p.batch = B, p.heads = c.H, p.latent_dim = c.Dl, p.rope_dim = c.Dr, p.nope_dim = c.Dn, p.v_dim = c.Dv;
  p.causal = c.causal;
  p.scale = (double)(float)(1.0 / std::sqrt((double)Dq));
  p.cu_seqlens_q.assign(b.cu.begin(), b.cu.end());
  p.seqlens_k = c.s_k;
  auto fill = [&](std::vector<double>& v, size_t n, double sd, std::vector<unsigned char>& bytes) {
    v.resize(n);
    bytes.assign(n * es, 0);
    for (size_t i = 0; i < n; ++i) v[i] = cpu_test::round_to(c.dtype, sd * nd(rng)), cpu_test::put(bytes.data(), c.dtype, i, v[i]);
  };
  fill(p.q, (size_t)b.total_q * c.H * Dq, 1.0, b.q);
  fill(p.w_uk, (size_t)c.H * c.Dn * c.Dl, 1.0 / std::sqrt((double)c.Dl), b.w_uk);
  fill(p.w_uv, (size_t)c.H * c.Dv * c.Dl, 1.0 / std::sqrt((double)c.Dl), b.w_uv);
  int64_t need = 0, most = 1;
  for (int s : c.s_k) need += (s + c.page - 1) / c.page, most = std::max<int64_t>(most, (s + c.page - 1) / c.page);
  b.pages = need + 1;
  b.table_stride = most;
  std::vector<int32_t> pool(b.pages);
  std::iota(pool.begin(), pool.end(), 0);
  std::shuffle(pool.begin(), pool.end(), rng);
  b.cache.assign((size_t)b.pages * c.page * D * es, 0xff);  // NaN outside the rows
  b.table.assign((size_t)B * most, pool.back());
  size_t next = 0;
  p.rows.resize(B);
  for (int s = 0; s < B; ++s) {
    for (int64_t pg = 0; pg < (c.s_k[s] + c.page - 1) / c.page; ++pg) b.table[s * most + pg] = pool[next++];
    for (int t = 0; t < c.s_k[s]; ++t) {
      const int64_t row = ((int64_t)b.table[s * most + t / c.page] * c.page + t % c.page) * D;
      for (int d = 0; d < D; ++d) {
        const double v = cpu_test::round_to(c.dtype, nd(rng));
        p.rows[s].push_back(v);
        cpu_test::put(b.cache.data(), c.dtype, row + d, v);
      }
    }
  }
  b.out.assign((size_t)b.total_q * c.H * c.Dv, std::nanf(""));
  b.lse.assign((size_t)b.total_q * c.H, std::nanf(""));
  return b;
}

mla_decompressed_args args_of(const opb_case& c, opb_buffers& b, int mode) {
  mla_decompressed_args a{};
  a.struct_size = sizeof a;
  a.batch = (int)c.s_q.size(), a.num_heads = c.H, a.latent_dim = c.Dl, a.rope_dim = c.Dr;
  a.nope_dim = c.Dn, a.v_dim = c.Dv, a.total_q = b.total_q, a.max_seqlen_q = b.max_q;
  a.causal = c.causal, a.scale = (float)b.p.scale, a.mode = mode;
  a.cu_seqlens_q = b.cu.data();
  const int Dq = c.Dn + c.Dr;
  a.q = {sizeof(mla_tensor), b.q.data(), c.dtype, 0, {(int64_t)c.H * Dq, Dq, 1, 0}};
  a.w_uk = {sizeof(mla_tensor), b.w_uk.data(), c.dtype, 0, {(int64_t)c.Dn * c.Dl, c.Dl, 1, 0}};
  a.w_uv = {sizeof(mla_tensor), b.w_uv.data(), c.dtype, 0, {(int64_t)c.Dv * c.Dl, c.Dl, 1, 0}};
  a.kv = {sizeof(mla_paged_cache), b.cache.data(), c.dtype, c.page, b.pages, (int64_t)c.page * (c.Dl + c.Dr),
          c.Dl + c.Dr, 0, c.Dl, b.table.data(), b.table_stride, b.seqlens.data()};
  a.out = {sizeof(mla_tensor), b.out.data(), MLA_DTYPE_F32, 0, {(int64_t)c.H * c.Dv, c.Dv, 1, 0}};
  a.lse = {sizeof(mla_tensor), b.lse.data(), MLA_DTYPE_F32, 0, {c.H, 1, 0, 0}};
  return a;
}

// Runs one mode; returns the workspace size.
size_t run(mla_context* ctx, mla_decompressed_args& a) {
  size_t bytes = 0;
  REQUIRE(cpu_api().decompressed_workspace_size(ctx, &a, &bytes) == MLA_OK);
  void* ws = nullptr;
  REQUIRE(posix_memalign(&ws, 256, bytes + 1) == 0);
  a.workspace = ws, a.workspace_bytes = bytes;
  INFO(cpu_api().last_error());
  REQUIRE(cpu_api().decompressed_plan(ctx, &a) == MLA_OK);
  REQUIRE(cpu_api().decompressed_run(ctx, &a) == MLA_OK);
  free(ws);
  a.workspace = nullptr;
  return bytes;
}

void check_against_oracle(const opb_case& c, uint64_t seed) {
  opb_buffers b = make(c, seed);
  std::vector<double> want, want_lse;
  oracle::decompressed(b.p, want, want_lse);
  double vmax = 0;
  for (double v : want) vmax = std::max(vmax, std::fabs(v));
  cpu_test::context ctx(2);
  for (int mode : {MLA_DECOMPRESSED_FORCE, MLA_DECOMPRESSED_FORCE_ABSORBED, MLA_DECOMPRESSED_AUTO}) {
    CAPTURE(mode);
    std::fill(b.out.begin(), b.out.end(), std::nanf(""));
    std::fill(b.lse.begin(), b.lse.end(), std::nanf(""));
    mla_decompressed_args a = args_of(c, b, mode);
    run(ctx.get(), a);
    double err = 0, lerr = 0;
    for (size_t i = 0; i < want.size(); ++i) err = std::max(err, std::fabs(b.out[i] - want[i]));
    for (size_t i = 0; i < want_lse.size(); ++i) {
      if (std::isinf(want_lse[i])) CHECK(std::isinf(b.lse[i]));
      else lerr = std::max(lerr, std::fabs(b.lse[i] - want_lse[i]));
    }
    CHECK(err <= 2e-5 * std::max(1.0, vmax));
    CHECK(lerr <= 1e-4);
  }
}

}  // namespace

TEST_CASE("op B matches the oracle in every mode: ragged, cached prefixes, chunks and tiles") {
  opb_case c;
  c.s_q = {3, 300, 0, 1};
  c.s_k = {40, 700, 5, 260};
  check_against_oracle(c, 1);
  c.causal = false;
  c.H = 1;
  c.page = 7;
  check_against_oracle(c, 2);
}

TEST_CASE("op B in bf16, odd dims") {
  opb_case c;
  c.dtype = MLA_DTYPE_BF16;
  c.Dl = 200, c.Dr = 16, c.Dn = 64, c.Dv = 96, c.page = 1;
  c.s_q = {130, 2};
  c.s_k = {129, 300};  // s_q > s_k: the first rows see nothing
  check_against_oracle(c, 3);
}

TEST_CASE("workspace does not grow with s_k; bits do not depend on threads") {
  opb_case c;
  c.H = 2;
  c.s_q = {260};
  c.s_k = {300};
  opb_buffers b = make(c, 4);
  cpu_test::context one(1), three(3);
  mla_decompressed_args a = args_of(c, b, MLA_DECOMPRESSED_FORCE);
  const size_t w = run(one.get(), a);
  const std::vector<float> first = b.out;
  run(three.get(), a);
  CHECK(std::memcmp(first.data(), b.out.data(), first.size() * 4) == 0);
  c.s_k = {5000};
  opb_buffers longer = make(c, 4);
  mla_decompressed_args l = args_of(c, longer, MLA_DECOMPRESSED_FORCE);
  size_t w2 = 0;
  REQUIRE(cpu_api().decompressed_workspace_size(one.get(), &l, &w2) == MLA_OK);
  CHECK(w2 == w);
}
