// SPDX-License-Identifier: MIT
// Op A of the cpu plugin against the fp64 oracle, loaded through dlopen.
// Every case prints its seed and shape on failure (replay: same spec).
#include "absorbed_case.hpp"
#include "plugin_handle.hpp"
#include "test_dtypes.hpp"

#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <cstring>
#include <thread>
#include <vector>

using namespace cpu_test;

namespace {

// workspace_size -> plan -> run, then run again on the same plan with the
// outputs re-poisoned (the plan is reused by every layer of a step).
std::string plan_and_run(absorbed_case& c, int threads) {
  context ctx(threads);
  const mla_api& api = cpu_api();
  size_t bytes = 0;
  if (api.absorbed_workspace_size(ctx.get(), &c.args, &bytes) != MLA_OK)
    return std::string("workspace_size: ") + api.last_error();
  c.set_workspace(bytes);
  if (api.absorbed_plan(ctx.get(), &c.args) != MLA_OK) return std::string("plan: ") + api.last_error();
  for (int pass = 0; pass < 2; ++pass) {
    c.poison_outputs();
    if (api.absorbed_run(ctx.get(), &c.args) != MLA_OK) return std::string("run: ") + api.last_error();
    const std::string bad = c.check();
    if (!bad.empty()) return "pass " + std::to_string(pass) + " threads " + std::to_string(threads) + ": " + bad;
  }
  return "";
}

const int kDtypes[3] = {MLA_DTYPE_F32, MLA_DTYPE_F16, MLA_DTYPE_BF16};

}  // namespace

TEST_CASE("absorbed: random cases over heads, pages, dtypes, masks and strides") {
  const int heads[3] = {1, 16, 128};
  const int pages[4] = {1, 16, 64, 7};
  uint64_t seed = 1000;
  int k = 0;
  for (int H : heads)
    for (int ps : pages) {
      case_spec s;
      s.seed = ++seed;
      s.heads = H;
      s.page_size = ps;
      // Ragged s_q 1..5 (and an empty one), s_k over 0, 1, 63, 65, 300.
      if (H == 128) {
        s.s_q = {2, 5, 1};
        s.s_k = {300, 1, 65};
      } else {
        s.s_q = {1, 3, 5, 0, 2, 4};
        s.s_k = {65, 0, 300, 7, 1, 63};
      }
      s.causal = (k % 2) == 0;
      s.q_dtype = kDtypes[k % 3];
      s.cache_dtype = kDtypes[(k / 3) % 3];
      s.out_dtype = kDtypes[(k + 1) % 3];
      s.strided = (k % 4) == 1 || (k % 4) == 2;
      s.want_lse = (k % 5) != 3;
      s.q_amplitude = (k % 3 == 2) ? 4.0 : 1.0;
      ++k;
      for (int threads : {1, 3}) {
        absorbed_case c(s);
        INFO(s.describe(), " threads=", threads);
        CHECK(plan_and_run(c, threads) == "");
      }
    }
}

TEST_CASE("absorbed: every dtype combination, odd dims that miss vector widths") {
  uint64_t seed = 2000;
  for (int qd : kDtypes)
    for (int cd : kDtypes)
      for (int od : kDtypes) {
        case_spec s;
        s.seed = ++seed;
        s.heads = 3;
        s.latent = 37;
        s.rope = (int)(seed % 3) * 5;  // 0, 5 or 10
        s.s_q = {1, 4, 2};
        s.s_k = {33, 3, 129};
        s.page_size = 5;
        s.causal = seed % 2;
        s.q_dtype = qd;
        s.cache_dtype = cd;
        s.out_dtype = od;
        s.strided = seed % 2 == 0;
        absorbed_case c(s);
        INFO(s.describe());
        CHECK(plan_and_run(c, 2) == "");
      }
}

TEST_CASE("absorbed: one long sequence is split over keys for every thread count") {
  for (int threads : {1, 2, 4, 7}) {
    case_spec s;
    s.seed = 3000 + threads;
    s.heads = 16;
    s.s_q = {1};
    s.s_k = {4099};
    s.page_size = 64;
    s.causal = true;
    absorbed_case c(s);
    INFO(s.describe(), " threads=", threads);
    CHECK(plan_and_run(c, threads) == "");
  }
}

TEST_CASE("absorbed: contiguous cache = one page per sequence, page larger than s_k") {
  case_spec s;
  s.seed = 3500;
  s.heads = 16;
  s.s_q = {2, 1, 3};
  s.s_k = {300, 0, 1000};
  s.page_size = 1000;  // the last sequence fills its page exactly
  s.cache_dtype = MLA_DTYPE_F32;  // used in place, no conversion
  absorbed_case c(s);
  CHECK(plan_and_run(c, 2) == "");
}

TEST_CASE("absorbed: causal rows with no visible key, s_q > s_k, empty batch parts") {
  case_spec s;
  s.seed = 4000;
  s.heads = 4;
  s.s_q = {5, 3, 0, 4};
  s.s_k = {2, 0, 9, 4};  // s_q > s_k: the first rows see nothing (o = 0, lse = -inf)
  s.page_size = 3;
  s.causal = true;
  s.q_dtype = s.cache_dtype = s.out_dtype = MLA_DTYPE_F32;
  absorbed_case c(s);
  CHECK(plan_and_run(c, 2) == "");
}

TEST_CASE("absorbed: batch 0 and total_q 0 are no-ops that write nothing") {
  case_spec s;
  s.seed = 5000;
  absorbed_case empty(s);  // no sequences
  CHECK(empty.args.batch == 0);
  CHECK(plan_and_run(empty, 2) == "");
  s.s_q = {0, 0};
  s.s_k = {10, 0};
  absorbed_case no_queries(s);
  CHECK(plan_and_run(no_queries, 2) == "");
}

TEST_CASE("absorbed: the baseline (non-AVX2) kernel build gives the same answers") {
  // MLA_CPU_ISA is read at context creation.
  setenv("MLA_CPU_ISA", "baseline", 1);
  {
    context ctx(1);
    mla_caps caps{};
    caps.struct_size = sizeof caps;
    REQUIRE(cpu_api().get_caps(ctx.get(), &caps) == MLA_OK);
    CHECK(std::strstr(caps.device_name, "baseline") != nullptr);
  }
  uint64_t seed = 6000;
  for (int dt : kDtypes) {
    case_spec s;
    s.seed = ++seed;
    s.heads = 16;
    s.s_q = {1, 3};
    s.s_k = {300, 65};
    s.page_size = 7;
    s.q_dtype = s.cache_dtype = s.out_dtype = dt;
    absorbed_case c(s);
    INFO(s.describe());
    CHECK(plan_and_run(c, 2) == "");
  }
  unsetenv("MLA_CPU_ISA");
}

TEST_CASE("absorbed: workspace size does not depend on the context length") {
  context ctx(2);
  case_spec s;
  s.seed = 7000;
  s.heads = 8;
  s.latent = 16;
  s.rope = 4;
  s.s_q = {2, 1};
  s.s_k = {5, 7};
  absorbed_case short_ctx(s);
  s.s_k = {50000, 70000};
  absorbed_case long_ctx(s);
  size_t a = 0, b = 0;
  REQUIRE(cpu_api().absorbed_workspace_size(ctx.get(), &short_ctx.args, &a) == MLA_OK);
  REQUIRE(cpu_api().absorbed_workspace_size(ctx.get(), &long_ctx.args, &b) == MLA_OK);
  CHECK(a == b);
  CHECK(a > 0);
}

TEST_CASE("absorbed: distinct contexts run at once from distinct host threads") {
  std::vector<std::string> results(3);
  std::vector<std::thread> workers;
  for (int w = 0; w < 3; ++w)
    workers.emplace_back([w, &results] {
      case_spec s;
      s.seed = 8000 + w;
      s.heads = 16;
      s.s_q = {1, 2};
      s.s_k = {700, 300};
      s.page_size = 16;
      s.q_dtype = kDtypes[w];
      absorbed_case c(s);
      results[w] = plan_and_run(c, 2);  // each worker its own context, workspace and buffers
    });
  for (std::thread& t : workers) t.join();
  for (int w = 0; w < 3; ++w) {
    INFO("worker ", w);
    CHECK(results[w] == "");
  }
}
