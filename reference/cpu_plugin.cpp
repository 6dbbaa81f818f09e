// SPDX-License-Identifier: MIT
// The cpu plugin: the policy class the plugin skeleton turns into the
// mla_api table (probe, contexts, caps, ops A, B and C).
//
// Threading: every call runs as up to num_threads tasks on the context's own
// workers or on the host's pool (task_runner.hpp); a context is used by one
// host thread at a time, distinct contexts may run at once from distinct host
// threads (each has its own workers).
#include "cpu_context.hpp"
#include "cpu_info.hpp"
#include "decompressed_driver.hpp"

#include <common/plugin_error.hpp>

#include <climits>
#include <cstdio>
#include <memory>
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
  lim.weight_dtypes = floats;  // op B
  lim.max_nope_dim = 512;
  lim.max_v_dim = 512;
  return lim;
}

namespace {

struct cpu_backend {
  static constexpr const char* kName = "cpu";
  static constexpr const char* kVersion = MLA_PLUGIN_VERSION;
  static constexpr uint64_t kContextTag = 0x5458544355504340ull;  // "@CPUCTXT"
  static constexpr bool kDecompressed = true;

  static uint32_t context_flags() { return MLA_CONTEXT_BATCH_INVARIANT; }

  static mla_status probe(mla_probe_result& r) {
    r.usable = 1;
    r.score = 10;  // GPU plugins report 100+: auto prefers them
    r.num_devices = 1;
    std::snprintf(r.reason, sizeof r.reason, "%s, %d threads", cpu_model_name().c_str(), default_threads());
    return MLA_OK;
  }

  static mla_status create(const mla::context_config& cfg, mla_context** out) {
    absorbed_kernel kernel;
    if (!select_absorbed_kernel(cfg.kernel, &kernel))
      return mla::fail(MLA_ERR_UNSUPPORTED, "context_desc.kernel = \"%s\": not one of this CPU's kernels (%s)",
                       cfg.kernel, available_kernels());
    const int threads = cfg.num_threads > 0 ? cfg.num_threads : default_threads();
    // No thread starts here: the own workers start at the first parallel call.
    std::unique_ptr<task_runner> tasks(new (std::nothrow)
                                           task_runner(threads, cfg.parallel_for, cfg.parallel_for_pool));
    mla_context* ctx = tasks ? new (std::nothrow) mla_context : nullptr;
    if (ctx == nullptr) return mla::fail(MLA_ERR_OUT_OF_MEMORY, "context_create: out of host memory");
    ctx->threads = threads;
    ctx->tasks = std::move(tasks);
    ctx->kernel = kernel;
    std::snprintf(ctx->device_name, sizeof ctx->device_name, "CPU: %s, %d threads, %s", cpu_model_name().c_str(),
                  ctx->threads, kernel.name);
    *out = ctx;
    return MLA_OK;
  }

  static void destroy(mla_context* ctx) { delete ctx; }

  static mla::backend_description describe(const mla_context& ctx) {
    mla::backend_description d;
    d.limits = cpu_limits();
    d.device_name = ctx.device_name;
    d.memory_kind = MLA_MEMORY_HOST;
    d.device_api = MLA_DEVICE_API_NONE;
    d.kernels = available_kernels();
    d.ops |= MLA_OP_BIT(MLA_OP_DECOMPRESSED);
    d.decompressed_break_even_q = kDecompressedBreakEvenQ;
    return d;
  }

  static size_t absorbed_workspace(const mla_context& ctx, const mla_absorbed_args& a) {
    return mla_cpu::absorbed_workspace(ctx, a);
  }
  static mla_status check_indices(const mla_context&, const mla_absorbed_args& a) {
    return mla::validate_absorbed_indices_host(&a);
  }
  static mla_status absorbed_plan(const mla_context& ctx, const mla_absorbed_args& a, void*) {
    mla_cpu::absorbed_plan(ctx, a);
    return MLA_OK;
  }
  static mla_status absorbed_run(const mla_context& ctx, const mla_absorbed_args& a, void*) {
    return mla_cpu::absorbed_run(ctx, a);
  }
  static size_t decompressed_workspace(const mla_context& ctx, const mla_decompressed_args& a) {
    return mla_cpu::decompressed_workspace(ctx, a);
  }
  static mla_status check_indices(const mla_context&, const mla_decompressed_args& a) {
    return mla::validate_decompressed_indices_host(&a);
  }
  static mla_status decompressed_plan(const mla_context& ctx, const mla_decompressed_args& a, void*) {
    mla_cpu::decompressed_plan(ctx, a);
    return MLA_OK;
  }
  static mla_status decompressed_run(const mla_context& ctx, const mla_decompressed_args& a, void*) {
    return mla_cpu::decompressed_run(ctx, a);
  }
  static mla_status merge(const mla_context& ctx, const mla_merge_args& a, void*) {
    mla_cpu::merge_states(ctx, a);
    return MLA_OK;
  }
};

}  // namespace
}  // namespace mla_cpu

extern "C" MLA_EXPORT const mla_api* mla_get_api(void) {
  return mla::plugin_skeleton<mla_cpu::cpu_backend>::api();
}
