// SPDX-License-Identifier: MIT
/* A host built against the ABI 1.0 headers (a copy of them, abi_1_0/mla/,
 * from commit cd37044) runs op A and op C through the current loader on the
 * current cpu plugin, with 1.0-sized structs everywhere, and checks op A
 * against a plain double-precision reference.  Exit 0 = a 1.0 caller keeps
 * working (docs/abi.md, section 2).  C99. */
#define _POSIX_C_SOURCE 200112L
#include <mla/mla.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if MLA_ABI_MAJOR != 1 || MLA_ABI_MINOR != 0
#error "this test must be compiled against the ABI 1.0 headers (api/tests/abi_1_0)"
#endif

enum { B = 2, H = 4, DL = 512, DR = 64, D = DL + DR, PAGE = 16, SQ0 = 3, SQ1 = 1, SK0 = 70, SK1 = 5 };
enum { TOTAL_Q = SQ0 + SQ1, PAGES0 = (SK0 + PAGE - 1) / PAGE, PAGES1 = (SK1 + PAGE - 1) / PAGE, NUM_PAGES = 8 };

static int failures = 0;
#define EXPECT(cond, ...)                     \
  do {                                        \
    if (!(cond)) {                            \
      fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
      fprintf(stderr, __VA_ARGS__);           \
      fprintf(stderr, "\n");                  \
      ++failures;                             \
    }                                         \
  } while (0)

static double frand(unsigned* s) {
  *s = *s * 1103515245u + 12345u;
  return ((double)((*s >> 8) & 0xffff) / 65535.0) * 2.0 - 1.0;
}

int main(void) {
  mla_loader_options lo;
  memset(&lo, 0, sizeof lo);
  lo.struct_size = sizeof lo;
  lo.backend = "cpu";
  lo.search_path = MLA_TEST_PLUGIN_DIR;
  lo.ignore_environment = 1;
  mla_loader* loader = NULL;
  if (mla_loader_open(&lo, &loader) != MLA_OK || !loader) return fprintf(stderr, "mla_loader_open failed\n"), 1;
  const mla_api* api = mla_loader_api(loader);
  if (!api) return fprintf(stderr, "no cpu plugin: %s\n", mla_loader_error(loader)), 1;
  EXPECT(api->abi_major == MLA_ABI_MAJOR, "abi_major %u", api->abi_major);
  EXPECT(api->struct_size >= sizeof(mla_api), "table of %zu bytes, a 1.0 table is %zu", api->struct_size,
         sizeof(mla_api));

  mla_context_desc desc;  /* 32 bytes: no flags, kernel or pool */
  memset(&desc, 0, sizeof desc);
  desc.struct_size = sizeof desc;
  desc.num_threads = 2;
  mla_context* ctx = NULL;
  if (api->context_create(&desc, &ctx) != MLA_OK) return fprintf(stderr, "context_create: %s\n", api->last_error()), 1;
  mla_caps caps; /* 176 bytes: the plugin must write nothing past them */
  unsigned char caps_buffer[sizeof caps + 64];
  memset(caps_buffer, 0x5a, sizeof caps_buffer);
  memset(caps_buffer, 0, sizeof caps);
  ((mla_caps*)caps_buffer)->struct_size = sizeof caps;
  EXPECT(api->get_caps(ctx, (mla_caps*)caps_buffer) == MLA_OK, "get_caps: %s", api->last_error());
  memcpy(&caps, caps_buffer, sizeof caps);
  for (size_t i = sizeof caps; i < sizeof caps_buffer; ++i) EXPECT(caps_buffer[i] == 0x5a, "get_caps wrote byte %zu", i);
  EXPECT(caps.ops & MLA_OP_BIT(MLA_OP_ABSORBED), "op A not in caps.ops");

  /* Op A: two ragged sequences, f32, permuted pages, causal. */
  static float cache[NUM_PAGES * PAGE * D], q[TOTAL_Q * H * D], out[TOTAL_Q * H * DL], lse[TOTAL_Q * H];
  int32_t table[B * PAGES0], cu[B + 1] = {0, SQ0, SQ0 + SQ1}, seqlens[B] = {SK0, SK1};
  const int32_t pages0[PAGES0] = {6, 1, 4, 0, 7}, pages1[PAGES1] = {3};
  unsigned seed = 7;
  for (int i = 0; i < NUM_PAGES * PAGE * D; ++i) cache[i] = NAN;
  for (int i = 0; i < B * PAGES0; ++i) table[i] = 2;  /* an unused page */
  for (int p = 0; p < PAGES0; ++p) table[p] = pages0[p];
  table[PAGES0] = pages1[0];
  for (int b = 0; b < B; ++b)
    for (int t = 0; t < seqlens[b]; ++t) {
      float* row = cache + ((size_t)table[b * PAGES0 + t / PAGE] * PAGE + t % PAGE) * D;
      for (int d = 0; d < D; ++d) row[d] = (float)frand(&seed);
    }
  for (int i = 0; i < TOTAL_Q * H * D; ++i) q[i] = (float)frand(&seed);
  for (int i = 0; i < TOTAL_Q * H * DL; ++i) out[i] = NAN;

  mla_absorbed_args a; /* 320 bytes: no stream */
  memset(&a, 0, sizeof a);
  a.struct_size = sizeof a;
  a.batch = B, a.num_heads = H, a.latent_dim = DL, a.rope_dim = DR;
  a.total_q = TOTAL_Q, a.max_seqlen_q = SQ0, a.causal = 1, a.scale = 0.0721687836f;
  a.cu_seqlens_q = cu;
  a.q = (mla_tensor){sizeof(mla_tensor), q, MLA_DTYPE_F32, 0, {H * D, D, 1, 0}};
  a.out = (mla_tensor){sizeof(mla_tensor), out, MLA_DTYPE_F32, 0, {H * DL, DL, 1, 0}};
  a.lse = (mla_tensor){sizeof(mla_tensor), lse, MLA_DTYPE_F32, 0, {H, 1, 0, 0}};
  a.kv = (mla_paged_cache){sizeof(mla_paged_cache), cache, MLA_DTYPE_F32, PAGE, NUM_PAGES, PAGE * D, D, 0, DL,
                           table, PAGES0, seqlens};
  size_t ws = 0;
  mla_status st = api->absorbed_workspace_size(ctx, &a, &ws);
  EXPECT(st == MLA_OK, "absorbed_workspace_size: %s", api->last_error());
  void* workspace = NULL;
  if (posix_memalign(&workspace, 256, ws + 1) != 0) return 1;
  a.workspace = workspace, a.workspace_bytes = ws;
  st = api->absorbed_plan(ctx, &a);
  EXPECT(st == MLA_OK, "absorbed_plan: %s", api->last_error());
  st = api->absorbed_run(ctx, &a);
  EXPECT(st == MLA_OK, "absorbed_run: %s", api->last_error());

  /* The reference, in double. */
  double worst = 0, worst_lse = 0;
  for (int b = 0; b < B; ++b) {
    const int sq = cu[b + 1] - cu[b], sk = seqlens[b];
    for (int i = 0; i < sq; ++i)
      for (int h = 0; h < H; ++h) {
        const float* qr = q + ((size_t)(cu[b] + i) * H + h) * D;
        const int visible = sk - sq + i + 1 < sk ? sk - sq + i + 1 : sk;
        double s[SK0], m = -INFINITY, sum = 0, o[DL];
        for (int t = 0; t < visible; ++t) {
          const float* row = cache + ((size_t)table[b * PAGES0 + t / PAGE] * PAGE + t % PAGE) * D;
          double dot = 0;
          for (int d = 0; d < D; ++d) dot += (double)qr[d] * row[d];
          s[t] = (double)a.scale * dot;
          if (s[t] > m) m = s[t];
        }
        for (int d = 0; d < DL; ++d) o[d] = 0;
        for (int t = 0; t < visible; ++t) {
          const float* row = cache + ((size_t)table[b * PAGES0 + t / PAGE] * PAGE + t % PAGE) * D;
          const double w = exp(s[t] - m);
          sum += w;
          for (int d = 0; d < DL; ++d) o[d] += w * row[d];
        }
        const float* got = out + ((size_t)(cu[b] + i) * H + h) * DL;
        for (int d = 0; d < DL; ++d) {
          const double e = fabs(got[d] - o[d] / sum);
          if (!(e <= worst)) worst = e;  /* NaN propagates */
        }
        const double el = fabs(lse[(cu[b] + i) * H + h] - (m + log(sum)));
        if (!(el <= worst_lse)) worst_lse = el;
      }
  }
  EXPECT(worst < 1e-5, "op A: max |out - reference| = %g", worst);
  EXPECT(worst_lse < 1e-5, "op A: max |lse - reference| = %g", worst_lse);

  /* Op C with a 1.0 merge_args (256 bytes): two parts of one row. */
  float parts_out[2 * 1 * 1 * 4] = {1, 2, 3, 4, 5, 6, 7, 8}, parts_lse[2] = {0.0f, (float)log(3.0)}, merged[4], mlse;
  mla_merge_args m;
  memset(&m, 0, sizeof m);
  m.struct_size = sizeof m;
  m.num_parts = 2, m.head_dim = 4, m.num_rows = 1, m.num_heads = 1;
  m.parts_out = (mla_tensor){sizeof(mla_tensor), parts_out, MLA_DTYPE_F32, 0, {4, 4, 4, 1}};
  m.parts_lse = (mla_tensor){sizeof(mla_tensor), parts_lse, MLA_DTYPE_F32, 0, {1, 1, 1, 0}};
  m.out = (mla_tensor){sizeof(mla_tensor), merged, MLA_DTYPE_F32, 0, {4, 4, 1, 0}};
  m.lse = (mla_tensor){sizeof(mla_tensor), &mlse, MLA_DTYPE_F32, 0, {1, 1, 0, 0}};
  st = api->merge_states(ctx, &m);
  EXPECT(st == MLA_OK, "merge_states: %s", api->last_error());
  for (int d = 0; d < 4; ++d) EXPECT(fabs(merged[d] - (0.25 * (d + 1) + 0.75 * (d + 5))) < 1e-5, "merge out[%d] = %g", d, merged[d]);
  EXPECT(fabs(mlse - log(4.0)) < 1e-6, "merge lse = %g", mlse);

  api->context_destroy(ctx);
  mla_loader_close(loader);
  free(workspace);
  printf("ABI 1.0 caller: op A max |err| %.3g, lse %.3g, merge ok; %d failures\n", worst, worst_lse, failures);
  return failures ? 1 : 0;
}
