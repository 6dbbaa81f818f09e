#include "caps.hpp"

#include <cstdio>

#include "plugin_error.hpp"

namespace mla {

mla_status fill_caps(const backend_limits& l, const char* device_name, mla_caps* caps) {
  if (caps == nullptr) return fail(MLA_ERR_INVALID_ARGUMENT, "get_caps: caps is NULL");
  if (caps->struct_size < sizeof(mla_caps))
    return fail(MLA_ERR_VERSION, "get_caps: caps.struct_size = %zu: must be >= %zu", caps->struct_size,
                sizeof(mla_caps));
  caps->ops = MLA_OP_BIT(MLA_OP_ABSORBED) | MLA_OP_BIT(MLA_OP_MERGE);
  caps->q_dtypes = l.q_dtypes;
  caps->cache_dtypes = l.cache_dtypes;
  caps->out_dtypes = l.out_dtypes;
  caps->max_heads = l.max_heads;
  caps->max_latent_dim = l.max_latent_dim;
  caps->max_rope_dim = l.max_rope_dim;
  caps->latent_dim_multiple = l.latent_dim_multiple;
  caps->max_page_size = l.max_page_size;
  caps->reserved0 = 0;
  std::snprintf(caps->device_name, sizeof caps->device_name, "%s", device_name);
  return MLA_OK;
}

}  // namespace mla
