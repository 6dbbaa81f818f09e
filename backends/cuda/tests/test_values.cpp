// SPDX-License-Identifier: MIT
#include "test_values.hpp"

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <mla/mla_plugin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>

namespace cuda_test {

void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(e));
}

int elem_size(int dtype) { return dtype == MLA_DTYPE_F32 ? 4 : 2; }

double encode(int dtype, double v, unsigned char* dst) {
  if (dtype == MLA_DTYPE_F32) {
    const float f = (float)v;
    std::memcpy(dst, &f, 4);
    return f;
  }
  if (dtype == MLA_DTYPE_F16) {
    const __half h = __float2half_rn((float)v);
    std::memcpy(dst, &h, 2);
    return __half2float(h);
  }
  const __nv_bfloat16 h = __float2bfloat16_rn((float)v);
  std::memcpy(dst, &h, 2);
  return __bfloat162float(h);
}

double decode(int dtype, const unsigned char* src) {
  if (dtype == MLA_DTYPE_F32) {
    float f;
    std::memcpy(&f, src, 4);
    return f;
  }
  if (dtype == MLA_DTYPE_F16) {
    __half h;
    std::memcpy(&h, src, 2);
    return __half2float(h);
  }
  __nv_bfloat16 h;
  std::memcpy(&h, src, 2);
  return __bfloat162float(h);
}

void* device_alloc(size_t bytes) {
  void* p = nullptr;
  check(cudaMalloc(&p, std::max<size_t>(bytes, 256)), "cudaMalloc");
  return p;
}

paged_layout make_paged_layout(const std::vector<int>& s_q, const std::vector<int>& s_k, int page_size,
                               std::mt19937_64& rng) {
  paged_layout L;
  const int batch = (int)s_q.size();
  L.cu.assign(batch + 1, 0);
  for (int b = 0; b < batch; ++b) L.cu[b + 1] = L.cu[b] + s_q[b];
  L.total_q = L.cu[batch];
  for (int b = 0; b < batch; ++b) L.max_pages = std::max(L.max_pages, (s_k[b] + page_size - 1) / page_size);
  L.max_pages = std::max(L.max_pages, 1) + 1;  // one spare entry per sequence
  L.num_pages = batch * L.max_pages + 3;       // some pages belong to nobody
  std::vector<int> perm(L.num_pages);
  std::iota(perm.begin(), perm.end(), 0);
  std::shuffle(perm.begin(), perm.end(), rng);
  L.block_table.assign((size_t)batch * L.max_pages, 0);
  for (int b = 0, next = 0; b < batch; ++b)
    for (int p = 0; p < (s_k[b] + page_size - 1) / page_size; ++p)
      L.block_table[(size_t)b * L.max_pages + p] = perm[next++];
  return L;
}

void output_check::take_worst(const output_check& r) {
  max_err = std::max(max_err, r.max_err / std::max(r.ref_max, 1e-30));
  ref_max = 1.0;
  lse_err = std::max(lse_err, r.lse_err);
  unwritten += r.unwritten;
  stray_writes += r.stray_writes;
}

void check_outputs(const std::vector<unsigned char>& out, int out_dtype, int width, int64_t stride,
                   const std::vector<float>& lse, bool lse_asked, const std::vector<int>& cu, int heads,
                   const std::vector<int>& invalid, const std::vector<double>& ref,
                   const std::vector<double>& ref_lse, output_check& r) {
  constexpr double inf = std::numeric_limits<double>::infinity();
  const int es = elem_size(out_dtype);
  std::vector<unsigned char> poison(es, 0x7f);
  float lse_poison;
  std::memset(&lse_poison, 0x7f, 4);
  for (int b = 0; b + 1 < (int)cu.size(); ++b) {
    const bool bad = std::find(invalid.begin(), invalid.end(), b) != invalid.end();
    for (int row = cu[b]; row < cu[b + 1]; ++row) {
      for (int h = 0; h < heads; ++h) {
        const size_t rh = (size_t)row * heads + h;
        const unsigned char* o = &out[rh * stride * es];
        for (int64_t e = width; e < stride; ++e)
          if (std::memcmp(o + (size_t)e * es, poison.data(), es) != 0) ++r.stray_writes;
        const float got_lse = lse[rh * 2];
        if (std::memcmp(&lse[rh * 2 + 1], &lse_poison, 4) != 0) ++r.stray_writes;
        if (!lse_asked && std::memcmp(&lse[rh * 2], &lse_poison, 4) != 0) ++r.stray_writes;
        if (bad) {
          bool all_nan = !lse_asked || std::isnan(got_lse);
          for (int e = 0; e < width; ++e) all_nan = all_nan && std::isnan(decode(out_dtype, o + (size_t)e * es));
          if (!all_nan) ++r.unwritten;
          continue;
        }
        for (int e = 0; e < width; ++e) {
          if (std::memcmp(o + (size_t)e * es, poison.data(), es) == 0) {
            ++r.unwritten;
            continue;
          }
          const double v = decode(out_dtype, o + (size_t)e * es), want = ref[rh * width + e];
          r.ref_max = std::max(r.ref_max, std::fabs(want));
          r.max_err = std::isnan(v) ? inf : std::max(r.max_err, std::fabs(v - want));
        }
        if (lse_asked) {
          const double want = ref_lse[rh];
          if (std::isinf(want)) {
            if (!(std::isinf(got_lse) && got_lse < 0)) r.lse_err = inf;
          } else {
            r.lse_err = std::isnan(got_lse) ? inf : std::max(r.lse_err, std::fabs(got_lse - want));
          }
        }
      }
    }
  }
}

}  // namespace cuda_test
