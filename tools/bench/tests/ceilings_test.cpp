// SPDX-License-Identifier: MIT
// The --ceilings file format (what mla-ceilings prints) and the host copy.
#include <doctest/doctest.h>

#include "ceilings.hpp"

using namespace mla_bench;

TEST_CASE("ceilings lines are parsed; comments and unknown keys ignored") {
  ceilings c;
  std::string err;
  REQUIRE(parse_ceilings("# H200\ncopy_gbs=4012.5\n\ngemm_tflops = 702\ngpu=H200\n", c, err));
  CHECK(c.copy_gbs == 4012.5);
  CHECK(c.gemm_tflops == 702);
}

TEST_CASE("malformed ceilings are rejected with the line") {
  ceilings c;
  std::string err;
  CHECK_FALSE(parse_ceilings("copy_gbs=fast\n", c, err));
  CHECK(err.find("line 1") != std::string::npos);
  CHECK_FALSE(parse_ceilings("copy_gbs=1\ngemm_tflops=-3\n", c, err));
  CHECK(err.find("line 2") != std::string::npos);
  CHECK_FALSE(parse_ceilings("copy_gbs 12\n", c, err));
  CHECK_FALSE(read_ceilings_file("/nonexistent/ceilings.txt", c, err));
}

TEST_CASE("the host copy bandwidth is a positive, finite number") {
  const double gbs = measure_host_copy_gbs(size_t(8) << 20, 2, 3);
  CHECK(gbs > 0.1);
  CHECK(gbs < 1e5);
}
