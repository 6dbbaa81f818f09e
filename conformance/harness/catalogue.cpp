// SPDX-License-Identifier: MIT
#include "catalogue.hpp"

#include "low_precision.hpp"

#include <algorithm>
#include <cmath>
#include <random>

namespace conformance {
namespace {

uint64_t splitmix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

const int32_t kF32 = MLA_DTYPE_F32, kF16 = MLA_DTYPE_F16, kBF16 = MLA_DTYPE_BF16;
const int32_t kFloatTypes[3] = {kF32, kF16, kBF16};
const int kHeadCounts[6] = {1, 8, 16, 32, 64, 128};
const int kPageSizes[7] = {1, 16, 64, 256, 7, 33, 5};  // 7, 33, 5: odd sizes
const int kEdgeSk[] = {0, 1, 2, 15, 16, 17, 63, 64, 65, 127, 128, 129, 255, 256, 257, 1023, 1025, 4097};

std::string join(const std::vector<int>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? "+" : "") + std::to_string(v[i]);
  return s.empty() ? "none" : s;
}

// The name says what the case is; `id` (group-index) fixes its data seed.
void finish(absorbed_case& c, const std::string& id, uint64_t suite_seed) {
  c.seed = case_seed(suite_seed, id);
  c.name = "absorbed/" + id + ":h" + std::to_string(c.heads) + ",d" + std::to_string(c.latent_dim) + "+" +
           std::to_string(c.rope_dim) + (c.rope_first ? "rf" : "") + ",sq=" + join(c.s_q) + ",sk=" + join(c.s_k) +
           ",p" + std::to_string(c.page_size) + (c.causal ? ",causal" : ",full") + "," + dtype_label(c.q_dtype) +
           "/" + dtype_label(c.cache_dtype) + "/" + dtype_label(c.out_dtype) + ",q=" + layout_label(c.q_layout) +
           ",o=" + layout_label(c.out_layout) + (c.want_lse ? ",lse" : ",nolse") + (c.row_pad ? ",rowpad" : "") +
           (c.q_magnitude != 1.0 ? ",sharp" : "");
}

const char* mode_name(int32_t mode) {
  return mode == MLA_DECOMPRESSED_FORCE ? "force" : mode == MLA_DECOMPRESSED_FORCE_ABSORBED ? "absorbed" : "auto";
}

void finish(decompressed_case& d, const std::string& id, uint64_t suite_seed) {
  d.seed = case_seed(suite_seed, id);
  absorbed_case& c = d.attention;
  c.seed = d.seed;
  d.name = "decompressed/" + id + ":h" + std::to_string(c.heads) + ",d" + std::to_string(c.latent_dim) + "+" +
           std::to_string(c.rope_dim) + (c.rope_first ? "rf" : "") + ",n" + std::to_string(d.nope_dim) + ",v" +
           std::to_string(d.v_dim) + ",sq=" + join(c.s_q) + ",sk=" + join(c.s_k) + ",p" +
           std::to_string(c.page_size) + (c.causal ? ",causal" : ",full") + "," + dtype_label(c.q_dtype) + "/" +
           dtype_label(c.cache_dtype) + "/" + dtype_label(d.weight_dtype) + "/" + dtype_label(c.out_dtype) +
           ",w=" + weight_layout_label(d.weights) + ",q=" + layout_label(c.q_layout) + ",o=" +
           layout_label(c.out_layout) + (c.want_lse ? ",lse" : ",nolse") + (c.row_pad ? ",rowpad" : "") +
           (c.q_magnitude != 1.0 ? ",sharp" : "") + "," + mode_name(d.mode);
}

void finish(merge_case& c, const std::string& id, uint64_t suite_seed) {
  c.seed = case_seed(suite_seed, id);
  c.name = "merge/" + id + ":P" + std::to_string(c.parts) + ",r" + std::to_string(c.rows) + ",h" +
           std::to_string(c.heads) + ",d" + std::to_string(c.dim) + "," + dtype_label(c.parts_dtype) + "/" +
           dtype_label(c.out_dtype) + ",in=" + layout_label(c.parts_layout) + ",o=" + layout_label(c.out_layout) +
           (c.want_lse ? ",lse" : ",nolse");
}

template <class T, size_t N>
T pick(std::mt19937_64& rng, const T (&options)[N]) {
  return options[rng() % N];
}

layout_mode random_layout(std::mt19937_64& rng) {
  static const layout_mode modes[6] = {layout_mode::contiguous, layout_mode::contiguous, layout_mode::contiguous,
                                       layout_mode::padded, layout_mode::head_major, layout_mode::inner_stride2};
  return pick(rng, modes);
}

// One random op-A case whose oracle cost stays under `max_cost`.
absorbed_case random_absorbed(std::mt19937_64& rng, double max_cost, int max_sk) {
  absorbed_case c;
  std::uniform_real_distribution<double> u(0.0, 1.0);
  if (u(rng) < 0.15) {
    static const int latents[4] = {64, 128, 200, 48};
    static const int ropes[3] = {0, 16, 32};
    c.latent_dim = pick(rng, latents);
    c.rope_dim = pick(rng, ropes);
  }
  static const int small_heads[5] = {1, 2, 3, 4, 8};  // most random cases stay cheap
  c.heads = u(rng) < 0.6 ? pick(rng, small_heads) : pick(rng, kHeadCounts);
  const int B = 1 + (int)(rng() % 4);
  for (int b = 0; b < B; ++b) {
    const double r = u(rng);
    c.s_q.push_back(r < 0.05 ? 0 : r < 0.75 ? 1 + (int)(rng() % 4) : 1 + (int)(rng() % 16));
    const double k = u(rng);
    int sk = k < 0.35 ? kEdgeSk[rng() % (sizeof kEdgeSk / sizeof kEdgeSk[0])]
             : k < 0.9 ? (int)(rng() % 600)
                       : (int)(rng() % (unsigned)max_sk);
    c.s_k.push_back(std::min(sk, max_sk));
  }
  c.page_size = pick(rng, kPageSizes);
  c.causal = u(rng) < 0.5;
  c.scale = u(rng) < 0.6 ? 1.0 / std::sqrt(192.0) : 0.02 + 0.13 * u(rng);
  c.q_dtype = pick(rng, kFloatTypes);
  c.cache_dtype = pick(rng, kFloatTypes);
  c.out_dtype = pick(rng, kFloatTypes);
  c.q_layout = random_layout(rng);
  c.out_layout = random_layout(rng);
  c.rope_first = u(rng) < 0.2;
  c.row_pad = u(rng) < 0.2 ? 1 + (int)(rng() % 8) : 0;
  c.want_lse = u(rng) < 0.8;
  c.q_magnitude = u(rng) < 0.8 ? 1.0 : 3.0;
  c.extra_pages = 1 + (int)(rng() % 3);
  // Shrink the most expensive dimension until the oracle can afford the case.
  while (oracle_cost(c) > max_cost) {
    auto it = std::max_element(c.s_k.begin(), c.s_k.end());
    if (c.heads > 8) c.heads /= 2;
    else if (*it > 64) *it /= 2;
    else {
      auto q = std::max_element(c.s_q.begin(), c.s_q.end());
      if (*q > 1) *q /= 2; else break;
    }
  }
  return c;
}

merge_case random_merge(std::mt19937_64& rng) {
  merge_case c;
  std::uniform_real_distribution<double> u(0.0, 1.0);
  static const int parts[5] = {1, 2, 3, 5, 8};
  static const int dims[4] = {512, 512, 128, 33};
  static const int heads[4] = {1, 8, 16, 128};
  c.parts = pick(rng, parts);
  c.rows = (int)(rng() % 9);
  c.heads = pick(rng, heads);
  c.dim = pick(rng, dims);
  if ((double)c.rows * c.heads * c.dim * c.parts > 4e6) c.heads = 8;
  c.parts_dtype = pick(rng, kFloatTypes);
  c.out_dtype = pick(rng, kFloatTypes);
  c.parts_layout = random_layout(rng);
  c.out_layout = random_layout(rng);
  c.want_lse = u(rng) < 0.8;
  c.empty_fraction = u(rng) < 0.3 ? 0.6 : 0.1;
  c.lse_spread = u(rng) < 0.8 ? 4.0 : 60.0;  // wide spreads test the max subtraction
  return c;
}

absorbed_case base_case(int heads, std::vector<int> s_q, std::vector<int> s_k, int page, bool causal) {
  absorbed_case c;
  c.heads = heads;
  c.s_q = std::move(s_q);
  c.s_k = std::move(s_k);
  c.page_size = page;
  c.causal = causal;
  c.q_dtype = c.cache_dtype = c.out_dtype = kBF16;
  return c;
}

// Deterministic coverage: every value the issue lists appears at least once.
void coverage_cases(catalogue& cat, uint64_t seed) {
  int n = 0;
  auto add = [&](absorbed_case c, const char* group) {
    finish(c, std::string(group) + "-" + std::to_string(n++), seed);
    cat.absorbed.push_back(std::move(c));
  };
  for (int32_t qd : kFloatTypes)
    for (int32_t kd : kFloatTypes)
      for (int32_t od : kFloatTypes) {
        absorbed_case c = base_case(8, {1, 3}, {37, 100}, 16, n % 2 == 0);
        c.q_dtype = qd, c.cache_dtype = kd, c.out_dtype = od;
        add(c, "dtype");
      }
  for (int h : kHeadCounts) add(base_case(h, {1, 2}, {65, 200}, 64, true), "heads");
  int i = 0;
  for (int sk : kEdgeSk) {
    absorbed_case c = base_case(sk > 1000 ? 1 : 2, {1 + i % 4, 1}, {sk, 3}, kPageSizes[i % 7], i % 2 == 0);
    c.q_dtype = c.cache_dtype = c.out_dtype = kFloatTypes[i % 3];
    add(c, "sk");
    ++i;
  }
  for (int ps : kPageSizes) add(base_case(4, {2, 1, 3}, {300, 1, 129}, ps, ps % 2 == 1), "page");
  for (int causal = 0; causal < 2; ++causal) {
    add(base_case(4, {16, 9}, {16, 300}, 16, causal != 0), "sq16");  // s_q > s_k: causal rows see nothing
    add(base_case(4, {16, 5}, {3, 0}, 16, causal != 0), "sq16-short");
  }
  add(base_case(4, {0, 2, 1, 0}, {5, 0, 17, 0}, 16, true), "empty");
  add(base_case(4, {0, 0}, {7, 0}, 16, false), "empty-noq");
  add(base_case(4, {}, {}, 16, true), "batch0");
  const layout_mode modes[4] = {layout_mode::contiguous, layout_mode::padded, layout_mode::head_major,
                                layout_mode::inner_stride2};
  for (int qm = 0; qm < 4; ++qm)
    for (int om = 0; om < 4; ++om) {
      absorbed_case c = base_case(3, {2, 1}, {40, 70}, 16, true);
      c.q_layout = modes[qm], c.out_layout = modes[om];
      c.q_dtype = kFloatTypes[(qm + om) % 3];
      c.out_dtype = kFloatTypes[om % 3];
      add(c, "layout");
    }
  {
    absorbed_case c = base_case(8, {2, 2}, {100, 33}, 16, true);
    c.rope_first = true;
    c.row_pad = 5;
    add(c, "rowlayout");
    c.want_lse = false;
    add(c, "nolse");
    c.q_magnitude = 4.0;
    c.want_lse = true;
    add(c, "sharp");
  }
  {
    absorbed_case c = base_case(4, {1, 3}, {50, 90}, 16, true);
    c.latent_dim = 64, c.rope_dim = 0;
    add(c, "dims");
    c.latent_dim = 200, c.rope_dim = 16;
    add(c, "dims");
  }

  int m = 0;
  auto add_merge = [&](merge_case c) {
    finish(c, "merge-" + std::to_string(m++), seed);
    cat.merge.push_back(std::move(c));
  };
  for (int32_t pd : kFloatTypes)
    for (int32_t od : kFloatTypes) {
      merge_case c;
      c.parts = 3, c.rows = 5, c.heads = 4, c.dim = 512, c.parts_dtype = pd, c.out_dtype = od;
      add_merge(c);
    }
  {
    merge_case c;
    c.parts = 1, c.rows = 3, c.heads = 2, c.dim = 33;
    add_merge(c);
    c.parts = 4, c.empty_fraction = 1.0;  // every part empty: out 0, lse -inf
    add_merge(c);
    c.empty_fraction = 0.5, c.lse_spread = 80.0, c.parts_layout = layout_mode::padded,
    c.out_layout = layout_mode::head_major;
    add_merge(c);
    c.parts_layout = layout_mode::inner_stride2, c.out_layout = layout_mode::inner_stride2, c.want_lse = false;
    add_merge(c);
    c.rows = 0;
    add_merge(c);
  }
}


// Op B: every value the issue lists at least once (ragged batches, cached
// prefixes s_k > s_q, page sizes 1/16/64/odd, dtypes, empty sequences,
// H = 1..128, s_q from 1 to thousands, the three modes, weight layouts).
decompressed_case op_b(int heads, std::vector<int> s_q, std::vector<int> s_k, int page, bool causal, int32_t mode) {
  decompressed_case d;
  d.attention = base_case(heads, std::move(s_q), std::move(s_k), page, causal);
  d.attention.scale = 1.0 / std::sqrt(192.0);
  d.weight_dtype = kBF16;
  d.mode = mode;
  return d;
}

void decompressed_coverage(catalogue& cat, uint64_t seed, suite_kind suite) {
  int n = 0;
  auto add = [&](decompressed_case d, const char* group) {
    finish(d, std::string(group) + "-" + std::to_string(n++), seed);
    cat.decompressed.push_back(std::move(d));
  };
  const int32_t AUTO = MLA_DECOMPRESSED_AUTO, FORCE = MLA_DECOMPRESSED_FORCE, ABS = MLA_DECOMPRESSED_FORCE_ABSORBED;
  // dtypes: q/cache/weights/out, all equal and mixed.
  for (int32_t dt : kFloatTypes) {
    decompressed_case d = op_b(4, {5, 40}, {60, 300}, 16, true, FORCE);
    d.attention.q_dtype = d.attention.cache_dtype = d.attention.out_dtype = d.weight_dtype = dt;
    add(d, "opb-dtype");
  }
  const int32_t mixed[4][4] = {{kBF16, kF32, kBF16, kF32}, {kF32, kBF16, kF16, kBF16}, {kF16, kF16, kBF16, kF32},
                               {kBF16, kBF16, kF32, kF16}};
  for (const auto& m : mixed) {
    decompressed_case d = op_b(2, {3, 17}, {33, 270}, 64, true, n % 2 ? FORCE : AUTO);
    d.attention.q_dtype = m[0], d.attention.cache_dtype = m[1], d.weight_dtype = m[2], d.attention.out_dtype = m[3];
    add(d, "opb-mixed");
  }
  // Head counts 1..128 (few keys: the oracle decompresses every key per head).
  for (int h : {1, 16, 64, 128})
    add(op_b(h, {3, 1}, {h == 1 ? 100 : h == 16 ? 40 : h == 64 ? 12 : 6, 3}, 16, true, h % 3 ? FORCE : AUTO), "opb-heads");
  // Page sizes, chunked prefill (cached prefixes), both forms.
  int i = 0;
  for (int ps : {1, 16, 64, 7, 33}) {
    add(op_b(2, {20, 1, 7}, {300, 1, 530}, ps, true, i % 2 ? FORCE : ABS), "opb-page");
    ++i;
  }
  // Ragged batch across the break-even: AUTO mixes both forms in one call.
  add(op_b(2, {300, 2, 0, 260, 1}, {300, 600, 0, 700, 1}, 16, true, AUTO), "opb-ragged");
  add(op_b(2, {300, 2, 0, 260, 1}, {300, 600, 0, 700, 1}, 16, false, AUTO), "opb-ragged");
  // s_q > s_k (causal rows that see nothing), empty sequences, no queries, batch 0.
  add(op_b(2, {40, 9}, {3, 0}, 16, true, FORCE), "opb-short");
  add(op_b(2, {40, 9}, {3, 0}, 16, true, ABS), "opb-short");
  add(op_b(2, {0, 2, 1, 0}, {5, 0, 17, 0}, 16, true, AUTO), "opb-empty");
  add(op_b(2, {0, 0}, {7, 0}, 16, false, FORCE), "opb-empty-noq");
  add(op_b(2, {}, {}, 16, true, AUTO), "opb-batch0");
  // Tiles and chunks: s_q past 128-row tiles and 4096-row ranges; s_k past 512-key chunks.
  add(op_b(1, {700}, {700}, 64, true, FORCE), "opb-long");
  add(op_b(1, {4200}, {40}, 64, false, FORCE), "opb-long");  // two 4096-row ranges
  add(op_b(1, {129, 1}, {1025, 257}, 33, true, AUTO), "opb-long");
  // Layouts of q/out and weights; rope-first padded rows; no lse; sharp softmax.
  const layout_mode modes[4] = {layout_mode::contiguous, layout_mode::padded, layout_mode::head_major,
                                layout_mode::inner_stride2};
  const weight_layout wl[3] = {weight_layout::per_head, weight_layout::kv_b_proj, weight_layout::transposed};
  for (int k = 0; k < 6; ++k) {
    decompressed_case d = op_b(3, {2, 130}, {40, 140}, 16, true, k % 3 == 0 ? ABS : FORCE);
    d.attention.q_layout = modes[k % 4];
    d.attention.out_layout = modes[(k + 1) % 4];
    d.weights = wl[k % 3];
    d.weight_dtype = kFloatTypes[k % 3];
    d.attention.q_dtype = kFloatTypes[(k + 1) % 3];
    add(d, "opb-layout");
  }
  {
    decompressed_case d = op_b(4, {2, 3}, {100, 33}, 16, true, FORCE);
    d.attention.rope_first = true;
    d.attention.row_pad = 5;
    add(d, "opb-rowlayout");
    d.attention.want_lse = false;
    d.mode = ABS;
    add(d, "opb-nolse");
    d.attention.q_magnitude = 4.0;
    d.attention.want_lse = true;
    d.mode = FORCE;
    add(d, "opb-sharp");
  }
  // Odd dims: Dl 200, Dr 16/0, Dn 64, Dv 96.
  {
    decompressed_case d = op_b(3, {3, 140}, {50, 150}, 16, true, FORCE);
    d.attention.latent_dim = 200, d.attention.rope_dim = 16, d.nope_dim = 64, d.v_dim = 96;
    add(d, "opb-dims");
    d.attention.rope_dim = 0;
    d.mode = ABS;
    add(d, "opb-dims");
  }
  if (suite != suite_kind::quick) {
    add(op_b(1, {1500}, {1500}, 64, true, FORCE), "opb-long");
    add(op_b(16, {2048}, {2048}, 64, true, AUTO), "opb-long");       // C5's shape at H = 16
    add(op_b(128, {64, 64}, {300, 2000}, 64, true, FORCE), "opb-h128");
    add(op_b(1, {512}, {16384}, 64, true, AUTO), "opb-long");         // P6's shape at H = 1
  }
}

decompressed_case random_decompressed(std::mt19937_64& rng, double max_cost) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  decompressed_case d;
  d.attention = random_absorbed(rng, 1e12, 2000);
  absorbed_case& c = d.attention;
  if (c.latent_dim != 512 && u(rng) < 0.5) d.nope_dim = 64, d.v_dim = 48;
  // Prefill-like: more queries per sequence than op A's random cases.
  for (int& q : c.s_q)
    if (u(rng) < 0.4) q = (int)(rng() % 300);
  static const int32_t modes[3] = {MLA_DECOMPRESSED_AUTO, MLA_DECOMPRESSED_FORCE, MLA_DECOMPRESSED_FORCE_ABSORBED};
  d.mode = pick(rng, modes);
  d.weight_dtype = pick(rng, kFloatTypes);
  static const weight_layout wl[3] = {weight_layout::per_head, weight_layout::kv_b_proj, weight_layout::transposed};
  d.weights = pick(rng, wl);
  while (oracle_cost(d) > max_cost) {
    auto k = std::max_element(c.s_k.begin(), c.s_k.end());
    auto q = std::max_element(c.s_q.begin(), c.s_q.end());
    if (c.heads > 2) c.heads /= 2;
    else if (*k > 32) *k /= 2;
    else if (*q > 1) *q /= 2;
    else break;
  }
  return d;
}

}  // namespace

bool parse_suite(const std::string& s, suite_kind& out) {
  if (s == "quick") out = suite_kind::quick;
  else if (s == "full") out = suite_kind::full;
  else if (s == "stress") out = suite_kind::stress;
  else return false;
  return true;
}

const char* suite_label(suite_kind s) {
  switch (s) {
    case suite_kind::quick: return "quick";
    case suite_kind::full: return "full";
    case suite_kind::stress: return "stress";
  }
  return "?";
}

uint64_t case_seed(uint64_t suite_seed, const std::string& id) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a
  for (unsigned char ch : id) h = (h ^ ch) * 1099511628211ull;
  return splitmix(h ^ splitmix(suite_seed));
}

catalogue build_catalogue(suite_kind suite, uint64_t seed) {
  catalogue cat;
  coverage_cases(cat, seed);
  // Random cases: count and per-case oracle budget per suite.
  const int random_count = suite == suite_kind::quick ? 120 : suite == suite_kind::full ? 400 : 1500;
  const double max_cost = suite == suite_kind::quick ? 2e7 : 1e8;
  const int max_sk = suite == suite_kind::quick ? 5000 : 20000;
  for (int i = 0; i < random_count; ++i) {
    const std::string id = "random-" + std::to_string(i);
    std::mt19937_64 rng(case_seed(seed, id + "/params"));
    absorbed_case c = random_absorbed(rng, max_cost, max_sk);
    finish(c, id, seed);
    cat.absorbed.push_back(std::move(c));
  }
  decompressed_coverage(cat, seed, suite);
  const int opb_random = suite == suite_kind::quick ? 16 : suite == suite_kind::full ? 60 : 200;
  for (int i = 0; i < opb_random; ++i) {
    const std::string id = "opb-random-" + std::to_string(i);
    std::mt19937_64 rng(case_seed(seed, id + "/params"));
    decompressed_case d = random_decompressed(rng, suite == suite_kind::quick ? 5e7 : 2e8);
    finish(d, id, seed);
    cat.decompressed.push_back(std::move(d));
  }
  const int merge_count = suite == suite_kind::quick ? 20 : suite == suite_kind::full ? 60 : 200;
  for (int i = 0; i < merge_count; ++i) {
    const std::string id = "merge-random-" + std::to_string(i);
    std::mt19937_64 rng(case_seed(seed, id + "/params"));
    merge_case c = random_merge(rng);
    finish(c, id, seed);
    cat.merge.push_back(std::move(c));
  }
  {
    // Schedule scale: D3 (bf16, 128 sequences x 4096 keys, H = 128) and D10
    // (128 ragged sequences, H = 16) of ../bench/shapes.md (docs/shapes.md):
    // many pieces per CTA and split sequences merged by the combine, the
    // schedule under which cd37044's wgmma kernel raced (NOTES.md v18).
    auto add = [&](absorbed_case c, const char* id, const char* what) {
      c.device_only = suite == suite_kind::quick;
      finish(c, id, seed);
      c.name = std::string("absorbed/") + id + ":h" + std::to_string(c.heads) + "," + what + ",p64,causal,bf16";
      cat.absorbed.push_back(std::move(c));
    };
    add(base_case(128, std::vector<int>(128, 1), std::vector<int>(128, 4096), 64, true), "schedule-D3",
        "B128,sq=1,sk=4096");
    std::mt19937_64 rng(case_seed(seed, "schedule-D10/lengths"));
    std::normal_distribution<double> len(8192.0, 4096.0);
    std::vector<int> ragged;
    for (int b = 0; b < 128; ++b) ragged.push_back(std::clamp((int)std::lround(len(rng)), 1, 32768));
    add(base_case(16, std::vector<int>(128, 1), ragged, 64, true), "schedule-D10", "B128,sq=1,sk=N(8192,4096)");
  }
  if (suite == suite_kind::full) {
    // Long contexts (up to 65536 keys) and the largest head count.
    int n = 0;
    auto add = [&](absorbed_case c, const char* group) {
      finish(c, std::string(group) + "-" + std::to_string(n++), seed);
      cat.absorbed.push_back(std::move(c));
    };
    for (int sk : {4096, 16384, 32768, 65536, 65535})
      for (int ps : {64, 1, 33}) {
        if (ps == 1 && sk > 16384) continue;
        absorbed_case c = base_case(16, {1}, {sk}, ps, true);
        add(c, "long");
      }
    add(base_case(128, {2}, {4097}, 64, true), "long");
    add(base_case(128, {1, 1, 1, 1}, {4096, 1000, 63, 2049}, 64, true), "long");
    for (int32_t dt : kFloatTypes) {
      absorbed_case c = base_case(128, {1, 2}, {2000, 777}, 16, true);
      c.q_dtype = c.cache_dtype = c.out_dtype = dt;
      add(c, "h128");
      c = base_case(16, {1}, {65536}, 256, false);
      c.q_dtype = c.cache_dtype = c.out_dtype = dt;
      c.out_layout = layout_mode::padded;
      add(c, "long");
    }
    add(base_case(128, {16, 16}, {1024, 16}, 64, true), "h128");
  }
  return cat;
}

std::vector<absorbed_case> caps_edge_cases(const mla_caps& caps, uint64_t seed) {
  std::vector<absorbed_case> out;
  auto dtype_of = [](uint32_t mask) {
    for (int32_t d : kFloatTypes)
      if (mask & MLA_DTYPE_BIT(d)) return d;
    return (int32_t)0;
  };
  const int32_t qd = dtype_of(caps.q_dtypes), kd = dtype_of(caps.cache_dtypes), od = dtype_of(caps.out_dtypes);
  if (!qd || !kd || !od) return out;
  auto make = [&](const char* what, int value) {
    absorbed_case c = base_case(1, {1, 2}, {20, 9}, 16, true);
    c.q_dtype = qd, c.cache_dtype = kd, c.out_dtype = od;
    c.latent_dim = std::min(512, caps.max_latent_dim);
    if (caps.latent_dim_multiple > 1) c.latent_dim -= c.latent_dim % caps.latent_dim_multiple;
    c.rope_dim = std::min(64, caps.max_rope_dim);
    c.page_size = std::min(16, caps.max_page_size);
    (void)value;
    c.name = what;
    return c;
  };
  if (caps.max_heads >= 1 && caps.max_heads <= 4096) {
    absorbed_case c = make("heads", caps.max_heads);
    c.heads = caps.max_heads;
    out.push_back(c);
  }
  if (caps.max_latent_dim >= 1 && caps.max_latent_dim <= 4096) {
    absorbed_case c = make("latent", caps.max_latent_dim);
    c.latent_dim = caps.max_latent_dim - caps.max_latent_dim % std::max(1, caps.latent_dim_multiple);
    if (c.latent_dim >= 1) out.push_back(c);
  }
  if (caps.max_rope_dim >= 1 && caps.max_rope_dim <= 1024) {
    absorbed_case c = make("rope", caps.max_rope_dim);
    c.rope_dim = caps.max_rope_dim;
    out.push_back(c);
  }
  if (caps.max_page_size >= 1) {
    absorbed_case c = make("page", caps.max_page_size);
    c.page_size = std::min(caps.max_page_size, 4096);
    c.s_k = {c.page_size + 1, 1};
    out.push_back(c);
  }
  for (absorbed_case& c : out) {
    const std::string what = c.name;
    finish(c, "caps-" + what, seed);
  }
  return out;
}

std::string fits_caps(const absorbed_case& c, const mla_caps& caps) {
  if (!(caps.ops & MLA_OP_BIT(MLA_OP_ABSORBED))) return "op A (absorbed) not claimed";
  if (c.device_only && caps.struct_size >= MLA_CAPS_SIZE_1_1 && caps.memory_kind == MLA_MEMORY_HOST)
    return "schedule-scale case: device backends only in this suite (host backends run it in --suite full)";
  if (!(caps.q_dtypes & MLA_DTYPE_BIT(c.q_dtype))) return std::string("q dtype ") + dtype_label(c.q_dtype) + " not claimed";
  if (!(caps.cache_dtypes & MLA_DTYPE_BIT(c.cache_dtype)))
    return std::string("cache dtype ") + dtype_label(c.cache_dtype) + " not claimed";
  if (!(caps.out_dtypes & MLA_DTYPE_BIT(c.out_dtype)))
    return std::string("out dtype ") + dtype_label(c.out_dtype) + " not claimed";
  if (c.heads > caps.max_heads) return "heads " + std::to_string(c.heads) + " > max_heads " + std::to_string(caps.max_heads);
  if (c.latent_dim > caps.max_latent_dim || c.latent_dim % std::max(1, caps.latent_dim_multiple) != 0)
    return "latent_dim " + std::to_string(c.latent_dim) + " not claimed";
  if (c.rope_dim > caps.max_rope_dim) return "rope_dim " + std::to_string(c.rope_dim) + " not claimed";
  if (c.page_size > caps.max_page_size) return "page_size " + std::to_string(c.page_size) + " not claimed";
  return "";
}

std::string fits_caps(const decompressed_case& d, const mla_caps& caps) {
  if (caps.struct_size < MLA_CAPS_SIZE_1_1 || !(caps.ops & MLA_OP_BIT(MLA_OP_DECOMPRESSED)))
    return "op B (decompressed prefill) not claimed: caps.ops lacks MLA_OP_DECOMPRESSED";
  absorbed_case c = d.attention;
  c.device_only = false;
  std::string why = fits_caps(c, caps);
  if (why == "op A (absorbed) not claimed") why.clear();
  if (!why.empty()) return why;
  if (!(caps.weight_dtypes & MLA_DTYPE_BIT(d.weight_dtype)))
    return std::string("weight dtype ") + dtype_label(d.weight_dtype) + " not claimed";
  if (d.nope_dim > caps.max_nope_dim) return "nope_dim " + std::to_string(d.nope_dim) + " not claimed";
  if (d.v_dim > caps.max_v_dim) return "v_dim " + std::to_string(d.v_dim) + " not claimed";
  return "";
}

std::string fits_caps(const merge_case& c, const mla_caps& caps) {
  if (!(caps.ops & MLA_OP_BIT(MLA_OP_MERGE))) return "op C (merge) not claimed";
  if (!(caps.out_dtypes & MLA_DTYPE_BIT(c.parts_dtype)))
    return std::string("parts dtype ") + dtype_label(c.parts_dtype) + " not claimed";
  if (!(caps.out_dtypes & MLA_DTYPE_BIT(c.out_dtype)))
    return std::string("out dtype ") + dtype_label(c.out_dtype) + " not claimed";
  return "";
}

}  // namespace conformance
