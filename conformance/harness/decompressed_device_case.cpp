// SPDX-License-Identifier: MIT
#include "decompressed_device_case.hpp"

#include "low_precision.hpp"

namespace conformance {

device_decompressed::device_decompressed(mla_tools::backend_memory& mem, const decompressed_images& im)
    : device_attention(mem, im.base, im.spec.attention, im.q, im.out, im.lse), im_(im) {
  weights_ = upload_bytes(mem, im.weights.data(), im.weights.size());

  const decompressed_case& d = im.spec;
  mla_decompressed_args& a = args_;
  a.nope_dim = d.nope_dim;
  a.v_dim = d.v_dim;
  a.mode = d.mode;
  const int wbytes = element_bytes(d.weight_dtype);
  auto weight_view = [&](int64_t offset, const int64_t* stride) {
    mla_tensor t{};
    t.struct_size = sizeof t;
    t.dtype = d.weight_dtype;
    t.data = (char*)weights_.get() + offset * wbytes;
    for (int i = 0; i < 3; ++i) t.stride[i] = stride[i];
    return t;
  };
  a.w_uk = weight_view(im.w_uk_offset, im.w_uk_stride);
  a.w_uv = weight_view(im.w_uv_offset, im.w_uv_stride);
}

call_outcome device_decompressed::execute_mode(const mla_api* api, mla_context* ctx, int32_t mode) {
  mla_decompressed_args a = args_;
  a.mode = mode;
  return with_own_workspace(api, ctx, a);
}

std::string device_decompressed::changed_inputs() {
  mem_.synchronize();
  std::string r = changed_q();
  if (r.empty()) r = compare_upload(mem_, weights_, im_.weights.data(), im_.weights.size(), "w_uk / w_uv");
  if (r.empty()) r = changed_paged_inputs();
  return r;
}

}  // namespace conformance
