// Fills mla_caps from the limits a backend validates against, so what a
// plugin claims and what its validator accepts cannot drift apart.
#pragma once
#include <mla/mla_plugin.h>

#include "validate.hpp"

namespace mla {

// Checks `caps` (NULL, struct_size) and fills it: ops A and C, the dtype
// masks and limits from `limits`, and `device_name` (truncated to fit).
mla_status fill_caps(const backend_limits& limits, const char* device_name, mla_caps* caps);

}  // namespace mla
