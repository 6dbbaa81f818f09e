// SPDX-License-Identifier: MIT
// The three entry points of an attention op, by its argument struct, and
// their names (for messages): what lets the device case and the negative
// cases of op A and op B share one piece of code for both ops.
#pragma once
#include <mla/mla_plugin.h>

#include <cstddef>

namespace conformance {

template <class Args>  // mla_absorbed_args, mla_decompressed_args
struct op_entry_points;

template <>
struct op_entry_points<mla_absorbed_args> {
  static constexpr const char* workspace_size_name = "absorbed_workspace_size";
  static constexpr const char* plan_name = "absorbed_plan";
  static constexpr const char* run_name = "absorbed_run";
  static mla_status workspace_size(const mla_api* api, mla_context* ctx, const mla_absorbed_args* a, size_t* n) {
    return api->absorbed_workspace_size(ctx, a, n);
  }
  static mla_status plan(const mla_api* api, mla_context* ctx, const mla_absorbed_args* a) {
    return api->absorbed_plan(ctx, a);
  }
  static mla_status run(const mla_api* api, mla_context* ctx, const mla_absorbed_args* a) {
    return api->absorbed_run(ctx, a);
  }
};

template <>
struct op_entry_points<mla_decompressed_args> {
  static constexpr const char* workspace_size_name = "decompressed_workspace_size";
  static constexpr const char* plan_name = "decompressed_plan";
  static constexpr const char* run_name = "decompressed_run";
  static mla_status workspace_size(const mla_api* api, mla_context* ctx, const mla_decompressed_args* a, size_t* n) {
    return api->decompressed_workspace_size(ctx, a, n);
  }
  static mla_status plan(const mla_api* api, mla_context* ctx, const mla_decompressed_args* a) {
    return api->decompressed_plan(ctx, a);
  }
  static mla_status run(const mla_api* api, mla_context* ctx, const mla_decompressed_args* a) {
    return api->decompressed_run(ctx, a);
  }
};

}  // namespace conformance
