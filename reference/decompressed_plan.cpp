// SPDX-License-Identifier: MIT
#include "decompressed_plan.hpp"

#include "plan_identity.hpp"
#include "split_plan.hpp"  // kRowBlock: op A's kernel scratch, used by absorbed-form items

#include <algorithm>
#include <cstring>
#include <limits>

namespace mla_cpu {
namespace {

constexpr uint64_t kPlanMagic = 0x504d4f4455504340ull;  // "@CPUDOMP"
constexpr size_t kTooBig = std::numeric_limits<size_t>::max();

// Sizes in floats, each padded to 64 bytes; saturating at kTooBig.
size_t pad_floats(size_t n) { return n > kTooBig / 8 ? kTooBig / 4 : (n + 15) / 16 * 16; }
size_t mul(size_t a, size_t b) { return b != 0 && a > kTooBig / b ? kTooBig / 8 : a * b; }

struct scratch_sizes {  // floats per thread, by part
  size_t w, lat, kv, q, s, acc, m, l;     // decompressed form
  size_t qn, qa, oa, la, wa, po, opa;     // absorbed form
  size_t decompressed() const { return w + lat + kv + q + s + acc + m + l; }
  size_t absorbed() const { return qn + qa + oa + la + wa + po + opa; }
};

scratch_sizes sizes_for(const mla_decompressed_args& a, const decompressed_layout& L) {
  const size_t H = (size_t)a.num_heads, Dl = (size_t)a.latent_dim, Dr = (size_t)a.rope_dim, Dn = (size_t)a.nope_dim,
               Dv = (size_t)a.v_dim, R = (size_t)L.range_queries, P = mul((size_t)L.absorbed_tile, H), D = Dl + Dr;
  scratch_sizes z{};
  if (R > 0) {
    z.w = pad_floats((Dn + Dv) * Dl);
    z.lat = pad_floats((size_t)kKeyChunk * Dl);
    z.kv = pad_floats((size_t)kKeyChunk * (Dn + Dr + Dv));
    z.q = pad_floats((size_t)kQueryTile * (Dn + Dr));
    z.s = pad_floats((size_t)kQueryTile * kKeyChunk);
    z.acc = pad_floats(R * Dv);
    z.m = z.l = pad_floats(R);
  }
  if (P > 0) {
    z.qn = pad_floats(mul(P, Dn + Dr));
    z.qa = pad_floats(mul(P, D));
    z.oa = pad_floats(mul(P, Dl));
    z.la = pad_floats(P);
    z.wa = pad_floats(std::max(Dn, Dv) * Dl);
    z.po = pad_floats((size_t)L.absorbed_tile * Dv);
    // op A's thread_scratch: q [P][D], acc [P][Dl], row_max, row_sum [P], rows [kRowBlock][D], scores [2][kRowBlock]
    z.opa = pad_floats(mul(P, D)) + pad_floats(mul(P, Dl)) + 2 * pad_floats(P) + pad_floats((size_t)kRowBlock * D) +
            pad_floats(2 * kRowBlock);
  }
  return z;
}

int32_t round_up(int32_t x, int32_t m) { return (int32_t)(((int64_t)x + m - 1) / m * m); }

}  // namespace

bool takes_decompressed_form(int32_t mode, int32_t s_q, int32_t break_even) {
  return mode == MLA_DECOMPRESSED_FORCE || (mode == MLA_DECOMPRESSED_AUTO && s_q >= break_even);
}

decompressed_layout decompressed_layout_for(const mla_decompressed_args& a, int threads, int32_t break_even) {
  decompressed_layout L;
  // Which kinds of item this mode can produce (AUTO: decompressed only if
  // some sequence can reach the break-even).
  const bool any_decompressed =
      a.mode == MLA_DECOMPRESSED_FORCE || (a.mode == MLA_DECOMPRESSED_AUTO && a.max_seqlen_q >= break_even);
  const bool any_absorbed = a.mode == MLA_DECOMPRESSED_FORCE_ABSORBED ||
                            (a.mode == MLA_DECOMPRESSED_AUTO && std::min<int64_t>(a.max_seqlen_q, break_even - 1) >= 1);
  if (any_decompressed)
    L.range_queries = std::min(round_up(std::max(a.max_seqlen_q, 1), kQueryTile), kMaxRangeQueries);
  if (any_absorbed) L.absorbed_tile = std::max(1, std::min(kAbsorbedPairs / a.num_heads, std::max(a.max_seqlen_q, 1)));
  // Items: a decompressed-form sequence gives H x ceil(s_q / range) items,
  // ranges >= kQueryTile rows (or the whole sequence); an absorbed-form one
  // ceil(s_q / tile).
  const int64_t B = a.batch, H = a.num_heads, tq = a.total_q;
  if (L.range_queries > 0) L.max_items += H * (B + tq / kQueryTile);
  if (L.absorbed_tile > 0) L.max_items += B + tq / L.absorbed_tile;
  const scratch_sizes z = sizes_for(a, L);
  const size_t floats = std::max(z.decompressed(), z.absorbed());
  L.scratch_bytes = mul(floats, sizeof(float));
  size_t at = (sizeof(decompressed_plan_header) + 63) / 64 * 64;
  L.items_offset = at;
  const size_t items = mul((size_t)L.max_items, sizeof(decompressed_item));
  at = items > kTooBig / 4 ? kTooBig / 2 : at + (items + 63) / 64 * 64;
  L.scratch_offset = at;
  const size_t all_scratch = mul(L.scratch_bytes, (size_t)threads);
  L.total_bytes = at > kTooBig / 2 || all_scratch > kTooBig / 2 ? kTooBig : at + all_scratch;
  return L;
}

decompressed_scratch decompressed_scratch_for(const mla_decompressed_args& a, const decompressed_layout& L,
                                              void* workspace, int thread) {
  const scratch_sizes z = sizes_for(a, L);
  float* p = reinterpret_cast<float*>(static_cast<char*>(workspace) + L.scratch_offset +
                                      L.scratch_bytes * (size_t)thread);
  decompressed_scratch s{};
  float* d = p;  // the two forms share the thread's scratch (one item at a time)
  s.w = d, d += z.w;
  s.lat = d, d += z.lat;
  s.kv = d, d += z.kv;
  s.q = d, d += z.q;
  s.s = d, d += z.s;
  s.acc = d, d += z.acc;
  s.m = d, d += z.m;
  s.l = d;
  float* b = p;
  s.qn = b, b += z.qn;
  s.qa = b, b += z.qa;
  s.oa = b, b += z.oa;
  s.la = b, b += z.la;
  s.wa = b, b += z.wa;
  s.po = b, b += z.po;
  s.opa = b;
  return s;
}

void build_decompressed_plan(const mla_decompressed_args& a, const void* ctx, int threads, uint32_t flags,
                             int32_t break_even) {
  const decompressed_layout L = decompressed_layout_for(a, threads, break_even);
  decompressed_plan_header h;
  std::memset(&h, 0, sizeof h);
  h.magic = kPlanMagic;
  h.ctx = ctx;
  h.threads = threads;
  h.flags = flags;
  h.mode = a.mode;
  h.break_even = break_even;
  record_batch(h, a);
  h.nope_dim = a.nope_dim;
  h.v_dim = a.v_dim;
  h.layout = L;

  const int32_t H = a.num_heads;
  auto s_q_of = [&](int32_t b) { return a.cu_seqlens_q[b + 1] - a.cu_seqlens_q[b]; };
  // Range length of decompressed-form items: the layout's, halved (in whole
  // query tiles) while there are fewer than kMinItemsPerThread items per
  // thread.  Results do not depend on it (see the header).
  int32_t range = L.range_queries;
  auto decompressed_items = [&](int32_t len) {
    int64_t n = 0;
    for (int32_t b = 0; b < a.batch; ++b)
      if (s_q_of(b) > 0 && takes_decompressed_form(a.mode, s_q_of(b), break_even)) n += H * ((s_q_of(b) + len - 1) / len);
    return n;
  };
  while (range > kQueryTile && decompressed_items(range) < (int64_t)kMinItemsPerThread * threads)
    range = std::max(kQueryTile, round_up(range / 2, kQueryTile));

  decompressed_item* items = reinterpret_cast<decompressed_item*>(static_cast<char*>(a.workspace) + L.items_offset);
  int64_t n = 0;
  for (int32_t b = 0; b < a.batch; ++b) {
    const int32_t s_q = s_q_of(b);
    if (s_q == 0) continue;
    if (takes_decompressed_form(a.mode, s_q, break_even)) {
      for (int32_t q0 = 0; q0 < s_q; q0 += range)
        for (int32_t head = 0; head < H; ++head) items[n++] = decompressed_item{b, head, q0, std::min(range, s_q - q0)};
    } else {
      const int32_t T = L.absorbed_tile;
      for (int32_t q0 = 0; q0 < s_q; q0 += T) items[n++] = decompressed_item{b, -1, q0, std::min(T, s_q - q0)};
    }
  }
  // Largest first, so the dynamic schedule ends evenly.  Cost ~ keys seen x
  // (per-key decompression + per-pair attention), in multiply-adds.
  const double Dl = a.latent_dim, Dq = (double)a.nope_dim + a.rope_dim, Dv = a.v_dim, D = Dl + a.rope_dim;
  auto cost = [&](const decompressed_item& it) {
    const int32_t s_q = s_q_of(it.seq), s_k = a.kv.seqlens_k[it.seq];
    const double keys = visible_keys_b(a.causal, s_q, s_k, it.q_begin + it.q_count - 1);
    if (it.head >= 0) return keys * (Dl * (a.nope_dim + Dv) + it.q_count * (Dq + Dv));
    return keys * it.q_count * (double)H * (D + Dl) + it.q_count * (double)H * Dl * (a.nope_dim + Dv);
  };
  std::stable_sort(items, items + n,
                   [&](const decompressed_item& x, const decompressed_item& y) { return cost(x) > cost(y); });
  h.num_items = n;
  std::memcpy(a.workspace, &h, sizeof h);
}

const char* decompressed_plan_mismatch(const mla_decompressed_args& a, const void* ctx, int threads, uint32_t flags,
                                       int32_t break_even, char* why, size_t why_size) {
  const decompressed_plan_header& h = decompressed_plan_of(a);
  const plan_mismatch_text text{"decompressed_args", "decompressed_plan", why, why_size};
  if (h.magic != kPlanMagic) return text.no_plan();
  if (h.ctx != ctx || h.threads != threads || h.flags != flags || h.break_even != break_even)
    return text.other_context();
  if (h.mode != a.mode) return text.differs("mode", h.mode, a.mode);
  if (const char* m = dims_mismatch(h, a, text)) return m;
  if (h.nope_dim != a.nope_dim) return text.differs("nope_dim", h.nope_dim, a.nope_dim);
  if (h.v_dim != a.v_dim) return text.differs("v_dim", h.v_dim, a.v_dim);
  if (const char* m = rows_mismatch(h, a, text)) return m;
  // The workspace is caller memory: the schedule must still be in bounds
  // before run indexes anything with it.
  const decompressed_layout L = decompressed_layout_for(a, threads, break_even);
  bool intact = std::memcmp(&L, &h.layout, sizeof L) == 0 && h.num_items >= 0 && h.num_items <= L.max_items;
  const decompressed_item* items = decompressed_items_of(a);
  for (int64_t k = 0; intact && k < h.num_items; ++k) {
    const decompressed_item& it = items[k];
    intact = it.seq >= 0 && it.seq < a.batch && it.q_begin >= 0 && it.q_count >= 1 &&
             (int64_t)it.q_begin + it.q_count <= (int64_t)a.cu_seqlens_q[it.seq + 1] - a.cu_seqlens_q[it.seq];
    if (!intact) break;
    if (it.head >= 0)
      intact = it.head < a.num_heads && it.q_count <= L.range_queries && it.q_begin % kQueryTile == 0;
    else
      intact = it.head == -1 && it.q_count <= L.absorbed_tile;
  }
  if (!intact) return text.overwritten();
  return nullptr;
}

}  // namespace mla_cpu
