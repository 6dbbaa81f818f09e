// SPDX-License-Identifier: MIT
// mla-bench's command line: `--opt=value` and `--opt value` alike, errors
// that name the option as typed, cases checked while parsing.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "bench_options.hpp"

using namespace mla_bench;

namespace {

// Parses `args` (after the program name); "" when accepted, else CLI11's message.
std::string parse(std::vector<std::string> args, bench_options& o) {
  CLI::App app;
  add_bench_options(app, o);
  std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 takes them last first
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    return e.what();
  }
  finish_options(o);
  return "";
}

}  // namespace

TEST_CASE("--cases=C1 and --cases C1 are the same; lists and shapes resolve") {
  bench_options a, b;
  CHECK(parse({"--cases=C1,B2xQ1xK64xH4"}, a) == "");
  CHECK(parse({"--cases", "C1,B2xQ1xK64xH4"}, b) == "");
  CHECK(a.cases == b.cases);
  std::vector<bench_case> custom;
  const auto cases = named_cases(a, custom);
  REQUIRE(cases.size() == 2);
  CHECK(cases[0]->name == "C1");
  CHECK(cases[1]->batch == 2);
  CHECK(cases[1]->heads == 4);
}

TEST_CASE("values in either form; dtype converted") {
  bench_options o;
  CHECK(parse({"--iters=3", "--repeats", "2", "--dtype=f16", "--device", "1", "--batch-invariant"}, o) == "");
  CHECK(o.settings.iters == 3);
  CHECK(o.settings.repeats == 2);
  CHECK(o.settings.dtype == MLA_DTYPE_F16);
  CHECK(o.device == 1);
  CHECK(o.batch_invariant);
}

TEST_CASE("errors name the option the user typed") {
  bench_options o;
  CHECK(parse({"--cases=C1,Z9"}, o).find("--cases: unknown case 'Z9'") != std::string::npos);
  CHECK(parse({"--iters", "0"}, o).find("--iters") != std::string::npos);
  CHECK(parse({"--dtype=f8"}, o).find("--dtype") != std::string::npos);
  CHECK(parse({"--ceilings", "/no/such/file"}, o).find("--ceilings") != std::string::npos);
  CHECK(parse({"--no-such-option"}, o).find("--no-such-option") != std::string::npos);
}
