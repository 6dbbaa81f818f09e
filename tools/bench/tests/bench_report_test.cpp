// SPDX-License-Identifier: MIT
// mla-bench's JSON: valid JSON whatever the numbers (never nan), an unknown
// ceiling and its fractions are null (never 0), and the run is described
// (commit, date, device, threads).
#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "bench_report.hpp"

using namespace mla_bench;

namespace {

nlohmann::json written(const report_context& ctx, const std::vector<bench_result>& results) {
  const std::string path = "bench_report_test.json";
  std::string error;
  REQUIRE(write_json(path, ctx, results, error));
  std::ifstream f(path);
  std::stringstream text;
  text << f.rdbuf();
  std::remove(path.c_str());
  CHECK(text.str().find("nan") == std::string::npos);
  return nlohmann::json::parse(text.str());  // throws on invalid JSON
}

}  // namespace

TEST_CASE("unknown ceilings and NaN measurements are null, the run is described") {
  report_context ctx;
  ctx.backend = "cpu";
  ctx.device = "a \"quoted\" device\n";
  ctx.dtype = "bf16";
  ctx.commit = "abc1234";
  ctx.date = "2026-01-01T00:00:00Z";
  ctx.threads = 2;
  ctx.ceil.copy_gbs = 10;  // known
  ctx.ceil.copy_source = "file x";
  // gemm_tflops unknown (0)
  bench_result ran, nan_time, skipped;
  ran.c = find_case("C1");
  ran.run_ms = 2.0;
  ran.work.bytes = 4e6;
  ran.work.flops = 1e8;
  ran.check_ok = true;
  nan_time = ran;
  nan_time.c = find_case("C2");
  nan_time.run_ms = std::numeric_limits<double>::quiet_NaN();
  skipped.c = find_case("C4");
  skipped.skipped = "needs op B";
  const nlohmann::json j = written(ctx, {ran, nan_time, skipped});
  CHECK(j["commit"] == "abc1234");
  CHECK(j["date"] == "2026-01-01T00:00:00Z");
  CHECK(j["device"] == "a \"quoted\" device\n");
  CHECK(j["threads"] == 2);
  CHECK(j["copy_gbs"] == 10.0);
  CHECK(j["gemm_tflops"].is_null());
  CHECK(j["gemm_source"].is_null());
  REQUIRE(j["cases"].size() == 3);
  CHECK(j["cases"][0]["time_ms"] == 2.0);
  CHECK(j["cases"][0]["of_copy"].get<double>() == doctest::Approx(0.2));  // 4e6 B in 2 ms = 2 GB/s of 10
  CHECK(j["cases"][0]["of_gemm"].is_null());
  CHECK(j["cases"][1]["time_ms"].is_null());
  CHECK(j["cases"][1]["gbs"].is_null());
  CHECK(j["cases"][2]["skipped"] == "needs op B");
}

TEST_CASE("a device backend has no thread count; both ceilings known") {
  report_context ctx;
  ctx.backend = "cuda";
  ctx.ceil.copy_gbs = 4000;
  ctx.ceil.gemm_tflops = 700;
  const nlohmann::json j = written(ctx, {});
  CHECK(j["threads"].is_null());
  CHECK(j["gemm_tflops"] == 700.0);
  CHECK(j["cases"].is_array());
}
