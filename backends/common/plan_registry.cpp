// SPDX-License-Identifier: MIT
#include "plan_registry.hpp"

#include "plugin_error.hpp"

namespace mla {
namespace {

// The fields of the key that both ops' args have: the batch, the latent
// cache's dims, the query offsets and the paged cache.
template <class Args>  // mla_absorbed_args, mla_decompressed_args
batch_key shared_key(int32_t op, const Args& a) {
  batch_key k;
  k.op = op;
  k.batch = a.batch;
  k.num_heads = a.num_heads;
  k.latent_dim = a.latent_dim;
  k.rope_dim = a.rope_dim;
  k.total_q = a.total_q;
  k.max_seqlen_q = a.max_seqlen_q;
  k.causal = a.causal;
  k.cu_seqlens_q = a.cu_seqlens_q;
  k.page_size = a.kv.page_size;
  k.num_pages = a.kv.num_pages;
  k.block_table_stride = a.kv.block_table_stride;
  k.seqlens_k = a.kv.seqlens_k;
  k.block_table = a.kv.block_table;
  return k;
}

}  // namespace

batch_key key_of(const mla_absorbed_args& a) { return shared_key(MLA_OP_ABSORBED, a); }

batch_key key_of(const mla_decompressed_args& a) {
  batch_key k = shared_key(MLA_OP_DECOMPRESSED, a);
  k.nope_dim = a.nope_dim;
  k.v_dim = a.v_dim;
  k.mode = a.mode;
  return k;
}

void plan_registry::record(const void* workspace, const batch_key& key) {
  entry* slot = nullptr;
  for (entry& e : entries_) {
    if (e.planned_at != 0 && e.workspace == workspace) {
      slot = &e;
      break;
    }
    if (slot == nullptr || (slot->planned_at != 0 && e.planned_at < slot->planned_at)) slot = &e;
  }
  slot->workspace = workspace;
  slot->key = key;
  slot->planned_at = ++clock_;
}

mla_status plan_registry::check(const void* workspace, const batch_key& now, const char* op, const char* plan) const {
  const entry* found = nullptr;
  for (const entry& e : entries_)
    if (e.planned_at != 0 && e.workspace == workspace) found = &e;
  if (found == nullptr)
    return fail(MLA_ERR_NOT_PLANNED,
                "%s.workspace = %p holds no plan of this context: call %s with it first (a context remembers its "
                "last %d planned workspaces)",
                op, workspace, plan, kCapacity);
  const batch_key& was = found->key;
  auto differs = [&](const char* field, long long planned, long long given) {
    return fail(MLA_ERR_NOT_PLANNED, "%s.%s = %lld, but the workspace was planned with %lld: call %s first", op,
                field, given, planned, plan);
  };
  auto moved = [&](const char* field, const void* planned, const void* given) {
    return fail(MLA_ERR_NOT_PLANNED, "%s.%s = %p, but the workspace was planned with %p: call %s first", op, field,
                given, planned, plan);
  };
  if (was.op != now.op)
    return fail(MLA_ERR_NOT_PLANNED, "%s.workspace holds the plan of another op: call %s first", op, plan);
  if (was.batch != now.batch) return differs("batch", was.batch, now.batch);
  if (was.num_heads != now.num_heads) return differs("num_heads", was.num_heads, now.num_heads);
  if (was.latent_dim != now.latent_dim) return differs("latent_dim", was.latent_dim, now.latent_dim);
  if (was.rope_dim != now.rope_dim) return differs("rope_dim", was.rope_dim, now.rope_dim);
  if (was.nope_dim != now.nope_dim) return differs("nope_dim", was.nope_dim, now.nope_dim);
  if (was.v_dim != now.v_dim) return differs("v_dim", was.v_dim, now.v_dim);
  if (was.total_q != now.total_q) return differs("total_q", was.total_q, now.total_q);
  if (was.max_seqlen_q != now.max_seqlen_q) return differs("max_seqlen_q", was.max_seqlen_q, now.max_seqlen_q);
  if (was.causal != now.causal) return differs("causal", was.causal, now.causal);
  if (was.mode != now.mode) return differs("mode", was.mode, now.mode);
  if (was.page_size != now.page_size) return differs("kv.page_size", was.page_size, now.page_size);
  if (was.num_pages != now.num_pages) return differs("kv.num_pages", was.num_pages, now.num_pages);
  if (was.block_table_stride != now.block_table_stride)
    return differs("kv.block_table_stride", was.block_table_stride, now.block_table_stride);
  if (was.cu_seqlens_q != now.cu_seqlens_q) return moved("cu_seqlens_q", was.cu_seqlens_q, now.cu_seqlens_q);
  if (was.seqlens_k != now.seqlens_k) return moved("kv.seqlens_k", was.seqlens_k, now.seqlens_k);
  if (was.block_table != now.block_table) return moved("kv.block_table", was.block_table, now.block_table);
  return MLA_OK;
}

}  // namespace mla
