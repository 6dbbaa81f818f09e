// SPDX-License-Identifier: MIT
// The harness's building blocks can see what they are meant to see:
// layouts keep elements distinct, unused cache slots are NaN, and each
// output check fails on the defect it exists for.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "absorbed_problem.hpp"
#include "case_runner.hpp"
#include "low_precision.hpp"
#include "output_checks.hpp"

#include <cmath>
#include <set>

using namespace conformance;

TEST_CASE("every layout mode gives distinct in-span offsets") {
  const int64_t ext[3] = {5, 3, 7};
  for (layout_mode m : {layout_mode::contiguous, layout_mode::padded, layout_mode::head_major,
                        layout_mode::inner_stride2}) {
    const strided_layout l = make_layout(3, ext, m, 4, 9);
    std::set<int64_t> seen;
    for (int64_t i = 0; i < l.count(); ++i) {
      const int64_t off = l.offset_of(i);
      REQUIRE(off >= 0);
      REQUIRE(off < l.span);
      seen.insert(off);
    }
    CHECK(seen.size() == (size_t)l.count());
    if (m == layout_mode::contiguous) CHECK(l.span == l.count());
    else CHECK(l.span > l.count());  // gaps exist
  }
}

TEST_CASE("the paged cache holds the logical rows and NaN everywhere else") {
  absorbed_case c;
  c.heads = 2;
  c.latent_dim = 8;
  c.rope_dim = 4;
  c.rope_first = true;
  c.row_pad = 2;
  c.s_q = {1, 2};
  c.s_k = {5, 9};
  c.page_size = 4;
  c.cache_dtype = MLA_DTYPE_BF16;
  c.seed = 11;
  const absorbed_images im = build_absorbed(c);
  const int D = 12;
  int64_t finite = 0;
  for (int64_t i = 0; i < im.num_pages * im.page_stride; ++i)
    finite += std::isfinite(load_element(c.cache_dtype, im.cache.data(), i));
  CHECK(finite == (5 + 9) * D);
  for (int b = 0; b < 2; ++b)
    for (int t = 0; t < c.s_k[b]; ++t) {
      const int64_t page = im.block_table[(size_t)(b * im.block_table_stride + t / 4)];
      const int64_t row = page * im.page_stride + (t % 4) * im.row_stride;
      for (int d = 0; d < 8; ++d)
        REQUIRE(load_element(c.cache_dtype, im.cache.data(), row + im.latent_offset + d) ==
                im.logical.rows[b][(size_t)t * D + d]);
    }
  // Unused block-table slots point at a page no sequence owns.
  std::set<int32_t> used;
  for (int b = 0; b < 2; ++b)
    for (int p = 0; p < (c.s_k[b] + 3) / 4; ++p) used.insert(im.block_table[(size_t)(b * im.block_table_stride + p)]);
  CHECK(used.count(im.unused_page) == 0);
  CHECK(used.size() == 2 + 3);  // distinct pages
}

namespace {

// A correct result for a small case, written straight from the oracle.
struct fixture {
  absorbed_images im;
  reference_outputs ref;
  host_tensor out, lse;
  fixture() {
    absorbed_case c;
    c.heads = 2;
    c.latent_dim = 16;
    c.rope_dim = 4;
    c.s_q = {2, 1};
    c.s_k = {0, 30};
    c.page_size = 7;
    c.out_dtype = MLA_DTYPE_F32;
    c.out_layout = layout_mode::padded;
    c.seed = 5;
    im = build_absorbed(c);
    ref = oracle_for(im);
    out = im.out;
    lse = im.lse;
    for (int64_t i = 0; i < out.layout.count(); ++i)
      store_element(out.dtype, out.bytes.data(), out.buffer_index(i), ref.out[(size_t)i]);
    for (int64_t i = 0; i < lse.layout.count(); ++i)
      store_element(lse.dtype, lse.bytes.data(), lse.buffer_index(i), ref.lse[(size_t)i]);
  }
};

}  // namespace

TEST_CASE("a correct output passes every check") {
  fixture f;
  std::string note;
  CHECK(check_values(f.out, f.ref, default_tolerance(), note) == "");
  CHECK(check_lse(f.lse, f.ref, default_tolerance(), note) == "");
  CHECK(check_unwritten(f.out, "out") == "");
  CHECK(check_outside_untouched(f.out, f.im.out, "out") == "");
  CHECK(bitwise_difference(f.out, f.out, "out") == "");
}

TEST_CASE("each check fails on its defect") {
  std::string note;
  {
    fixture f;  // an error well above tolerance
    const int64_t i = f.out.buffer_index(f.ref.dim * 2 * 2 + 3);  // a row that sees keys
    store_element(f.out.dtype, f.out.bytes.data(), i, load_element(f.out.dtype, f.out.bytes.data(), i) + 1e-3);
    CHECK(check_values(f.out, f.ref, default_tolerance(), note) != "");
  }
  {
    fixture f;  // a row that sees no key must be exactly zero
    store_element(f.out.dtype, f.out.bytes.data(), f.out.buffer_index(1), 1e-9);
    CHECK(check_values(f.out, f.ref, default_tolerance(), note) != "");
  }
  {
    fixture f;  // lse of an empty row must be -inf; others within tolerance
    store_element(1, f.lse.bytes.data(), f.lse.buffer_index(0), 0.0);
    CHECK(check_lse(f.lse, f.ref, default_tolerance(), note) != "");
    fixture g;
    const int64_t j = g.lse.buffer_index(5);
    store_element(1, g.lse.bytes.data(), j, load_element(1, g.lse.bytes.data(), j) * 1.001);
    CHECK(check_lse(g.lse, g.ref, default_tolerance(), note) != "");
  }
  {
    fixture f;  // an element left unwritten
    store_bits(f.out.dtype, f.out.bytes.data(), f.out.buffer_index(17), poison_bits(f.out.dtype));
    CHECK(check_unwritten(f.out, "out") != "");
  }
  {
    fixture f;  // a write into the guard after the tensor, and one into a gap
    store_element(f.out.dtype, f.out.bytes.data(), f.out.layout.guard + f.out.layout.span, 0.0);
    CHECK(check_outside_untouched(f.out, f.im.out, "out").find("guard after") != std::string::npos);
    fixture g;
    store_element(g.out.dtype, g.out.bytes.data(), g.out.layout.guard + g.ref.dim, 0.0);  // past row 0, head 0
    CHECK(check_outside_untouched(g.out, g.im.out, "out").find("gap") != std::string::npos);
  }
  {
    fixture f, g;  // one bit of difference between two runs
    const int64_t i = g.out.buffer_index(40);
    store_bits(g.out.dtype, g.out.bytes.data(), i, load_bits(g.out.dtype, g.out.bytes.data(), i) ^ 1u);
    CHECK(bitwise_difference(f.out, g.out, "out") != "");
  }
}
