// SPDX-License-Identifier: MIT
// The CUDA plugin's entry points beyond op A's numbers: probe and caps,
// run without plan, invalid arguments writing nothing, and op C (merge)
// against the oracle.  main() skips the whole program without a device.
#define DOCTEST_CONFIG_IMPLEMENT
#include <cuda_runtime.h>
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "cuda_case.hpp"
#include "oracle.hpp"

using cuda_test::plugin;

namespace {

struct context {
  mla_context* ctx = nullptr;
  context() {
    mla_context_desc d{};
    d.struct_size = sizeof d;
    REQUIRE(plugin()->context_create(&d, &ctx) == MLA_OK);
  }
  ~context() { plugin()->context_destroy(ctx); }
};

}  // namespace

TEST_CASE("probe reports the device and caps describe the backend") {
  mla_probe_result r{};
  r.struct_size = sizeof r;
  REQUIRE(plugin()->probe(&r) == MLA_OK);
  CHECK(r.usable == 1);
  CHECK(r.score == 100);
  std::printf("probe: %s\n", r.reason);
  context c;
  mla_caps caps{};
  caps.struct_size = sizeof caps;
  REQUIRE(plugin()->get_caps(c.ctx, &caps) == MLA_OK);
  CHECK((caps.ops & MLA_OP_BIT(MLA_OP_ABSORBED)) != 0);
  CHECK((caps.cache_dtypes & MLA_DTYPE_BIT(MLA_DTYPE_BF16)) != 0);
  std::printf("caps: %s\n", caps.device_name);
  mla_context_desc bad{};
  bad.struct_size = sizeof bad;
  bad.device_ordinal = 1 << 20;
  mla_context* none = nullptr;
  CHECK(plugin()->context_create(&bad, &none) == MLA_ERR_INVALID_ARGUMENT);
  CHECK(std::strstr(plugin()->last_error(), "device_ordinal") != nullptr);
}

TEST_CASE("caps claim op B with its limits, and the workspace does not grow with the context") {
  context c;
  mla_caps caps{};
  caps.struct_size = sizeof caps;
  REQUIRE(plugin()->get_caps(c.ctx, &caps) == MLA_OK);
  CHECK((caps.ops & MLA_OP_BIT(MLA_OP_DECOMPRESSED)) != 0);
  CHECK((caps.weight_dtypes & MLA_DTYPE_BIT(MLA_DTYPE_BF16)) != 0);
  CHECK(caps.max_nope_dim >= 128);
  CHECK(caps.max_v_dim >= 128);
  CHECK(caps.decompressed_break_even_q > 0);
  std::printf("op B: weights 0x%x, Dn <= %d, Dv <= %d, break-even %d\n", caps.weight_dtypes, caps.max_nope_dim,
              caps.max_v_dim, caps.decompressed_break_even_q);
  // Shape-level size query: the same batch description with a block table
  // for 4K or 1M keys per sequence needs at most the same workspace.
  mla_decompressed_args a{};
  a.struct_size = sizeof a;
  a.batch = 1;
  a.num_heads = 16;
  a.latent_dim = 512;
  a.rope_dim = 64;
  a.nope_dim = 128;
  a.v_dim = 128;
  a.total_q = 512;
  a.max_seqlen_q = 512;
  a.causal = 1;
  a.scale = 0.07f;
  a.q.dtype = a.w_uk.dtype = a.w_uv.dtype = a.out.dtype = MLA_DTYPE_BF16;
  a.kv.dtype = MLA_DTYPE_BF16;
  a.kv.page_size = 64;
  a.kv.num_pages = 1 << 14;
  a.kv.block_table_stride = 64;
  size_t small = 0, large = 0;
  REQUIRE(plugin()->decompressed_workspace_size(c.ctx, &a, &small) == MLA_OK);
  a.kv.block_table_stride = 1 << 14;
  REQUIRE(plugin()->decompressed_workspace_size(c.ctx, &a, &large) == MLA_OK);
  std::printf("op B workspace: %zu bytes (4K keys), %zu bytes (1M keys)\n", small, large);
  CHECK(large <= (size_t)512 << 20);
}

TEST_CASE("absorbed_run without a matching plan fails and names the reason") {
  cuda_test::case_desc d;
  d.s_q = {1};
  d.s_k = {10};
  cuda_test::device_case c(d);
  // run_and_check plans first; a fresh context that never planned must refuse.
  const cuda_test::case_result ok = c.run_and_check();
  CHECK(ok.error.empty());
  context other;
  mla_absorbed_args a{};
  a.struct_size = sizeof a;
  a.batch = 0;
  a.num_heads = 1;
  a.latent_dim = 512;
  a.rope_dim = 64;
  a.scale = 1.0f;
  a.q = {sizeof(mla_tensor), nullptr, MLA_DTYPE_BF16, 0, {64 * 576, 576, 1, 0}};
  a.out = {sizeof(mla_tensor), nullptr, MLA_DTYPE_BF16, 0, {64 * 512, 512, 1, 0}};
  a.lse = {sizeof(mla_tensor), nullptr, MLA_DTYPE_F32, 0, {1, 0, 0, 0}};
  a.kv.struct_size = sizeof(mla_paged_cache);
  a.kv.dtype = MLA_DTYPE_BF16;
  a.kv.page_size = 64;
  a.kv.num_pages = 1;
  a.kv.row_stride = 576;
  a.kv.page_stride = 576 * 64;
  a.kv.rope_offset = 512;
  a.kv.block_table_stride = 1;
  CHECK(plugin()->absorbed_run(other.ctx, &a) == MLA_ERR_NOT_PLANNED);
  CHECK(std::strstr(plugin()->last_error(), "absorbed_plan") != nullptr);
  CHECK(plugin()->absorbed_plan(other.ctx, &a) == MLA_OK);
  CHECK(plugin()->absorbed_run(other.ctx, &a) == MLA_OK);  // batch 0: a planned no-op
  a.kv.page_size = 0;
  CHECK(plugin()->absorbed_plan(other.ctx, &a) == MLA_ERR_INVALID_ARGUMENT);
  CHECK(std::strstr(plugin()->last_error(), "page_size") != nullptr);
}

TEST_CASE("merge_states matches the oracle, with empty (-inf) parts") {
  const int parts = 3, rows = 5, heads = 4, dim = 96;
  const long rh = (long)rows * heads;
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.f, 1.f);
  std::vector<float> po((size_t)parts * rh * dim), pl((size_t)parts * rh);
  for (auto& v : po) v = normal(rng);
  for (auto& v : pl) v = 3.f * normal(rng);
  for (int h = 0; h < heads; ++h) pl[(size_t)1 * rh + h] = -std::numeric_limits<float>::infinity();  // part 1, row 0
  for (int p = 0; p < parts; ++p) pl[(size_t)p * rh + heads] = -std::numeric_limits<float>::infinity();  // row 1: all empty
  std::vector<double> po_d(po.begin(), po.end()), pl_d(pl.begin(), pl.end()), ref, ref_lse;
  oracle::merge(parts, rh, dim, po_d, pl_d, ref, ref_lse);

  context c;
  float *d_po, *d_pl, *d_out, *d_lse;
  REQUIRE(cudaMalloc(&d_po, po.size() * 4) == cudaSuccess);
  REQUIRE(cudaMalloc(&d_pl, pl.size() * 4) == cudaSuccess);
  REQUIRE(cudaMalloc(&d_out, (size_t)rh * dim * 4) == cudaSuccess);
  REQUIRE(cudaMalloc(&d_lse, (size_t)rh * 4) == cudaSuccess);
  cudaMemcpy(d_po, po.data(), po.size() * 4, cudaMemcpyHostToDevice);
  cudaMemcpy(d_pl, pl.data(), pl.size() * 4, cudaMemcpyHostToDevice);
  cudaMemset(d_out, 0x7f, (size_t)rh * dim * 4);
  mla_merge_args a{};
  a.struct_size = sizeof a;
  a.num_parts = parts;
  a.head_dim = dim;
  a.num_rows = rows;
  a.num_heads = heads;
  a.parts_out = {sizeof(mla_tensor), d_po, MLA_DTYPE_F32, 0, {rh * dim, (int64_t)heads * dim, dim, 1}};
  a.parts_lse = {sizeof(mla_tensor), d_pl, MLA_DTYPE_F32, 0, {rh, heads, 1, 0}};
  a.out = {sizeof(mla_tensor), d_out, MLA_DTYPE_F32, 0, {(int64_t)heads * dim, dim, 1, 0}};
  a.lse = {sizeof(mla_tensor), d_lse, MLA_DTYPE_F32, 0, {heads, 1, 0, 0}};
  REQUIRE(plugin()->merge_states(c.ctx, &a) == MLA_OK);
  REQUIRE(cudaDeviceSynchronize() == cudaSuccess);
  std::vector<float> out((size_t)rh * dim), lse(rh);
  cudaMemcpy(out.data(), d_out, out.size() * 4, cudaMemcpyDeviceToHost);
  cudaMemcpy(lse.data(), d_lse, lse.size() * 4, cudaMemcpyDeviceToHost);
  double err = 0, lerr = 0;
  for (size_t i = 0; i < out.size(); ++i) err = std::max(err, std::fabs(out[i] - ref[i]));
  for (long i = 0; i < rh; ++i) {
    if (std::isinf(ref_lse[i])) CHECK((std::isinf(lse[i]) && lse[i] < 0));
    else lerr = std::max(lerr, std::fabs(lse[i] - ref_lse[i]));
  }
  CHECK(err < 1e-5);
  CHECK(lerr < 1e-5);
  cudaFree(d_po);
  cudaFree(d_pl);
  cudaFree(d_out);
  cudaFree(d_lse);
}

int main(int argc, char** argv) {
  cuda_test::skip_without_device();
  doctest::Context context(argc, argv);
  return context.run();
}
