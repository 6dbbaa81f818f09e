// SPDX-License-Identifier: MIT
// Op A on the CUDA plugin against the fp64 oracle: the tensor-core path
// (bf16/f16, Dl 512, Dr 64) and the SIMT path (f32, other dims, mixed
// types), page sizes that do and do not divide the KV tile, ragged and empty
// sequences, causal and not, a sequence split over many CTAs, invalid
// indices on the device, and CUDA-graph capture with replays.
#include <doctest/doctest.h>

#include <cstdio>

#include "cuda_case.hpp"

using cuda_test::case_desc;
using cuda_test::case_result;
using cuda_test::device_case;

namespace {

void expect_close(const case_desc& d, const case_result& r, const char* what) {
  const double rel = r.max_err / (r.ref_max > 0 ? r.ref_max : 1.0);
  std::printf("  %-44s rel_err %.2e (tol %.1e)  lse_err %.2e\n", what, rel, cuda_test::tolerance(d.out_dtype == MLA_DTYPE_F32 ? d.kv_dtype : d.out_dtype), r.lse_err);
  CHECK_MESSAGE(r.error.empty(), r.error);
  CHECK(r.unwritten == 0);
  CHECK(r.stray_writes == 0);
  const int tol_type = d.kv_dtype == MLA_DTYPE_F32 && d.out_dtype == MLA_DTYPE_F32 ? MLA_DTYPE_F32
                       : (d.kv_dtype == MLA_DTYPE_BF16 || d.out_dtype == MLA_DTYPE_BF16) ? MLA_DTYPE_BF16
                                                                                         : MLA_DTYPE_F16;
  CHECK(rel <= cuda_test::tolerance(tol_type));
  CHECK(r.lse_err <= 2e-3);
}

case_result run(const case_desc& d, const char* what) {
  device_case c(d);
  std::printf("%s: workspace %zu bytes\n", what, c.workspace_bytes());
  const case_result r = c.run_and_check();
  expect_close(d, r, what);
  return r;
}

}  // namespace

TEST_CASE("tensor-core path: bf16 decode, page 64, causal, short and long sequences") {
  case_desc d;
  d.s_q = {1, 1, 1, 1};
  d.s_k = {1, 63, 200, 1500};
  d.seed = 11;
  run(d, "bf16 decode H16");
}

TEST_CASE("tensor-core path: bf16 H=128 multi-token prediction, page 16 gathers rows") {
  case_desc d;
  d.s_q = {2, 2, 1};
  d.s_k = {300, 2, 129};
  d.heads = 128;
  d.page_size = 16;
  d.seed = 12;
  run(d, "bf16 MTP H128 page16");
}

TEST_CASE("tensor-core path: f16, non-causal, page 1, ragged and empty sequences, f32 out") {
  case_desc d;
  d.s_q = {3, 0, 5, 2};
  d.s_k = {0, 17, 130, 1};
  d.heads = 8;
  d.page_size = 1;
  d.causal = false;
  d.q_dtype = d.kv_dtype = MLA_DTYPE_F16;
  d.out_dtype = MLA_DTYPE_F32;
  d.seed = 13;
  run(d, "f16 ragged page1 non-causal");
}

TEST_CASE("tensor-core path: causal with more queries than keys leaves rows empty") {
  case_desc d;
  d.s_q = {6};
  d.s_k = {3};
  d.heads = 4;
  d.seed = 14;
  run(d, "bf16 s_q > s_k causal");
}

TEST_CASE("one long sequence split over every SM, merged by the combine kernel") {
  case_desc d;
  d.s_q = {1};
  d.s_k = {20000};
  d.seed = 15;
  run(d, "bf16 split s_k 20000");
  d.out_dtype = MLA_DTYPE_F32;
  d.rope_first = true;  // [rope | latent] rows still take the fast path
  d.seed = 16;
  run(d, "bf16 split, f32 out, rope first");
}

TEST_CASE("SIMT path: f32 everywhere, page 7") {
  case_desc d;
  d.s_q = {1, 3};
  d.s_k = {50, 333};
  d.heads = 16;
  d.page_size = 7;
  d.q_dtype = d.kv_dtype = d.out_dtype = MLA_DTYPE_F32;
  d.seed = 17;
  run(d, "f32 SIMT page7");
}

TEST_CASE("SIMT path: other dims (Dl 256, Dr 32), mixed q/cache types") {
  case_desc d;
  d.s_q = {2, 1};
  d.s_k = {90, 257};
  d.heads = 5;
  d.latent_dim = 256;
  d.rope_dim = 32;
  d.page_size = 32;
  d.seed = 18;
  run(d, "bf16 SIMT Dl256 Dr32");
  d.latent_dim = 512;
  d.rope_dim = 64;
  d.q_dtype = MLA_DTYPE_BF16;
  d.kv_dtype = MLA_DTYPE_F16;
  d.out_dtype = MLA_DTYPE_F16;
  d.seed = 19;
  run(d, "q bf16 / cache f16 SIMT");
}

TEST_CASE("invalid indices on the device: that sequence is NaN, the others are right") {
  for (int dtype : {MLA_DTYPE_BF16, MLA_DTYPE_F32}) {
    case_desc d;
    d.s_q = {1, 2, 1};
    d.s_k = {100, 70, 5000};
    d.q_dtype = d.kv_dtype = d.out_dtype = dtype;
    d.seed = 20;
    device_case c(d);
    c.corrupt_sequence(1);
    const case_result r = c.run_and_check();
    expect_close(d, r, dtype == MLA_DTYPE_BF16 ? "invalid seq 1 (tensor cores)" : "invalid seq 1 (SIMT)");
  }
}

TEST_CASE("CUDA graph: plan + run captured once, replayed with new queries") {
  case_desc d;
  d.s_q = {1, 2, 1, 1};
  d.s_k = {4000, 77, 1, 900};
  d.heads = 16;
  d.seed = 21;
  device_case c(d);
  const case_result r = c.graph_replay_and_check(2);
  CHECK_MESSAGE(r.error.empty(), r.error);
  CHECK(r.unwritten == 0);
  CHECK(r.stray_writes == 0);
  std::printf("  graph replays: rel_err %.2e lse_err %.2e\n", r.max_err, r.lse_err);
  CHECK(r.max_err <= cuda_test::tolerance(MLA_DTYPE_BF16));
  CHECK(r.lse_err <= 2e-3);
}
