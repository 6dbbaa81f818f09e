// SPDX-License-Identifier: MIT
#include "output_checks.hpp"

#include "low_precision.hpp"

#include <cmath>
#include <cstdio>
#include <cstring>

namespace conformance {
namespace {

std::string fmt(const char* f, double a, double b, double c) {
  char buf[256];
  std::snprintf(buf, sizeof buf, f, a, b, c);
  return buf;
}

}  // namespace

std::string format_index(const strided_layout& l, int64_t linear) {
  int64_t idx[4] = {0, 0, 0, 0};
  for (int i = l.rank - 1; i >= 0; --i) {
    idx[i] = linear % l.extent[i];
    linear /= l.extent[i];
  }
  std::string s = "[";
  for (int i = 0; i < l.rank; ++i) s += (i ? "," : "") + std::to_string(idx[i]);
  return s + "]";
}

std::string check_values(const host_tensor& out, const reference_outputs& ref, const tolerance_policy& tol,
                         std::string& note) {
  const int64_t n = out.layout.count();
  const uint32_t poison = poison_bits(out.dtype);
  const double limit = ref.out_tolerance(out.dtype, tol);
  double worst = 0;
  int64_t worst_at = -1;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t bi = out.buffer_index(i);
    if (load_bits(out.dtype, out.bytes.data(), bi) == poison) continue;  // reported by check_unwritten
    const double v = load_element(out.dtype, out.bytes.data(), bi);
    const double e = ref.out[(size_t)i];
    const int64_t row = i / ref.dim;
    if (std::isinf(ref.lse[(size_t)row]) && ref.lse[(size_t)row] < 0 && v != 0.0)
      return "row sees no key but out" + format_index(out.layout, i) + " = " + std::to_string(v) + " (must be 0)";
    if (!std::isfinite(v) && std::isfinite(e))
      return "out" + format_index(out.layout, i) + " = " + std::to_string(v) + " where the oracle has " +
             std::to_string(e);
    const double err = std::fabs(v - e);
    if (err > worst) {
      worst = err;
      worst_at = i;
    }
  }
  note = fmt("max |err| %.3g, tolerance %.3g (low-precision oracle %.3g)", worst, limit, ref.lowp_error);
  if (worst > limit) {
    const double v = load_element(out.dtype, out.bytes.data(), out.buffer_index(worst_at));
    return "out" + format_index(out.layout, worst_at) + fmt(" = %.9g, oracle %.9g: ", v, ref.out[(size_t)worst_at], 0) +
           note;
  }
  return "";
}

std::string check_lse(const host_tensor& lse, const reference_outputs& ref, const tolerance_policy& tol,
                      std::string& note) {
  const int64_t n = lse.layout.count();
  double worst_ratio = 0, worst_err = 0;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t bi = lse.buffer_index(i);
    if (load_bits(lse.dtype, lse.bytes.data(), bi) == poison_bits(lse.dtype)) continue;
    const double v = load_element(lse.dtype, lse.bytes.data(), bi);
    const double e = ref.lse[(size_t)i];
    if (std::isinf(e)) {
      if (!(std::isinf(v) && v < 0))
        return "lse" + format_index(lse.layout, i) + " = " + std::to_string(v) + ": a row that sees no key must be -inf";
      continue;
    }
    if (!std::isfinite(v))
      return "lse" + format_index(lse.layout, i) + " = " + std::to_string(v) + " where the oracle has " +
             std::to_string(e);
    const double err = std::fabs(v - e), limit = ref.lse_tolerance(e, tol);
    if (err / limit > worst_ratio) {
      worst_ratio = err / limit;
      worst_err = err;
    }
    if (err > limit)
      return "lse" + format_index(lse.layout, i) + fmt(" = %.9g, oracle %.9g, |err| %.3g", v, e, err) +
             fmt(" > tolerance %.3g", limit, 0, 0);
  }
  note = fmt("max |lse err| %.3g (%.2f of tolerance)", worst_err, worst_ratio, 0);
  return "";
}

std::string check_unwritten(const host_tensor& t, const char* what) {
  const int64_t n = t.layout.count();
  const uint32_t poison = poison_bits(t.dtype);
  int64_t missing = 0, first = -1;
  for (int64_t i = 0; i < n; ++i)
    if (load_bits(t.dtype, t.bytes.data(), t.buffer_index(i)) == poison) {
      if (first < 0) first = i;
      ++missing;
    }
  if (!missing) return "";
  return std::to_string(missing) + " of " + std::to_string(n) + " " + what + " elements never written (first " +
         what + format_index(t.layout, first) + ")";
}

std::string check_outside_untouched(const host_tensor& after, const host_tensor& before, const char* what) {
  const int64_t total = after.layout.buffer_elements();
  std::vector<bool> is_element((size_t)total, false);
  const int64_t n = after.layout.count();
  for (int64_t i = 0; i < n; ++i) is_element[(size_t)after.buffer_index(i)] = true;
  int64_t changed = 0, first = -1;
  for (int64_t b = 0; b < total; ++b) {
    if (is_element[(size_t)b]) continue;
    if (load_bits(after.dtype, after.bytes.data(), b) != load_bits(before.dtype, before.bytes.data(), b)) {
      if (first < 0) first = b;
      ++changed;
    }
  }
  if (!changed) return "";
  const int64_t g = after.layout.guard;
  std::string where = first < g                  ? "in the guard before the tensor"
                      : first >= g + after.layout.span ? "in the guard after the tensor"
                                                       : "in a gap between elements (strides not honoured)";
  return std::to_string(changed) + " " + what + " positions outside the tensor were written, first at element offset " +
         std::to_string(first - g) + " " + where;
}

std::string bitwise_difference(const host_tensor& a, const host_tensor& b, const char* what) {
  return bitwise_difference_rows(a, b, 0, a.layout.rank > 0 ? a.layout.extent[0] : 0, what);
}

std::string bitwise_difference_rows(const host_tensor& a, const host_tensor& b, int64_t row_begin, int64_t row_end,
                                    const char* what) {
  if (a.bytes.size() != b.bytes.size()) return std::string(what) + ": sizes differ";
  const int64_t n = a.layout.count();
  const int64_t per_row = a.layout.extent[0] > 0 ? n / a.layout.extent[0] : 0;
  for (int64_t i = row_begin * per_row; i < row_end * per_row; ++i) {
    const int64_t bi = a.buffer_index(i);
    if (load_bits(a.dtype, a.bytes.data(), bi) != load_bits(b.dtype, b.bytes.data(), bi))
      return std::string(what) + format_index(a.layout, i) +
             fmt(" differs: %.9g vs %.9g", load_element(a.dtype, a.bytes.data(), bi),
                 load_element(b.dtype, b.bytes.data(), bi), 0);
  }
  return "";
}

std::string compare_outputs(const host_tensor& a, const host_tensor& b, const reference_outputs& ref,
                            const tolerance_policy& tol) {
  const double limit = ref.out_tolerance(a.dtype, tol) + ref.out_tolerance(b.dtype, tol);
  const int64_t n = a.layout.count();
  for (int64_t i = 0; i < n; ++i) {
    const double va = load_element(a.dtype, a.bytes.data(), a.buffer_index(i));
    const double vb = load_element(b.dtype, b.bytes.data(), b.buffer_index(i));
    if (std::isnan(va) != std::isnan(vb) || std::fabs(va - vb) > limit)
      return "out" + format_index(a.layout, i) + fmt(": %.9g vs %.9g (allowed %.3g)", va, vb, limit);
  }
  return "";
}

}  // namespace conformance
