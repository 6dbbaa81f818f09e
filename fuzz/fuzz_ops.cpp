// SPDX-License-Identifier: MIT
// libFuzzer target: the argument structs of every op into the cpu plugin,
// through its mla_api table (the plugin's sources are linked in, built with
// -fsanitize=fuzzer,address,undefined; fuzz/CMakeLists.txt).
//
//   build-fuzz/bin/mla_fuzz_ops [libFuzzer flags] CORPUS_DIR fuzz/corpus/ops
//
// Input: [op][seed: 4 bytes][context][mutation records] (fuzz_input.hpp).
//   op       % 3: 0 op A (absorbed_*), 1 op C (merge_states), 2 op B
//            (decompressed_*, every mode; a quarter of its sequences near
//            the break-even): each op is one `fuzz_*` function below
//   seed     the valid call's shapes, dtypes, layout and values
//   context  threads 1-3 (% 3), kernel (>> 2 & 3: default, "baseline",
//            "avx2", unknown), MLA_CONTEXT_BATCH_INVARIANT (bit 4), a 1.0
//            sized context_desc (bit 5)
// Each record mutates one field of the args (a scalar, a tensor or cache
// field, a pointer, the contents of an index array, the workspace — before
// or after plan): field byte = group + G * sub, G the op's group count
// (fuzz/make_seeds.py writes seeds in this encoding).  Then, per fuzz_model.hpp:
//   - a call the ABI says must be refused is refused by plan and run, and
//     writes nothing (every buffer byte-identical);
//   - a call that describes only fuzzer memory is planned and run: ASan and
//     UBSan watch the plugin; a failed call writes nothing;
//   - any other call (memory the fuzzer does not own) is only sized.
#include <mla/mla_plugin.h>

#include <cstdio>
#include <functional>

#include "fuzz_input.hpp"
#include "fuzz_model.hpp"

namespace {

using namespace mla_fuzz;

constexpr size_t kMaxWorkspace = size_t(64) << 20;  // larger plans are only sized

const mla_api& api() {
  static const mla_api* table = mla_get_api();
  return *table;
}

// MLA_FUZZ_TRACE=1: one line per call on stderr (what the model decided,
// what the plugin answered), to check what a seed does.
bool tracing() {
  static const bool on = std::getenv("MLA_FUZZ_TRACE") != nullptr;
  return on;
}
void trace(const char* op, const verdict& v, int sized, size_t need, int planned, int ran) {
  if (!tracing()) return;
  std::fprintf(stderr, "mla_fuzz_ops: %s: model %s; workspace_size %d (%zu B), plan %d, run %d; last_error: %s\n", op,
               v.must_refuse ? "must refuse" : v.memory_legal ? "fuzzer memory" : "foreign memory (sized only)",
               sized, need, planned, ran, api().last_error());
}

[[noreturn]] void finding(const char* what) {
  std::fprintf(stderr, "mla_fuzz_ops: %s (last_error: %s)\n", what, api().last_error());
  std::abort();
}

// ---------------------------------------------------------------- context

struct context {
  mla_context* ctx = nullptr;
  explicit context(uint8_t byte) {
    static const char* const kernels[] = {nullptr, "baseline", "avx2", "no-such-kernel"};
    mla_context_desc d{};
    d.struct_size = byte & 0x20 ? MLA_CONTEXT_DESC_SIZE_1_0 : sizeof d;
    d.num_threads = 1 + byte % 3;
    d.kernel = kernels[(byte >> 2) & 3];
    d.flags = byte & 0x10 ? MLA_CONTEXT_BATCH_INVARIANT : 0;
    if (api().context_create(&d, &ctx) != MLA_OK) ctx = nullptr;  // an unknown kernel: refused
  }
  ~context() { api().context_destroy(ctx); }
  mla_caps caps() const {
    mla_caps c{};
    c.struct_size = sizeof c;
    if (api().get_caps(ctx, &c) != MLA_OK) finding("get_caps failed on a live context");
    return c;
  }
};

// ------------------------------------------------------- shared pieces

int pick_dtype(rng& r) {
  static const int d[] = {MLA_DTYPE_F32, MLA_DTYPE_F16, MLA_DTYPE_BF16};
  return d[r.below(3)];
}

void fill(buffers& b, int id, int dtype, rng& r) {
  const int eb = element_bytes(dtype);
  for (size_t i = 0; i + eb <= b.size(id); i += eb) {
    const float v = r.unit();
    if (eb == 4) {
      std::memcpy(b.data(id) + i, &v, 4);
    } else {
      uint32_t bits;
      std::memcpy(&bits, &v, 4);
      const uint16_t h = dtype == MLA_DTYPE_BF16 ? (uint16_t)(bits >> 16) : (uint16_t)(0x3800 | (bits >> 16 & 0x3ff));
      std::memcpy(b.data(id) + i, &h, 2);
    }
  }
}

// A dense-or-padded tensor of `rank` dims in its own buffer.
mla_tensor make_tensor(buffers& b, int rank, const int64_t* extent, int dtype, bool padded, rng& r, int* id) {
  mla_tensor t{};
  t.struct_size = sizeof t;
  t.dtype = dtype;
  int64_t step = 1, elements = 1;
  for (int i = rank - 1; i >= 0; --i) {
    t.stride[i] = step;
    step = step * extent[i] + (padded && i < rank - 1 ? r.below(3) : 0);
    elements = step;
  }
  bool empty = false;
  for (int i = 0; i < rank; ++i) empty = empty || extent[i] == 0;
  *id = b.add(empty ? 0 : (size_t)elements * element_bytes(dtype));
  t.data = empty && r.below(2) ? nullptr : b.data(*id);
  return t;
}

// Tensor fields (`sub` % 8): 0 data, 1 dtype, 2 reserved0, 3-6 stride[0..3], 7 struct_size.
void mutate_tensor(mla_tensor& t, int sub, const mutation& m, const buffers& b) {
  switch (sub % 8) {
    case 0: t.data = b.pointer(m.value); break;
    case 1: t.dtype = (int32_t)mutate_int(t.dtype, m.kind, m.value); break;
    case 2: t.reserved0 = (int32_t)mutate_int(0, m.kind, m.value); break;
    case 7: t.struct_size = (size_t)mutate_int((int64_t)t.struct_size, m.kind, m.value); break;
    default: {
      const int i = sub % 8 - 3;
      t.stride[i] = mutate_int(t.stride[i], m.kind, m.value);
    }
  }
}

// The latent cache and its index arrays for `batch` sequences of s_k keys.
struct cache_parts {
  int cache = -1, cu = -1, seqlens = -1, table = -1;
};
mla_paged_cache make_cache(buffers& b, rng& r, const std::vector<int32_t>& s_k, int Dl, int Dr, cache_parts& ids) {
  mla_paged_cache kv{};
  kv.struct_size = sizeof kv;
  kv.dtype = pick_dtype(r);
  kv.page_size = 1 + r.below(8);
  const int32_t B = (int32_t)s_k.size();
  const bool rope_first = Dr > 0 && r.below(3) == 0;
  kv.latent_offset = rope_first ? Dr : 0;
  kv.rope_offset = rope_first ? 0 : Dl;
  kv.row_stride = Dl + Dr + r.below(3);
  kv.page_stride = kv.page_size * kv.row_stride + r.below(5);
  int64_t pages = 1 + r.below(3), most = 1;
  for (int32_t s : s_k) {
    const int64_t p = (s + kv.page_size - 1) / kv.page_size;
    pages += p;
    most = std::max(most, p);
  }
  kv.num_pages = pages;
  kv.block_table_stride = most + r.below(2);
  ids.cache = b.add((size_t)((pages - 1) * kv.page_stride + kv.page_size * kv.row_stride) * element_bytes(kv.dtype));
  fill(b, ids.cache, kv.dtype, r);
  kv.data = b.data(ids.cache);
  ids.seqlens = b.add(4 * s_k.size());
  if (!s_k.empty()) std::memcpy(b.data(ids.seqlens), s_k.data(), 4 * s_k.size());
  kv.seqlens_k = reinterpret_cast<const int32_t*>(b.data(ids.seqlens));
  ids.table = b.add((size_t)(4 * B * kv.block_table_stride));
  int32_t* table = reinterpret_cast<int32_t*>(b.data(ids.table));
  for (int64_t i = 0; i < B * kv.block_table_stride; ++i) table[i] = (int32_t)r.below((int)pages);
  kv.block_table = table;
  return kv;
}

// Cache fields (`sub` % 12): 0 data, 1 dtype, 2 page_size, 3 num_pages, 4 page_stride,
// 5 row_stride, 6 latent_offset, 7 rope_offset, 8 block_table,
// 9 block_table_stride, 10 seqlens_k, 11 struct_size.
void mutate_cache(mla_paged_cache& kv, int sub, const mutation& m, const buffers& b) {
  const uint64_t v = m.value;
  switch (sub % 12) {
    case 0: kv.data = b.pointer(v); break;
    case 1: kv.dtype = (int32_t)mutate_int(kv.dtype, m.kind, v); break;
    case 2: kv.page_size = (int32_t)mutate_int(kv.page_size, m.kind, v); break;
    case 3: kv.num_pages = mutate_int(kv.num_pages, m.kind, v); break;
    case 4: kv.page_stride = mutate_int(kv.page_stride, m.kind, v); break;
    case 5: kv.row_stride = mutate_int(kv.row_stride, m.kind, v); break;
    case 6: kv.latent_offset = (int32_t)mutate_int(kv.latent_offset, m.kind, v); break;
    case 7: kv.rope_offset = (int32_t)mutate_int(kv.rope_offset, m.kind, v); break;
    case 8: kv.block_table = static_cast<const int32_t*>(b.pointer(v)); break;
    case 9: kv.block_table_stride = mutate_int(kv.block_table_stride, m.kind, v); break;
    case 10: kv.seqlens_k = static_cast<const int32_t*>(b.pointer(v)); break;
    default: kv.struct_size = (size_t)mutate_int((int64_t)kv.struct_size, m.kind, v); break;
  }
}

// One int32 of an index array (the contents the cpu plugin checks on the host).
void mutate_index(buffers& b, int id, const mutation& m) {
  const size_t n = b.size(id) / 4;
  if (n == 0) return;
  int32_t* p = reinterpret_cast<int32_t*>(b.data(id)) + (m.value >> 32) % n;
  *p = (int32_t)mutate_int(*p, m.kind, m.value & 0xffffffffu);
}

// The workspace: sized by the call itself, then maybe mutated.
struct workspace {
  void* ptr = nullptr;
  size_t bytes = 0;
  int id = -1;
};

void check_refused(mla_status st, const char* what) {
  if (st == MLA_OK) finding(what);
}

// Plans and runs `args` per the model's verdict (see the file comment).
// `set_workspace` puts the workspace into the args; `plan`/`run` call them.
template <class Args, class Size, class Plan, class Run>
void exercise(const char* op, const context& c, Args& args, buffers& b, verdict v, const std::vector<mutation>& after_plan,
              const std::vector<mutation>& workspace_mutations, Size size_fn, Plan plan_fn, Run run_fn,
              const std::function<void(Args&, buffers&, const workspace&, verdict&)>& finish_model) {
  size_t need = 0;
  const mla_status sized = size_fn(c.ctx, &args, &need);
  workspace ws;
  if (sized == MLA_OK && need > 0) {
    if (need > kMaxWorkspace) return trace(op, v, sized, need, -1, -1);
    ws.id = b.add(need + 256);
    unsigned char* base = b.data(ws.id);
    ws.ptr = base + (256 - reinterpret_cast<uintptr_t>(base) % 256) % 256;
    ws.bytes = need;
  }
  args.workspace = ws.ptr;
  args.workspace_bytes = ws.bytes;
  for (const mutation& m : workspace_mutations) {
    switch (m.kind % 3) {
      case 0: args.workspace = b.pointer(m.value); break;
      case 1: args.workspace_bytes = (size_t)mutate_int((int64_t)args.workspace_bytes, m.kind >> 2, m.value); break;
      default:  // misaligned or past the end (as an integer: the pointer may be NULL)
        args.workspace = reinterpret_cast<void*>(reinterpret_cast<uintptr_t>(args.workspace) + m.value % 512);
        break;
    }
  }
  finish_model(args, b, ws, v);
  if (!v.must_refuse && !v.memory_legal) return trace(op, v, sized, need, -1, -1);  // memory we do not own: size only

  auto before = b.snapshot();
  const mla_status planned = plan_fn(c.ctx, &args);
  if (v.must_refuse) check_refused(planned, "plan accepted a call the ABI refuses");
  if (planned != MLA_OK && !b.unchanged_since(before)) finding("a refused plan wrote memory");
  // The plan lives in caller memory: corrupt it, as a host bug would.
  if (planned == MLA_OK && ws.id >= 0)
    for (const mutation& m : after_plan) b.data(ws.id)[m.value % b.size(ws.id)] ^= (uint8_t)(m.value >> 32 | 1);
  before = b.snapshot();
  const mla_status ran = run_fn(c.ctx, &args);
  if (v.must_refuse) check_refused(ran, "run accepted a call the ABI refuses");
  if (ran != MLA_OK && !b.unchanged_since(before)) finding("a refused run wrote memory");
  trace(op, v, sized, need, planned, ran);
}

// ------------------------------------------------------------------ op A

void fuzz_absorbed(reader& in, rng& r, const context& c) {
  buffers b;
  const int32_t B = r.below(4), H = 1 + r.below(5), Dl = 1 + r.below(48), Dr = r.below(3) ? r.below(17) : 0;
  std::vector<int32_t> s_q(B), s_k(B), cu(B + 1, 0);
  int32_t max_sq = 0;
  for (int32_t i = 0; i < B; ++i) {
    s_q[i] = r.below(4), s_k[i] = r.below(70);
    cu[i + 1] = cu[i] + s_q[i];
    max_sq = std::max(max_sq, s_q[i]);
  }
  mla_absorbed_args a{};
  a.struct_size = sizeof a;
  a.batch = B, a.num_heads = H, a.latent_dim = Dl, a.rope_dim = Dr;
  a.total_q = cu[B], a.max_seqlen_q = max_sq + r.below(2) * (a.total_q > max_sq), a.causal = r.below(2);
  a.scale = 0.05f + 0.2f * (r.unit() + 1.0f);
  cache_parts cp;
  a.kv = make_cache(b, r, s_k, Dl, Dr, cp);
  cp.cu = b.add(4 * cu.size());
  std::memcpy(b.data(cp.cu), cu.data(), 4 * cu.size());
  a.cu_seqlens_q = reinterpret_cast<const int32_t*>(b.data(cp.cu));
  const int64_t qe[3] = {a.total_q, H, Dl + Dr}, oe[3] = {a.total_q, H, Dl};
  int qid, oid, lid;
  a.q = make_tensor(b, 3, qe, pick_dtype(r), r.below(2), r, &qid);
  fill(b, qid, a.q.dtype, r);
  a.out = make_tensor(b, 3, oe, pick_dtype(r), r.below(2), r, &oid);
  a.lse = make_tensor(b, 2, oe, MLA_DTYPE_F32, r.below(2), r, &lid);
  if (r.below(3) == 0) a.lse.data = nullptr;

  std::vector<mutation> after_plan, ws_mutations;
  bool null_args = false;
  for (int k = 0; in.more() && k < 16; ++k) {
    const mutation m = read_mutation(in);
    const uint64_t v = m.value;
    const int sub = m.field / 8;  // field = group + 8 * sub
    switch (m.field % 8) {
      case 0:  // scalars
        switch (sub % 11) {
          case 0: a.batch = (int32_t)mutate_int(a.batch, m.kind, v); break;
          case 1: a.num_heads = (int32_t)mutate_int(a.num_heads, m.kind, v); break;
          case 2: a.latent_dim = (int32_t)mutate_int(a.latent_dim, m.kind, v); break;
          case 3: a.rope_dim = (int32_t)mutate_int(a.rope_dim, m.kind, v); break;
          case 4: a.total_q = mutate_int(a.total_q, m.kind, v); break;
          case 5: a.max_seqlen_q = (int32_t)mutate_int(a.max_seqlen_q, m.kind, v); break;
          case 6: a.causal = (int32_t)mutate_int(a.causal, m.kind, v); break;
          case 7: a.scale = mutate_float(m.kind, v); break;
          case 8: a.reserved0 = (int32_t)mutate_int(0, m.kind, v); break;
          case 9: a.struct_size = (size_t)mutate_int((int64_t)a.struct_size, m.kind, v); break;
          default: null_args = m.kind == 0x5a; break;
        }
        break;
      case 1: mutate_tensor(a.q, sub, m, b); break;
      case 2: mutate_tensor(a.out, sub, m, b); break;
      case 3: mutate_tensor(a.lse, sub, m, b); break;
      case 4: mutate_cache(a.kv, sub, m, b); break;
      case 5: {  // index pointers and contents
        const int which = sub % 4;
        if (which == 0) a.cu_seqlens_q = static_cast<const int32_t*>(b.pointer(v));
        else mutate_index(b, which == 1 ? cp.cu : which == 2 ? cp.seqlens : cp.table, m);
        break;
      }
      case 6: ws_mutations.push_back(m); break;
      default: after_plan.push_back(m); break;
    }
  }
  if (null_args) {
    size_t need = 0;
    check_refused(api().absorbed_workspace_size(c.ctx, nullptr, &need), "workspace_size(NULL args)");
    check_refused(api().absorbed_plan(c.ctx, nullptr), "plan(NULL args)");
    check_refused(api().absorbed_run(c.ctx, nullptr), "run(NULL args)");
    return;
  }
  verdict v;
  exercise<mla_absorbed_args>(
      "op A", c, a, b, v, after_plan, ws_mutations, api().absorbed_workspace_size, api().absorbed_plan, api().absorbed_run,
      [&](mla_absorbed_args& x, buffers& bufs, const workspace& ws, verdict& vd) {
        model_scale(x.scale, vd);
        const i128 T = x.total_q, Hh = x.num_heads;
        const i128 qx[3] = {T, Hh, (i128)x.latent_dim + x.rope_dim}, ox[3] = {T, Hh, x.latent_dim};
        const span q = model_tensor(x.q, 3, qx, false, vd), out = model_tensor(x.out, 3, ox, false, vd),
                   lse = model_tensor(x.lse, 2, ox, true, vd);
        const span cache = model_cache(x.kv, x.batch, x.latent_dim, x.rope_dim, vd);
        size_t need = 0;
        const bool sized = api().absorbed_workspace_size(c.ctx, &x, &need) == MLA_OK;
        const index_spans ix = model_index_spans(x, sized, need);
        const span inputs[6] = {q, cache, ix.cu_seqlens_q, ix.seqlens_k, ix.block_table, ix.workspace},
                   outputs[2] = {out, lse};
        model_aliasing(outputs, 2, inputs, 6, vd);
        const span regions[8] = {q, out, lse, x.batch > 0 ? cache : span{}, ix.cu_seqlens_q, ix.seqlens_k, ix.block_table,
                                  ix.ws_used};
        model_memory(bufs, regions, 8, vd);
        (void)ws;
      });
}

// ------------------------------------------------------------------ op C

void fuzz_merge(reader& in, rng& r, const context& c) {
  buffers b;
  mla_merge_args m{};
  m.struct_size = sizeof m;
  m.num_parts = 1 + r.below(4), m.head_dim = 1 + r.below(40), m.num_rows = r.below(6), m.num_heads = 1 + r.below(4);
  const int64_t pe[4] = {m.num_parts, m.num_rows, m.num_heads, m.head_dim};
  const int64_t oe[3] = {m.num_rows, m.num_heads, m.head_dim};
  int po, pl, oo, ol;
  m.parts_out = make_tensor(b, 4, pe, pick_dtype(r), r.below(2), r, &po);
  fill(b, po, m.parts_out.dtype, r);
  m.parts_lse = make_tensor(b, 3, pe, MLA_DTYPE_F32, r.below(2), r, &pl);
  fill(b, pl, MLA_DTYPE_F32, r);
  m.out = make_tensor(b, 3, oe, pick_dtype(r), r.below(2), r, &oo);
  m.lse = make_tensor(b, 2, oe, MLA_DTYPE_F32, r.below(2), r, &ol);
  if (r.below(3) == 0) m.lse.data = nullptr;
  for (int k = 0; in.more() && k < 16; ++k) {
    const mutation x = read_mutation(in);
    const int sub = x.field / 5;  // field = group + 5 * sub
    switch (x.field % 5) {
      case 0:
        switch (sub % 6) {
          case 0: m.num_parts = (int32_t)mutate_int(m.num_parts, x.kind, x.value); break;
          case 1: m.head_dim = (int32_t)mutate_int(m.head_dim, x.kind, x.value); break;
          case 2: m.num_rows = mutate_int(m.num_rows, x.kind, x.value); break;
          case 3: m.num_heads = (int32_t)mutate_int(m.num_heads, x.kind, x.value); break;
          case 4: m.reserved0 = (int32_t)mutate_int(0, x.kind, x.value); break;
          default: m.struct_size = (size_t)mutate_int((int64_t)m.struct_size, x.kind, x.value); break;
        }
        break;
      case 1: mutate_tensor(m.parts_out, sub, x, b); break;
      case 2: mutate_tensor(m.parts_lse, sub, x, b); break;
      case 3: mutate_tensor(m.out, sub, x, b); break;
      default: mutate_tensor(m.lse, sub, x, b); break;
    }
  }
  verdict v;
  const i128 P = m.num_parts, R = m.num_rows, H = m.num_heads, Dv = m.head_dim;
  const i128 pex[4] = {P, R, H, Dv}, oex[3] = {R, H, Dv};
  const span parts_out = model_tensor(m.parts_out, 4, pex, false, v), parts_lse = model_tensor(m.parts_lse, 3, pex, false, v);
  const span out = model_tensor(m.out, 3, oex, false, v), lse = model_tensor(m.lse, 2, oex, true, v);
  const span inputs[2] = {parts_out, parts_lse}, outputs[2] = {out, lse};
  model_aliasing(outputs, 2, inputs, 2, v);
  const span regions[4] = {parts_out, parts_lse, out, lse};
  model_memory(b, regions, 4, v);
  if (!v.must_refuse && !v.memory_legal) return trace("op C", v, -1, 0, -1, -1);
  const auto before = b.snapshot();
  const mla_status st = api().merge_states(c.ctx, &m);
  trace("op C", v, -1, 0, -1, st);
  if (v.must_refuse) check_refused(st, "merge_states accepted a call the ABI refuses");
  if (st != MLA_OK && !b.unchanged_since(before)) finding("a refused merge_states wrote memory");
}

// ------------------------------------------------------------------ op B

void fuzz_decompressed(reader& in, rng& r, const context& c) {
  const mla_caps caps = c.caps();
  mla_decompressed_args d{};
  d.struct_size = sizeof d;
  // The cpu plugin has op B (ABI 1.1): a context without it would leave
  // op B unfuzzed, so it is a finding, not a skip.
  if (api().struct_size < MLA_API_SIZE_1_1 || (caps.ops & MLA_OP_BIT(MLA_OP_DECOMPRESSED)) == 0)
    finding("the cpu plugin does not claim op B (MLA_OP_DECOMPRESSED)");
  buffers b;
  const int32_t B = r.below(4), H = 1 + r.below(4), Dl = 1 + r.below(40), Dr = r.below(3) ? r.below(9) : 0;
  d.batch = B, d.num_heads = H, d.latent_dim = Dl, d.rope_dim = Dr;
  d.nope_dim = 1 + r.below(std::max(1, std::min(24, caps.max_nope_dim)));
  d.v_dim = 1 + r.below(std::max(1, std::min(24, caps.max_v_dim)));
  d.mode = r.below(3);
  std::vector<int32_t> s_q(B), s_k(B), cu(B + 1, 0);
  int32_t max_sq = 0;
  for (int32_t i = 0; i < B; ++i) {
    // A quarter of the sequences around the cpu plugin's break-even (56
    // query rows): AUTO then mixes both forms in one call.
    s_q[i] = r.below(4) == 0 ? 48 + r.below(16) : r.below(5);
    s_k[i] = s_q[i] + r.below(40);
    cu[i + 1] = cu[i] + s_q[i];
    max_sq = std::max(max_sq, s_q[i]);
  }
  d.total_q = cu[B], d.max_seqlen_q = max_sq, d.causal = r.below(2);
  d.scale = 0.05f + 0.2f * (r.unit() + 1.0f);
  cache_parts cp;
  d.kv = make_cache(b, r, s_k, Dl, Dr, cp);
  cp.cu = b.add(4 * cu.size());
  std::memcpy(b.data(cp.cu), cu.data(), 4 * cu.size());
  d.cu_seqlens_q = reinterpret_cast<const int32_t*>(b.data(cp.cu));
  const int64_t qe[3] = {d.total_q, H, d.nope_dim + Dr}, uke[3] = {H, d.nope_dim, Dl}, uve[3] = {H, d.v_dim, Dl},
                oe[3] = {d.total_q, H, d.v_dim};
  int qid, ukid, uvid, oid, lid;
  const int wdt = (caps.weight_dtypes & MLA_DTYPE_BIT(MLA_DTYPE_BF16)) ? pick_dtype(r) : MLA_DTYPE_F32;
  d.q = make_tensor(b, 3, qe, pick_dtype(r), r.below(2), r, &qid);
  fill(b, qid, d.q.dtype, r);
  d.w_uk = make_tensor(b, 3, uke, wdt, r.below(2), r, &ukid);
  fill(b, ukid, wdt, r);
  d.w_uv = make_tensor(b, 3, uve, wdt, r.below(2), r, &uvid);
  fill(b, uvid, wdt, r);
  d.out = make_tensor(b, 3, oe, pick_dtype(r), r.below(2), r, &oid);
  d.lse = make_tensor(b, 2, oe, MLA_DTYPE_F32, r.below(2), r, &lid);
  if (r.below(3) == 0) d.lse.data = nullptr;

  std::vector<mutation> after_plan, ws_mutations;
  for (int k = 0; in.more() && k < 16; ++k) {
    const mutation m = read_mutation(in);
    const uint64_t v = m.value;
    const int sub = m.field / 10;  // field = group + 10 * sub
    switch (m.field % 10) {
      case 0:
        switch (sub % 12) {
          case 0: d.batch = (int32_t)mutate_int(d.batch, m.kind, v); break;
          case 1: d.num_heads = (int32_t)mutate_int(d.num_heads, m.kind, v); break;
          case 2: d.latent_dim = (int32_t)mutate_int(d.latent_dim, m.kind, v); break;
          case 3: d.rope_dim = (int32_t)mutate_int(d.rope_dim, m.kind, v); break;
          case 4: d.nope_dim = (int32_t)mutate_int(d.nope_dim, m.kind, v); break;
          case 5: d.v_dim = (int32_t)mutate_int(d.v_dim, m.kind, v); break;
          case 6: d.total_q = mutate_int(d.total_q, m.kind, v); break;
          case 7: d.max_seqlen_q = (int32_t)mutate_int(d.max_seqlen_q, m.kind, v); break;
          case 8: d.causal = (int32_t)mutate_int(d.causal, m.kind, v); break;
          case 9: d.scale = mutate_float(m.kind, v); break;
          case 10: d.mode = (int32_t)mutate_int(d.mode, m.kind, v); break;
          default: d.struct_size = (size_t)mutate_int((int64_t)d.struct_size, m.kind, v); break;
        }
        break;
      case 1: mutate_tensor(d.q, sub, m, b); break;
      case 2: mutate_tensor(d.w_uk, sub, m, b); break;
      case 3: mutate_tensor(d.w_uv, sub, m, b); break;
      case 4: mutate_tensor(d.out, sub, m, b); break;
      case 5: mutate_tensor(d.lse, sub, m, b); break;
      case 6: mutate_cache(d.kv, sub, m, b); break;
      case 7: {
        const int which = sub % 4;
        if (which == 0) d.cu_seqlens_q = static_cast<const int32_t*>(b.pointer(v));
        else mutate_index(b, which == 1 ? cp.cu : which == 2 ? cp.seqlens : cp.table, m);
        break;
      }
      case 8: ws_mutations.push_back(m); break;
      default: after_plan.push_back(m); break;
    }
  }
  verdict v;
  exercise<mla_decompressed_args>(
      "op B", c, d, b, v, after_plan, ws_mutations, api().decompressed_workspace_size, api().decompressed_plan,
      api().decompressed_run, [&](mla_decompressed_args& x, buffers& bufs, const workspace&, verdict& vd) {
        model_scale(x.scale, vd);
        const i128 T = x.total_q, Hh = x.num_heads;
        const i128 qx[3] = {T, Hh, (i128)x.nope_dim + x.rope_dim}, ukx[3] = {Hh, x.nope_dim, x.latent_dim},
                   uvx[3] = {Hh, x.v_dim, x.latent_dim}, ox[3] = {T, Hh, x.v_dim};
        const span q = model_tensor(x.q, 3, qx, false, vd), uk = model_tensor(x.w_uk, 3, ukx, false, vd),
                   uv = model_tensor(x.w_uv, 3, uvx, false, vd), out = model_tensor(x.out, 3, ox, false, vd),
                   lse = model_tensor(x.lse, 2, ox, true, vd);
        const span cache = model_cache(x.kv, x.batch, x.latent_dim, x.rope_dim, vd);
        size_t need = 0;
        const bool sized = api().decompressed_workspace_size(c.ctx, &x, &need) == MLA_OK;
        const index_spans ix = model_index_spans(x, sized, need);
        const span inputs[8] = {q, uk, uv, cache, ix.cu_seqlens_q, ix.seqlens_k, ix.block_table, ix.workspace},
                   outputs[2] = {out, lse};
        model_aliasing(outputs, 2, inputs, 8, vd);
        const span regions[10] = {q, uk, uv, out, lse, x.batch > 0 ? cache : span{}, ix.cu_seqlens_q, ix.seqlens_k, ix.block_table,
                                  ix.ws_used};
        model_memory(bufs, regions, 10, vd);
      });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  reader in(data, size);
  const uint8_t op = in.u8();
  rng r{in.u32()};
  const context c(in.u8());
  if (c.ctx == nullptr) return 0;
  switch (op % 3) {
    case 0: fuzz_absorbed(in, r, c); break;
    case 1: fuzz_merge(in, r, c); break;
    default: fuzz_decompressed(in, r, c); break;
  }
  return 0;
}
