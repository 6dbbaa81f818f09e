// The cpu plugin's mla_api table (ABI 1.0, mla_plugin.h): probe, caps,
// contexts, and the guarded entry points of ops A and C.
//
// Threading: every call runs on an OpenMP team of the context's size; a
// context is used by one host thread at a time, distinct contexts may run at
// once from distinct host threads (each gets its own team).
#include "cpu_context.hpp"
#include "cpu_info.hpp"

#include <common/plugin_error.hpp>
#include <common/validate.hpp>
#include <common/caps.hpp>

#include <climits>
#include <cstdio>
#include <new>

namespace mla_cpu {

mla::backend_limits cpu_limits() {
  mla::backend_limits lim;
  const uint32_t floats = MLA_DTYPE_BIT(MLA_DTYPE_F32) | MLA_DTYPE_BIT(MLA_DTYPE_F16) | MLA_DTYPE_BIT(MLA_DTYPE_BF16);
  lim.q_dtypes = lim.cache_dtypes = lim.out_dtypes = floats;
  lim.max_heads = 4096;
  lim.max_latent_dim = 4096;
  lim.max_rope_dim = 1024;
  lim.latent_dim_multiple = 1;
  lim.max_page_size = INT32_MAX;
  return lim;
}

mla_status check_context(const mla_context* ctx, const char* where) {
  if (ctx == nullptr) return mla::fail(MLA_ERR_INVALID_ARGUMENT, "%s: ctx is NULL", where);
  if (ctx->magic != kCpuContextMagic)
    return mla::fail(MLA_ERR_INVALID_ARGUMENT, "%s: ctx is not a context of the cpu plugin", where);
  return MLA_OK;
}

namespace {

mla_status probe(mla_probe_result* r) {
  return mla::guarded("probe", [&] {
    if (mla_status st = mla::validate_probe_result(r); st != MLA_OK) return st;
    r->usable = 1;
    r->score = 10;  // GPU plugins report 100+: auto prefers them
    r->num_devices = 1;
    r->reserved0 = 0;
    std::snprintf(r->reason, sizeof r->reason, "%s, %d threads (OpenMP)", cpu_model_name().c_str(),
                  default_threads());
    return MLA_OK;
  });
}

const char* last_error() { return mla::last_error_message(); }

mla_status context_create(const mla_context_desc* desc, mla_context** out) {
  return mla::guarded("context_create", [&] {
    if (out == nullptr) return mla::fail(MLA_ERR_INVALID_ARGUMENT, "context_create: ctx (out) is NULL");
    const mla_status s = mla::validate_context_desc(desc);
    if (s != MLA_OK) return s;
    mla_context* ctx = new (std::nothrow) mla_context;
    if (ctx == nullptr) return mla::fail(MLA_ERR_OUT_OF_MEMORY, "context_create: out of host memory");
    ctx->threads = desc->num_threads > 0 ? desc->num_threads : default_threads();
    ctx->kernel = select_absorbed_kernel();
    *out = ctx;
    return MLA_OK;
  });
}

mla_status context_destroy(mla_context* ctx) {
  return mla::guarded("context_destroy", [&] {
    if (ctx == nullptr) return MLA_OK;
    const mla_status s = check_context(ctx, "context_destroy");
    if (s != MLA_OK) return s;
    ctx->magic = 0;
    delete ctx;
    return MLA_OK;
  });
}

mla_status get_caps(mla_context* ctx, mla_caps* caps) {
  return mla::guarded("get_caps", [&] {
    mla_status s = check_context(ctx, "get_caps");
    if (s != MLA_OK) return s;
    char name[sizeof caps->device_name];
    std::snprintf(name, sizeof name, "CPU: %s, %d threads, %s", cpu_model_name().c_str(), ctx->threads,
                  ctx->kernel.isa);
    return mla::fill_caps(cpu_limits(), name, caps);
  });
}

mla_status workspace_size(mla_context* ctx, const mla_absorbed_args* args, size_t* bytes) {
  return mla::guarded("absorbed_workspace_size", [&] {
    const mla_status s = check_context(ctx, "absorbed_workspace_size");
    return s != MLA_OK ? s : absorbed_workspace_size(*ctx, args, bytes);
  });
}

mla_status plan(mla_context* ctx, const mla_absorbed_args* args) {
  return mla::guarded("absorbed_plan", [&] {
    const mla_status s = check_context(ctx, "absorbed_plan");
    return s != MLA_OK ? s : absorbed_plan(*ctx, args);
  });
}

mla_status run(mla_context* ctx, const mla_absorbed_args* args) {
  return mla::guarded("absorbed_run", [&] {
    const mla_status s = check_context(ctx, "absorbed_run");
    return s != MLA_OK ? s : absorbed_run(*ctx, args);
  });
}

mla_status merge(mla_context* ctx, const mla_merge_args* args) {
  return mla::guarded("merge_states", [&] {
    const mla_status s = check_context(ctx, "merge_states");
    return s != MLA_OK ? s : merge_states(*ctx, args);
  });
}

const mla_api kApi = {
    sizeof(mla_api), MLA_ABI_MAJOR, MLA_ABI_MINOR, "cpu", MLA_CPU_VERSION,
    probe,           last_error,    context_create, context_destroy, get_caps,
    workspace_size,  plan,          run,            merge,
};

}  // namespace
}  // namespace mla_cpu

extern "C" MLA_EXPORT const mla_api* mla_get_api(void) { return &mla_cpu::kApi; }
