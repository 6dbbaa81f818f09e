// SPDX-License-Identifier: MIT
// The fuzzers' own model of what the ABI promises (docs/abi.md 4.1), in
// 128-bit arithmetic, independent of backends/common/validate.cpp:
//   - which calls every plugin must refuse (a span past the maximum element
//     offset, an output overlapping an input or another output, a scale
//     outside (0, 65536]): the target then checks the refusal and that
//     nothing was written;
//   - which calls describe only memory the fuzzer allocated: only those are
//     run (the plugin may trust a caller's memory; ASan checks the plugin
//     stays inside it).
#pragma once
#include <mla/mla_plugin.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "fuzz_input.hpp"

namespace mla_fuzz {

using i128 = __int128;
constexpr i128 kMaxElementOffset = ((i128)1 << 56) - 1;

inline int element_bytes(int32_t dtype) {
  return dtype == MLA_DTYPE_F32 ? 4 : (dtype == MLA_DTYPE_F16 || dtype == MLA_DTYPE_BF16) ? 2 : 0;
}

// Bytes [first, last) of a buffer as the ABI sees it; `wraps`: past the
// address space.
struct span {
  i128 first = 0, last = 0;
  bool empty() const { return last <= first; }
  bool overlaps(const span& o) const { return !empty() && !o.empty() && first < o.last && o.first < last; }
};

inline span bytes_at(const void* p, i128 bytes) {
  span s;
  if (p == nullptr || bytes <= 0) return s;
  s.first = (i128)reinterpret_cast<uintptr_t>(p);
  s.last = s.first + bytes;
  return s;
}

// The index arrays and the workspace an op A or op B call names
// (mla_absorbed_args, mla_decompressed_args): the workspace counts only
// when the plugin asked for one (`sized`, `need` > 0); `ws_used` is the
// part of it the plugin may write.
struct index_spans {
  span cu_seqlens_q, seqlens_k, block_table, workspace, ws_used;
};
template <class Args>
index_spans model_index_spans(const Args& x, bool sized, size_t need) {
  index_spans s;
  const i128 Bn = std::max<int32_t>(x.batch, 0);
  if (Bn) {
    s.cu_seqlens_q = bytes_at(x.cu_seqlens_q, 4 * (Bn + 1));
    s.seqlens_k = bytes_at(x.kv.seqlens_k, 4 * Bn);
    s.block_table = bytes_at(x.kv.block_table, 4 * Bn * std::max<i128>(x.kv.block_table_stride, 0));
  }
  if (sized && need > 0) {
    s.workspace = bytes_at(x.workspace, (i128)x.workspace_bytes);
    s.ws_used = bytes_at(x.workspace, (i128)std::min(need, x.workspace_bytes));
  }
  return s;
}

// What the model concludes about one call.
struct verdict {
  bool must_refuse = false;  // a rule of docs/abi.md 4.1 is broken
  bool memory_legal = true;  // every region the call describes is fuzzer memory
  void refuse() { must_refuse = true; }
};

// A tensor of `rank` dims: refused when non-empty and NULL (unless
// optional), with a negative stride, past the maximum element offset, or
// wrapping; else its span.
inline span model_tensor(const mla_tensor& t, int rank, const i128* extent, bool optional, verdict& v) {
  for (int i = 0; i < rank; ++i)
    if (extent[i] <= 0) return {};  // no element (a negative extent is refused elsewhere)
  if (t.data == nullptr) {
    if (!optional) v.refuse();
    return {};
  }
  i128 last = 0;
  for (int i = 0; i < rank; ++i) {
    if (t.stride[i] < 0) {
      v.refuse();
      return {};
    }
    // Each term < 2^126; capped at 2^100 (past any limit) so the sum fits.
    last += std::min<i128>((extent[i] - 1) * (i128)t.stride[i], (i128)1 << 100);
  }
  const int eb = element_bytes(t.dtype);
  if (last > kMaxElementOffset || eb == 0) {
    v.refuse();
    return {};
  }
  span s = bytes_at(t.data, (last + 1) * eb);
  if (s.last > (i128)UINTPTR_MAX) v.refuse();
  return s;
}

// The paged cache: the span every page a block table may name covers.
inline span model_cache(const mla_paged_cache& kv, int32_t batch, int32_t Dl, int32_t Dr, verdict& v) {
  if (kv.page_size < 1 || kv.num_pages < 1 || kv.latent_offset < 0 || kv.rope_offset < 0 || kv.block_table_stride < 1) {
    v.refuse();
    return {};
  }
  const i128 row = std::max<i128>((i128)kv.latent_offset + Dl, (i128)kv.rope_offset + Dr);
  i128 page = row;
  if (kv.page_size > 1) {
    if (kv.row_stride < row) v.refuse();
    page = (i128)(kv.page_size - 1) * kv.row_stride + row;
  }
  i128 last = page - 1;
  if (kv.num_pages > 1) {
    if (kv.page_stride < page) v.refuse();
    last += (i128)(kv.num_pages - 1) * kv.page_stride;
  }
  if (last > kMaxElementOffset || (batch > 0 && (i128)batch * kv.block_table_stride - 1 > kMaxElementOffset)) {
    v.refuse();
    return {};
  }
  const int eb = element_bytes(kv.dtype);
  if (kv.data == nullptr || eb == 0) return {};
  span s = bytes_at(kv.data, (last + 1) * eb);
  if (s.last > (i128)UINTPTR_MAX) v.refuse();
  return s;
}

inline void model_scale(float scale, verdict& v) {
  if (!std::isfinite(scale) || scale <= 0.0f || scale > 65536.0f) v.refuse();
}

// The aliasing rule: no output over an input or over another output.
inline void model_aliasing(const span* outputs, int num_outputs, const span* inputs, int num_inputs, verdict& v) {
  for (int o = 0; o < num_outputs; ++o) {
    for (int i = 0; i < num_inputs; ++i)
      if (outputs[o].overlaps(inputs[i])) v.refuse();
    for (int p = 0; p < o; ++p)
      if (outputs[o].overlaps(outputs[p])) v.refuse();
  }
}

// Every region must lie inside a buffer the fuzzer allocated (or be empty).
inline void model_memory(const buffers& b, const span* regions, int n, verdict& v) {
  for (int i = 0; i < n; ++i) {
    if (regions[i].empty()) continue;
    if (regions[i].last > (i128)UINTPTR_MAX ||
        !b.inside((uintptr_t)regions[i].first, (uintptr_t)regions[i].last))
      v.memory_legal = false;
  }
}

}  // namespace mla_fuzz
