// SPDX-License-Identifier: MIT
// The one plugin skeleton: every entry point of the mla_api table, written
// once.  A backend is a small policy class; the skeleton owns the error
// guard, the context check, the validate -> workspace size -> validate
// sequence, the plan-identity rule, the per-call stream and the frozen-size
// rules of ABI 1.x, so every plugin follows them the same way.
//
//   const mla_api* api = mla::plugin_skeleton<my_backend>::api();
//
// The policy class supplies (all static; see reference/cpu_plugin.cpp,
// backends/gpu/plugin.cpp, conformance/planted/planted_plugin.cpp):
//   kName, kVersion, kContextTag            names and the context's tag
//   context_flags()                         the MLA_CONTEXT_* bits it honours
//   probe(mla_probe_result&)                fill usable/score/num_devices/reason
//   create(const context_config&, mla_context**)   after the desc was validated
//   destroy(mla_context*)
//   describe(const mla_context&)            -> backend_description (caps, limits)
//   absorbed_workspace(ctx, args)           bytes (args passed the shape check)
//   check_indices(ctx, args)                contents of the index arrays (host
//                                           memory) or MLA_OK (device memory)
//   absorbed_plan / absorbed_run(ctx, args, stream)   fully validated args
//   merge(ctx, args, stream)
//   kDecompressed, and when true: decompressed_workspace / _plan / _run
// mla_context (the plugin's own struct) derives from mla::context_base.
#pragma once
#include <mla/mla_plugin.h>

#include <cstring>

#include "caps.hpp"
#include "plan_registry.hpp"
#include "plugin_error.hpp"
#include "struct_fields.hpp"
#include "validate.hpp"

namespace mla {

// What every plugin's context holds (first, so that the tag check can read
// it from a context of any plugin).
struct context_base {
  uint64_t tag = 0;          // the plugin's kContextTag while the context lives
  void* stream = nullptr;    // context_desc.stream
  uint32_t flags = 0;        // context_desc.flags (MLA_CONTEXT_*)
  plan_registry plans;       // workspaces planned on this context
};

// The context_base of a plugin's mla_context (a template, so that it is
// instantiated where mla_context is complete).
template <class Ctx>
context_base& base_of(Ctx& ctx) {
  return ctx;
}
template <class Ctx>
const context_base& base_of(const Ctx& ctx) {
  return ctx;
}

template <class Backend>
class plugin_skeleton {
 public:
  static const mla_api* api() {
    static const mla_api table = {
        sizeof(mla_api), MLA_ABI_MAJOR,   MLA_ABI_MINOR, Backend::kName,       Backend::kVersion,
        probe,           last_error,      context_create, context_destroy,     get_caps,
        absorbed_workspace_size,          absorbed_plan,  absorbed_run,        merge_states,
        decompressed_workspace_size,      decompressed_plan, decompressed_run,
    };
    return &table;
  }

 private:
  static mla_status check_context(const mla_context* ctx, const char* where) {
    if (ctx == nullptr) return fail(MLA_ERR_INVALID_ARGUMENT, "%s: ctx is NULL", where);
    if (base_of(*ctx).tag != Backend::kContextTag)
      return fail(MLA_ERR_INVALID_ARGUMENT, "%s: ctx is not a live context of the %s plugin", where, Backend::kName);
    return MLA_OK;
  }

  // The call's stream: the args' (1.1) when set, else the context's.
  template <class Args>
  static void* stream_of(const mla_context& ctx, const Args& a) {
    void* s = field_or(a, &Args::stream, static_cast<void*>(nullptr));
    return s ? s : base_of(ctx).stream;
  }

  static mla_status probe(mla_probe_result* r) {
    return guarded("probe", [&] {
      if (mla_status st = validate_probe_result(r); st != MLA_OK) return st;
      r->usable = 0;
      r->score = 0;
      r->num_devices = 0;
      r->reserved0 = 0;
      r->reason[0] = 0;
      return Backend::probe(*r);
    });
  }

  static const char* last_error() { return last_error_message(); }

  static mla_status context_create(const mla_context_desc* desc, mla_context** out) {
    return guarded("context_create", [&] {
      if (out == nullptr) return fail(MLA_ERR_INVALID_ARGUMENT, "context_create: ctx (out) is NULL");
      context_config cfg;
      if (mla_status st = read_context_desc(desc, Backend::context_flags(), cfg); st != MLA_OK) return st;
      mla_context* ctx = nullptr;
      if (mla_status st = Backend::create(cfg, &ctx); st != MLA_OK) return st;
      context_base& base = base_of(*ctx);
      base.tag = Backend::kContextTag;
      base.stream = cfg.stream;
      base.flags = cfg.flags;
      *out = ctx;
      return MLA_OK;
    });
  }

  static mla_status context_destroy(mla_context* ctx) {
    return guarded("context_destroy", [&] {
      if (ctx == nullptr) return MLA_OK;
      if (mla_status st = check_context(ctx, "context_destroy"); st != MLA_OK) return st;
      base_of(*ctx).tag = 0;
      Backend::destroy(ctx);
      return MLA_OK;
    });
  }

  static mla_status get_caps(mla_context* ctx, mla_caps* caps) {
    return guarded("get_caps", [&] {
      if (mla_status st = check_context(ctx, "get_caps"); st != MLA_OK) return st;
      backend_description d = Backend::describe(*ctx);
      d.context_flags = Backend::context_flags();  // what context_create accepts
      return fill_caps(d, caps);
    });
  }

  // ---- op A

  // Shape check, the workspace this call needs, then the full check.
  static mla_status validate_absorbed_call(const mla_context& ctx, const mla_absorbed_args* a, size_t* need) {
    const backend_limits lim = Backend::describe(ctx).limits;
    if (mla_status st = validate_absorbed(a, lim, check_level::shape, 0); st != MLA_OK) return st;
    *need = Backend::absorbed_workspace(ctx, *a);
    if (mla_status st = validate_absorbed(a, lim, check_level::full, *need); st != MLA_OK) return st;
    return Backend::check_indices(ctx, *a);
  }

  static mla_status absorbed_workspace_size(mla_context* ctx, const mla_absorbed_args* a, size_t* bytes) {
    return guarded("absorbed_workspace_size", [&] {
      if (mla_status st = check_context(ctx, "absorbed_workspace_size"); st != MLA_OK) return st;
      if (bytes == nullptr) return fail(MLA_ERR_INVALID_ARGUMENT, "absorbed_workspace_size: bytes is NULL");
      if (mla_status st = validate_absorbed(a, Backend::describe(*ctx).limits, check_level::shape, 0); st != MLA_OK)
        return st;
      *bytes = Backend::absorbed_workspace(*ctx, *a);
      return MLA_OK;
    });
  }

  static mla_status absorbed_plan(mla_context* ctx, const mla_absorbed_args* a) {
    return guarded("absorbed_plan", [&] {
      if (mla_status st = check_context(ctx, "absorbed_plan"); st != MLA_OK) return st;
      size_t need = 0;
      if (mla_status st = validate_absorbed_call(*ctx, a, &need); st != MLA_OK) return st;
      if (mla_status st = Backend::absorbed_plan(*ctx, *a, stream_of(*ctx, *a)); st != MLA_OK) return st;
      base_of(*ctx).plans.record(a->workspace, key_of(*a));
      return MLA_OK;
    });
  }

  static mla_status absorbed_run(mla_context* ctx, const mla_absorbed_args* a) {
    return guarded("absorbed_run", [&] {
      if (mla_status st = check_context(ctx, "absorbed_run"); st != MLA_OK) return st;
      size_t need = 0;
      if (mla_status st = validate_absorbed_call(*ctx, a, &need); st != MLA_OK) return st;
      const mla_status planned = base_of(*ctx).plans.check(a->workspace, key_of(*a), "absorbed_args", "absorbed_plan");
      if (planned != MLA_OK) return planned;
      if (a->batch == 0 || a->total_q == 0) return MLA_OK;
      return Backend::absorbed_run(*ctx, *a, stream_of(*ctx, *a));
    });
  }

  // ---- op C

  static mla_status merge_states(mla_context* ctx, const mla_merge_args* a) {
    return guarded("merge_states", [&] {
      if (mla_status st = check_context(ctx, "merge_states"); st != MLA_OK) return st;
      if (mla_status st = validate_merge(a, Backend::describe(*ctx).limits); st != MLA_OK) return st;
      if (a->num_rows == 0) return MLA_OK;
      return Backend::merge(*ctx, *a, stream_of(*ctx, *a));
    });
  }

  // ---- op B (MLA_ERR_UNSUPPORTED where the backend has none)

  static mla_status no_decompressed(const char* where) {
    return fail(MLA_ERR_UNSUPPORTED, "%s: the %s plugin has no op B (caps.ops lacks MLA_OP_DECOMPRESSED)", where,
                Backend::kName);
  }

  static mla_status validate_decompressed_call(const mla_context& ctx, const mla_decompressed_args* a,
                                               size_t* need) {
    const backend_limits lim = Backend::describe(ctx).limits;
    if (mla_status st = validate_decompressed(a, lim, check_level::shape, 0); st != MLA_OK) return st;
    *need = Backend::decompressed_workspace(ctx, *a);
    if (mla_status st = validate_decompressed(a, lim, check_level::full, *need); st != MLA_OK) return st;
    return Backend::check_indices(ctx, *a);
  }

  static mla_status decompressed_workspace_size(mla_context* ctx, const mla_decompressed_args* a, size_t* bytes) {
    return guarded("decompressed_workspace_size", [&] {
      if (mla_status st = check_context(ctx, "decompressed_workspace_size"); st != MLA_OK) return st;
      if constexpr (!Backend::kDecompressed) {
        return no_decompressed("decompressed_workspace_size");
      } else {
        if (bytes == nullptr) return fail(MLA_ERR_INVALID_ARGUMENT, "decompressed_workspace_size: bytes is NULL");
        if (mla_status st = validate_decompressed(a, Backend::describe(*ctx).limits, check_level::shape, 0);
            st != MLA_OK)
          return st;
        *bytes = Backend::decompressed_workspace(*ctx, *a);
        return MLA_OK;
      }
    });
  }

  static mla_status decompressed_plan(mla_context* ctx, const mla_decompressed_args* a) {
    return guarded("decompressed_plan", [&] {
      if (mla_status st = check_context(ctx, "decompressed_plan"); st != MLA_OK) return st;
      if constexpr (!Backend::kDecompressed) {
        return no_decompressed("decompressed_plan");
      } else {
        size_t need = 0;
        if (mla_status st = validate_decompressed_call(*ctx, a, &need); st != MLA_OK) return st;
        if (mla_status st = Backend::decompressed_plan(*ctx, *a, stream_of(*ctx, *a)); st != MLA_OK) return st;
        base_of(*ctx).plans.record(a->workspace, key_of(*a));
        return MLA_OK;
      }
    });
  }

  static mla_status decompressed_run(mla_context* ctx, const mla_decompressed_args* a) {
    return guarded("decompressed_run", [&] {
      if (mla_status st = check_context(ctx, "decompressed_run"); st != MLA_OK) return st;
      if constexpr (!Backend::kDecompressed) {
        return no_decompressed("decompressed_run");
      } else {
        size_t need = 0;
        if (mla_status st = validate_decompressed_call(*ctx, a, &need); st != MLA_OK) return st;
        const mla_status planned =
            base_of(*ctx).plans.check(a->workspace, key_of(*a), "decompressed_args", "decompressed_plan");
        if (planned != MLA_OK) return planned;
        if (a->batch == 0 || a->total_q == 0) return MLA_OK;
        return Backend::decompressed_run(*ctx, *a, stream_of(*ctx, *a));
      }
    });
  }
};

}  // namespace mla
