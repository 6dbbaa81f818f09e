#include "validate.hpp"

#include "plugin_error.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace mla {
namespace {

const char* dtype_label(int32_t d) {
  switch (d) {
    case MLA_DTYPE_F32: return "f32";
    case MLA_DTYPE_F16: return "f16";
    case MLA_DTYPE_BF16: return "bf16";
    case MLA_DTYPE_Q8_0: return "q8_0";
    case MLA_DTYPE_FP8_E4M3: return "fp8_e4m3";
    default: return "unknown";
  }
}

bool dtype_in(int32_t d, uint32_t mask) {
  return d > 0 && d < 32 && (mask & MLA_DTYPE_BIT(d)) != 0;
}

// A tensor of `rank` dims with `extent` sizes.  `is_output` adds the check
// that distinct elements land on distinct addresses.
mla_status check_tensor(const char* name, const mla_tensor& t, int rank, const int64_t* extent,
                        uint32_t dtypes, bool optional, bool is_output) {
  if (t.struct_size < sizeof(mla_tensor))
    return fail(MLA_ERR_VERSION, "%s.struct_size = %zu: must be >= %zu (sizeof(mla_tensor))", name,
                t.struct_size, sizeof(mla_tensor));
  if (t.data == nullptr) {
    if (optional) return MLA_OK;
    int64_t elements = 1;
    for (int i = 0; i < rank; ++i) elements *= extent[i];
    if (elements != 0) return fail(MLA_ERR_INVALID_ARGUMENT, "%s.data is NULL", name);
  }
  if (t.reserved0 != 0) return fail(MLA_ERR_INVALID_ARGUMENT, "%s.reserved0 = %d: must be 0", name, t.reserved0);
  if (!dtype_in(t.dtype, dtypes))
    return fail(t.dtype >= MLA_DTYPE_F32 && t.dtype <= MLA_DTYPE_FP8_E4M3 ? MLA_ERR_UNSUPPORTED
                                                                          : MLA_ERR_INVALID_ARGUMENT,
                "%s.dtype = %d (%s): not supported here", name, t.dtype, dtype_label(t.dtype));
  for (int i = 0; i < 4; ++i) {
    if (t.stride[i] < 0)
      return fail(MLA_ERR_INVALID_ARGUMENT, "%s.stride[%d] = %lld: must be >= 0", name, i, (long long)t.stride[i]);
    if (i >= rank && t.stride[i] != 0)
      return fail(MLA_ERR_INVALID_ARGUMENT, "%s.stride[%d] = %lld: must be 0 (tensor has %d dims)", name, i,
                  (long long)t.stride[i], rank);
  }
  if (is_output) {
    // Distinct elements need distinct addresses: sorted by stride, each
    // dimension of extent > 1 must step past the span of the smaller ones.
    int order[4] = {0, 1, 2, 3};
    std::sort(order, order + rank, [&](int a, int b) { return t.stride[a] < t.stride[b]; });
    int64_t span = 1;  // elements covered by the dims seen so far
    for (int k = 0; k < rank; ++k) {
      const int d = order[k];
      if (extent[d] <= 1) continue;
      if (t.stride[d] < span)
        return fail(MLA_ERR_INVALID_ARGUMENT,
                    "%s.stride[%d] = %lld: output elements would overlap (needs >= %lld)", name, d,
                    (long long)t.stride[d], (long long)span);
      span = t.stride[d] * (extent[d] - 1) + span;
    }
  }
  return MLA_OK;
}

// Bytes [first, last) a tensor's elements occupy; empty for NULL or no elements.
struct byte_range {
  uintptr_t first = 0, last = 0;
  bool overlaps(const byte_range& o) const { return first < last && o.first < o.last && first < o.last && o.first < last; }
};
byte_range range_of(const mla_tensor& t, int rank, const int64_t* extent) {
  byte_range r;
  int64_t span = 1;
  for (int i = 0; i < rank; ++i) {
    if (extent[i] == 0 || t.data == nullptr) return r;
    span += (extent[i] - 1) * t.stride[i];
  }
  r.first = reinterpret_cast<uintptr_t>(t.data);
  r.last = r.first + (uintptr_t)span * (uintptr_t)dtype_size(t.dtype);
  return r;
}

#define CHECK(cond, status, ...) \
  do {                           \
    if (!(cond)) return fail(status, __VA_ARGS__); \
  } while (0)
#define TRY(expr)                         \
  do {                                    \
    mla_status s_ = (expr);               \
    if (s_ != MLA_OK) return s_;          \
  } while (0)

constexpr mla_status INVALID = MLA_ERR_INVALID_ARGUMENT;

}  // namespace

int dtype_size(int32_t dtype) {
  switch (dtype) {
    case MLA_DTYPE_F32: return 4;
    case MLA_DTYPE_F16:
    case MLA_DTYPE_BF16: return 2;
    default: return 0;
  }
}

mla_status validate_context_desc(const mla_context_desc* desc) {
  CHECK(desc != nullptr, INVALID, "context_desc is NULL");
  CHECK(desc->struct_size >= sizeof(mla_context_desc), MLA_ERR_VERSION,
        "context_desc.struct_size = %zu: must be >= %zu", desc->struct_size, sizeof(mla_context_desc));
  CHECK(desc->device_ordinal >= 0, INVALID, "context_desc.device_ordinal = %d: must be >= 0", desc->device_ordinal);
  CHECK(desc->reserved0 == 0 && desc->reserved1 == 0, INVALID, "context_desc.reserved0/reserved1: must be 0");
  CHECK(desc->num_threads >= 0, INVALID, "context_desc.num_threads = %d: must be >= 0", desc->num_threads);
  return MLA_OK;
}

mla_status validate_probe_result(const mla_probe_result* r) {
  CHECK(r != nullptr, INVALID, "probe: result is NULL");
  CHECK(r->struct_size >= sizeof(mla_probe_result), MLA_ERR_VERSION, "probe: result.struct_size = %zu: must be >= %zu",
        r->struct_size, sizeof(mla_probe_result));
  return MLA_OK;
}

mla_status validate_absorbed(const mla_absorbed_args* a, const backend_limits& lim, check_level level,
                             size_t workspace_needed) {
  CHECK(a != nullptr, INVALID, "absorbed_args is NULL");
  CHECK(a->struct_size >= sizeof(mla_absorbed_args), MLA_ERR_VERSION,
        "absorbed_args.struct_size = %zu: must be >= %zu (sizeof(mla_absorbed_args) in ABI 1.0)",
        a->struct_size, sizeof(mla_absorbed_args));
  CHECK(a->batch >= 0, INVALID, "absorbed_args.batch = %d: must be >= 0", a->batch);
  CHECK(a->num_heads >= 1, INVALID, "absorbed_args.num_heads = %d: must be >= 1", a->num_heads);
  CHECK(a->num_heads <= lim.max_heads, MLA_ERR_UNSUPPORTED,
        "absorbed_args.num_heads = %d: this backend supports at most %d", a->num_heads, lim.max_heads);
  CHECK(a->latent_dim >= 1, INVALID, "absorbed_args.latent_dim = %d: must be >= 1", a->latent_dim);
  CHECK(a->latent_dim <= lim.max_latent_dim && a->latent_dim % lim.latent_dim_multiple == 0,
        MLA_ERR_UNSUPPORTED, "absorbed_args.latent_dim = %d: this backend supports multiples of %d up to %d",
        a->latent_dim, lim.latent_dim_multiple, lim.max_latent_dim);
  CHECK(a->rope_dim >= 0, INVALID, "absorbed_args.rope_dim = %d: must be >= 0", a->rope_dim);
  CHECK(a->rope_dim <= lim.max_rope_dim, MLA_ERR_UNSUPPORTED,
        "absorbed_args.rope_dim = %d: this backend supports at most %d", a->rope_dim, lim.max_rope_dim);
  CHECK(a->total_q >= 0, INVALID, "absorbed_args.total_q = %lld: must be >= 0", (long long)a->total_q);
  CHECK(a->max_seqlen_q >= 0, INVALID, "absorbed_args.max_seqlen_q = %d: must be >= 0", a->max_seqlen_q);
  CHECK(a->max_seqlen_q <= a->total_q || a->batch == 0, INVALID,
        "absorbed_args.max_seqlen_q = %d: must be <= total_q = %lld", a->max_seqlen_q, (long long)a->total_q);
  CHECK(a->causal == 0 || a->causal == 1, INVALID, "absorbed_args.causal = %d: must be 0 or 1", a->causal);
  CHECK(std::isfinite(a->scale) && a->scale > 0.0f, INVALID, "absorbed_args.scale = %g: must be finite and > 0",
        (double)a->scale);
  CHECK(a->reserved0 == 0, INVALID, "absorbed_args.reserved0 = %d: must be 0", a->reserved0);
  if (level == check_level::shape) return MLA_OK;

  const mla_paged_cache& kv = a->kv;
  CHECK(a->batch == 0 || a->cu_seqlens_q != nullptr, INVALID, "absorbed_args.cu_seqlens_q is NULL");
  const int64_t q_extent[3] = {a->total_q, a->num_heads, (int64_t)a->latent_dim + a->rope_dim};
  const int64_t o_extent[3] = {a->total_q, a->num_heads, a->latent_dim};
  TRY(check_tensor("absorbed_args.q", a->q, 3, q_extent, lim.q_dtypes, false, false));
  TRY(check_tensor("absorbed_args.out", a->out, 3, o_extent, lim.out_dtypes, false, true));
  TRY(check_tensor("absorbed_args.lse", a->lse, 2, o_extent, MLA_DTYPE_BIT(MLA_DTYPE_F32), true, true));

  CHECK(kv.struct_size >= sizeof(mla_paged_cache), MLA_ERR_VERSION,
        "absorbed_args.kv.struct_size = %zu: must be >= %zu", kv.struct_size, sizeof(mla_paged_cache));
  if (a->batch > 0) {
    CHECK(kv.data != nullptr, INVALID, "absorbed_args.kv.data is NULL");
    CHECK(kv.block_table != nullptr, INVALID, "absorbed_args.kv.block_table is NULL");
    CHECK(kv.seqlens_k != nullptr, INVALID, "absorbed_args.kv.seqlens_k is NULL");
  }
  CHECK(dtype_in(kv.dtype, lim.cache_dtypes), kv.dtype >= 1 && kv.dtype <= 5 ? MLA_ERR_UNSUPPORTED : INVALID,
        "absorbed_args.kv.dtype = %d (%s): not supported here", kv.dtype, dtype_label(kv.dtype));
  CHECK(kv.page_size >= 1, INVALID, "absorbed_args.kv.page_size = %d: must be >= 1", kv.page_size);
  CHECK(kv.page_size <= lim.max_page_size, MLA_ERR_UNSUPPORTED,
        "absorbed_args.kv.page_size = %d: this backend supports at most %d", kv.page_size, lim.max_page_size);
  CHECK(kv.num_pages >= 1, INVALID, "absorbed_args.kv.num_pages = %lld: must be >= 1", (long long)kv.num_pages);
  CHECK(kv.latent_offset >= 0, INVALID, "absorbed_args.kv.latent_offset = %d: must be >= 0", kv.latent_offset);
  CHECK(kv.rope_offset >= 0, INVALID, "absorbed_args.kv.rope_offset = %d: must be >= 0", kv.rope_offset);
  const int64_t row_extent = std::max<int64_t>((int64_t)kv.latent_offset + a->latent_dim,
                                               (int64_t)kv.rope_offset + a->rope_dim);
  CHECK(kv.row_stride >= row_extent || kv.page_size == 1, INVALID,
        "absorbed_args.kv.row_stride = %lld: rows would overlap (a row spans %lld elements)",
        (long long)kv.row_stride, (long long)row_extent);
  const int64_t page_extent = (int64_t)(kv.page_size - 1) * kv.row_stride + row_extent;
  CHECK(kv.page_stride >= page_extent || kv.num_pages == 1, INVALID,
        "absorbed_args.kv.page_stride = %lld: pages would overlap (a page spans %lld elements)",
        (long long)kv.page_stride, (long long)page_extent);
  CHECK(kv.block_table_stride >= 1, INVALID, "absorbed_args.kv.block_table_stride = %lld: must be >= 1",
        (long long)kv.block_table_stride);

  if (workspace_needed > 0) {
    CHECK(a->workspace != nullptr, MLA_ERR_WORKSPACE,
          "absorbed_args.workspace is NULL: this call needs %zu bytes (absorbed_workspace_size)", workspace_needed);
    CHECK(reinterpret_cast<uintptr_t>(a->workspace) % 256 == 0, MLA_ERR_WORKSPACE,
          "absorbed_args.workspace = %p: must be 256-byte aligned", a->workspace);
    CHECK(a->workspace_bytes >= workspace_needed, MLA_ERR_WORKSPACE,
          "absorbed_args.workspace_bytes = %zu: this call needs %zu (absorbed_workspace_size)", a->workspace_bytes,
          workspace_needed);
  }
  return MLA_OK;
}

mla_status validate_absorbed_indices_host(const mla_absorbed_args* a) {
  if (a->batch == 0) return MLA_OK;
  const int32_t* cu = a->cu_seqlens_q;
  CHECK(cu[0] == 0, INVALID, "absorbed_args.cu_seqlens_q[0] = %d: must be 0", cu[0]);
  for (int32_t b = 0; b < a->batch; ++b) {
    const int64_t sq = (int64_t)cu[b + 1] - cu[b];
    CHECK(sq >= 0, INVALID, "absorbed_args.cu_seqlens_q[%d] = %d: must be >= cu_seqlens_q[%d] = %d", b + 1,
          cu[b + 1], b, cu[b]);
    CHECK(sq <= a->max_seqlen_q, INVALID,
          "absorbed_args.cu_seqlens_q: sequence %d has %lld queries, more than max_seqlen_q = %d", b,
          (long long)sq, a->max_seqlen_q);
  }
  CHECK(cu[a->batch] == a->total_q, INVALID, "absorbed_args.cu_seqlens_q[%d] = %d: must equal total_q = %lld",
        a->batch, cu[a->batch], (long long)a->total_q);
  const mla_paged_cache& kv = a->kv;
  for (int32_t b = 0; b < a->batch; ++b) {
    const int32_t sk = kv.seqlens_k[b];
    CHECK(sk >= 0, INVALID, "absorbed_args.kv.seqlens_k[%d] = %d: must be >= 0", b, sk);
    const int64_t pages = ((int64_t)sk + kv.page_size - 1) / kv.page_size;
    CHECK(pages <= kv.block_table_stride, INVALID,
          "absorbed_args.kv.seqlens_k[%d] = %d: needs %lld pages, more than block_table_stride = %lld", b, sk,
          (long long)pages, (long long)kv.block_table_stride);
    for (int64_t p = 0; p < pages; ++p) {
      const int32_t page = kv.block_table[b * kv.block_table_stride + p];
      CHECK(page >= 0 && page < kv.num_pages, INVALID,
            "absorbed_args.kv.block_table[%d][%lld] = %d: must be in [0, num_pages = %lld)", b, (long long)p, page,
            (long long)kv.num_pages);
    }
  }
  return MLA_OK;
}

mla_status validate_merge(const mla_merge_args* a, const backend_limits& lim) {
  CHECK(a != nullptr, INVALID, "merge_args is NULL");
  CHECK(a->struct_size >= sizeof(mla_merge_args), MLA_ERR_VERSION,
        "merge_args.struct_size = %zu: must be >= %zu (sizeof(mla_merge_args) in ABI 1.0)", a->struct_size,
        sizeof(mla_merge_args));
  CHECK(a->num_parts >= 1, INVALID, "merge_args.num_parts = %d: must be >= 1", a->num_parts);
  CHECK(a->head_dim >= 1, INVALID, "merge_args.head_dim = %d: must be >= 1", a->head_dim);
  CHECK(a->num_rows >= 0, INVALID, "merge_args.num_rows = %lld: must be >= 0", (long long)a->num_rows);
  CHECK(a->num_heads >= 1, INVALID, "merge_args.num_heads = %d: must be >= 1", a->num_heads);
  CHECK(a->reserved0 == 0, INVALID, "merge_args.reserved0 = %d: must be 0", a->reserved0);
  const uint32_t floats = MLA_DTYPE_BIT(MLA_DTYPE_F32) | MLA_DTYPE_BIT(MLA_DTYPE_F16) | MLA_DTYPE_BIT(MLA_DTYPE_BF16);
  const int64_t parts_extent[4] = {a->num_parts, a->num_rows, a->num_heads, a->head_dim};
  const int64_t out_extent[3] = {a->num_rows, a->num_heads, a->head_dim};
  TRY(check_tensor("merge_args.parts_out", a->parts_out, 4, parts_extent, floats & lim.out_dtypes, false, false));
  TRY(check_tensor("merge_args.parts_lse", a->parts_lse, 3, parts_extent, MLA_DTYPE_BIT(MLA_DTYPE_F32), false,
                   false));
  TRY(check_tensor("merge_args.out", a->out, 3, out_extent, lim.out_dtypes, false, true));
  TRY(check_tensor("merge_args.lse", a->lse, 2, out_extent, MLA_DTYPE_BIT(MLA_DTYPE_F32), true, true));
  // The outputs must not alias the inputs (mla_plugin.h, op C).
  const byte_range parts_out = range_of(a->parts_out, 4, parts_extent), parts_lse = range_of(a->parts_lse, 3, parts_extent);
  const byte_range out = range_of(a->out, 3, out_extent), lse = range_of(a->lse, 2, out_extent);
  CHECK(!out.overlaps(parts_out) && !out.overlaps(parts_lse), INVALID,
        "merge_args.out overlaps merge_args.parts_out or parts_lse: outputs must not alias inputs");
  CHECK(!lse.overlaps(parts_out) && !lse.overlaps(parts_lse), INVALID,
        "merge_args.lse overlaps merge_args.parts_out or parts_lse: outputs must not alias inputs");
  return MLA_OK;
}

}  // namespace mla
