// SPDX-License-Identifier: MIT
// Strided tensors inside host images with guard regions on both sides, so a
// write outside the tensor (or into a gap between its elements) is visible.
#pragma once
#include "case_spec.hpp"

#include <cstdint>
#include <vector>

namespace conformance {

struct strided_layout {
  int rank = 0;
  int64_t extent[4] = {0, 0, 0, 0};
  int64_t stride[4] = {0, 0, 0, 0};  // elements, as passed in mla_tensor.stride
  int64_t guard = 0;                 // poisoned elements before and after the span
  int64_t span = 0;                  // elements from the first to past the last element

  int64_t count() const;             // logical elements
  int64_t buffer_elements() const { return 2 * guard + span; }
  // Element offset from the tensor origin of logical element `linear`
  // (row-major over `extent`).
  int64_t offset_of(int64_t linear) const;
};

// `pad_seed` picks the gap sizes (1..7 elements) for the padded modes.
strided_layout make_layout(int rank, const int64_t* extent, layout_mode mode, int64_t guard, uint64_t pad_seed);

// A host image of a backend buffer: guard + strided tensor + guard.
struct host_tensor {
  int32_t dtype = 0;
  strided_layout layout;
  std::vector<unsigned char> bytes;

  void allocate(int32_t dtype, const strided_layout& layout, uint32_t fill_bits);
  int64_t origin_byte_offset() const;
  void* origin() { return bytes.data() + origin_byte_offset(); }
  const void* origin() const { return bytes.data() + origin_byte_offset(); }
  // Buffer-relative element index of logical element `linear`.
  int64_t buffer_index(int64_t linear) const { return layout.guard + layout.offset_of(linear); }
};

}  // namespace conformance
