// SPDX-License-Identifier: MIT
// An mla_tensor descriptor as the tools fill it (mla-demo, mla-bench): the
// data pointer, the dtype and up to three element strides.
#pragma once
#include <mla/mla_plugin.h>

#include <cstdint>

namespace mla_tools {

inline mla_tensor make_tensor(void* data, mla_dtype dtype, int64_t s0, int64_t s1, int64_t s2) {
  mla_tensor t{};
  t.struct_size = sizeof(t);
  t.data = data;
  t.dtype = dtype;
  t.stride[0] = s0;
  t.stride[1] = s1;
  t.stride[2] = s2;
  return t;
}

}  // namespace mla_tools
