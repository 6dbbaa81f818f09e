// SPDX-License-Identifier: MIT
// Op B (decompressed prefill) on the CUDA plugin against the fp64 oracle:
// the tensor-core path (bf16/f16, Dn = Dv = 128, Dr = 64) and the SIMT path
// (f32, other dims), every weight layout, cached prefixes, ragged and empty
// sequences, several chunks and query tiles, all three modes (AUTO with
// sequences on both sides of the break-even), repeats compared bit for bit
// (also after planning into a refilled workspace), a batch-invariant
// context (a sequence alone gives the bits it gets in the batch), the
// schedule's test knobs (many chunks, groups and passes: the same bits),
// invalid indices on the device, and a CUDA graph captured once and replayed.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "cuda_case.hpp"
#include "opb_case.hpp"

using cuda_test::opb_case;
using cuda_test::opb_desc;
using cuda_test::opb_result;
using cuda_test::weight_layout;

namespace {

const char* mode_name(int32_t mode) {
  return mode == MLA_DECOMPRESSED_AUTO ? "auto" : mode == MLA_DECOMPRESSED_FORCE ? "decompressed" : "absorbed";
}

void expect_close(const opb_desc& d, const opb_result& r, const char* what, int32_t mode) {
  const double rel = r.max_err / (r.ref_max > 0 ? r.ref_max : 1.0);
  std::printf("  %-40s %-12s rel_err %.2e (tol %.1e)  lse_err %.2e (tol %.1e)\n", what, mode_name(mode), rel,
              cuda_test::opb_tolerance(d), r.lse_err, cuda_test::opb_lse_tolerance(d));
  CHECK_MESSAGE(r.error.empty(), r.error);
  CHECK(r.unwritten == 0);
  CHECK(r.stray_writes == 0);
  CHECK(rel <= cuda_test::opb_tolerance(d));
  CHECK(r.lse_err <= cuda_test::opb_lse_tolerance(d));
}

// Every mode against the oracle, each run twice (the second on the plan
// already in the workspace) and compared bit for bit.
void run_all_modes(const opb_desc& d, const char* what) {
  opb_case c(d);
  std::printf("%s: workspace %zu bytes\n", what, c.workspace_bytes());
  for (int32_t mode : {MLA_DECOMPRESSED_FORCE, MLA_DECOMPRESSED_FORCE_ABSORBED, MLA_DECOMPRESSED_AUTO}) {
    const opb_result first = c.run(mode, true, 0xff);
    expect_close(d, first, what, mode);
    const opb_result again = c.run(mode, false);
    CHECK_MESSAGE(again.out_bits == first.out_bits, what, " ", mode_name(mode), ": out differs between repeats");
    CHECK_MESSAGE(again.lse_bits == first.lse_bits, what, " ", mode_name(mode), ": lse differs between repeats");
    const opb_result replanned = c.run(mode, true, 0x00);
    CHECK_MESSAGE(replanned.out_bits == first.out_bits, what, " ", mode_name(mode), ": out differs after a new plan");
  }
}

// The plugin's caps.decompressed_break_even_q (AUTO's cut).
int32_t break_even_q() {
  cuda_test::skip_without_device();
  mla_context_desc cd{};
  cd.struct_size = sizeof cd;
  mla_context* ctx = nullptr;
  REQUIRE(cuda_test::plugin()->context_create(&cd, &ctx) == MLA_OK);
  mla_caps caps{};
  caps.struct_size = sizeof caps;
  const mla_status st = cuda_test::plugin()->get_caps(ctx, &caps);
  cuda_test::plugin()->context_destroy(ctx);
  REQUIRE(st == MLA_OK);
  return caps.decompressed_break_even_q;
}

}  // namespace

TEST_CASE("op B tensor cores: bf16, page 64, causal, a cached prefix, several query tiles") {
  opb_desc d;
  d.s_q = {300, 1, 77};
  d.s_k = {300, 700, 577};
  d.seed = 31;
  run_all_modes(d, "bf16 H16 prefix");
}

TEST_CASE("op B tensor cores: f16, page 16, kv_b_proj weights, non-causal, ragged and empty, f32 out") {
  opb_desc d;
  d.s_q = {5, 0, 130, 2};
  d.s_k = {0, 17, 260, 1};
  d.heads = 8;
  d.page_size = 16;
  d.q_dtype = d.kv_dtype = d.w_dtype = MLA_DTYPE_F16;
  d.out_dtype = MLA_DTYPE_F32;
  d.layout = weight_layout::kvbproj;
  d.causal = false;
  d.seed = 32;
  run_all_modes(d, "f16 kvbproj non-causal");
}

TEST_CASE("op B tensor cores: transposed weights are converted, page 1, s_q > s_k leaves rows empty") {
  opb_desc d;
  d.s_q = {40, 9};
  d.s_k = {20, 200};
  d.heads = 4;
  d.page_size = 1;
  d.layout = weight_layout::transposed;
  d.seed = 33;
  run_all_modes(d, "bf16 transposed page1");
}

TEST_CASE("op B tensor cores: mixed types (q f32, cache bf16, weights f32, out f16), H 128") {
  opb_desc d;
  d.s_q = {70, 3};
  d.s_k = {90, 130};
  d.heads = 128;
  d.q_dtype = MLA_DTYPE_F32;
  d.w_dtype = MLA_DTYPE_F32;
  d.out_dtype = MLA_DTYPE_F16;
  d.seed = 34;
  run_all_modes(d, "mixed H128");
}

TEST_CASE("op B SIMT: f32 everywhere, page 7") {
  opb_desc d;
  d.s_q = {33, 2};
  d.s_k = {33, 150};
  d.page_size = 7;
  d.q_dtype = d.kv_dtype = d.w_dtype = d.out_dtype = MLA_DTYPE_F32;
  d.seed = 35;
  run_all_modes(d, "f32 SIMT page7");
}

TEST_CASE("op B SIMT: other dims (Dl 200, Dr 16, Dn 64, Dv 96), bf16, no lse") {
  opb_desc d;
  d.s_q = {12, 1, 4};
  d.s_k = {12, 70, 300};
  d.heads = 3;
  d.latent_dim = 200;
  d.rope_dim = 16;
  d.nope_dim = 64;
  d.v_dim = 96;
  d.page_size = 33;
  d.want_lse = false;
  d.seed = 36;
  run_all_modes(d, "bf16 SIMT odd dims");
}

TEST_CASE("op B AUTO: sequences on both sides of the break-even in one call") {
  const int32_t be = break_even_q();
  REQUIRE(be > 1);
  opb_desc d;
  d.s_q = {be + 29, 5, be, be - 1, 1};
  d.s_k = {be + 229, 900, be, 1200, 33};
  d.seed = 37;
  run_all_modes(d, "bf16 auto mixed forms");
}

TEST_CASE("op B: a long prompt after a long prefix (many chunks, rounds and tiles)") {
  // The default schedule takes all 3100 keys in one chunk; 512-key chunks
  // (the test knob) give 7 rounds of real size: the same bits.
  opb_desc d;
  d.s_q = {1100};
  d.s_k = {3100};
  d.seed = 38;
  opb_case c(d);
  const opb_result whole = c.run(MLA_DECOMPRESSED_FORCE);
  expect_close(d, whole, "bf16 1100 after 2000", MLA_DECOMPRESSED_FORCE);
  setenv("MLA_CUDA_OPB_CHUNK", "512", 1);
  const opb_result chunked = c.run(MLA_DECOMPRESSED_FORCE);
  unsetenv("MLA_CUDA_OPB_CHUNK");
  expect_close(d, chunked, "bf16 1100 after 2000, 512-key chunks", MLA_DECOMPRESSED_FORCE);
  CHECK_MESSAGE(chunked.out_bits == whole.out_bits, "out bits depend on the chunk size");
  CHECK_MESSAGE(chunked.lse_bits == whole.lse_bits, "lse bits depend on the chunk size");
}

TEST_CASE("op B batch-invariant context: a sequence alone gives its bits in the batch") {
  opb_desc d;
  d.s_q = {90, 200, 7};
  d.s_k = {600, 200, 400};
  d.context_flags = MLA_CONTEXT_BATCH_INVARIANT;
  d.seed = 39;
  for (int32_t mode : {MLA_DECOMPRESSED_FORCE, MLA_DECOMPRESSED_FORCE_ABSORBED, MLA_DECOMPRESSED_AUTO}) {
    d.mode = mode;
    opb_case batch(d);
    const opb_result all = batch.run(mode);
    expect_close(d, all, "invariant batch", mode);
    // The first sequence alone: the same data (values are functions of their
    // index and the seed), its own batch description and workspace.
    opb_desc one = d;
    one.s_q = {d.s_q[0]};
    one.s_k = {d.s_k[0]};
    opb_case alone(one);
    const opb_result r = alone.run(mode);
    expect_close(one, r, "invariant alone", mode);
    const size_t row_bytes = (size_t)d.heads * (d.v_dim + 8) * 2;  // bf16 out, padded heads
    const size_t n = (size_t)d.s_q[0] * row_bytes;
    REQUIRE(all.out_bits.size() >= n);
    REQUIRE(r.out_bits.size() >= n);
    CHECK_MESSAGE(std::equal(r.out_bits.begin(), r.out_bits.begin() + n, all.out_bits.begin()), mode_name(mode),
                  ": the first sequence alone differs from its rows in the batch");
  }
}

TEST_CASE("op B: invalid indices on the device make that sequence NaN, the others right") {
  for (int dtype : {MLA_DTYPE_BF16, MLA_DTYPE_F32}) {
    opb_desc d;
    d.s_q = {20, 30, 3};
    d.s_k = {100, 70, 500};
    d.q_dtype = d.kv_dtype = d.w_dtype = d.out_dtype = dtype;
    d.seed = 40;
    opb_case c(d);
    c.corrupt_sequence(1);
    for (int32_t mode : {MLA_DECOMPRESSED_FORCE, MLA_DECOMPRESSED_FORCE_ABSORBED, MLA_DECOMPRESSED_AUTO})
      expect_close(d, c.run(mode), dtype == MLA_DTYPE_BF16 ? "invalid seq 1 (tensor cores)" : "invalid seq 1 (SIMT)",
                   mode);
  }
}

TEST_CASE("op B CUDA graph: plan + run captured once, replayed with new queries") {
  for (int32_t mode : {MLA_DECOMPRESSED_FORCE, MLA_DECOMPRESSED_AUTO}) {
    opb_desc d;
    d.s_q = {180, 2, 60};
    d.s_k = {900, 77, 60};
    d.mode = mode;
    d.seed = 41;
    opb_case c(d);
    const opb_result r = c.graph_replay(2);
    std::printf("  graph replays (%s): rel_err %.2e lse_err %.2e\n", mode_name(mode), r.max_err, r.lse_err);
    CHECK_MESSAGE(r.error.empty(), r.error);
    CHECK(r.unwritten == 0);
    CHECK(r.stray_writes == 0);
    CHECK(r.max_err <= cuda_test::opb_tolerance(d));
    CHECK(r.lse_err <= cuda_test::opb_lse_tolerance(d));
    // The replay's bits equal a plain plan + run of the same queries.
    const opb_result plain = c.run(mode);
    CHECK(plain.out_bits == r.out_bits);
    CHECK(plain.lse_bits == r.lse_bits);
  }
}

TEST_CASE("op B: many chunks, groups and passes give the bits of the default schedule") {
  // The test knobs of decompressed_host.cpp force 64-key chunks, one
  // sequence per round and passes of 97 rows: the paths long prompts take.
  for (int dtype : {MLA_DTYPE_BF16, MLA_DTYPE_F32}) {
    opb_desc d;
    d.s_q = {300, 40, 0, 200};
    d.s_k = {700, 40, 5, 900};
    d.heads = 8;
    d.page_size = 16;
    d.q_dtype = d.kv_dtype = d.w_dtype = d.out_dtype = dtype;
    d.seed = 42;
    for (int32_t mode : {MLA_DECOMPRESSED_FORCE, MLA_DECOMPRESSED_AUTO}) {
      opb_result base, forced;
      {
        opb_case c(d);
        base = c.run(mode);
        expect_close(d, base, "default schedule", mode);
      }
      setenv("MLA_CUDA_OPB_CHUNK", "64", 1);
      setenv("MLA_CUDA_OPB_GROUP", "1", 1);
      setenv("MLA_CUDA_OPB_PASS_ROWS", "97", 1);
      {
        opb_case c(d);
        forced = c.run(mode);
        expect_close(d, forced, "64-key chunks, groups of 1, 97-row passes", mode);
      }
      unsetenv("MLA_CUDA_OPB_CHUNK");
      unsetenv("MLA_CUDA_OPB_GROUP");
      unsetenv("MLA_CUDA_OPB_PASS_ROWS");
      CHECK_MESSAGE(forced.out_bits == base.out_bits, mode_name(mode), ": out bits depend on the schedule");
      CHECK_MESSAGE(forced.lse_bits == base.lse_bits, mode_name(mode), ": lse bits depend on the schedule");
    }
  }
}
