// SPDX-License-Identifier: MIT
// The case catalogue and the byte/FLOP counts the tables are built on.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <algorithm>
#include <numeric>

#include "bench_cases.hpp"

using namespace mla_bench;

TEST_CASE("the catalogue has every shape of shapes.md") {
  for (const char* n : {"D1", "D2", "D3", "D4", "D5", "D6", "D7", "D8", "D9", "D10", "P1", "P2", "P3", "P4", "P5",
                        "P6", "P7", "C1", "C2", "C3", "C4", "C5"})
    CHECK_MESSAGE(find_case(n) != nullptr, n);
  CHECK(find_case("D11") == nullptr);
  const bench_case& d8 = *find_case("D8");
  CHECK(d8.batch == 128);
  CHECK(d8.s_q == 2);
  CHECK(d8.s_k == 8192);
  CHECK(d8.heads == 128);
  CHECK(find_case("P7")->s_k == 2048 + 8192);
  CHECK(find_case("C4")->op == bench_op::decompressed);
  CHECK(find_case("C3")->op == bench_op::absorbed);
}

TEST_CASE("shapes named on the command line") {
  bench_case c;
  REQUIRE(parse_shape_name("B16xQ2xK32768xH128", c));
  CHECK(c.batch == 16);
  CHECK(c.s_q == 2);
  CHECK(c.s_k == 32768);
  CHECK(c.heads == 128);
  CHECK(c.op == bench_op::absorbed);
  CHECK(c.name == "B16xQ2xK32768xH128");
  const bench_case before = c;
  for (const char* bad : {"", "B16", "B16xQ2xK32768", "B16xQ2xK32768xH", "B0xQ1xK1xH1", "B1xQ1xK1xH1x",
                          "b1xQ1xK1xH1", "B1xQ1xK16777217xH1", "B1xQ1xK1xH65537", "B1xQ1xK1xH-1", "B1yQ1xK1xH1",
                          "B1234567890xQ1xK1xH1", "D5"}) {
    CHECK_MESSAGE(!parse_shape_name(bad, c), bad);
    CHECK(c.name == before.name);
  }
}

TEST_CASE("D10 seqlens: deterministic, clipped, distributed as N(8192, 4096)") {
  const auto a = d10_seqlens(128), b = d10_seqlens(128);
  CHECK(a == b);
  CHECK(*std::min_element(a.begin(), a.end()) >= 1);
  CHECK(*std::max_element(a.begin(), a.end()) <= 32768);
  CHECK(std::adjacent_find(a.begin(), a.end(), std::not_equal_to<int>()) != a.end());  // not all equal
  // A large sample: mean and spread near the parameters (clipping barely matters at 2 sigma).
  const auto big = d10_seqlens(20000);
  const double mean = std::accumulate(big.begin(), big.end(), 0.0) / big.size();
  double var = 0;
  for (int v : big) var += (v - mean) * (v - mean);
  const double sd = std::sqrt(var / big.size());
  CHECK(mean == doctest::Approx(8192).epsilon(0.02));
  CHECK(sd == doctest::Approx(4096).epsilon(0.05));
  // The first values are pinned, so a change of the documented generator is noticed.
  CHECK(a[0] == 476);
  CHECK(a[1] == 9124);
  CHECK(a[2] == 7285);
  CHECK(a[3] == 8534);
  CHECK(d10_seqlens(1)[0] == a[0]);  // a prefix of the same stream
}

TEST_CASE("visible keys follow the bottom-right-aligned causal mask") {
  CHECK(visible_keys(1, 100, 0, true) == 100);
  CHECK(visible_keys(3, 10, 0, true) == 8);
  CHECK(visible_keys(3, 10, 2, true) == 10);
  CHECK(visible_keys(5, 2, 0, true) == 0);  // more queries than keys: early rows see nothing
  CHECK(visible_keys(5, 2, 4, true) == 2);
  CHECK(visible_keys(5, 2, 0, false) == 2);
}

TEST_CASE("bytes and FLOPs of a decode case and a causal chunk") {
  // D1: 128 sequences, one query each, 4096 keys, H = 16, bf16.
  const auto d1 = absorbed_work(std::vector<int>(128, 1), std::vector<int>(128, 4096), 16, 512, 64, true, 2, 2, 2);
  CHECK(d1.total_q == 128);
  CHECK(d1.rows_read == 128 * 4096);
  CHECK(d1.visible_pairs == 128 * 4096);
  CHECK(d1.bytes == 128.0 * 4096 * 576 * 2 + 128.0 * 16 * (576 * 2 + 512 * 2));
  CHECK(d1.flops == 2.0 * 16 * 128 * 4096 * (576 + 512));
  // One sequence of 4 new queries over 6 keys: visible 3,4,5,6 = 18 pairs; 6 rows read.
  const auto w = absorbed_work({4}, {6}, 2, 512, 64, true, 4, 2, 4);
  CHECK(w.visible_pairs == 18);
  CHECK(w.rows_read == 6);
  CHECK(w.bytes == 6.0 * 576 * 2 + 4.0 * 2 * (576 * 4 + 512 * 4));
  CHECK(w.flops == 2.0 * 2 * 18 * 1088);
  // A sequence with no queries reads nothing.
  CHECK(absorbed_work({0}, {100}, 1, 512, 64, true, 2, 2, 2).rows_read == 0);
}
