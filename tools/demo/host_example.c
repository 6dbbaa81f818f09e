// SPDX-License-Identifier: MIT
/* A host engine's decode step through libmla (C99); README.md shows this file. */
#define _POSIX_C_SOURCE 200112L /* posix_memalign */
#include <mla/mla.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

enum { H = 16, DL = 512, DR = 64, ROW = DL + DR, PAGE = 64, SK = 100 };

int main(void) {
  mla_loader* loader = NULL;  /* picks the plugin named by MLA_BACKEND (default: auto) */
  const mla_api* api = mla_loader_open(NULL, &loader) == MLA_OK ? mla_loader_api(loader) : NULL;
  if (!api) return fprintf(stderr, "no backend: %s\n", loader ? mla_loader_error(loader) : "?"), 1;
  mla_context_desc desc = {0};  /* device 0, default stream, default threads */
  desc.struct_size = sizeof desc;
  mla_context* ctx = NULL;
  if (api->context_create(&desc, &ctx) != MLA_OK) return fprintf(stderr, "%s\n", api->last_error()), 1;

  /* Backend memory: host memory for "cpu" (a GPU plugin wants device pointers). */
  float* cache = malloc(sizeof(float) * 2 * PAGE * ROW); /* 2 pages of [PAGE][latent | rope] */
  float* q = malloc(sizeof(float) * H * ROW);            /* [1 token][H][latent | rope] */
  float* out = malloc(sizeof(float) * H * DL);           /* [1 token][H][latent] */
  for (int i = 0; i < 2 * PAGE * ROW; ++i) cache[i] = 1.0f;
  for (int i = 0; i < H * ROW; ++i) q[i] = (float)(i % 7) / 7.0f;
  int32_t cu_seqlens_q[2] = {0, 1}, seqlens_k[1] = {SK}, block_table[2] = {1, 0};

  mla_absorbed_args a = {0};
  a.struct_size = sizeof a, a.batch = 1, a.num_heads = H, a.latent_dim = DL, a.rope_dim = DR;
  a.total_q = 1, a.max_seqlen_q = 1, a.causal = 1, a.scale = 1.0f / sqrtf(192.0f);
  a.cu_seqlens_q = cu_seqlens_q;
  a.q = (mla_tensor){sizeof(mla_tensor), q, MLA_DTYPE_F32, 0, {H * ROW, ROW, 1, 0}};
  a.out = (mla_tensor){sizeof(mla_tensor), out, MLA_DTYPE_F32, 0, {H * DL, DL, 1, 0}};
  a.lse = (mla_tensor){sizeof(mla_tensor), NULL, MLA_DTYPE_F32, 0, {0, 0, 0, 0}}; /* not wanted */
  a.kv = (mla_paged_cache){sizeof(mla_paged_cache), cache, MLA_DTYPE_F32, PAGE, 2, PAGE * ROW, ROW,
                           0, DL, block_table, 2, seqlens_k};
  size_t ws = 0;  /* the workspace: sized per batch shape, owned by the caller */
  mla_status st = api->absorbed_workspace_size(ctx, &a, &ws);
  if (st == MLA_OK && posix_memalign(&a.workspace, 256, ws + 1) == 0) a.workspace_bytes = ws;
  if (st == MLA_OK) st = api->absorbed_plan(ctx, &a);  /* once per step, shared by all layers */
  if (st == MLA_OK) st = api->absorbed_run(ctx, &a);   /* once per layer */
  if (st != MLA_OK) return fprintf(stderr, "%s: %s\n", mla_status_name(st), api->last_error()), 1;
  printf("out[0] = %g, out[%d] = %g\n", out[0], H * DL - 1, out[H * DL - 1]); /* 1: rows' latent is 1 */

  api->context_destroy(ctx);
  mla_loader_close(loader);
  free(a.workspace), free(out), free(q), free(cache);
  return 0;
}
