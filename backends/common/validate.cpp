// SPDX-License-Identifier: MIT
#include "validate.hpp"

#include "plugin_error.hpp"
#include "struct_fields.hpp"

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

// Overflow-checked int64 arithmetic: every extent, span and offset computed
// from a caller's description goes through these, so a hostile stride is
// refused instead of wrapping around.
bool checked_mul(int64_t a, int64_t b, int64_t* r) { return !__builtin_mul_overflow(a, b, r); }
bool checked_add(int64_t a, int64_t b, int64_t* r) { return !__builtin_add_overflow(a, b, r); }

// A pointer on a multiple of `bytes` (a dtype or int32 element): anything
// else is undefined behaviour to dereference, on the host and on devices.
bool aligned(const void* p, int bytes) { return bytes <= 1 || reinterpret_cast<uintptr_t>(p) % (uintptr_t)bytes == 0; }

// Bytes [first, last) that a tensor's elements span; empty for NULL or no elements.
struct byte_range {
  uintptr_t first = 0, last = 0;
  bool overlaps(const byte_range& o) const { return first < last && o.first < o.last && first < o.last && o.first < last; }
};

// The bytes from `data` up to and including element offset `last_element`
// (whose element has `element_bytes`); false when that wraps the address space.
bool span_bytes(const void* data, int64_t last_element, int element_bytes, byte_range* r) {
  const uintptr_t first = reinterpret_cast<uintptr_t>(data);
  // last_element <= kMaxElementOffset, so this product cannot overflow.
  const uintptr_t bytes = ((uintptr_t)last_element + 1) * (uintptr_t)element_bytes;
  uintptr_t last = 0;
  if (__builtin_add_overflow(first, bytes, &last)) return false;
  r->first = first;
  r->last = last;
  return true;
}

// A tensor of `rank` dims with `extent` sizes.  `is_output` adds the check
// that distinct elements land on distinct addresses.  A tensor without
// elements (an extent of 0) is accepted whatever its strides; otherwise its
// farthest element must lie within kMaxElementOffset.  `bytes` receives the
// span of its elements (empty for an absent or empty tensor).
mla_status check_tensor(const char* name, const mla_tensor& t, int rank, const int64_t* extent,
                        uint32_t dtypes, bool optional, bool is_output, byte_range* bytes) {
  *bytes = byte_range{};
  if (t.struct_size < MLA_TENSOR_SIZE_1_0)
    return fail(MLA_ERR_VERSION, "%s.struct_size = %zu: must be >= %u (mla_tensor in ABI 1.0)", name,
                t.struct_size, MLA_TENSOR_SIZE_1_0);
  const bool empty = std::any_of(extent, extent + rank, [](int64_t e) { return e == 0; });
  if (t.data == nullptr) {
    if (optional) return MLA_OK;
    if (!empty) return fail(MLA_ERR_INVALID_ARGUMENT, "%s.data is NULL", name);
  }
  if (t.reserved0 != 0) return fail(MLA_ERR_INVALID_ARGUMENT, "%s.reserved0 = %d: must be 0", name, t.reserved0);
  if (!dtype_in(t.dtype, dtypes))
    return fail(t.dtype >= MLA_DTYPE_F32 && t.dtype <= MLA_DTYPE_FP8_E4M3 ? MLA_ERR_UNSUPPORTED
                                                                          : MLA_ERR_INVALID_ARGUMENT,
                "%s.dtype = %d (%s): not supported here", name, t.dtype, dtype_label(t.dtype));
  if (!aligned(t.data, dtype_size(t.dtype)))
    return fail(MLA_ERR_INVALID_ARGUMENT, "%s.data = %p: must be aligned to its %d-byte elements", name, t.data,
                dtype_size(t.dtype));
  for (int i = 0; i < 4; ++i) {
    if (t.stride[i] < 0)
      return fail(MLA_ERR_INVALID_ARGUMENT, "%s.stride[%d] = %lld: must be >= 0", name, i, (long long)t.stride[i]);
    if (i >= rank && t.stride[i] != 0)
      return fail(MLA_ERR_INVALID_ARGUMENT, "%s.stride[%d] = %lld: must be 0 (tensor has %d dims)", name, i,
                  (long long)t.stride[i], rank);
  }
  if (empty) return MLA_OK;  // nothing is read or written

  // The farthest element: sum of (extent - 1) * stride.  When it is past the
  // limit, name the dimension that contributes most.
  int64_t last = 0, term[4] = {0, 0, 0, 0};
  bool fits = true;
  int culprit = 0;
  for (int i = 0; i < rank; ++i) {
    if (!checked_mul(t.stride[i], extent[i] - 1, &term[i]) || !checked_add(last, term[i], &last)) {
      fits = false, culprit = i;
      break;
    }
    if (term[i] > term[culprit]) culprit = i;
  }
  if (!fits || last > kMaxElementOffset)
    return fail(MLA_ERR_INVALID_ARGUMENT,
                "%s.stride[%d] = %lld: over %lld elements the tensor reaches past the maximum element offset "
                "%lld (2^56 - 1)",
                name, culprit, (long long)t.stride[culprit], (long long)extent[culprit], (long long)kMaxElementOffset);

  if (is_output) {
    // Distinct elements need distinct addresses: sorted by stride, each
    // dimension of extent > 1 must step past the span of the smaller ones.
    // Every span here is <= last + 1, so nothing overflows.
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
      span = term[d] + span;
    }
  }
  if (!span_bytes(t.data, last, dtype_size(t.dtype), bytes))
    return fail(MLA_ERR_INVALID_ARGUMENT, "%s.data = %p: its elements would wrap around the address space", name,
                t.data);
  return MLA_OK;
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

// The struct `name` (an args struct or the context desc) present and at
// least `min_size` bytes (`since`: the struct and the ABI version of that size).
template <class Struct>
mla_status check_struct(const char* name, const Struct* p, unsigned min_size, const char* since) {
  CHECK(p != nullptr, INVALID, "%s is NULL", name);
  CHECK(p->struct_size >= min_size, MLA_ERR_VERSION, "%s.struct_size = %zu: must be >= %u (%s)", name, p->struct_size,
        min_size, since);
  return MLA_OK;
}

}  // namespace

int dtype_size(int32_t dtype) {
  switch (dtype) {
    case MLA_DTYPE_F32: return 4;
    case MLA_DTYPE_F16:
    case MLA_DTYPE_BF16: return 2;
    default: return 0;
  }
}

mla_status read_context_desc(const mla_context_desc* desc, uint32_t supported_flags, context_config& cfg) {
  TRY(check_struct("context_desc", desc, MLA_CONTEXT_DESC_SIZE_1_0, "mla_context_desc in ABI 1.0"));
  CHECK(desc->device_ordinal >= 0, INVALID, "context_desc.device_ordinal = %d: must be >= 0", desc->device_ordinal);
  CHECK(desc->reserved0 == 0 && desc->reserved1 == 0, INVALID, "context_desc.reserved0/reserved1: must be 0");
  CHECK(desc->num_threads >= 0 && desc->num_threads <= MLA_MAX_THREADS, INVALID,
        "context_desc.num_threads = %d: must be in [0, %d]", desc->num_threads, MLA_MAX_THREADS);
  cfg = context_config{};
  cfg.device_ordinal = desc->device_ordinal;
  cfg.stream = desc->stream;
  cfg.num_threads = desc->num_threads;
  if (!has_field(*desc, &mla_context_desc::parallel_for_pool)) return MLA_OK;  // a 1.0 desc
  CHECK(desc->reserved2 == 0, INVALID, "context_desc.reserved2 = %d: must be 0", desc->reserved2);
  CHECK((desc->flags & ~supported_flags) == 0, MLA_ERR_UNSUPPORTED,
        "context_desc.flags = 0x%x: this plugin honours only 0x%x (caps.context_flags)", desc->flags,
        supported_flags);
  CHECK(desc->parallel_for == nullptr || desc->num_threads >= 1, INVALID,
        "context_desc.num_threads = 0: must be >= 1 with parallel_for (the tasks handed out per call)");
  cfg.flags = desc->flags;
  cfg.kernel = desc->kernel && desc->kernel[0] ? desc->kernel : nullptr;
  cfg.parallel_for = desc->parallel_for;
  cfg.parallel_for_pool = desc->parallel_for_pool;
  return MLA_OK;
}

mla_status validate_probe_result(const mla_probe_result* r) {
  CHECK(r != nullptr, INVALID, "probe: result is NULL");
  CHECK(r->struct_size >= MLA_PROBE_RESULT_SIZE_1_0, MLA_ERR_VERSION,
        "probe: result.struct_size = %zu: must be >= %u", r->struct_size, MLA_PROBE_RESULT_SIZE_1_0);
  return MLA_OK;
}

namespace {

// The attention scalars both ops share; `op` names the args struct.
template <class Args>  // mla_absorbed_args, mla_decompressed_args
mla_status check_attention_scalars(const char* op, const Args& a, const backend_limits& lim) {
  CHECK(a.batch >= 0, INVALID, "%s.batch = %d: must be >= 0", op, a.batch);
  CHECK(a.num_heads >= 1, INVALID, "%s.num_heads = %d: must be >= 1", op, a.num_heads);
  CHECK(a.num_heads <= lim.max_heads, MLA_ERR_UNSUPPORTED, "%s.num_heads = %d: this backend supports at most %d", op,
        a.num_heads, lim.max_heads);
  CHECK(a.latent_dim >= 1, INVALID, "%s.latent_dim = %d: must be >= 1", op, a.latent_dim);
  CHECK(a.latent_dim <= lim.max_latent_dim && a.latent_dim % lim.latent_dim_multiple == 0, MLA_ERR_UNSUPPORTED,
        "%s.latent_dim = %d: this backend supports multiples of %d up to %d", op, a.latent_dim,
        lim.latent_dim_multiple, lim.max_latent_dim);
  CHECK(a.rope_dim >= 0, INVALID, "%s.rope_dim = %d: must be >= 0", op, a.rope_dim);
  CHECK(a.rope_dim <= lim.max_rope_dim, MLA_ERR_UNSUPPORTED, "%s.rope_dim = %d: this backend supports at most %d", op,
        a.rope_dim, lim.max_rope_dim);
  CHECK(a.total_q >= 0, INVALID, "%s.total_q = %lld: must be >= 0", op, (long long)a.total_q);
  CHECK(a.total_q <= INT32_MAX, INVALID, "%s.total_q = %lld: must be <= %d (it equals the int32 cu_seqlens_q[B])", op,
        (long long)a.total_q, INT32_MAX);
  CHECK(a.max_seqlen_q >= 0, INVALID, "%s.max_seqlen_q = %d: must be >= 0", op, a.max_seqlen_q);
  CHECK(a.max_seqlen_q <= a.total_q || a.batch == 0, INVALID, "%s.max_seqlen_q = %d: must be <= total_q = %lld", op,
        a.max_seqlen_q, (long long)a.total_q);
  CHECK(a.causal == 0 || a.causal == 1, INVALID, "%s.causal = %d: must be 0 or 1", op, a.causal);
  CHECK(std::isfinite(a.scale) && a.scale > 0.0f, INVALID, "%s.scale = %g: must be finite and > 0", op,
        (double)a.scale);
  CHECK(a.scale <= kMaxScale, INVALID,
        "%s.scale = %g: must be <= %g (beyond it f32 scores may overflow into NaN; docs/abi.md 7.3)", op,
        (double)a.scale, (double)kMaxScale);
  return MLA_OK;
}

// The paged cache of either op (struct, dtype, geometry, pointers).  Every
// page a block table may name lies within kMaxElementOffset, and so do the
// batch's rows of the block table.  `bytes` receives the cache's span.
mla_status check_cache(const char* op, const mla_paged_cache& kv, int32_t batch, int32_t latent_dim, int32_t rope_dim,
                       const backend_limits& lim, byte_range* bytes) {
  *bytes = byte_range{};
  CHECK(kv.struct_size >= MLA_PAGED_CACHE_SIZE_1_0, MLA_ERR_VERSION,
        "%s.kv.struct_size = %zu: must be >= %u (mla_paged_cache in ABI 1.0)", op, kv.struct_size,
        MLA_PAGED_CACHE_SIZE_1_0);
  if (batch > 0) {
    CHECK(kv.data != nullptr, INVALID, "%s.kv.data is NULL", op);
    CHECK(kv.block_table != nullptr, INVALID, "%s.kv.block_table is NULL", op);
    CHECK(kv.seqlens_k != nullptr, INVALID, "%s.kv.seqlens_k is NULL", op);
    CHECK(aligned(kv.block_table, 4), INVALID, "%s.kv.block_table = %p: must be aligned to its 4-byte elements", op,
          (const void*)kv.block_table);
    CHECK(aligned(kv.seqlens_k, 4), INVALID, "%s.kv.seqlens_k = %p: must be aligned to its 4-byte elements", op,
          (const void*)kv.seqlens_k);
  }
  CHECK(dtype_in(kv.dtype, lim.cache_dtypes), kv.dtype >= 1 && kv.dtype <= 5 ? MLA_ERR_UNSUPPORTED : INVALID,
        "%s.kv.dtype = %d (%s): not supported here", op, kv.dtype, dtype_label(kv.dtype));
  CHECK(aligned(kv.data, dtype_size(kv.dtype)), INVALID, "%s.kv.data = %p: must be aligned to its %d-byte elements",
        op, kv.data, dtype_size(kv.dtype));
  CHECK(kv.page_size >= 1, INVALID, "%s.kv.page_size = %d: must be >= 1", op, kv.page_size);
  CHECK(kv.page_size <= lim.max_page_size, MLA_ERR_UNSUPPORTED,
        "%s.kv.page_size = %d: this backend supports at most %d", op, kv.page_size, lim.max_page_size);
  CHECK(kv.num_pages >= 1, INVALID, "%s.kv.num_pages = %lld: must be >= 1", op, (long long)kv.num_pages);
  CHECK(kv.latent_offset >= 0, INVALID, "%s.kv.latent_offset = %d: must be >= 0", op, kv.latent_offset);
  CHECK(kv.rope_offset >= 0, INVALID, "%s.kv.rope_offset = %d: must be >= 0", op, kv.rope_offset);
  // int32 sums in int64: no overflow.
  const int64_t row_extent =
      std::max<int64_t>((int64_t)kv.latent_offset + latent_dim, (int64_t)kv.rope_offset + rope_dim);
  CHECK(kv.row_stride >= row_extent || kv.page_size == 1, INVALID,
        "%s.kv.row_stride = %lld: rows would overlap (a row spans %lld elements)", op, (long long)kv.row_stride,
        (long long)row_extent);
  // A page spans (page_size - 1) rows plus one row; a page of one row never
  // uses row_stride (nor a cache of one page page_stride).
  int64_t page_extent = row_extent, rows_span = 0;
  CHECK(kv.page_size == 1 || (checked_mul((int64_t)kv.page_size - 1, kv.row_stride, &rows_span) &&
                              checked_add(rows_span, row_extent, &page_extent) && page_extent - 1 <= kMaxElementOffset),
        INVALID, "%s.kv.row_stride = %lld: a page of %d rows reaches past the maximum element offset %lld (2^56 - 1)",
        op, (long long)kv.row_stride, kv.page_size, (long long)kMaxElementOffset);
  CHECK(kv.page_stride >= page_extent || kv.num_pages == 1, INVALID,
        "%s.kv.page_stride = %lld: pages would overlap (a page spans %lld elements)", op, (long long)kv.page_stride,
        (long long)page_extent);
  int64_t last = page_extent - 1, pages_span = 0;
  CHECK(kv.num_pages == 1 || (checked_mul(kv.num_pages - 1, kv.page_stride, &pages_span) &&
                              checked_add(pages_span, last, &last) && last <= kMaxElementOffset),
        INVALID,
        "%s.kv.page_stride = %lld: kv.num_pages = %lld pages reach past the maximum element offset %lld (2^56 - 1)",
        op, (long long)kv.page_stride, (long long)kv.num_pages, (long long)kMaxElementOffset);
  CHECK(kv.block_table_stride >= 1, INVALID, "%s.kv.block_table_stride = %lld: must be >= 1", op,
        (long long)kv.block_table_stride);
  int64_t table_entries = 0;
  CHECK(batch == 0 || (checked_mul(batch, kv.block_table_stride, &table_entries) &&
                       table_entries - 1 <= kMaxElementOffset),
        INVALID,
        "%s.kv.block_table_stride = %lld: %d rows of the block table reach past the maximum element offset %lld "
        "(2^56 - 1)",
        op, (long long)kv.block_table_stride, batch, (long long)kMaxElementOffset);
  if (kv.data != nullptr)
    CHECK(span_bytes(kv.data, last, dtype_size(kv.dtype), bytes), INVALID,
          "%s.kv.data = %p: the cache would wrap around the address space", op, kv.data);
  return MLA_OK;
}

mla_status check_workspace(const char* op, const void* workspace, size_t bytes, size_t needed, const char* sizer) {
  if (needed == 0) return MLA_OK;
  CHECK(workspace != nullptr, MLA_ERR_WORKSPACE, "%s.workspace is NULL: this call needs %zu bytes (%s)", op, needed,
        sizer);
  CHECK(reinterpret_cast<uintptr_t>(workspace) % 256 == 0, MLA_ERR_WORKSPACE,
        "%s.workspace = %p: must be 256-byte aligned", op, workspace);
  CHECK(bytes >= needed, MLA_ERR_WORKSPACE, "%s.workspace_bytes = %zu: this call needs %zu (%s)", op, bytes, needed,
        sizer);
  return MLA_OK;
}

// One buffer of a call, for the aliasing rule.
struct named_range {
  const char* name;
  byte_range bytes;
};

// The aliasing rule of every op: no output may overlap an input or another
// output (judged on each buffer's span, from its first to its last byte).
mla_status check_no_alias(const char* op, const named_range* outputs, int num_outputs, const named_range* inputs,
                          int num_inputs) {
  for (int o = 0; o < num_outputs; ++o) {
    for (int i = 0; i < num_inputs; ++i)
      CHECK(!outputs[o].bytes.overlaps(inputs[i].bytes), INVALID,
            "%s.%s overlaps %s.%s: an output must not alias an input or another output", op, outputs[o].name, op,
            inputs[i].name);
    for (int p = 0; p < o; ++p)
      CHECK(!outputs[o].bytes.overlaps(outputs[p].bytes), INVALID,
            "%s.%s overlaps %s.%s: an output must not alias an input or another output", op, outputs[o].name, op,
            outputs[p].name);
  }
  return MLA_OK;
}

// The index arrays and the workspace as the aliasing rule sees them:
// cu_seqlens_q [B+1], seqlens_k [B], block_table [B, block_table_stride]
// (the cache check bounded B * block_table_stride), the workspace's
// workspace_bytes when the call needs one.
void index_and_workspace_ranges(int32_t batch, const int32_t* cu, const mla_paged_cache& kv, const void* workspace,
                                size_t workspace_bytes, size_t workspace_needed, named_range* r) {
  auto span = [](const void* p, uint64_t bytes) {
    // batch < 2^31 and the cache check bounded B * block_table_stride; a
    // workspace_bytes that runs past the address space ends at its top.
    byte_range b;
    if (p == nullptr) return b;
    b.first = reinterpret_cast<uintptr_t>(p);
    if (__builtin_add_overflow(b.first, (uintptr_t)bytes, &b.last)) b.last = UINTPTR_MAX;
    return b;
  };
  const bool any = batch > 0;
  r[0] = {"cu_seqlens_q", any ? span(cu, 4ull * ((uint64_t)batch + 1)) : byte_range{}};
  r[1] = {"kv.seqlens_k", any ? span(kv.seqlens_k, 4ull * (uint64_t)batch) : byte_range{}};
  r[2] = {"kv.block_table",
          any ? span(kv.block_table, 4ull * (uint64_t)batch * (uint64_t)kv.block_table_stride) : byte_range{}};
  r[3] = {"workspace", workspace_needed > 0 ? span(workspace, workspace_bytes) : byte_range{}};
}

// cu_seqlens_q, seqlens_k and block_table contents (host memory).
mla_status check_indices_host(const char* op, int32_t batch, const int32_t* cu, int64_t total_q,
                              int32_t max_seqlen_q, const mla_paged_cache& kv) {
  if (batch == 0) return MLA_OK;
  CHECK(cu[0] == 0, INVALID, "%s.cu_seqlens_q[0] = %d: must be 0", op, cu[0]);
  for (int32_t b = 0; b < batch; ++b) {
    const int64_t sq = (int64_t)cu[b + 1] - cu[b];
    CHECK(sq >= 0, INVALID, "%s.cu_seqlens_q[%d] = %d: must be >= cu_seqlens_q[%d] = %d", op, b + 1, cu[b + 1], b,
          cu[b]);
    CHECK(sq <= max_seqlen_q, INVALID, "%s.cu_seqlens_q: sequence %d has %lld queries, more than max_seqlen_q = %d",
          op, b, (long long)sq, max_seqlen_q);
  }
  CHECK(cu[batch] == total_q, INVALID, "%s.cu_seqlens_q[%d] = %d: must equal total_q = %lld", op, batch, cu[batch],
        (long long)total_q);
  for (int32_t b = 0; b < batch; ++b) {
    const int32_t sk = kv.seqlens_k[b];
    CHECK(sk >= 0, INVALID, "%s.kv.seqlens_k[%d] = %d: must be >= 0", op, b, sk);
    const int64_t pages = ((int64_t)sk + kv.page_size - 1) / kv.page_size;
    CHECK(pages <= kv.block_table_stride, INVALID,
          "%s.kv.seqlens_k[%d] = %d: needs %lld pages, more than block_table_stride = %lld", op, b, sk,
          (long long)pages, (long long)kv.block_table_stride);
    for (int64_t p = 0; p < pages; ++p) {
      const int32_t page = kv.block_table[b * kv.block_table_stride + p];
      CHECK(page >= 0 && page < kv.num_pages, INVALID,
            "%s.kv.block_table[%d][%lld] = %d: must be in [0, num_pages = %lld)", op, b, (long long)p, page,
            (long long)kv.num_pages);
    }
  }
  return MLA_OK;
}

// cu_seqlens_q present and on its 4-byte elements, where the batch has sequences.
mla_status check_cu_seqlens_q(const char* op, int32_t batch, const int32_t* cu_seqlens_q) {
  CHECK(batch == 0 || cu_seqlens_q != nullptr, INVALID, "%s.cu_seqlens_q is NULL", op);
  CHECK(batch == 0 || aligned(cu_seqlens_q, 4), INVALID,
        "%s.cu_seqlens_q = %p: must be aligned to its 4-byte elements", op, (const void*)cu_seqlens_q);
  return MLA_OK;
}

}  // namespace

mla_status validate_absorbed(const mla_absorbed_args* a, const backend_limits& lim, check_level level,
                             size_t workspace_needed) {
  static const char* const op = "absorbed_args";
  TRY(check_struct(op, a, MLA_ABSORBED_ARGS_SIZE_1_0, "mla_absorbed_args in ABI 1.0"));
  TRY(check_attention_scalars(op, *a, lim));
  CHECK(a->reserved0 == 0, INVALID, "absorbed_args.reserved0 = %d: must be 0", a->reserved0);
  if (level == check_level::shape) return MLA_OK;

  TRY(check_cu_seqlens_q(op, a->batch, a->cu_seqlens_q));
  const int64_t q_extent[3] = {a->total_q, a->num_heads, (int64_t)a->latent_dim + a->rope_dim};
  const int64_t o_extent[3] = {a->total_q, a->num_heads, a->latent_dim};
  byte_range q, out, lse, cache;
  TRY(check_tensor("absorbed_args.q", a->q, 3, q_extent, lim.q_dtypes, false, false, &q));
  TRY(check_tensor("absorbed_args.out", a->out, 3, o_extent, lim.out_dtypes, false, true, &out));
  TRY(check_tensor("absorbed_args.lse", a->lse, 2, o_extent, MLA_DTYPE_BIT(MLA_DTYPE_F32), true, true, &lse));
  TRY(check_cache(op, a->kv, a->batch, a->latent_dim, a->rope_dim, lim, &cache));
  TRY(check_workspace(op, a->workspace, a->workspace_bytes, workspace_needed, "absorbed_workspace_size"));
  named_range inputs[6] = {{"q", q}, {"kv.data", cache}};
  index_and_workspace_ranges(a->batch, a->cu_seqlens_q, a->kv, a->workspace, a->workspace_bytes, workspace_needed,
                             inputs + 2);
  const named_range outputs[2] = {{"out", out}, {"lse", lse}};
  return check_no_alias(op, outputs, 2, inputs, 6);
}

mla_status validate_decompressed(const mla_decompressed_args* a, const backend_limits& lim, check_level level,
                                 size_t workspace_needed) {
  static const char* const op = "decompressed_args";
  TRY(check_struct(op, a, MLA_DECOMPRESSED_ARGS_SIZE_1_1, "mla_decompressed_args in ABI 1.1"));
  TRY(check_attention_scalars(op, *a, lim));
  CHECK(a->nope_dim >= 1, INVALID, "decompressed_args.nope_dim = %d: must be >= 1", a->nope_dim);
  CHECK(a->nope_dim <= lim.max_nope_dim, MLA_ERR_UNSUPPORTED,
        "decompressed_args.nope_dim = %d: this backend supports at most %d", a->nope_dim, lim.max_nope_dim);
  CHECK(a->v_dim >= 1, INVALID, "decompressed_args.v_dim = %d: must be >= 1", a->v_dim);
  CHECK(a->v_dim <= lim.max_v_dim, MLA_ERR_UNSUPPORTED, "decompressed_args.v_dim = %d: this backend supports at most %d",
        a->v_dim, lim.max_v_dim);
  CHECK(a->mode >= MLA_DECOMPRESSED_AUTO && a->mode <= MLA_DECOMPRESSED_FORCE_ABSORBED, INVALID,
        "decompressed_args.mode = %d: must be MLA_DECOMPRESSED_AUTO (0), _FORCE (1) or _FORCE_ABSORBED (2)", a->mode);
  if (level == check_level::shape) return MLA_OK;

  TRY(check_cu_seqlens_q(op, a->batch, a->cu_seqlens_q));
  const int64_t q_extent[3] = {a->total_q, a->num_heads, (int64_t)a->nope_dim + a->rope_dim};
  const int64_t uk_extent[3] = {a->num_heads, a->nope_dim, a->latent_dim};
  const int64_t uv_extent[3] = {a->num_heads, a->v_dim, a->latent_dim};
  const int64_t o_extent[3] = {a->total_q, a->num_heads, a->v_dim};
  byte_range q, w_uk, w_uv, out, lse, cache;
  TRY(check_tensor("decompressed_args.q", a->q, 3, q_extent, lim.q_dtypes, false, false, &q));
  TRY(check_tensor("decompressed_args.w_uk", a->w_uk, 3, uk_extent, lim.weight_dtypes, false, false, &w_uk));
  TRY(check_tensor("decompressed_args.w_uv", a->w_uv, 3, uv_extent, lim.weight_dtypes, false, false, &w_uv));
  TRY(check_tensor("decompressed_args.out", a->out, 3, o_extent, lim.out_dtypes, false, true, &out));
  TRY(check_tensor("decompressed_args.lse", a->lse, 2, o_extent, MLA_DTYPE_BIT(MLA_DTYPE_F32), true, true, &lse));
  TRY(check_cache(op, a->kv, a->batch, a->latent_dim, a->rope_dim, lim, &cache));
  TRY(check_workspace(op, a->workspace, a->workspace_bytes, workspace_needed, "decompressed_workspace_size"));
  named_range inputs[8] = {{"q", q}, {"w_uk", w_uk}, {"w_uv", w_uv}, {"kv.data", cache}};
  index_and_workspace_ranges(a->batch, a->cu_seqlens_q, a->kv, a->workspace, a->workspace_bytes, workspace_needed,
                             inputs + 4);
  const named_range outputs[2] = {{"out", out}, {"lse", lse}};
  return check_no_alias(op, outputs, 2, inputs, 8);
}

mla_status validate_absorbed_indices_host(const mla_absorbed_args* a) {
  return check_indices_host("absorbed_args", a->batch, a->cu_seqlens_q, a->total_q, a->max_seqlen_q, a->kv);
}

mla_status validate_decompressed_indices_host(const mla_decompressed_args* a) {
  return check_indices_host("decompressed_args", a->batch, a->cu_seqlens_q, a->total_q, a->max_seqlen_q, a->kv);
}

mla_status validate_merge(const mla_merge_args* a, const backend_limits& lim) {
  TRY(check_struct("merge_args", a, MLA_MERGE_ARGS_SIZE_1_0, "mla_merge_args in ABI 1.0"));
  CHECK(a->num_parts >= 1, INVALID, "merge_args.num_parts = %d: must be >= 1", a->num_parts);
  CHECK(a->head_dim >= 1, INVALID, "merge_args.head_dim = %d: must be >= 1", a->head_dim);
  CHECK(a->num_rows >= 0, INVALID, "merge_args.num_rows = %lld: must be >= 0", (long long)a->num_rows);
  CHECK(a->num_heads >= 1, INVALID, "merge_args.num_heads = %d: must be >= 1", a->num_heads);
  CHECK(a->reserved0 == 0, INVALID, "merge_args.reserved0 = %d: must be 0", a->reserved0);
  const uint32_t floats = MLA_DTYPE_BIT(MLA_DTYPE_F32) | MLA_DTYPE_BIT(MLA_DTYPE_F16) | MLA_DTYPE_BIT(MLA_DTYPE_BF16);
  const int64_t parts_extent[4] = {a->num_parts, a->num_rows, a->num_heads, a->head_dim};
  const int64_t out_extent[3] = {a->num_rows, a->num_heads, a->head_dim};
  byte_range parts_out, parts_lse, out, lse;
  TRY(check_tensor("merge_args.parts_out", a->parts_out, 4, parts_extent, floats & lim.out_dtypes, false, false,
                   &parts_out));
  TRY(check_tensor("merge_args.parts_lse", a->parts_lse, 3, parts_extent, MLA_DTYPE_BIT(MLA_DTYPE_F32), false,
                   false, &parts_lse));
  TRY(check_tensor("merge_args.out", a->out, 3, out_extent, lim.out_dtypes, false, true, &out));
  TRY(check_tensor("merge_args.lse", a->lse, 2, out_extent, MLA_DTYPE_BIT(MLA_DTYPE_F32), true, true, &lse));
  // The outputs must not alias the inputs or each other (mla_plugin.h, op C).
  const named_range inputs[2] = {{"parts_out", parts_out}, {"parts_lse", parts_lse}};
  const named_range outputs[2] = {{"out", out}, {"lse", lse}};
  return check_no_alias("merge_args", outputs, 2, inputs, 2);
}

}  // namespace mla
