// SPDX-License-Identifier: MIT
// Host test of mfma_layout.hpp against AMD's documented register layouts.
// The expected tables below are written from the documentation's wording
// ("first 32 lanes of a[0] cover column 0, last 32 lanes cover column 4",
// "d[4:7] cover rows 8-15", ...), not from the header's formulas.
#include "mfma_layout.hpp"

#include <doctest/doctest.h>

#include <set>
#include <utility>

using namespace mla_hip::mfma;

namespace {

// 32x32x8 (f16 / bf16_1k), as documented.
coord doc32_a(int lane, int v) {  // consecutive lanes: rows; upper 32 lanes: columns +4
  return {lane % 32, v + (lane < 32 ? 0 : 4)};
}
coord doc32_b(int lane, int v) {  // consecutive lanes: columns; upper 32 lanes: rows +4
  return {v + (lane < 32 ? 0 : 4), lane % 32};
}
coord doc32_d(int lane, int r) {  // d[0:3] rows 0-7, d[4:7] rows 8-15, ...; upper lanes +4
  const int band_first_row[4] = {0, 8, 16, 24};
  return {band_first_row[r / 4] + r % 4 + (lane < 32 ? 0 : 4), lane % 32};
}
// 16x16x16 (f16 / bf16_1k): a[v] covers columns v, v+4, v+8, v+12 for the
// four groups of 16 lanes; d[v] covers rows v, v+4, v+8, v+12 likewise.
coord doc16_a(int lane, int v) { return {lane % 16, v + 4 * (lane / 16)}; }
coord doc16_b(int lane, int v) { return {v + 4 * (lane / 16), lane % 16}; }
coord doc16_d(int lane, int r) { return {r + 4 * (lane / 16), lane % 16}; }

bool same(coord a, coord b) { return a.row == b.row && a.col == b.col; }

template <class Shape, class ElementFn, class SlotFn>
void check_bijection(int rows, int cols, int per_lane, ElementFn element, SlotFn slot_of) {
  std::set<std::pair<int, int>> seen;
  for (int lane = 0; lane < wave_size; ++lane)
    for (int i = 0; i < per_lane; ++i) {
      const coord c = element(lane, i);
      REQUIRE(c.row >= 0);
      REQUIRE(c.row < rows);
      REQUIRE(c.col >= 0);
      REQUIRE(c.col < cols);
      CHECK(seen.insert({c.row, c.col}).second);  // no element held twice
      const slot s = slot_of(c.row, c.col);
      CHECK(s.lane == lane);
      CHECK(s.index == i);
    }
  CHECK(seen.size() == size_t(rows) * cols);  // every element held
}

}  // namespace

TEST_CASE("32x32x8: sizes") {
  CHECK(shape_32x32x8::k == 8);
  CHECK(shape_32x32x8::c_elements == 16);
  static_assert(shape_32x32x8::a_slot(31, 7).lane == 63, "constexpr in the kernel too");
}

TEST_CASE("32x32x8: A, B and D follow the documented layout") {
  using S = shape_32x32x8;
  for (int lane = 0; lane < 64; ++lane) {
    for (int v = 0; v < 4; ++v) {
      CHECK(same(S::a_element(lane, v), doc32_a(lane, v)));
      CHECK(same(S::b_element(lane, v), doc32_b(lane, v)));
    }
    for (int r = 0; r < 16; ++r) CHECK(same(S::c_element(lane, r), doc32_d(lane, r)));
  }
  // Spot values read off the documentation's tables.
  CHECK(same(S::c_element(37, 6), coord{14, 5}));   // d[6]: band 8-15, row 8+2, upper lanes +4
  CHECK(same(S::c_element(0, 15), coord{27, 0}));
  CHECK(same(S::a_element(40, 1), coord{8, 5}));
  CHECK(S::c_slot(31, 31).lane == 63);
  CHECK(S::c_slot(31, 31).index == 15);
}

TEST_CASE("32x32x8: every element in exactly one lane/register, inverse agrees") {
  using S = shape_32x32x8;
  check_bijection<S>(32, 8, 4, S::a_element, S::a_slot);
  check_bijection<S>(8, 32, 4, S::b_element, S::b_slot);
  check_bijection<S>(32, 32, 16, S::c_element, S::c_slot);
}

TEST_CASE("16x16x16: A, B and D follow the documented layout") {
  using S = shape_16x16x16;
  CHECK(S::k == 16);
  CHECK(S::c_elements == 4);
  for (int lane = 0; lane < 64; ++lane) {
    for (int v = 0; v < 4; ++v) {
      CHECK(same(S::a_element(lane, v), doc16_a(lane, v)));
      CHECK(same(S::b_element(lane, v), doc16_b(lane, v)));
      CHECK(same(S::c_element(lane, v), doc16_d(lane, v)));
    }
  }
  CHECK(same(S::c_element(63, 0), coord{12, 15}));  // "last 16 lanes of d[0] cover row 12"
  check_bijection<S>(16, 16, 4, S::a_element, S::a_slot);
  check_bijection<S>(16, 16, 4, S::b_element, S::b_slot);
  check_bijection<S>(16, 16, 4, S::c_element, S::c_slot);
}
