// SPDX-License-Identifier: MIT
// Printing a plugin's capabilities (mla_caps) for mla-info.
#pragma once
#include <mla/mla.h>

#include <cstdio>

namespace mla::info {

// "absorbed, merge" for an MLA_OP_BIT mask; "none" when empty.
void print_ops(std::FILE* out, uint32_t ops);
// "f32 f16 bf16" for an MLA_DTYPE_BIT mask; "none" when empty.
void print_dtypes(std::FILE* out, uint32_t dtypes);

// Creates a context on `api` (device 0, default stream), prints its caps,
// destroys it.  Returns false, after printing why, if that fails.
bool print_caps(std::FILE* out, const mla_api& api, const char* indent);

}  // namespace mla::info
