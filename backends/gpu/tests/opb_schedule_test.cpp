// SPDX-License-Identifier: MIT
// Op B's GPU schedule, checked on the host (no GPU needed): random ragged
// batches walked through the same index math the kernels use
// (decompressed_schedule.hpp), the way the rounds and CTAs of
// decompressed_host.cpp / decompressed_mma.cu walk them.
//   decompressed form: every (row, key) a row sees is attended exactly once,
//     never a key it does not see; every key an attention tile reads was
//     expanded (or zeroed) in the same round and lies inside the chunk
//     buffer; a row's running state is initialized by its tile's chunk-0
//     CTA before any later chunk reads it; the grids the host launches
//     cover every tile.
//   absorbed form: every row of an absorbed-form sequence lands in exactly
//     one pass, at rows that no other item of the pass uses, within the
//     host's bound on passes; op A's bottom-right alignment over the item's
//     keys gives every row the keys it sees in its sequence.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "decompressed_schedule.hpp"

using namespace mla_gpu;

namespace {

constexpr int kTile = 64;  // the tensor-core kernels' row and key tiles

struct batch {
  std::vector<opb_seq> seqs;
  int64_t total_q = 0;
  int max_seqlen_q = 0, max_sk = 0;
  int causal = 1;
};

batch random_batch(std::mt19937& rng, int be, int mode) {
  batch t;
  const int B = std::uniform_int_distribution<int>(1, 10)(rng);
  t.causal = (int)(rng() % 2);
  int q = 0;
  for (int b = 0; b < B; ++b) {
    opb_seq s{};
    const int kind = (int)(rng() % 4);
    s.s_q = kind == 0 ? 0 : std::uniform_int_distribution<int>(1, kind == 3 ? 700 : 90)(rng);
    const int prefix = rng() % 3 == 0 ? 0 : std::uniform_int_distribution<int>(0, 1500)(rng);
    s.s_k = rng() % 5 == 0 ? std::uniform_int_distribution<int>(0, s.s_q + 1)(rng) : s.s_q + prefix;
    s.q_begin = q;
    s.valid = rng() % 9 != 0;
    const bool dec = mode == opb_mode_force || (mode == opb_mode_auto && s.s_q >= be);
    s.form = dec ? opb_form_decompressed : opb_form_absorbed;
    s.abs_pass = -1;
    q += s.s_q;
    t.max_seqlen_q = std::max(t.max_seqlen_q, s.s_q);
    t.max_sk = std::max(t.max_sk, s.s_k);
    t.seqs.push_back(s);
  }
  t.total_q = q;
  return t;
}

void check_decompressed(const batch& t, int pass_rows, int chunk, int group, int extra_chunks) {
  const int B = (int)t.seqs.size();
  const int n_passes = (int)((t.total_q + pass_rows - 1) / pass_rows);
  const int n_chunks = (t.max_sk + chunk - 1) / chunk + extra_chunks;  // the host's bound may be looser
  const int n_groups = (B + group - 1) / group;
  const int grid_tiles = (std::min(t.max_seqlen_q, pass_rows) + kTile - 1) / kTile;
  std::vector<std::vector<std::vector<int>>> seen(B);  // [b][row][key] attended count
  std::vector<std::vector<char>> init(B);
  for (int b = 0; b < B; ++b) {
    seen[b].assign(t.seqs[b].s_q, std::vector<int>(t.seqs[b].s_k, 0));
    init[b].assign(t.seqs[b].s_q, 0);
  }
  for (int pass = 0; pass < n_passes; ++pass) {
    const int row0 = pass * pass_rows;
    for (int g = 0; g < n_groups; ++g)
      for (int j = 0; j < n_chunks; ++j)
        for (int slot = 0; slot < group; ++slot) {
          const int b = g * group + slot;
          if (b >= B) continue;
          const opb_seq& s = t.seqs[b];
          opb_span sp;
          if (!opb_round_span(pass_rows, chunk, t.causal, s, row0, j, sp)) continue;
          REQUIRE(sp.key_lo == j * chunk);
          REQUIRE(sp.key_hi > sp.key_lo);
          REQUIRE(sp.key_hi - sp.key_lo <= chunk);
          REQUIRE(sp.key_hi <= s.s_k);
          // Keys expanded this round: whole 64-key tiles from key_lo while a
          // tile starts below key_hi (the gather zeroes the rest of the last).
          const int expanded_end = sp.key_lo + (sp.key_hi - sp.key_lo + kTile - 1) / kTile * kTile;
          REQUIRE(expanded_end <= sp.key_lo + chunk);
          const int tiles = (sp.q_hi - sp.q_lo + kTile - 1) / kTile;
          REQUIRE(tiles <= grid_tiles);
          for (int m = 0; m < tiles; ++m) {
            const int r_lo = sp.q_lo + m * kTile, r_hi = std::min(r_lo + kTile, sp.q_hi);
            const int64_t kmax = std::min<int64_t>(opb_visible(t.causal, s.s_q, s.s_k, r_hi - 1), sp.key_hi);
            const int n_keys = (int)(kmax - sp.key_lo);
            if (n_keys <= 0) continue;  // the CTA returns
            const int read_end = sp.key_lo + (n_keys + kTile - 1) / kTile * kTile;
            REQUIRE(read_end <= expanded_end);
            for (int i = r_lo; i < r_hi; ++i) {
              REQUIRE(row0 <= s.q_begin + i);
              REQUIRE(s.q_begin + i < row0 + pass_rows);
              if (j == 0)
                init[b][i] = 1;
              else
                REQUIRE(init[b][i]);  // the chunk-0 CTA of this tile wrote the state
              const int64_t vis = opb_visible(t.causal, s.s_q, s.s_k, i);
              for (int64_t k = sp.key_lo; k < read_end; ++k)
                if (k < vis) ++seen[b][i][k];  // the tensor-core kernel masks by the row's keys alone
            }
          }
        }
  }
  for (int b = 0; b < B; ++b) {
    const opb_seq& s = t.seqs[b];
    const bool mine = s.valid && s.form == opb_form_decompressed;
    for (int i = 0; i < s.s_q; ++i) {
      const int64_t vis = opb_visible(t.causal, s.s_q, s.s_k, i);
      if (mine && vis > 0) REQUIRE(init[b][i]);
      for (int k = 0; k < s.s_k; ++k) {
        const int want = mine && k < vis ? 1 : 0;
        if (seen[b][i][k] != want) {
          FAIL_CHECK("row " << i << " of sequence " << b << " saw key " << k << " " << seen[b][i][k] << " times");
          return;
        }
      }
    }
  }
}

void check_absorbed(batch t, int abs_rows) {
  const int B = (int)t.seqs.size();
  int64_t rows = 0;
  for (const opb_seq& s : t.seqs)
    if (s.valid && s.form == opb_form_absorbed) rows += s.s_q;
  const int64_t n = (rows + abs_rows - 1) / abs_rows;
  const int abs_passes = rows == 0 ? 0 : (int)std::min<int64_t>(n + B - 1, 2 * n + 1);
  std::vector<opb_seq> seqs = t.seqs;
  const int used = opb_pack_absorbed(seqs.data(), B, abs_rows, abs_passes);
  REQUIRE(used <= abs_passes);
  for (int b = 0; b < B; ++b) REQUIRE(seqs[b].valid == t.seqs[b].valid);  // nobody pushed past the bound
  std::vector<std::vector<int>> covered(B);
  for (int b = 0; b < B; ++b) covered[b].assign(t.seqs[b].s_q, 0);
  for (int pass = 0; pass < abs_passes; ++pass) {
    std::vector<int> owner(abs_rows, -1);
    for (int b = 0; b < B; ++b) {
      const opb_seq& s = seqs[b];
      opb_item it;
      if (!opb_absorbed_item(s, pass, abs_rows, t.causal, it)) continue;
      REQUIRE(it.n >= 1);
      REQUIRE(it.dst >= 0);
      REQUIRE(it.dst + it.n <= abs_rows);
      REQUIRE(it.i0 % abs_rows == 0);  // cut from the sequence's own start
      for (int r = 0; r < it.n; ++r) {
        REQUIRE(owner[it.dst + r] == -1);
        owner[it.dst + r] = b;
        const int64_t i = it.i0 + r;
        ++covered[b][i];
        // op A over the item: s_q' = n, s_k' = keys, row r sees
        // clamp(keys - n + r + 1, 0, keys) keys (non-causal: keys).
        const int64_t lim =
            t.causal ? std::min<int64_t>(std::max<int64_t>((int64_t)it.keys - it.n + r + 1, 0), it.keys) : it.keys;
        REQUIRE(lim == opb_visible(t.causal, s.s_q, s.s_k, i));
      }
    }
  }
  for (int b = 0; b < B; ++b) {
    const opb_seq& s = t.seqs[b];
    const int want = s.valid && s.form == opb_form_absorbed ? 1 : 0;
    for (int i = 0; i < s.s_q; ++i) REQUIRE(covered[b][i] == want);
  }
}

}  // namespace

TEST_CASE("decompressed form: every visible (row, key) pair once, state initialized first, grids cover the tiles") {
  std::mt19937 rng(7);
  for (int iter = 0; iter < 400; ++iter) {
    const int mode = (int)(rng() % 3);
    const batch t = random_batch(rng, 60, mode);
    const int pass_rows =
        rng() % 2 ? std::uniform_int_distribution<int>(1, 300)(rng) : (int)std::max<int64_t>(t.total_q, 1);
    const int chunk = kTile * std::uniform_int_distribution<int>(1, 10)(rng);
    const int group = std::uniform_int_distribution<int>(1, (int)t.seqs.size())(rng);
    check_decompressed(t, pass_rows, chunk, group, (int)(rng() % 3));
  }
}

TEST_CASE("absorbed form: every row in exactly one pass, within the bound, at its causal alignment") {
  std::mt19937 rng(11);
  for (int iter = 0; iter < 2000; ++iter) {
    const int mode = rng() % 2 ? opb_mode_auto : opb_mode_force_absorbed;
    const batch t = random_batch(rng, 60, mode);
    check_absorbed(t, std::uniform_int_distribution<int>(1, 200)(rng));
  }
}

TEST_CASE("absorbed packing: a sequence longer than a pass fills whole passes from row 0") {
  std::vector<opb_seq> s(3);
  for (int b = 0; b < 3; ++b) {
    s[b] = opb_seq{};
    s[b].valid = 1;
    s[b].form = opb_form_absorbed;
    s[b].s_k = 1000;
  }
  s[0].s_q = 30;   // pass 0, rows 0..29
  s[1].s_q = 250;  // items of 100, 100, 50: passes 1, 2, 3 (row 0 each)
  s[2].s_q = 40;   // pass 3 after the 50: rows 50..89
  REQUIRE(opb_pack_absorbed(s.data(), 3, 100, 7) == 4);
  CHECK(s[0].abs_pass == 0);
  CHECK(s[0].abs_row == 0);
  CHECK(s[1].abs_pass == 1);
  CHECK(s[1].abs_row == 0);
  CHECK(s[2].abs_pass == 3);
  CHECK(s[2].abs_row == 50);
}
