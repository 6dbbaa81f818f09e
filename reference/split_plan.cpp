// SPDX-License-Identifier: MIT
#include "split_plan.hpp"

#include "plan_identity.hpp"

#include <algorithm>
#include <cstring>

namespace mla_cpu {
namespace {

constexpr uint64_t kPlanMagic = 0x4e414c5055504340ull;  // "@CPUPLAN"

size_t pad_floats(size_t n) { return (n + 15) / 16 * 16; }  // 64-byte multiples
size_t pad_bytes(size_t n) { return (n + 63) / 64 * 64; }

int32_t visible_end(const mla_absorbed_args& a, int32_t s_q, int32_t s_k, int32_t last_row) {
  if (!a.causal) return s_k;
  const int64_t end = (int64_t)s_k - s_q + last_row + 1;  // bottom-right aligned
  return (int32_t)std::min<int64_t>(s_k, std::max<int64_t>(0, end));
}

// Field by field: a memcmp of the structs would also compare their padding,
// which no copy is bound to preserve (clang builds differed there).
bool same_layout(const workspace_layout& x, const workspace_layout& y) {
  return x.q_tile == y.q_tile && x.max_items == y.max_items && x.max_groups == y.max_groups &&
         x.max_split_items == y.max_split_items && x.items_offset == y.items_offset &&
         x.groups_offset == y.groups_offset && x.counters_offset == y.counters_offset &&
         x.scratch_offset == y.scratch_offset && x.scratch_bytes == y.scratch_bytes &&
         x.partials_offset == y.partials_offset && x.slot_floats == y.slot_floats && x.total_bytes == y.total_bytes;
}

}  // namespace

workspace_layout compute_layout(const mla_absorbed_args& a, int threads, uint32_t flags) {
  workspace_layout L;
  const size_t H = (size_t)a.num_heads, Dl = (size_t)a.latent_dim, D = Dl + (size_t)a.rope_dim;
  const bool invariant = (flags & MLA_CONTEXT_BATCH_INVARIANT) != 0;
  // Batch-invariant tiles do not depend on max_seqlen_q (a batch property).
  L.q_tile = std::max(1, invariant ? kPairsPerTile / a.num_heads : std::min(a.max_seqlen_q, kPairsPerTile / a.num_heads));
  // Every tile but the last of a sequence is full.
  const int64_t max_tiles = std::min<int64_t>(a.total_q, (int64_t)a.batch + a.total_q / L.q_tile);
  if (invariant) {
    // Only sequences of <= kInvariantSplitQueries queries split (at most
    // that many rows' tiles each), each tile into <= kInvariantMaxSplits items.
    const int64_t tiles_per_short_seq = (kInvariantSplitQueries + L.q_tile - 1) / L.q_tile;
    const int64_t groups = std::min<int64_t>(max_tiles, (int64_t)a.batch * tiles_per_short_seq);
    L.max_groups = groups;
    L.max_split_items = groups * kInvariantMaxSplits;
    L.max_items = max_tiles + L.max_split_items;
  } else {
    const int64_t target = threads > 1 ? (int64_t)kItemsPerThread * threads : 0;
    // A tile is split into n <= x + 1 items where x = its share of `target`
    // (see build_plan), so all items <= tiles + target, and a split tile
    // (x > 1) has n <= 2x: split items <= 2 * target, split tiles <= target.
    L.max_items = max_tiles + target;
    L.max_groups = std::min(max_tiles, target);
    L.max_split_items = std::min<int64_t>(2 * target, L.max_items);
  }

  const size_t pairs = (size_t)L.q_tile * H;
  // Only tiles of <= kInvariantSplitQueries rows split in the invariant plan.
  const size_t slot_pairs = invariant ? (size_t)std::min(L.q_tile, kInvariantSplitQueries) * H : pairs;
  L.slot_floats = pad_floats(slot_pairs * Dl) + pad_floats(slot_pairs);
  const size_t scratch_floats = pad_floats(pairs * D) + pad_floats(pairs * Dl) + 2 * pad_floats(pairs) +
                                pad_floats((size_t)kRowBlock * D) + pad_floats(2 * kRowBlock);
  L.scratch_bytes = scratch_floats * sizeof(float);

  size_t at = pad_bytes(sizeof(plan_header));
  L.items_offset = at;
  at += pad_bytes((size_t)L.max_items * sizeof(work_item));
  L.groups_offset = at;
  at += pad_bytes((size_t)L.max_groups * sizeof(split_group));
  L.counters_offset = at;
  at += pad_bytes((size_t)L.max_groups * sizeof(int32_t));
  L.scratch_offset = at;
  at += L.scratch_bytes * (size_t)threads;
  L.partials_offset = at;
  at += L.slot_floats * sizeof(float) * (size_t)L.max_split_items;
  L.total_bytes = at;
  return L;
}

thread_scratch scratch_for_thread(const mla_absorbed_args& a, const workspace_layout& L, void* workspace,
                                  int thread) {
  const size_t pairs = (size_t)L.q_tile * a.num_heads;
  const size_t D = (size_t)a.latent_dim + a.rope_dim;
  float* p = reinterpret_cast<float*>(static_cast<char*>(workspace) + L.scratch_offset +
                                      L.scratch_bytes * (size_t)thread);
  thread_scratch s;
  s.q = p;
  p += pad_floats(pairs * D);
  s.acc = p;
  p += pad_floats(pairs * a.latent_dim);
  s.row_max = p;
  p += pad_floats(pairs);
  s.row_sum = p;
  p += pad_floats(pairs);
  s.rows = p;
  p += pad_floats((size_t)kRowBlock * D);
  s.scores = p;
  return s;
}

void build_plan(const mla_absorbed_args& a, const void* ctx, int threads, uint32_t flags) {
  const workspace_layout L = compute_layout(a, threads, flags);
  const bool invariant = (flags & MLA_CONTEXT_BATCH_INVARIANT) != 0;
  plan_header h;
  std::memset(&h, 0, sizeof h);
  h.magic = kPlanMagic;
  h.ctx = ctx;
  h.threads = threads;
  h.flags = flags;
  record_batch(h, a);
  h.layout = L;

  char* ws = static_cast<char*>(a.workspace);
  work_item* items = reinterpret_cast<work_item*>(ws + L.items_offset);
  split_group* groups = reinterpret_cast<split_group*>(ws + L.groups_offset);
  const int64_t target = threads > 1 && !invariant ? (int64_t)kItemsPerThread * threads : 0;

  // Cost of a tile ~ visible keys x (query rows + 1 for loading the rows).
  auto for_each_tile = [&](auto&& visit) {
    for (int32_t b = 0; b < a.batch; ++b) {
      const int32_t s_q = a.cu_seqlens_q[b + 1] - a.cu_seqlens_q[b], s_k = a.kv.seqlens_k[b];
      // q0 in int64: q0 + q_tile may pass INT32_MAX on the last tile.
      for (int64_t q0 = 0; q0 < s_q; q0 += L.q_tile) {
        const int32_t qc = (int32_t)std::min<int64_t>(L.q_tile, s_q - q0);
        const int32_t keys = visible_end(a, s_q, s_k, (int32_t)q0 + qc - 1);
        visit(b, (int32_t)q0, qc, keys, (uint64_t)keys * (uint64_t)(qc + 1));
      }
    }
  };
  uint64_t total_cost = 0;
  for_each_tile([&](int32_t, int32_t, int32_t, int32_t, uint64_t cost) { total_cost += cost; });

  int64_t n_items = 0, n_groups = 0, n_slots = 0;
  for_each_tile([&](int32_t b, int32_t q0, int32_t qc, int32_t keys, uint64_t cost) {
    int64_t n = 1;
    if (target > 0 && total_cost > 0) {
      const unsigned __int128 share = (unsigned __int128)cost * (uint64_t)target;
      n = (int64_t)((share + total_cost - 1) / total_cost);  // ceil(x)
      n = std::max<int64_t>(1, std::min<int64_t>(n, keys / kMinSplitRows));
    }
    int32_t chunk = keys;
    if (n > 1) {  // whole row blocks per split
      chunk = (int32_t)(((keys + n - 1) / n + kRowBlock - 1) / kRowBlock * kRowBlock);
      n = ((int64_t)keys + chunk - 1) / chunk;  // int64: keys + chunk may pass INT32_MAX
    }
    const int32_t s_q = a.cu_seqlens_q[b + 1] - a.cu_seqlens_q[b];
    if (invariant && s_q <= kInvariantSplitQueries && keys > 0) {
      // Split points at multiples of a chunk that depends on s_k alone.
      const int64_t s_k = a.kv.seqlens_k[b];
      const int64_t share = (s_k + kInvariantMaxSplits - 1) / kInvariantMaxSplits;
      chunk = (int32_t)std::max<int64_t>(kInvariantChunk, (share + kRowBlock - 1) / kRowBlock * kRowBlock);
      n = ((int64_t)keys + chunk - 1) / chunk;  // int64: keys + chunk may pass INT32_MAX
    }
    // The bounds of compute_layout hold by construction; this keeps the
    // workspace safe even if they did not.
    if (n > 1 && (n_groups >= L.max_groups || n_slots + n > L.max_split_items ||
                  n_items + n > L.max_items))
      n = 1, chunk = keys;
    if (n == 1) {
      items[n_items++] = work_item{b, q0, qc, 0, keys, -1, -1};
      return;
    }
    const int32_t group = (int32_t)n_groups++;
    groups[group] = split_group{b, q0, qc, (int32_t)n_slots, (int32_t)n};
    for (int64_t s = 0; s < n; ++s) {
      // (s + 1) * chunk may pass INT32_MAX (chunks are rounded up to row
      // blocks): clamp in int64 before narrowing.
      const int32_t k0 = (int32_t)(s * chunk), k1 = (int32_t)std::min<int64_t>(keys, (s + 1) * chunk);
      items[n_items++] = work_item{b, q0, qc, k0, k1, (int32_t)(n_slots++), group};
    }
  });
  // Largest first, so dynamic scheduling ends evenly.
  std::sort(items, items + n_items, [](const work_item& x, const work_item& y) {
    return (int64_t)(x.key_end - x.key_begin) * (x.q_count + 1) > (int64_t)(y.key_end - y.key_begin) * (y.q_count + 1);
  });
  h.num_items = n_items;
  h.num_groups = n_groups;
  std::memcpy(ws, &h, sizeof h);
}

const char* plan_mismatch(const mla_absorbed_args& a, const void* ctx, int threads, uint32_t flags, char* why,
                          size_t why_size) {
  const plan_header& h = plan_of(a);
  const plan_mismatch_text text{"absorbed_args", "absorbed_plan", why, why_size};
  if (h.magic != kPlanMagic) return text.no_plan();
  if (h.ctx != ctx || h.threads != threads || h.flags != flags) return text.other_context();
  if (const char* m = dims_mismatch(h, a, text)) return m;
  if (const char* m = rows_mismatch(h, a, text)) return m;
  // The workspace is caller memory: check the schedule is still in bounds
  // before run indexes anything with it.
  const workspace_layout L = compute_layout(a, threads, flags);
  bool intact = same_layout(L, h.layout) && h.num_items >= 0 && h.num_items <= L.max_items &&
                h.num_groups >= 0 && h.num_groups <= L.max_groups;
  // Sums in int64 (the values are caller memory, any int32 is possible). A
  // partial slot holds slot_rows query rows (fewer than q_tile in the
  // invariant plan): a split item or group of more rows would write past it.
  const int64_t slot_rows =
      (flags & MLA_CONTEXT_BATCH_INVARIANT) != 0 ? std::min(L.q_tile, kInvariantSplitQueries) : L.q_tile;
  for (int64_t k = 0; intact && k < h.num_items; ++k) {
    const work_item& it = items_of(a)[k];
    intact = it.seq >= 0 && it.seq < a.batch && it.q_begin >= 0 && it.q_count >= 1 && it.q_count <= L.q_tile &&
             (int64_t)it.q_begin + it.q_count <= (int64_t)a.cu_seqlens_q[it.seq + 1] - a.cu_seqlens_q[it.seq] &&
             it.key_begin >= 0 && it.key_begin <= it.key_end && it.key_end <= a.kv.seqlens_k[it.seq] &&
             it.slot < L.max_split_items && it.group < h.num_groups && (it.slot < 0) == (it.group < 0) &&
             (it.slot < 0 || it.q_count <= slot_rows);
  }
  for (int64_t g = 0; intact && g < h.num_groups; ++g) {
    const split_group& sg = groups_of(a)[g];
    intact = sg.seq >= 0 && sg.seq < a.batch && sg.q_count >= 1 && sg.q_count <= slot_rows && sg.q_begin >= 0 &&
             (int64_t)sg.q_begin + sg.q_count <= (int64_t)a.cu_seqlens_q[sg.seq + 1] - a.cu_seqlens_q[sg.seq] &&
             sg.first_slot >= 0 && sg.num_slots >= 2 && sg.first_slot + (int64_t)sg.num_slots <= L.max_split_items;
  }
  if (!intact) return text.overwritten();
  return nullptr;
}

}  // namespace mla_cpu
