// SPDX-License-Identifier: MIT
#include "strided_layout.hpp"

#include "low_precision.hpp"

#include <algorithm>
#include <random>
#include <utility>

namespace conformance {

const char* layout_label(layout_mode mode) {
  switch (mode) {
    case layout_mode::contiguous: return "dense";
    case layout_mode::padded: return "padded";
    case layout_mode::head_major: return "headmajor";
    case layout_mode::inner_stride2: return "inner2";
  }
  return "?";
}

int64_t strided_layout::count() const {
  int64_t n = 1;
  for (int i = 0; i < rank; ++i) n *= extent[i];
  return n;
}

int64_t strided_layout::offset_of(int64_t linear) const {
  int64_t off = 0;
  for (int i = rank - 1; i >= 0; --i) {
    off += (linear % extent[i]) * stride[i];
    linear /= extent[i];
  }
  return off;
}

strided_layout make_layout(int rank, const int64_t* extent, layout_mode mode, int64_t guard, uint64_t pad_seed) {
  strided_layout l;
  l.rank = rank;
  l.guard = guard;
  for (int i = 0; i < rank; ++i) l.extent[i] = extent[i];
  // Dimensions from outermost to innermost in memory.
  int order[4] = {0, 1, 2, 3};
  if (mode == layout_mode::head_major) {
    // Tensors here are [..., rows, heads] or [..., rows, heads, dim]: put heads before rows.
    const int head = rank >= 3 ? rank - 2 : rank - 1;
    std::swap(order[head - 1], order[head]);
  }
  std::mt19937_64 rng(pad_seed);
  std::uniform_int_distribution<int> gap(1, 7);
  int64_t step = mode == layout_mode::inner_stride2 ? 2 : 1;
  for (int k = rank - 1; k >= 0; --k) {
    const int d = order[k];
    l.stride[d] = step;
    const int64_t pad = mode == layout_mode::contiguous ? 0 : gap(rng);
    step = std::max<int64_t>(extent[d], 1) * step + pad;
  }
  if (l.count() == 0) {
    l.span = 0;
  } else {
    l.span = 1;
    for (int i = 0; i < rank; ++i) l.span += (extent[i] - 1) * l.stride[i];
  }
  return l;
}

void host_tensor::allocate(int32_t dt, const strided_layout& lay, uint32_t fill_bits) {
  dtype = dt;
  layout = lay;
  const int64_t n = layout.buffer_elements();
  bytes.assign((size_t)n * element_bytes(dtype), 0);
  for (int64_t i = 0; i < n; ++i) store_bits(dtype, bytes.data(), i, fill_bits);
}

int64_t host_tensor::origin_byte_offset() const { return layout.guard * element_bytes(dtype); }

}  // namespace conformance
