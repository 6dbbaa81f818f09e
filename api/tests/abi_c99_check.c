// SPDX-License-Identifier: MIT
/* Both public headers compile as strict C99 (-std=c99 -Wall -Wextra
 * -pedantic -Werror, set in CMakeLists.txt), and a C compiler lays the
 * structs out as the C++ test froze them: the negative-size-array trick is
 * C99's static assertion. */
#include <mla/mla.h>
#include <mla/mla_plugin.h>

#include <stddef.h>
#include <stdio.h>

#define MLA_C99_ASSERT(name, cond) typedef char mla_c99_assert_##name[(cond) ? 1 : -1]

MLA_C99_ASSERT(tensor, sizeof(mla_tensor) == 56);
MLA_C99_ASSERT(paged_cache, sizeof(mla_paged_cache) == 80);
MLA_C99_ASSERT(absorbed_args, sizeof(mla_absorbed_args) == 328);
MLA_C99_ASSERT(absorbed_workspace_bytes, offsetof(mla_absorbed_args, workspace_bytes) == 312);
MLA_C99_ASSERT(merge_args, sizeof(mla_merge_args) == 264);
MLA_C99_ASSERT(decompressed_args, sizeof(mla_decompressed_args) == 448);
MLA_C99_ASSERT(decompressed_kv, offsetof(mla_decompressed_args, kv) == 232);
MLA_C99_ASSERT(context_desc, sizeof(mla_context_desc) == 64);
MLA_C99_ASSERT(context_desc_pool, offsetof(mla_context_desc, parallel_for_pool) == 56);
MLA_C99_ASSERT(probe_result, sizeof(mla_probe_result) == 280);
MLA_C99_ASSERT(caps, sizeof(mla_caps) == 336);
MLA_C99_ASSERT(caps_kernels, offsetof(mla_caps, kernels) == 208);
MLA_C99_ASSERT(api, sizeof(mla_api) == 128);
MLA_C99_ASSERT(api_last_1_0, offsetof(mla_api, merge_states) == 96);
MLA_C99_ASSERT(api_last_1_1, offsetof(mla_api, decompressed_run) == 120);
MLA_C99_ASSERT(loader_options, sizeof(mla_loader_options) == 32);
MLA_C99_ASSERT(plugin_entry, sizeof(mla_plugin_entry) == 56);

int main(void) {
  /* Use a few declarations the way a C host would. */
  mla_loader_options options = {0};
  mla_plugin_entry entry = {0};
  options.struct_size = sizeof options;
  entry.struct_size = sizeof entry;
  printf("C99: mla.h and mla_plugin.h compile; ABI %d.%d; options %u B, entry %u B\n",
         MLA_ABI_MAJOR, MLA_ABI_MINOR, (unsigned)options.struct_size,
         (unsigned)entry.struct_size);
  return 0;
}
