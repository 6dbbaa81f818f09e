// SPDX-License-Identifier: MIT
// mla-demo's estimate of what it will allocate, and the refusal.
#include <doctest/doctest.h>

#include "demo_footprint.hpp"

using namespace mla_tools;

TEST_CASE("the default run: cache, activations and host copies counted") {
  demo_sizes d;  // 4 sequences, prompt 512, 32 steps, 4 layers, H 16, page 64, bf16
  const paged_kv_cache::shape cs = demo_cache_shape(d);
  CHECK(cs.max_pages_per_seq == (512 + 32 + 63) / 64);
  CHECK(cs.num_pages == 4 * cs.max_pages_per_seq);
  const std::vector<int> step = demo_largest_step(d);  // the prefill: 512, 483, 454, 425
  REQUIRE(step.size() == 4);
  CHECK(step[3] == 512 - 3 * 29);
  const demo_footprint f = estimate_demo_footprint(d, 1000);
  CHECK(f.cache_pool == doctest::Approx(4.0 * cs.num_pages * 64 * 576 * 2));
  CHECK(f.cache_mirror == f.cache_pool);
  const double rows = 512 + 483 + 454 + 425;
  CHECK(f.activations == doctest::Approx(4 * rows * 16 * ((576 + 512) * 2 + 4)));
  CHECK(f.workspace == 1000);
  CHECK(f.backend() == doctest::Approx(f.cache_pool + f.activations + 1000));
}

TEST_CASE("a run larger than the memory is refused, saying what it needs") {
  demo_sizes d;
  d.heads = 5000;
  const demo_footprint f = estimate_demo_footprint(d, 0);
  const size_t gib = size_t(1) << 30;
  const std::string host = check_demo_footprint(f, true, 0, 16 * gib);
  CHECK(host.find("needs about") != std::string::npos);
  CHECK(host.find("GiB of host memory") != std::string::npos);
  CHECK(host.find("16.00 GiB is available") != std::string::npos);
  // Device memory: the backend part is checked against the device.
  CHECK(check_demo_footprint(f, false, 8 * gib, 1024 * gib).find("of device memory") != std::string::npos);
  // Unknown availability is never a reason to refuse; a small run fits.
  CHECK(check_demo_footprint(f, true, 0, 0) == "");
  CHECK(check_demo_footprint(estimate_demo_footprint(demo_sizes{}, 0), true, 0, 16 * gib) == "");
}
