// SPDX-License-Identifier: MIT
// Freezes the ABI 1.0 and 1.1 layouts of every struct of mla_plugin.h and mla.h on
// LP64 Linux (x86-64, aarch64): sizes and offsets are written out as
// numbers, so any change to a released struct -- reordering, retyping,
// inserting or appending a field -- fails here and must be a deliberate,
// versioned decision (docs/abi.md, "Versioning").
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <mla/mla.h>

#include <cstddef>

static_assert(sizeof(void*) == 8 && sizeof(size_t) == 8 && sizeof(long) == 8,
              "the frozen numbers below are for LP64 targets");

#define CHECK_FIELD(type, field, offset, size)         \
  do {                                                  \
    CHECK(offsetof(type, field) == (offset));           \
    CHECK(sizeof(static_cast<type*>(nullptr)->field) == (size)); \
  } while (0)

TEST_CASE("ABI version") {
  CHECK(MLA_ABI_MAJOR == 1);
  CHECK(MLA_ABI_MINOR == 1);
}

TEST_CASE("enum values") {
  CHECK(MLA_OK == 0);
  CHECK(MLA_ERR_INVALID_ARGUMENT == 1);
  CHECK(MLA_ERR_UNSUPPORTED == 2);
  CHECK(MLA_ERR_VERSION == 3);
  CHECK(MLA_ERR_NO_DEVICE == 4);
  CHECK(MLA_ERR_DEVICE == 5);
  CHECK(MLA_ERR_WORKSPACE == 6);
  CHECK(MLA_ERR_NOT_PLANNED == 7);
  CHECK(MLA_ERR_OUT_OF_MEMORY == 8);
  CHECK(MLA_ERR_INTERNAL == 9);

  CHECK(MLA_DTYPE_INVALID == 0);
  CHECK(MLA_DTYPE_F32 == 1);
  CHECK(MLA_DTYPE_F16 == 2);
  CHECK(MLA_DTYPE_BF16 == 3);
  CHECK(MLA_DTYPE_Q8_0 == 4);
  CHECK(MLA_DTYPE_FP8_E4M3 == 5);
  CHECK(MLA_DTYPE_BIT(MLA_DTYPE_F32) == 0x2u);
  CHECK(MLA_DTYPE_BIT(MLA_DTYPE_BF16) == 0x8u);

  CHECK(MLA_OP_ABSORBED == 0);
  CHECK(MLA_OP_MERGE == 1);
  CHECK(MLA_OP_DECOMPRESSED == 2);
  CHECK(MLA_OP_BIT(MLA_OP_MERGE) == 0x2u);

  CHECK(MLA_MEMORY_UNKNOWN == 0);
  CHECK(MLA_MEMORY_HOST == 1);
  CHECK(MLA_MEMORY_DEVICE == 2);
  CHECK(MLA_MEMORY_MANAGED == 3);
  CHECK(MLA_DEVICE_API_NONE == 0);
  CHECK(MLA_DEVICE_API_CUDA == 1);
  CHECK(MLA_DEVICE_API_HIP == 2);
  CHECK(MLA_CONTEXT_BATCH_INVARIANT == 0x1u);
  CHECK(MLA_DECOMPRESSED_AUTO == 0);
  CHECK(MLA_DECOMPRESSED_FORCE == 1);
  CHECK(MLA_DECOMPRESSED_FORCE_ABSORBED == 2);
  CHECK(MLA_MAX_THREADS == 1024);
  CHECK(MLA_MAX_SCORE == 1000);

  CHECK(MLA_PLUGIN_SELECTED == 0);
  CHECK(MLA_PLUGIN_USABLE == 1);
  CHECK(MLA_PLUGIN_SKIPPED == 2);

  // Enums cross the ABI as int32_t fields; their own size is not frozen,
  // but the return type mla_status must stay int-sized.
  CHECK(sizeof(mla_status) == 4);
}

TEST_CASE("mla_tensor") {
  CHECK(sizeof(mla_tensor) == 56);
  CHECK_FIELD(mla_tensor, struct_size, 0, 8);
  CHECK_FIELD(mla_tensor, data, 8, 8);
  CHECK_FIELD(mla_tensor, dtype, 16, 4);
  CHECK_FIELD(mla_tensor, reserved0, 20, 4);
  CHECK_FIELD(mla_tensor, stride, 24, 32);
}

TEST_CASE("mla_paged_cache") {
  CHECK(sizeof(mla_paged_cache) == 80);
  CHECK_FIELD(mla_paged_cache, struct_size, 0, 8);
  CHECK_FIELD(mla_paged_cache, data, 8, 8);
  CHECK_FIELD(mla_paged_cache, dtype, 16, 4);
  CHECK_FIELD(mla_paged_cache, page_size, 20, 4);
  CHECK_FIELD(mla_paged_cache, num_pages, 24, 8);
  CHECK_FIELD(mla_paged_cache, page_stride, 32, 8);
  CHECK_FIELD(mla_paged_cache, row_stride, 40, 8);
  CHECK_FIELD(mla_paged_cache, latent_offset, 48, 4);
  CHECK_FIELD(mla_paged_cache, rope_offset, 52, 4);
  CHECK_FIELD(mla_paged_cache, block_table, 56, 8);
  CHECK_FIELD(mla_paged_cache, block_table_stride, 64, 8);
  CHECK_FIELD(mla_paged_cache, seqlens_k, 72, 8);
}

TEST_CASE("frozen-size constants agree with the layouts") {
  CHECK(MLA_TENSOR_SIZE_1_0 == sizeof(mla_tensor));
  CHECK(MLA_PAGED_CACHE_SIZE_1_0 == sizeof(mla_paged_cache));
  CHECK(MLA_ABSORBED_ARGS_SIZE_1_0 == offsetof(mla_absorbed_args, stream));
  CHECK(MLA_ABSORBED_ARGS_SIZE_1_1 == sizeof(mla_absorbed_args));
  CHECK(MLA_MERGE_ARGS_SIZE_1_0 == offsetof(mla_merge_args, stream));
  CHECK(MLA_MERGE_ARGS_SIZE_1_1 == sizeof(mla_merge_args));
  CHECK(MLA_DECOMPRESSED_ARGS_SIZE_1_1 == sizeof(mla_decompressed_args));
  CHECK(MLA_CONTEXT_DESC_SIZE_1_0 == offsetof(mla_context_desc, flags));
  CHECK(MLA_CONTEXT_DESC_SIZE_1_1 == sizeof(mla_context_desc));
  CHECK(MLA_PROBE_RESULT_SIZE_1_0 == sizeof(mla_probe_result));
  CHECK(MLA_CAPS_SIZE_1_0 == offsetof(mla_caps, memory_kind));
  CHECK(MLA_CAPS_SIZE_1_1 == sizeof(mla_caps));
  CHECK(MLA_API_SIZE_1_0 == offsetof(mla_api, decompressed_workspace_size));
  CHECK(MLA_API_SIZE_1_1 == sizeof(mla_api));
}

TEST_CASE("mla_absorbed_args") {
  CHECK(sizeof(mla_absorbed_args) == 328);
  CHECK_FIELD(mla_absorbed_args, struct_size, 0, 8);
  CHECK_FIELD(mla_absorbed_args, batch, 8, 4);
  CHECK_FIELD(mla_absorbed_args, num_heads, 12, 4);
  CHECK_FIELD(mla_absorbed_args, latent_dim, 16, 4);
  CHECK_FIELD(mla_absorbed_args, rope_dim, 20, 4);
  CHECK_FIELD(mla_absorbed_args, total_q, 24, 8);
  CHECK_FIELD(mla_absorbed_args, max_seqlen_q, 32, 4);
  CHECK_FIELD(mla_absorbed_args, causal, 36, 4);
  CHECK_FIELD(mla_absorbed_args, scale, 40, 4);
  CHECK_FIELD(mla_absorbed_args, reserved0, 44, 4);
  CHECK_FIELD(mla_absorbed_args, cu_seqlens_q, 48, 8);
  CHECK_FIELD(mla_absorbed_args, q, 56, 56);
  CHECK_FIELD(mla_absorbed_args, kv, 112, 80);
  CHECK_FIELD(mla_absorbed_args, out, 192, 56);
  CHECK_FIELD(mla_absorbed_args, lse, 248, 56);
  CHECK_FIELD(mla_absorbed_args, workspace, 304, 8);
  CHECK_FIELD(mla_absorbed_args, workspace_bytes, 312, 8);
  CHECK_FIELD(mla_absorbed_args, stream, 320, 8);  // 1.1
}

TEST_CASE("mla_merge_args") {
  CHECK(sizeof(mla_merge_args) == 264);
  CHECK_FIELD(mla_merge_args, struct_size, 0, 8);
  CHECK_FIELD(mla_merge_args, num_parts, 8, 4);
  CHECK_FIELD(mla_merge_args, head_dim, 12, 4);
  CHECK_FIELD(mla_merge_args, num_rows, 16, 8);
  CHECK_FIELD(mla_merge_args, num_heads, 24, 4);
  CHECK_FIELD(mla_merge_args, reserved0, 28, 4);
  CHECK_FIELD(mla_merge_args, parts_out, 32, 56);
  CHECK_FIELD(mla_merge_args, parts_lse, 88, 56);
  CHECK_FIELD(mla_merge_args, out, 144, 56);
  CHECK_FIELD(mla_merge_args, lse, 200, 56);
  CHECK_FIELD(mla_merge_args, stream, 256, 8);  // 1.1
}

TEST_CASE("mla_decompressed_args (1.1)") {
  CHECK(sizeof(mla_decompressed_args) == 448);
  CHECK_FIELD(mla_decompressed_args, struct_size, 0, 8);
  CHECK_FIELD(mla_decompressed_args, batch, 8, 4);
  CHECK_FIELD(mla_decompressed_args, num_heads, 12, 4);
  CHECK_FIELD(mla_decompressed_args, latent_dim, 16, 4);
  CHECK_FIELD(mla_decompressed_args, rope_dim, 20, 4);
  CHECK_FIELD(mla_decompressed_args, nope_dim, 24, 4);
  CHECK_FIELD(mla_decompressed_args, v_dim, 28, 4);
  CHECK_FIELD(mla_decompressed_args, total_q, 32, 8);
  CHECK_FIELD(mla_decompressed_args, max_seqlen_q, 40, 4);
  CHECK_FIELD(mla_decompressed_args, causal, 44, 4);
  CHECK_FIELD(mla_decompressed_args, scale, 48, 4);
  CHECK_FIELD(mla_decompressed_args, mode, 52, 4);
  CHECK_FIELD(mla_decompressed_args, cu_seqlens_q, 56, 8);
  CHECK_FIELD(mla_decompressed_args, q, 64, 56);
  CHECK_FIELD(mla_decompressed_args, w_uk, 120, 56);
  CHECK_FIELD(mla_decompressed_args, w_uv, 176, 56);
  CHECK_FIELD(mla_decompressed_args, kv, 232, 80);
  CHECK_FIELD(mla_decompressed_args, out, 312, 56);
  CHECK_FIELD(mla_decompressed_args, lse, 368, 56);
  CHECK_FIELD(mla_decompressed_args, workspace, 424, 8);
  CHECK_FIELD(mla_decompressed_args, workspace_bytes, 432, 8);
  CHECK_FIELD(mla_decompressed_args, stream, 440, 8);
}

TEST_CASE("mla_context_desc") {
  CHECK(sizeof(mla_context_desc) == 64);
  CHECK_FIELD(mla_context_desc, struct_size, 0, 8);
  CHECK_FIELD(mla_context_desc, device_ordinal, 8, 4);
  CHECK_FIELD(mla_context_desc, reserved0, 12, 4);
  CHECK_FIELD(mla_context_desc, stream, 16, 8);
  CHECK_FIELD(mla_context_desc, num_threads, 24, 4);
  CHECK_FIELD(mla_context_desc, reserved1, 28, 4);
  CHECK_FIELD(mla_context_desc, flags, 32, 4);  // 1.1
  CHECK_FIELD(mla_context_desc, reserved2, 36, 4);
  CHECK_FIELD(mla_context_desc, kernel, 40, 8);
  CHECK_FIELD(mla_context_desc, parallel_for, 48, 8);
  CHECK_FIELD(mla_context_desc, parallel_for_pool, 56, 8);
}

TEST_CASE("mla_probe_result") {
  CHECK(sizeof(mla_probe_result) == 280);
  CHECK_FIELD(mla_probe_result, struct_size, 0, 8);
  CHECK_FIELD(mla_probe_result, usable, 8, 4);
  CHECK_FIELD(mla_probe_result, score, 12, 4);
  CHECK_FIELD(mla_probe_result, num_devices, 16, 4);
  CHECK_FIELD(mla_probe_result, reserved0, 20, 4);
  CHECK_FIELD(mla_probe_result, reason, 24, 256);
}

TEST_CASE("mla_caps") {
  CHECK(sizeof(mla_caps) == 336);
  CHECK_FIELD(mla_caps, struct_size, 0, 8);
  CHECK_FIELD(mla_caps, ops, 8, 4);
  CHECK_FIELD(mla_caps, q_dtypes, 12, 4);
  CHECK_FIELD(mla_caps, cache_dtypes, 16, 4);
  CHECK_FIELD(mla_caps, out_dtypes, 20, 4);
  CHECK_FIELD(mla_caps, max_heads, 24, 4);
  CHECK_FIELD(mla_caps, max_latent_dim, 28, 4);
  CHECK_FIELD(mla_caps, max_rope_dim, 32, 4);
  CHECK_FIELD(mla_caps, latent_dim_multiple, 36, 4);
  CHECK_FIELD(mla_caps, max_page_size, 40, 4);
  CHECK_FIELD(mla_caps, reserved0, 44, 4);
  CHECK_FIELD(mla_caps, device_name, 48, 128);
  CHECK_FIELD(mla_caps, memory_kind, 176, 4);  // 1.1
  CHECK_FIELD(mla_caps, device_api, 180, 4);
  CHECK_FIELD(mla_caps, context_flags, 184, 4);
  CHECK_FIELD(mla_caps, weight_dtypes, 188, 4);
  CHECK_FIELD(mla_caps, max_nope_dim, 192, 4);
  CHECK_FIELD(mla_caps, max_v_dim, 196, 4);
  CHECK_FIELD(mla_caps, decompressed_break_even_q, 200, 4);
  CHECK_FIELD(mla_caps, reserved1, 204, 4);
  CHECK_FIELD(mla_caps, kernels, 208, 128);
}

TEST_CASE("mla_api: the 1.0 table ends at merge_states, 1.1 appends op B") {
  CHECK(sizeof(mla_api) == 128);
  CHECK_FIELD(mla_api, struct_size, 0, 8);
  CHECK_FIELD(mla_api, abi_major, 8, 4);
  CHECK_FIELD(mla_api, abi_minor, 12, 4);
  CHECK_FIELD(mla_api, name, 16, 8);
  CHECK_FIELD(mla_api, version, 24, 8);
  CHECK_FIELD(mla_api, probe, 32, 8);
  CHECK_FIELD(mla_api, last_error, 40, 8);
  CHECK_FIELD(mla_api, context_create, 48, 8);
  CHECK_FIELD(mla_api, context_destroy, 56, 8);
  CHECK_FIELD(mla_api, get_caps, 64, 8);
  CHECK_FIELD(mla_api, absorbed_workspace_size, 72, 8);
  CHECK_FIELD(mla_api, absorbed_plan, 80, 8);
  CHECK_FIELD(mla_api, absorbed_run, 88, 8);
  // The last ABI 1.0 entry: 1.0 tables are exactly 104 bytes; a later minor
  // appends after it and must leave this line true.
  CHECK_FIELD(mla_api, merge_states, 96, 8);
  CHECK(offsetof(mla_api, merge_states) + sizeof(void*) == 104);
  CHECK_FIELD(mla_api, decompressed_workspace_size, 104, 8);  // 1.1
  CHECK_FIELD(mla_api, decompressed_plan, 112, 8);
  CHECK_FIELD(mla_api, decompressed_run, 120, 8);
}

TEST_CASE("mla_loader_options") {
  CHECK(sizeof(mla_loader_options) == 32);
  CHECK_FIELD(mla_loader_options, struct_size, 0, 8);
  CHECK_FIELD(mla_loader_options, backend, 8, 8);
  CHECK_FIELD(mla_loader_options, search_path, 16, 8);
  CHECK_FIELD(mla_loader_options, ignore_environment, 24, 4);
  CHECK_FIELD(mla_loader_options, reserved0, 28, 4);
}

TEST_CASE("mla_plugin_entry") {
  CHECK(sizeof(mla_plugin_entry) == 56);
  CHECK_FIELD(mla_plugin_entry, struct_size, 0, 8);
  CHECK_FIELD(mla_plugin_entry, path, 8, 8);
  CHECK_FIELD(mla_plugin_entry, name, 16, 8);
  CHECK_FIELD(mla_plugin_entry, state, 24, 4);
  CHECK_FIELD(mla_plugin_entry, score, 28, 4);
  CHECK_FIELD(mla_plugin_entry, abi_major, 32, 4);
  CHECK_FIELD(mla_plugin_entry, abi_minor, 36, 4);
  CHECK_FIELD(mla_plugin_entry, reason, 40, 8);
  CHECK_FIELD(mla_plugin_entry, api, 48, 8);
}
