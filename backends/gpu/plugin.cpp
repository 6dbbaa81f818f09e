// SPDX-License-Identifier: MIT
// The plugin shared by the CUDA and HIP backends: the policy class the
// plugin skeleton (backends/common/plugin_skeleton.hpp) turns into the
// mla_api table.  Vendor names come from vendor.h; the vendor's device
// description and fast path from kernels.hpp.
#include <mla/mla_plugin.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <new>

#include "cache_params.hpp"
#include "kernels.hpp"
#include "common/plugin_skeleton.hpp"

// Op B (decompressed prefill) is built where the vendor has its kernels:
// the CUDA backend defines MLA_GPU_OPB=1 (backends/cuda/CMakeLists.txt).
#ifndef MLA_GPU_OPB
#define MLA_GPU_OPB 0
#endif
#if MLA_GPU_OPB
#include "decompressed_host.hpp"
#endif

struct mla_context : mla::context_base {
  mla_gpu::device_info dev;
};

namespace {

using mla_gpu::absorbed_params;
using mla_gpu::device_info;
using mla_gpu::tile_config;

constexpr uint32_t kFloatTypes =
    MLA_DTYPE_BIT(MLA_DTYPE_F32) | MLA_DTYPE_BIT(MLA_DTYPE_F16) | MLA_DTYPE_BIT(MLA_DTYPE_BF16);
constexpr int kMaxHeads = 1024;

mla::backend_limits limits() {
  mla::backend_limits l;
  l.q_dtypes = l.cache_dtypes = l.out_dtypes = kFloatTypes;
  l.max_heads = kMaxHeads;
  l.max_latent_dim = mla_gpu::kSimtMaxLatent;
  l.max_rope_dim = mla_gpu::kSimtMaxRope;
  l.latent_dim_multiple = 1;
  l.max_page_size = 1 << 30;
#if MLA_GPU_OPB
  l.weight_dtypes = kFloatTypes;  // op B: any mix; the SIMT kernels take what the tensor cores do not
  l.max_nope_dim = mla_gpu::kOpbMaxNope;
  l.max_v_dim = mla_gpu::kOpbMaxV;
#endif
  return l;
}

mla_status device_error(const char* where, cudaError_t e) {
  return mla::fail(MLA_ERR_DEVICE, "%s: %s (%s)", where, cudaGetErrorString(e), cudaGetErrorName(e));
}

// Makes the context's device current for the call and restores the
// caller's device afterwards (the host thread's state is the caller's).
class device_scope {
 public:
  explicit device_scope(int ordinal) {
    if (cudaGetDevice(&previous_) != cudaSuccess) previous_ = -1;
    if (previous_ != ordinal) status_ = cudaSetDevice(ordinal);
  }
  ~device_scope() {
    if (previous_ >= 0 && status_ == cudaSuccess) (void)cudaSetDevice(previous_);
  }
  cudaError_t status() const { return status_; }

 private:
  int previous_ = -1;
  cudaError_t status_ = cudaSuccess;
};

// Tile, grid and workspace of a batch description on this device.
struct schedule {
  tile_config tile;
  int m_blocks = 0, num_parts = 0;
  mla_gpu::workspace_layout layout;
};

schedule schedule_for(const mla_context* ctx, const mla_absorbed_args* a) {
  schedule s;
  const int64_t rows_per_seq = (int64_t)a->max_seqlen_q * a->num_heads;
  s.tile = mla_gpu::fast_path_tile(ctx->dev, rows_per_seq, a->batch, a->latent_dim, a->rope_dim);
  // At least one row tile whenever there are rows, so an invalid sequence
  // (s_q > max_seqlen_q) still has a CTA to write its NaN rows.
  const int64_t rows = std::max<int64_t>(rows_per_seq, a->total_q > 0 ? 1 : 0);
  s.m_blocks = (int)((rows + s.tile.rows - 1) / s.tile.rows);
  s.num_parts = std::max(1, mla_gpu::fast_path_parts(ctx->dev, s.tile, std::max(1, s.m_blocks)));
  s.layout = mla_gpu::layout_workspace(a->batch, s.num_parts, s.m_blocks, s.tile.rows, a->latent_dim,
                                       ctx->dev.batch_invariant);
  return s;
}

absorbed_params params_of(const mla_context* ctx, const mla_absorbed_args* a, const schedule& s) {
  absorbed_params p{};
  p.q = a->q.data;
  p.q_dtype = a->q.dtype;
  std::copy(a->q.stride, a->q.stride + 3, p.q_stride);
  p.out = a->out.data;
  p.out_dtype = a->out.dtype;
  std::copy(a->out.stride, a->out.stride + 3, p.out_stride);
  p.lse = static_cast<float*>(a->lse.data);
  std::copy(a->lse.stride, a->lse.stride + 2, p.lse_stride);
  mla_gpu::copy_cache_params(p, a->kv);
  p.cu_seqlens_q = a->cu_seqlens_q;
  p.batch = a->batch;
  p.heads = a->num_heads;
  p.latent_dim = a->latent_dim;
  p.rope_dim = a->rope_dim;
  p.total_q = a->total_q;
  p.max_seqlen_q = a->max_seqlen_q;
  p.causal = a->causal;
  p.scale = a->scale;
  p.tile = s.tile;
  p.num_parts = s.num_parts;
  p.m_blocks = s.m_blocks;
  p.batch_invariant = ctx->dev.batch_invariant ? 1 : 0;
  p.plan = mla_gpu::make_plan_view(a->workspace, s.layout);
  return p;
}

cudaStream_t to_stream(void* s) { return static_cast<cudaStream_t>(s); }

#if defined(MLA_GPU_HIP)
constexpr int32_t kDeviceApi = MLA_DEVICE_API_HIP;
constexpr uint64_t kTag = 0x5854435049484340ull;  // "@CHIPCTX"
#else
constexpr int32_t kDeviceApi = MLA_DEVICE_API_CUDA;
constexpr uint64_t kTag = 0x5854434144554340ull;  // "@CUDACTX"
#endif

struct gpu_backend {
  static constexpr const char* kName = MLA_GPU_BACKEND_NAME;
  static constexpr const char* kVersion = MLA_PLUGIN_VERSION;
  static constexpr uint64_t kContextTag = kTag;
  static constexpr bool kDecompressed = MLA_GPU_OPB != 0;

  static uint32_t context_flags() { return MLA_CONTEXT_BATCH_INVARIANT; }

  static mla_status probe(mla_probe_result& r) {
    int count = 0;
    const cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess || count == 0) {
      std::snprintf(r.reason, sizeof r.reason, "no %s device (%s)", MLA_GPU_VENDOR,
                    e != cudaSuccess ? cudaGetErrorName(e) : "0 devices");
      (void)cudaGetLastError();  // do not leave the sticky-free error for the host
      return MLA_OK;
    }
    device_info dev;
    if (mla_gpu::read_device_info(0, dev) != cudaSuccess) {
      (void)cudaGetLastError();
      std::snprintf(r.reason, sizeof r.reason, "%s device 0: properties unreadable", MLA_GPU_VENDOR);
      return MLA_OK;
    }
    r.usable = 1;
    r.score = 100;
    r.num_devices = count;
    std::snprintf(r.reason, sizeof r.reason, "%d device(s); device 0: %s", count, dev.name);
    return MLA_OK;
  }

  static mla_status create(const mla::context_config& cfg, mla_context** out) {
    int count = 0;
    const cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess || count == 0)
      return mla::fail(MLA_ERR_NO_DEVICE, "context_create: no %s device (%s)", MLA_GPU_VENDOR,
                       e != cudaSuccess ? cudaGetErrorName(e) : "0 devices");
    if (cfg.device_ordinal >= count)
      return mla::fail(MLA_ERR_INVALID_ARGUMENT, "context_desc.device_ordinal = %d: only %d device(s)",
                       cfg.device_ordinal, count);
    device_info dev;
    if (const cudaError_t pe = mla_gpu::read_device_info(cfg.device_ordinal, dev); pe != cudaSuccess)
      return device_error("context_create: reading the device's properties", pe);
    if (!mla_gpu::select_kernel(dev, cfg.kernel))
      return mla::fail(MLA_ERR_UNSUPPORTED, "context_desc.kernel = \"%s\": not one of this device's kernels (%s)",
                       cfg.kernel, mla_gpu::fast_path_kernels(dev));
    dev.batch_invariant = (cfg.flags & MLA_CONTEXT_BATCH_INVARIANT) != 0;
    mla_context* ctx = new (std::nothrow) mla_context;
    if (ctx == nullptr) return mla::fail(MLA_ERR_OUT_OF_MEMORY, "context_create: out of host memory");
    ctx->dev = dev;
    *out = ctx;
    return MLA_OK;
  }

  static void destroy(mla_context* ctx) { delete ctx; }

  static mla::backend_description describe(const mla_context& ctx) {
    mla::backend_description d;
    d.limits = limits();
    d.device_name = ctx.dev.name;
    d.memory_kind = MLA_MEMORY_DEVICE;
    d.device_api = kDeviceApi;
    d.kernels = mla_gpu::fast_path_kernels(ctx.dev);
#if MLA_GPU_OPB
    d.ops |= MLA_OP_BIT(MLA_OP_DECOMPRESSED);
    d.decompressed_break_even_q = mla_gpu::kOpbBreakEvenQ;
#endif
    return d;
  }

  static size_t absorbed_workspace(const mla_context& ctx, const mla_absorbed_args& a) {
    return a.batch == 0 ? 0 : schedule_for(&ctx, &a).layout.total;
  }
  // Device memory: the plan and the kernels check the index contents (docs/abi.md, section 8).
  static mla_status check_indices(const mla_context&, const mla_absorbed_args&) { return MLA_OK; }

  static mla_status absorbed_plan(const mla_context& ctx, const mla_absorbed_args& a, void* stream) {
    if (a.batch == 0) return MLA_OK;
    device_scope scope(ctx.dev.ordinal);
    if (scope.status() != cudaSuccess) return device_error("absorbed_plan: setting the device", scope.status());
    const cudaError_t e = mla_gpu::launch_split_plan(params_of(&ctx, &a, schedule_for(&ctx, &a)), to_stream(stream));
    return e == cudaSuccess ? MLA_OK : device_error("absorbed_plan: split plan launch", e);
  }

  static mla_status absorbed_run(const mla_context& ctx, const mla_absorbed_args& a, void* stream) {
    device_scope scope(ctx.dev.ordinal);
    if (scope.status() != cudaSuccess) return device_error("absorbed_run: setting the device", scope.status());
    const absorbed_params p = params_of(&ctx, &a, schedule_for(&ctx, &a));
    cudaError_t e = cudaSuccess;
    if (!mla_gpu::launch_fast_path(ctx.dev, p, to_stream(stream), &e))
      e = mla_gpu::launch_absorbed_simt(p, to_stream(stream));
    if (e != cudaSuccess) return device_error("absorbed_run: attention launch", e);
    e = mla_gpu::launch_combine(p, to_stream(stream));
    return e == cudaSuccess ? MLA_OK : device_error("absorbed_run: combine launch", e);
  }

#if MLA_GPU_OPB
  // ---- op B (backends/gpu/decompressed_host.*)
  static size_t decompressed_workspace(const mla_context& ctx, const mla_decompressed_args& a) {
    return a.batch == 0 ? 0 : mla_gpu::opb_schedule_for(ctx.dev, a).layout.total;
  }
  static mla_status check_indices(const mla_context&, const mla_decompressed_args&) { return MLA_OK; }

  static mla_status decompressed_plan(const mla_context& ctx, const mla_decompressed_args& a, void* stream) {
    if (a.batch == 0) return MLA_OK;
    device_scope scope(ctx.dev.ordinal);
    if (scope.status() != cudaSuccess) return device_error("decompressed_plan: setting the device", scope.status());
    const cudaError_t e = mla_gpu::opb_plan(ctx.dev, a, to_stream(stream));
    return e == cudaSuccess ? MLA_OK : device_error("decompressed_plan: plan launch", e);
  }

  static mla_status decompressed_run(const mla_context& ctx, const mla_decompressed_args& a, void* stream) {
    device_scope scope(ctx.dev.ordinal);
    if (scope.status() != cudaSuccess) return device_error("decompressed_run: setting the device", scope.status());
    const cudaError_t e = mla_gpu::opb_run(ctx.dev, a, to_stream(stream));
    return e == cudaSuccess ? MLA_OK : device_error("decompressed_run: launch", e);
  }
#endif

  static mla_status merge(const mla_context& ctx, const mla_merge_args& a, void* stream) {
    mla_gpu::merge_params p{};
    p.num_parts = a.num_parts;
    p.head_dim = a.head_dim;
    p.num_heads = a.num_heads;
    p.num_rows = a.num_rows;
    p.parts_out = a.parts_out.data;
    p.parts_out_dtype = a.parts_out.dtype;
    std::copy(a.parts_out.stride, a.parts_out.stride + 4, p.parts_out_stride);
    p.parts_lse = static_cast<const float*>(a.parts_lse.data);
    std::copy(a.parts_lse.stride, a.parts_lse.stride + 3, p.parts_lse_stride);
    p.out = a.out.data;
    p.out_dtype = a.out.dtype;
    std::copy(a.out.stride, a.out.stride + 3, p.out_stride);
    p.lse = static_cast<float*>(a.lse.data);
    std::copy(a.lse.stride, a.lse.stride + 2, p.lse_stride);
    device_scope scope(ctx.dev.ordinal);
    if (scope.status() != cudaSuccess) return device_error("merge_states: setting the device", scope.status());
    const cudaError_t e = mla_gpu::launch_merge_states(p, to_stream(stream));
    return e == cudaSuccess ? MLA_OK : device_error("merge_states: launch", e);
  }
};

}  // namespace

extern "C" MLA_EXPORT const mla_api* mla_get_api(void) { return mla::plugin_skeleton<gpu_backend>::api(); }
