// SPDX-License-Identifier: MIT
// The demo engine's paged cache: pages from the free list, block tables,
// release, running out, and that the backend copy matches the host mirror.
#include <doctest/doctest.h>

#include <cmath>
#include <set>
#include <vector>

#include "dtype_convert.hpp"
#include "paged_kv_cache.hpp"

using namespace mla_tools;

namespace {
struct host_fixture {
  std::string err;
  std::unique_ptr<backend_memory> mem = make_host_memory();
};
paged_kv_cache::shape small_shape() {
  paged_kv_cache::shape s;
  s.layers = 2;
  s.num_pages = 5;
  s.page_size = 4;
  s.row_elems = 6;
  s.max_seqs = 2;
  s.max_pages_per_seq = 3;
  s.dtype = MLA_DTYPE_BF16;
  return s;
}
}  // namespace

TEST_CASE("pages come from the free list as sequences grow, and go back on release") {
  host_fixture f;
  paged_kv_cache c(*f.mem, small_shape(), 7);
  std::string err;
  CHECK(c.append_tokens(0, 5, err) == 0);  // 2 pages
  CHECK(c.append_tokens(0, 3, err) == 5);  // 8 tokens: still 2 pages
  CHECK(c.free_pages() == 3);
  CHECK(c.append_tokens(1, 1, err) == 0);
  CHECK(c.free_pages() == 2);
  CHECK(c.append_tokens(0, 1, err) == 8);  // crosses into a third page
  CHECK(c.free_pages() == 1);
  const auto& bt = c.block_table();
  std::set<int> used{bt[0], bt[1], bt[2], bt[3]};
  CHECK(used.size() == 4);  // distinct pages
  for (int p : used) CHECK((p >= 0 && p < 5));
  CHECK(bt[4] == -1);
  CHECK(bt[5] == -1);

  // Too long for the block table: refused, nothing changes.
  CHECK(c.append_tokens(0, 4, err) == -1);
  CHECK(err.find("block table") != std::string::npos);
  CHECK(c.seqlen(0) == 9);
  // Out of pages: refused, nothing changes.
  CHECK(c.append_tokens(1, 8, err) == -1);
  CHECK(err.find("out of cache pages") != std::string::npos);
  CHECK(c.seqlen(1) == 1);
  CHECK(c.free_pages() == 1);

  c.release(0);
  CHECK(c.free_pages() == 4);
  CHECK(c.seqlen(0) == 0);
  CHECK(bt[0] == -1);
  CHECK(c.append_tokens(1, 8, err) == 1);  // now it fits
}

TEST_CASE("rows land where the ABI view says, rounded to the dtype; unused rows are NaN") {
  host_fixture f;
  const auto s = small_shape();
  paged_kv_cache c(*f.mem, s, 3);
  std::string err;
  REQUIRE(c.append_tokens(1, 6, err) == 0);
  std::vector<float> row(s.row_elems);
  for (int t = 0; t < 6; ++t) {
    for (int i = 0; i < s.row_elems; ++i) row[i] = 0.1f * t + 0.01f * i + 0.001f;
    c.write_row(1, 1, t, row.data());
  }
  c.sync_to_backend();
  const mla_paged_cache kv = c.view(1, 4);
  CHECK(kv.page_size == 4);
  CHECK(kv.rope_offset == 4);
  CHECK(kv.block_table_stride == 3);
  const auto* data = static_cast<const uint16_t*>(kv.data);
  for (int t = 0; t < 8; ++t) {  // 6 written rows, then 2 unused rows of the second page
    const int page = kv.block_table[1 * kv.block_table_stride + t / kv.page_size];
    std::vector<double> mirror(s.row_elems);
    if (t < 6) c.read_row(1, 1, t, mirror.data());
    for (int i = 0; i < s.row_elems; ++i) {
      const float dev = bf16_to_float(data[page * kv.page_stride + (t % kv.page_size) * kv.row_stride + i]);
      if (t < 6) {
        CHECK(dev == round_to(MLA_DTYPE_BF16, 0.1f * t + 0.01f * i + 0.001f));
        CHECK(mirror[i] == dev);
      } else {
        CHECK(std::isnan(dev));
      }
    }
  }
  CHECK(kv.seqlens_k[1] == 6);
  CHECK(kv.seqlens_k[0] == 0);
}
