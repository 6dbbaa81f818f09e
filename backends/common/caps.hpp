// SPDX-License-Identifier: MIT
// Fills mla_caps from the description a backend gives of a context, whose
// limits are also what its validator enforces, so what a plugin claims and
// what it accepts cannot drift apart.
#pragma once
#include <mla/mla_plugin.h>

#include "validate.hpp"

namespace mla {

struct backend_description {
  backend_limits limits;
  uint32_t ops = MLA_OP_BIT(MLA_OP_ABSORBED) | MLA_OP_BIT(MLA_OP_MERGE);
  const char* device_name = "";
  int32_t memory_kind = MLA_MEMORY_HOST;
  int32_t device_api = MLA_DEVICE_API_NONE;
  uint32_t context_flags = 0;  // filled by the plugin skeleton
  int32_t decompressed_break_even_q = 0;
  const char* kernels = "";  // comma-separated, fastest first
};

// Checks `caps` (NULL, struct_size >= the 1.0 size) and fills what its
// struct_size covers: the 1.0 fields, then the 1.1 fields.
mla_status fill_caps(const backend_description& d, mla_caps* caps);

}  // namespace mla
