// SPDX-License-Identifier: MIT
// The --report writer (result_log::write_json): valid JSON whatever the
// messages hold (quotes, control characters, invalid UTF-8) and whatever the
// times are (never nan), the keys of the report format, one result per line.
#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "results.hpp"

using namespace conformance;

TEST_CASE("the report is valid JSON with one line per result") {
  result_log log("quick", 7, "mla-conformance --suite quick");
  log.add_backend_info("cpu[t=1]", R"({"version": "1.1.0", "caps": {"ops": 3}})");
  log.add_time("cpu[t=1]", std::numeric_limits<double>::quiet_NaN());
  log.pass("cpu[t=1]", "absorbed/a", "accuracy", "worst 0.25 of tolerance", 11);
  log.skip("cpu[t=1]", "absorbed/b", "lse", "tab\there, \"quoted\"\nnew line, bad utf-8 \xff", 12);
  const std::string path = "results_json_test.json";
  std::string error;
  REQUIRE(log.write_json(path, error));
  std::ifstream f(path);
  std::stringstream text;
  text << f.rdbuf();
  std::remove(path.c_str());
  CHECK(text.str().find("nan") == std::string::npos);
  CHECK(text.str().find(R"("check": "accuracy", "verdict": "pass")") != std::string::npos);
  const nlohmann::json j = nlohmann::json::parse(text.str());
  CHECK(j["suite"] == "quick");
  CHECK(j["seed"] == 7);
  CHECK(j["passed"] == 1);
  CHECK(j["skipped"] == 1);
  CHECK(j["failed"] == 0);
  REQUIRE(j["backends"].size() == 1);
  CHECK(j["backends"][0]["name"] == "cpu[t=1]");
  CHECK(j["backends"][0]["seconds"].is_null());
  CHECK(j["backends"][0]["info"]["caps"]["ops"] == 3);
  REQUIRE(j["results"].size() == 2);
  CHECK(j["results"][1]["case_seed"] == 12);
  CHECK(j["results"][1]["message"].get<std::string>().find("\"quoted\"\nnew line") != std::string::npos);
  CHECK_FALSE(log.write_json("/nonexistent-dir/report.json", error));
  CHECK(error.find("/nonexistent-dir/report.json") != std::string::npos);
}
