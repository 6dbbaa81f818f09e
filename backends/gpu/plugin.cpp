// The plugin glue shared by the CUDA and HIP backends: the mla_api table,
// probe, context, caps, and ops A/C routed through the shared validator and
// mla::guarded.  Vendor names come from vendor.h; the vendor fast path from
// kernels.hpp (launch_fast_path and friends).
#include <mla/mla_plugin.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <new>

#include "kernels.hpp"
#include "common/plugin_error.hpp"
#include "common/validate.hpp"
#include "common/caps.hpp"

namespace {

using mla_gpu::absorbed_params;
using mla_gpu::device_info;
using mla_gpu::tile_config;

// What absorbed_plan scheduled; absorbed_run must describe the same batch.
struct plan_key {
  bool valid = false;
  int batch = 0, heads = 0, latent_dim = 0, rope_dim = 0, max_seqlen_q = 0, page_size = 0;
  int64_t total_q = 0, num_pages = 0, block_table_stride = 0;
  const void *cu_seqlens_q = nullptr, *seqlens_k = nullptr, *block_table = nullptr, *workspace = nullptr;

  bool operator==(const plan_key& o) const {
    return valid && o.valid && batch == o.batch && heads == o.heads && latent_dim == o.latent_dim &&
           rope_dim == o.rope_dim && max_seqlen_q == o.max_seqlen_q && page_size == o.page_size &&
           total_q == o.total_q && num_pages == o.num_pages && block_table_stride == o.block_table_stride &&
           cu_seqlens_q == o.cu_seqlens_q && seqlens_k == o.seqlens_k && block_table == o.block_table &&
           workspace == o.workspace;
  }
};

plan_key key_of(const mla_absorbed_args* a) {
  plan_key k;
  k.valid = true;
  k.batch = a->batch;
  k.heads = a->num_heads;
  k.latent_dim = a->latent_dim;
  k.rope_dim = a->rope_dim;
  k.max_seqlen_q = a->max_seqlen_q;
  k.page_size = a->kv.page_size;
  k.total_q = a->total_q;
  k.num_pages = a->kv.num_pages;
  k.block_table_stride = a->kv.block_table_stride;
  k.cu_seqlens_q = a->cu_seqlens_q;
  k.seqlens_k = a->kv.seqlens_k;
  k.block_table = a->kv.block_table;
  k.workspace = a->workspace;
  return k;
}

}  // namespace

struct mla_context {
  device_info dev;
  cudaStream_t stream = nullptr;
  plan_key planned;
};

namespace {

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

mla_status check_context(const mla_context* ctx) {
  if (ctx == nullptr) return mla::fail(MLA_ERR_INVALID_ARGUMENT, "ctx is NULL");
  return MLA_OK;
}

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
  s.layout = mla_gpu::layout_workspace(a->batch, s.num_parts, s.m_blocks, s.tile.rows, a->latent_dim);
  return s;
}

absorbed_params params_of(const mla_absorbed_args* a, const schedule& s) {
  absorbed_params p{};
  p.q = a->q.data;
  p.q_dtype = a->q.dtype;
  std::copy(a->q.stride, a->q.stride + 3, p.q_stride);
  p.out = a->out.data;
  p.out_dtype = a->out.dtype;
  std::copy(a->out.stride, a->out.stride + 3, p.out_stride);
  p.lse = static_cast<float*>(a->lse.data);
  std::copy(a->lse.stride, a->lse.stride + 2, p.lse_stride);
  p.kv = a->kv.data;
  p.kv_dtype = a->kv.dtype;
  p.page_size = a->kv.page_size;
  p.num_pages = a->kv.num_pages;
  p.page_stride = a->kv.page_stride;
  p.row_stride = a->kv.row_stride;
  p.latent_offset = a->kv.latent_offset;
  p.rope_offset = a->kv.rope_offset;
  p.block_table = a->kv.block_table;
  p.block_table_stride = a->kv.block_table_stride;
  p.seqlens_k = a->kv.seqlens_k;
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
  p.plan = mla_gpu::make_plan_view(a->workspace, s.layout);
  return p;
}

// ------------------------------------------------------------ entry points

mla_status gpu_probe(mla_probe_result* r) {
  return mla::guarded("probe", [&] {
    if (mla_status st = mla::validate_probe_result(r); st != MLA_OK) return st;
    r->usable = 0;
    r->score = 0;
    r->num_devices = 0;
    r->reserved0 = 0;
    int count = 0;
    const cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess || count == 0) {
      std::snprintf(r->reason, sizeof r->reason, "no %s device (%s)", MLA_GPU_VENDOR,
                    e != cudaSuccess ? cudaGetErrorName(e) : "0 devices");
      (void)cudaGetLastError();  // do not leave the sticky-free error for the host
      return MLA_OK;
    }
    cudaDeviceProp prop;
    if (cudaGetDeviceProperties(&prop, 0) != cudaSuccess) {
      std::snprintf(r->reason, sizeof r->reason, "%s device 0: properties unreadable", MLA_GPU_VENDOR);
      return MLA_OK;
    }
    r->usable = 1;
    r->score = 100;
    r->num_devices = count;
    std::snprintf(r->reason, sizeof r->reason, "%d device(s); device 0: %s (cc %d.%d, %d SMs)", count, prop.name,
                  prop.major, prop.minor, prop.multiProcessorCount);
    return MLA_OK;
  });
}

const char* gpu_last_error() { return mla::last_error_message(); }

mla_status gpu_context_create(const mla_context_desc* desc, mla_context** out) {
  return mla::guarded("context_create", [&] {
    if (out == nullptr) return mla::fail(MLA_ERR_INVALID_ARGUMENT, "context_create: ctx (out) is NULL");
    const mla_status st = mla::validate_context_desc(desc);
    if (st != MLA_OK) return st;
    int count = 0;
    const cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess || count == 0)
      return mla::fail(MLA_ERR_NO_DEVICE, "context_create: no %s device (%s)", MLA_GPU_VENDOR,
                       e != cudaSuccess ? cudaGetErrorName(e) : "0 devices");
    if (desc->device_ordinal >= count)
      return mla::fail(MLA_ERR_INVALID_ARGUMENT, "context_desc.device_ordinal = %d: only %d device(s)",
                       desc->device_ordinal, count);
    cudaDeviceProp prop;
    const cudaError_t pe = cudaGetDeviceProperties(&prop, desc->device_ordinal);
    if (pe != cudaSuccess) return device_error("context_create: cudaGetDeviceProperties", pe);
    mla_context* ctx = new (std::nothrow) mla_context;
    if (ctx == nullptr) return mla::fail(MLA_ERR_OUT_OF_MEMORY, "context_create: out of host memory");
    ctx->dev.ordinal = desc->device_ordinal;
    ctx->dev.multiprocessors = prop.multiProcessorCount;
    ctx->dev.cc_major = prop.major;
    ctx->dev.cc_minor = prop.minor;
    ctx->dev.smem_per_block_optin = prop.sharedMemPerBlockOptin;
    std::snprintf(ctx->dev.name, sizeof ctx->dev.name, "%s (cc %d.%d, %d SMs)", prop.name, prop.major, prop.minor,
                  prop.multiProcessorCount);
    ctx->stream = static_cast<cudaStream_t>(desc->stream);
    *out = ctx;
    return MLA_OK;
  });
}

mla_status gpu_context_destroy(mla_context* ctx) {
  return mla::guarded("context_destroy", [&] {
    delete ctx;
    return MLA_OK;
  });
}

mla_status gpu_get_caps(mla_context* ctx, mla_caps* caps) {
  return mla::guarded("get_caps", [&] {
    if (mla_status st = check_context(ctx); st != MLA_OK) return st;
    return mla::fill_caps(limits(), ctx->dev.name, caps);
  });
}

mla_status gpu_workspace_size(mla_context* ctx, const mla_absorbed_args* a, size_t* bytes) {
  return mla::guarded("absorbed_workspace_size", [&] {
    if (mla_status st = check_context(ctx); st != MLA_OK) return st;
    if (bytes == nullptr) return mla::fail(MLA_ERR_INVALID_ARGUMENT, "absorbed_workspace_size: bytes is NULL");
    if (mla_status st = mla::validate_absorbed(a, limits(), mla::check_level::shape, 0); st != MLA_OK) return st;
    *bytes = a->batch == 0 ? 0 : schedule_for(ctx, a).layout.total;
    return MLA_OK;
  });
}

mla_status gpu_plan(mla_context* ctx, const mla_absorbed_args* a) {
  return mla::guarded("absorbed_plan", [&] {
    if (mla_status st = check_context(ctx); st != MLA_OK) return st;
    if (mla_status st = mla::validate_absorbed(a, limits(), mla::check_level::shape, 0); st != MLA_OK) return st;
    const schedule s = schedule_for(ctx, a);
    const size_t need = a->batch == 0 ? 0 : s.layout.total;
    if (mla_status st = mla::validate_absorbed(a, limits(), mla::check_level::full, need); st != MLA_OK) return st;
    ctx->planned = plan_key{};
    if (a->batch == 0) {
      ctx->planned = key_of(a);
      return MLA_OK;
    }
    device_scope scope(ctx->dev.ordinal);
    if (scope.status() != cudaSuccess) return device_error("absorbed_plan: cudaSetDevice", scope.status());
    const cudaError_t e = mla_gpu::launch_split_plan(params_of(a, s), ctx->stream);
    if (e != cudaSuccess) return device_error("absorbed_plan: split plan launch", e);
    ctx->planned = key_of(a);
    return MLA_OK;
  });
}

mla_status gpu_run(mla_context* ctx, const mla_absorbed_args* a) {
  return mla::guarded("absorbed_run", [&] {
    if (mla_status st = check_context(ctx); st != MLA_OK) return st;
    if (mla_status st = mla::validate_absorbed(a, limits(), mla::check_level::shape, 0); st != MLA_OK) return st;
    const schedule s = schedule_for(ctx, a);
    const size_t need = a->batch == 0 ? 0 : s.layout.total;
    if (mla_status st = mla::validate_absorbed(a, limits(), mla::check_level::full, need); st != MLA_OK) return st;
    if (!(ctx->planned == key_of(a)))
      return mla::fail(MLA_ERR_NOT_PLANNED,
                       "absorbed_run: no absorbed_plan on this context for this batch description and workspace");
    if (a->batch == 0 || a->total_q == 0) return MLA_OK;
    device_scope scope(ctx->dev.ordinal);
    if (scope.status() != cudaSuccess) return device_error("absorbed_run: cudaSetDevice", scope.status());
    const absorbed_params p = params_of(a, s);
    cudaError_t e = cudaSuccess;
    if (!mla_gpu::launch_fast_path(ctx->dev, p, ctx->stream, &e)) e = mla_gpu::launch_absorbed_simt(p, ctx->stream);
    if (e != cudaSuccess) return device_error("absorbed_run: attention launch", e);
    e = mla_gpu::launch_combine(p, ctx->stream);
    if (e != cudaSuccess) return device_error("absorbed_run: combine launch", e);
    return MLA_OK;
  });
}

mla_status gpu_merge_states(mla_context* ctx, const mla_merge_args* a) {
  return mla::guarded("merge_states", [&] {
    if (mla_status st = check_context(ctx); st != MLA_OK) return st;
    if (mla_status st = mla::validate_merge(a, limits()); st != MLA_OK) return st;
    mla_gpu::merge_params p{};
    p.num_parts = a->num_parts;
    p.head_dim = a->head_dim;
    p.num_heads = a->num_heads;
    p.num_rows = a->num_rows;
    p.parts_out = a->parts_out.data;
    p.parts_out_dtype = a->parts_out.dtype;
    std::copy(a->parts_out.stride, a->parts_out.stride + 4, p.parts_out_stride);
    p.parts_lse = static_cast<const float*>(a->parts_lse.data);
    std::copy(a->parts_lse.stride, a->parts_lse.stride + 3, p.parts_lse_stride);
    p.out = a->out.data;
    p.out_dtype = a->out.dtype;
    std::copy(a->out.stride, a->out.stride + 3, p.out_stride);
    p.lse = static_cast<float*>(a->lse.data);
    std::copy(a->lse.stride, a->lse.stride + 2, p.lse_stride);
    if (p.num_rows == 0) return MLA_OK;
    device_scope scope(ctx->dev.ordinal);
    if (scope.status() != cudaSuccess) return device_error("merge_states: cudaSetDevice", scope.status());
    const cudaError_t e = mla_gpu::launch_merge_states(p, ctx->stream);
    if (e != cudaSuccess) return device_error("merge_states: launch", e);
    return MLA_OK;
  });
}

const mla_api kApi = {
    sizeof(mla_api),   MLA_ABI_MAJOR,      MLA_ABI_MINOR,      MLA_GPU_BACKEND_NAME, "0.1.0",
    gpu_probe,         gpu_last_error,     gpu_context_create, gpu_context_destroy,  gpu_get_caps,
    gpu_workspace_size, gpu_plan,          gpu_run,            gpu_merge_states,
};

}  // namespace

extern "C" MLA_EXPORT const mla_api* mla_get_api(void) { return &kApi; }
