// SPDX-License-Identifier: MIT
#include "caps.hpp"

#include <cstdio>

#include "plugin_error.hpp"
#include "struct_fields.hpp"

namespace mla {

mla_status fill_caps(const backend_description& d, mla_caps* caps) {
  if (caps == nullptr) return fail(MLA_ERR_INVALID_ARGUMENT, "get_caps: caps is NULL");
  if (caps->struct_size < MLA_CAPS_SIZE_1_0)
    return fail(MLA_ERR_VERSION, "get_caps: caps.struct_size = %zu: must be >= %u (mla_caps in ABI 1.0)",
                caps->struct_size, MLA_CAPS_SIZE_1_0);
  const backend_limits& l = d.limits;
  caps->ops = d.ops;
  caps->q_dtypes = l.q_dtypes;
  caps->cache_dtypes = l.cache_dtypes;
  caps->out_dtypes = l.out_dtypes;
  caps->max_heads = l.max_heads;
  caps->max_latent_dim = l.max_latent_dim;
  caps->max_rope_dim = l.max_rope_dim;
  caps->latent_dim_multiple = l.latent_dim_multiple;
  caps->max_page_size = l.max_page_size;
  caps->reserved0 = 0;
  std::snprintf(caps->device_name, sizeof caps->device_name, "%s", d.device_name);
  if (!has_field(*caps, &mla_caps::kernels)) return MLA_OK;  // a 1.0 caller
  caps->memory_kind = d.memory_kind;
  caps->device_api = d.device_api;
  caps->context_flags = d.context_flags;
  const bool op_b = (d.ops & MLA_OP_BIT(MLA_OP_DECOMPRESSED)) != 0;
  caps->weight_dtypes = op_b ? l.weight_dtypes : 0;
  caps->max_nope_dim = op_b ? l.max_nope_dim : 0;
  caps->max_v_dim = op_b ? l.max_v_dim : 0;
  caps->decompressed_break_even_q = op_b ? d.decompressed_break_even_q : 0;
  caps->reserved1 = 0;
  std::snprintf(caps->kernels, sizeof caps->kernels, "%s", d.kernels);
  return MLA_OK;
}

}  // namespace mla
