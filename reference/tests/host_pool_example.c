// SPDX-License-Identifier: MIT
/* An engine hands its own thread pool to the cpu plugin (C99 + pthreads,
 * ABI 1.1 mla_context_desc.parallel_for); docs/cpu.md shows this file.
 * Runs one decode step on the plugin's own threads and on the pool, both
 * with num_threads = 2, and checks that the outputs are the same bits.
 * Exit 0: identical; 1: different or an error.                            */
#define _POSIX_C_SOURCE 200112L /* pthreads, posix_memalign */
#include <mla/mla.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the engine's pool: workers wait for a job; parallel_for hands out
 * task indices under a mutex and the calling thread takes them too.      */
enum { POOL_WORKERS = 1 };
typedef struct host_pool {
  pthread_mutex_t mu;
  pthread_cond_t work, done;
  mla_task_fn task;
  void* arg;
  int32_t count, next, finished;
  unsigned long generation, calls;
  int stop;
  pthread_t threads[POOL_WORKERS];
} host_pool;

static void pool_help(host_pool* p) { /* mu held */
  while (p->next < p->count) {
    const int32_t i = p->next++;
    mla_task_fn task = p->task;
    void* arg = p->arg;
    pthread_mutex_unlock(&p->mu);
    task(arg, i);
    pthread_mutex_lock(&p->mu);
    if (++p->finished == p->count) pthread_cond_broadcast(&p->done);
  }
}

static void* pool_worker(void* self) {
  host_pool* p = self;
  pthread_mutex_lock(&p->mu);
  for (unsigned long seen = p->generation;; seen = p->generation) {
    while (!p->stop && p->generation == seen) pthread_cond_wait(&p->work, &p->mu);
    if (p->stop) break;
    pool_help(p);
  }
  pthread_mutex_unlock(&p->mu);
  return NULL;
}

/* mla_parallel_for_fn: run task(arg, i) for i in [0, count), return when all returned. */
static void pool_parallel_for(void* self, int32_t count, mla_task_fn task, void* arg) {
  host_pool* p = self;
  pthread_mutex_lock(&p->mu);
  p->task = task, p->arg = arg, p->count = count, p->next = 0, p->finished = 0;
  ++p->generation, ++p->calls;
  pthread_cond_broadcast(&p->work);
  pool_help(p);
  while (p->finished < p->count) pthread_cond_wait(&p->done, &p->mu);
  pthread_mutex_unlock(&p->mu);
}

static int pool_start(host_pool* p) {
  memset(p, 0, sizeof *p);
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->work, NULL);
  pthread_cond_init(&p->done, NULL);
  for (int i = 0; i < POOL_WORKERS; ++i)
    if (pthread_create(&p->threads[i], NULL, pool_worker, p) != 0) return 0;
  return 1;
}

static void pool_stop(host_pool* p) {
  pthread_mutex_lock(&p->mu);
  p->stop = 1;
  pthread_cond_broadcast(&p->work);
  pthread_mutex_unlock(&p->mu);
  for (int i = 0; i < POOL_WORKERS; ++i) pthread_join(p->threads[i], NULL);
}

/* ---- one decode step: B sequences, one query each, f32 */
enum { B = 3, H = 16, DL = 512, DR = 64, ROW = DL + DR, PAGE = 64, PAGES = 8 };

static int decode(const mla_api* api, mla_context* ctx, const float* cache, const float* q, float* out) {
  int32_t cu_seqlens_q[B + 1] = {0, 1, 2, 3}, seqlens_k[B] = {150, 77, 129};
  int32_t block_table[B][3] = {{4, 0, 6}, {1, 7, 7}, {2, 5, 3}}; /* pages of each sequence */
  mla_absorbed_args a;
  memset(&a, 0, sizeof a);
  a.struct_size = sizeof a, a.batch = B, a.num_heads = H, a.latent_dim = DL, a.rope_dim = DR;
  a.total_q = B, a.max_seqlen_q = 1, a.causal = 1, a.scale = 1.0f / sqrtf(192.0f);
  a.cu_seqlens_q = cu_seqlens_q;
  a.q = (mla_tensor){sizeof(mla_tensor), (void*)q, MLA_DTYPE_F32, 0, {H * ROW, ROW, 1, 0}};
  a.out = (mla_tensor){sizeof(mla_tensor), out, MLA_DTYPE_F32, 0, {H * DL, DL, 1, 0}};
  a.lse = (mla_tensor){sizeof(mla_tensor), NULL, MLA_DTYPE_F32, 0, {0, 0, 0, 0}};
  a.kv = (mla_paged_cache){sizeof(mla_paged_cache), (void*)cache, MLA_DTYPE_F32, PAGE, PAGES, PAGE * ROW, ROW,
                           0, DL, &block_table[0][0], 3, seqlens_k};
  size_t ws = 0;
  mla_status st = api->absorbed_workspace_size(ctx, &a, &ws);
  if (st == MLA_OK && posix_memalign(&a.workspace, 256, ws + 1) == 0) a.workspace_bytes = ws;
  if (st == MLA_OK) st = api->absorbed_plan(ctx, &a);
  if (st == MLA_OK) st = api->absorbed_run(ctx, &a);
  free(a.workspace);
  if (st != MLA_OK) fprintf(stderr, "%s: %s\n", mla_status_name(st), api->last_error());
  return st == MLA_OK;
}

int main(void) {
  mla_loader* loader = NULL;
  const mla_api* api = mla_loader_open(NULL, &loader) == MLA_OK ? mla_loader_api(loader) : NULL;
  if (!api || strcmp(api->name, "cpu") != 0)
    return fprintf(stderr, "needs the cpu plugin (MLA_BACKEND=cpu): %s\n", loader ? mla_loader_error(loader) : "?"), 1;

  float* cache = malloc(sizeof(float) * PAGES * PAGE * ROW);
  float* q = malloc(sizeof(float) * B * H * ROW);
  float* out_own = malloc(sizeof(float) * B * H * DL);
  float* out_pool = malloc(sizeof(float) * B * H * DL);
  srand(1);
  for (int i = 0; i < PAGES * PAGE * ROW; ++i) cache[i] = (float)rand() / RAND_MAX - 0.5f;
  for (int i = 0; i < B * H * ROW; ++i) q[i] = (float)rand() / RAND_MAX - 0.5f;

  host_pool pool;
  if (!pool_start(&pool)) return fprintf(stderr, "pthread_create failed\n"), 1;
  mla_context_desc desc;
  memset(&desc, 0, sizeof desc);
  desc.struct_size = sizeof desc;
  desc.num_threads = POOL_WORKERS + 1; /* the most tasks a call hands to the pool; fixes the split */
  mla_context *own = NULL, *pooled = NULL;
  int ok = api->context_create(&desc, &own) == MLA_OK; /* the plugin's own threads */
  desc.parallel_for = pool_parallel_for;               /* the engine's pool */
  desc.parallel_for_pool = &pool;
  ok = ok && api->context_create(&desc, &pooled) == MLA_OK;
  if (!ok) fprintf(stderr, "context_create: %s\n", api->last_error());
  ok = ok && decode(api, own, cache, q, out_own) && decode(api, pooled, cache, q, out_pool);
  const int same = ok && memcmp(out_own, out_pool, sizeof(float) * B * H * DL) == 0;
  if (ok) printf("host pool: %lu parallel_for calls, out[0] = %g; outputs %s the plugin's own threads\n",
                 pool.calls, out_pool[0], same ? "bit-identical to" : "DIFFERENT from");

  api->context_destroy(pooled); /* before the pool stops: the context borrows it */
  api->context_destroy(own);
  pool_stop(&pool);
  mla_loader_close(loader);
  free(out_pool), free(out_own), free(q), free(cache);
  return same && pool.calls > 0 ? 0 : 1;
}
