// SPDX-License-Identifier: MIT
// What op A's and op B's plan headers share (split_plan.cpp,
// decompressed_plan.cpp): the batch description a plan records, the digest
// of its index contents, and the messages that say why a workspace's plan
// does not fit the args of a run.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdio>

namespace mla_cpu {

// FNV-1a of the contents of cu_seqlens_q[0..batch] and kv.seqlens_k[0..batch).
template <class Args>  // mla_absorbed_args, mla_decompressed_args
uint64_t index_digest(const Args& a) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a
  auto mix = [&h](int32_t v) {
    for (int i = 0; i < 4; ++i) {
      h ^= (uint32_t)v >> (8 * i) & 0xffu;
      h *= 1099511628211ull;
    }
  };
  if (a.batch > 0) {
    for (int32_t b = 0; b <= a.batch; ++b) mix(a.cu_seqlens_q[b]);
    for (int32_t b = 0; b < a.batch; ++b) mix(a.kv.seqlens_k[b]);
  }
  return h;
}

// The batch description both headers record (plan_header,
// decompressed_plan_header), from the args planned.
template <class Header, class Args>
void record_batch(Header& h, const Args& a) {
  h.batch = a.batch;
  h.num_heads = a.num_heads;
  h.latent_dim = a.latent_dim;
  h.rope_dim = a.rope_dim;
  h.max_seqlen_q = a.max_seqlen_q;
  h.causal = a.causal;
  h.page_size = a.kv.page_size;
  h.total_q = a.total_q;
  h.block_table_stride = a.kv.block_table_stride;
  h.cu_seqlens_q = a.cu_seqlens_q;
  h.seqlens_k = a.kv.seqlens_k;
  h.index_digest = index_digest(a);
}

// Why a workspace's plan does not fit a run of the args struct `args`
// ("absorbed_args"), whose plan entry point is `plan` ("absorbed_plan"):
// each writes its message into `why` and returns it.
struct plan_mismatch_text {
  const char* args;
  const char* plan;
  char* why;
  size_t why_size;

  const char* no_plan() const {
    std::snprintf(why, why_size, "%s.workspace holds no plan: call %s with this workspace first", args, plan);
    return why;
  }
  const char* other_context() const {
    std::snprintf(why, why_size, "%s.workspace was planned on another context: call %s on this one", args, plan);
    return why;
  }
  const char* differs(const char* field, long long planned, long long now) const {
    std::snprintf(why, why_size, "%s.%s = %lld, but the workspace was planned with %lld: call %s for this batch first",
                  args, field, now, planned, plan);
    return why;
  }
  const char* index_arrays_differ() const {
    std::snprintf(why, why_size,
                  "%s.cu_seqlens_q / kv.seqlens_k differ from the ones planned (pointer or contents): call %s for "
                  "this batch first",
                  args, plan);
    return why;
  }
  const char* overwritten() const {
    std::snprintf(why, why_size, "%s.workspace: the plan in it was overwritten since %s: call %s again", args, plan,
                  plan);
    return why;
  }
};

// The first field of the recorded batch's dims that `a` does not match
// (batch, num_heads, latent_dim, rope_dim); nullptr when none.
template <class Header, class Args>
const char* dims_mismatch(const Header& h, const Args& a, const plan_mismatch_text& t) {
  if (h.batch != a.batch) return t.differs("batch", h.batch, a.batch);
  if (h.num_heads != a.num_heads) return t.differs("num_heads", h.num_heads, a.num_heads);
  if (h.latent_dim != a.latent_dim) return t.differs("latent_dim", h.latent_dim, a.latent_dim);
  if (h.rope_dim != a.rope_dim) return t.differs("rope_dim", h.rope_dim, a.rope_dim);
  return nullptr;
}

// The rest of the recorded batch (total_q, max_seqlen_q, causal, the
// cache's page size and block-table stride, the index arrays: pointers and
// contents); nullptr when `a` matches it.
template <class Header, class Args>
const char* rows_mismatch(const Header& h, const Args& a, const plan_mismatch_text& t) {
  if (h.total_q != a.total_q) return t.differs("total_q", h.total_q, a.total_q);
  if (h.max_seqlen_q != a.max_seqlen_q) return t.differs("max_seqlen_q", h.max_seqlen_q, a.max_seqlen_q);
  if (h.causal != a.causal) return t.differs("causal", h.causal, a.causal);
  if (h.page_size != a.kv.page_size) return t.differs("kv.page_size", h.page_size, a.kv.page_size);
  if (h.block_table_stride != a.kv.block_table_stride)
    return t.differs("kv.block_table_stride", h.block_table_stride, a.kv.block_table_stride);
  if (h.cu_seqlens_q != a.cu_seqlens_q || h.seqlens_k != a.kv.seqlens_k || h.index_digest != index_digest(a))
    return t.index_arrays_differ();
  return nullptr;
}

}  // namespace mla_cpu
