// SPDX-License-Identifier: MIT
// Op C (merge_states) of the cpu plugin against the fp64 oracle: P parts,
// every float dtype, strided tensors, empty (-inf) parts, poisoned outputs
// with guards; and every invalid argument rejected without a write.
#include "oracle.hpp"
#include "plugin_handle.hpp"
#include "test_dtypes.hpp"

#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

using namespace cpu_test;

namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();
constexpr int64_t kGuard = 32;

struct merge_case {
  int P, R, H, Dv, part_dtype, out_dtype;
  bool strided, want_lse;
  uint64_t seed;

  std::vector<unsigned char> parts_out, parts_lse, out, lse;
  std::vector<double> ref_parts_out, ref_parts_lse, want_out, oracle_lse;
  mla_merge_args args{};
  int64_t out_span = 0, lse_span = 0;

  void build() {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> unit(-1, 1), lse_dist(-6, 6);
    args.struct_size = sizeof args;
    args.num_parts = P;
    args.head_dim = Dv;
    args.num_rows = R;
    args.num_heads = H;
    // parts_out [P, R, H, Dv]: strided = parts innermost of the head dims.
    mla_tensor& po = args.parts_out;
    po.struct_size = sizeof po;
    po.dtype = part_dtype;
    if (strided) {
      po.stride[3] = 1; po.stride[0] = Dv + 3; po.stride[2] = P * po.stride[0] + 1; po.stride[1] = H * po.stride[2] + 2;
    } else {
      po.stride[3] = 1; po.stride[2] = Dv; po.stride[1] = (int64_t)H * Dv; po.stride[0] = (int64_t)R * H * Dv;
    }
    const int64_t po_span = (P - 1) * po.stride[0] + (R - 1) * po.stride[1] + (H - 1) * po.stride[2] + (Dv - 1) + 1;
    parts_out.assign((size_t)po_span * elem_size(part_dtype), 0);
    fill_poison(parts_out.data(), part_dtype, po_span);
    mla_tensor& pl = args.parts_lse;
    pl.struct_size = sizeof pl;
    pl.dtype = MLA_DTYPE_F32;
    pl.stride[2] = 1; pl.stride[1] = H; pl.stride[0] = (int64_t)R * H + (strided ? 5 : 0);
    const int64_t pl_span = (P - 1) * pl.stride[0] + (R - 1) * pl.stride[1] + (H - 1) + 1;
    parts_lse.assign((size_t)pl_span * 4, 0);
    fill_poison(parts_lse.data(), MLA_DTYPE_F32, pl_span);

    const long RH = (long)R * H;
    ref_parts_out.assign((size_t)P * RH * Dv, 0);
    ref_parts_lse.assign((size_t)P * RH, 0);
    for (int p = 0; p < P; ++p)
      for (int r = 0; r < R; ++r)
        for (int h = 0; h < H; ++h) {
          const size_t k = (size_t)p * RH + (size_t)r * H + h;
          // Some parts empty (o is NaN there: must not be read), some rows all-empty.
          const bool empty = (r % 5 == 4) || ((p + r + h) % 3 == 0);
          const double l = empty ? kNegInf : (double)(float)lse_dist(rng);
          ref_parts_lse[k] = l;
          put(parts_lse.data(), MLA_DTYPE_F32, p * pl.stride[0] + r * pl.stride[1] + h * pl.stride[2], l);
          for (int d = 0; d < Dv; ++d) {
            const int64_t at = p * po.stride[0] + r * po.stride[1] + h * po.stride[2] + d;
            if (empty) continue;  // left NaN
            const double v = round_to(part_dtype, unit(rng));
            ref_parts_out[k * Dv + d] = v;
            put(parts_out.data(), part_dtype, at, v);
          }
        }
    po.data = parts_out.data();
    pl.data = parts_lse.data();

    mla_tensor& o = args.out;
    o.struct_size = sizeof o;
    o.dtype = out_dtype;
    o.stride[2] = strided ? 2 : 1; o.stride[1] = Dv * o.stride[2] + (strided ? 1 : 0); o.stride[0] = H * o.stride[1];
    out_span = R ? (R - 1) * o.stride[0] + (H - 1) * o.stride[1] + (Dv - 1) * o.stride[2] + 1 : 0;
    out.assign((size_t)(out_span + 2 * kGuard) * elem_size(out_dtype), 0);
    o.data = out.data() + kGuard * elem_size(out_dtype);
    mla_tensor& l = args.lse;
    l.struct_size = sizeof l;
    l.dtype = MLA_DTYPE_F32;
    l.stride[0] = strided ? 1 : H; l.stride[1] = strided ? R : 1;
    lse_span = R ? (R - 1) * l.stride[0] + (H - 1) * l.stride[1] + 1 : 0;
    lse.assign((size_t)(lse_span + 2 * kGuard) * 4, 0);
    l.data = want_lse ? lse.data() + kGuard * 4 : nullptr;
    poison();

    // The oracle treats an empty part's o as 0 (it is multiplied by exp(-inf) = 0).
    oracle::merge(P, RH, Dv, ref_parts_out, ref_parts_lse, want_out, oracle_lse);
  }

  void poison() {
    fill_poison(out.data(), out_dtype, out_span + 2 * kGuard);
    fill_poison(lse.data(), MLA_DTYPE_F32, lse_span + 2 * kGuard);
  }

  // Tolerance: f32 merge of P weighted terms (|o_p| <= 1, weights sum to 1):
  // a few f32 ulps, 1e-6; plus half an ulp of the out dtype (see absorbed_case.cpp).
  std::string check() const {
    const double rel = out_dtype == MLA_DTYPE_BF16 ? 0x1p-8 : out_dtype == MLA_DTYPE_F16 ? 0x1p-11 : 0.0;
    const double abs_tol = 2e-6 + (out_dtype == MLA_DTYPE_F16 ? 0x1p-25 : 0.0);
    std::vector<char> used_out(out_span + 2 * kGuard, 0), used_lse(lse_span + 2 * kGuard, 0);
    const void* o = args.out.data;
    for (int r = 0; r < R; ++r)
      for (int h = 0; h < H; ++h) {
        for (int d = 0; d < Dv; ++d) {
          const int64_t at = r * args.out.stride[0] + h * args.out.stride[1] + d * args.out.stride[2];
          used_out[kGuard + at] = 1;
          const double want = want_out[((size_t)r * H + h) * Dv + d];
          if (is_poison(o, out_dtype, at)) return "out not written at r=" + std::to_string(r);
          const double got = get(o, out_dtype, at);
          if (!(std::fabs(got - want) <= rel * std::fabs(want) + abs_tol))
            return "out[" + std::to_string(r) + "][" + std::to_string(h) + "][" + std::to_string(d) +
                   "] = " + std::to_string(got) + ", oracle " + std::to_string(want);
        }
        if (!want_lse) continue;
        const int64_t at = r * args.lse.stride[0] + h * args.lse.stride[1];
        used_lse[kGuard + at] = 1;
        const double want = oracle_lse[(size_t)r * H + h], got = get(args.lse.data, MLA_DTYPE_F32, at);
        const bool ok = std::isinf(want) ? got == want : std::fabs(got - want) <= 1e-5 + 1e-6 * std::fabs(want);
        if (!ok) return "lse[" + std::to_string(r) + "][" + std::to_string(h) + "] = " + std::to_string(got) +
                        ", oracle " + std::to_string(want);
      }
    for (int64_t i = 0; i < out_span + 2 * kGuard; ++i)
      if (!used_out[i] && !is_poison(out.data(), out_dtype, i)) return "out buffer overwritten outside the output";
    for (int64_t i = 0; i < lse_span + 2 * kGuard; ++i)
      if (!used_lse[i] && !is_poison(lse.data(), MLA_DTYPE_F32, i)) return "lse buffer overwritten outside the output";
    return "";
  }
};

const int kDtypes[3] = {MLA_DTYPE_F32, MLA_DTYPE_F16, MLA_DTYPE_BF16};

}  // namespace

TEST_CASE("merge_states: parts x dtypes x strides vs the oracle") {
  context ctx(2);
  uint64_t seed = 100;
  for (int P : {1, 2, 5})
    for (int pd : kDtypes)
      for (int od : kDtypes) {
        merge_case c{P, 11, 3, 300, pd, od, seed % 2 == 0, seed % 3 != 0, ++seed};
        c.build();
        INFO("seed=", c.seed, " P=", P, " parts=", dtype_name(pd), " out=", dtype_name(od), " strided=", c.strided,
             " lse=", c.want_lse);
        REQUIRE(cpu_api().merge_states(ctx.get(), &c.args) == MLA_OK);
        CHECK(c.check() == "");
      }
}

TEST_CASE("merge_states: zero rows is a no-op") {
  context ctx(1);
  merge_case c{2, 0, 2, 8, MLA_DTYPE_F32, MLA_DTYPE_F32, false, true, 7};
  c.build();
  CHECK(cpu_api().merge_states(ctx.get(), &c.args) == MLA_OK);
  CHECK(c.check() == "");
}

TEST_CASE("merge_states: every invalid argument is rejected, named, nothing written") {
  context ctx(2);
  struct bad {
    const char* what;
    mla_status code;
    const char* needle;
    std::function<void(mla_merge_args&)> mutate;
  };
  const mla_status INVALID = MLA_ERR_INVALID_ARGUMENT;
  const std::vector<bad> cases = {
      {"struct_size", MLA_ERR_VERSION, "merge_args.struct_size", [](auto& a) { a.struct_size = 4; }},
      {"num_parts 0", INVALID, "merge_args.num_parts", [](auto& a) { a.num_parts = 0; }},
      {"head_dim 0", INVALID, "merge_args.head_dim", [](auto& a) { a.head_dim = 0; }},
      {"num_rows < 0", INVALID, "merge_args.num_rows", [](auto& a) { a.num_rows = -1; }},
      {"num_heads 0", INVALID, "merge_args.num_heads", [](auto& a) { a.num_heads = 0; }},
      {"reserved0", INVALID, "merge_args.reserved0", [](auto& a) { a.reserved0 = 1; }},
      {"parts_out NULL", INVALID, "merge_args.parts_out.data", [](auto& a) { a.parts_out.data = nullptr; }},
      {"parts_out dtype", MLA_ERR_UNSUPPORTED, "merge_args.parts_out.dtype", [](auto& a) { a.parts_out.dtype = MLA_DTYPE_Q8_0; }},
      {"parts_out stride", INVALID, "merge_args.parts_out.stride[0]", [](auto& a) { a.parts_out.stride[0] = -4; }},
      {"parts_lse NULL", INVALID, "merge_args.parts_lse.data", [](auto& a) { a.parts_lse.data = nullptr; }},
      {"parts_lse dtype", MLA_ERR_UNSUPPORTED, "merge_args.parts_lse.dtype", [](auto& a) { a.parts_lse.dtype = MLA_DTYPE_BF16; }},
      {"parts_lse stride[3]", INVALID, "merge_args.parts_lse.stride[3]", [](auto& a) { a.parts_lse.stride[3] = 2; }},
      {"out NULL", INVALID, "merge_args.out.data", [](auto& a) { a.out.data = nullptr; }},
      {"out dtype", INVALID, "merge_args.out.dtype", [](auto& a) { a.out.dtype = 17; }},
      {"out overlapping", INVALID, "merge_args.out.stride", [](auto& a) { a.out.stride[0] = 1; }},
      {"out.struct_size", MLA_ERR_VERSION, "merge_args.out.struct_size", [](auto& a) { a.out.struct_size = 0; }},
      {"lse dtype", MLA_ERR_UNSUPPORTED, "merge_args.lse.dtype", [](auto& a) { a.lse.dtype = MLA_DTYPE_F16; }},
      {"lse overlapping", INVALID, "merge_args.lse.stride", [](auto& a) { a.lse.stride[1] = 0; }},
  };
  for (const bad& b : cases) {
    merge_case c{2, 4, 3, 16, MLA_DTYPE_F32, MLA_DTYPE_BF16, false, true, 1};
    c.build();
    mla_merge_args args = c.args;
    b.mutate(args);
    const auto out0 = c.out, lse0 = c.lse;
    const mla_status st = cpu_api().merge_states(ctx.get(), &args);
    const std::string msg = cpu_api().last_error();
    INFO(b.what, ": ", msg);
    CHECK(st == b.code);
    CHECK(msg.find(b.needle) != std::string::npos);
    CHECK(c.out == out0);
    CHECK(c.lse == lse0);
  }
  CHECK(cpu_api().merge_states(ctx.get(), nullptr) == INVALID);
  CHECK(std::string(cpu_api().last_error()).find("merge_args is NULL") != std::string::npos);
}
