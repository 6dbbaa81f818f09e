// SPDX-License-Identifier: MIT
// cpu_bench: times op A of the cpu plugin on the CPU shapes of
// docs/shapes.md (C1-C3: bf16, page 64, causal, Dl 512, Dr 64) for a
// list of thread counts, and the machine's copy bandwidth for comparison.
// A separate program, never a test.  Correctness is the tests' job
// (reference/tests); this only checks that each call succeeds.
//
//   mla_cpu_bench [threads...]    e.g. mla_cpu_bench 1 2   (default: 1 2)
//
// Reports min and median over repeats (min is the robust figure on a shared
// machine), GB/s = cache bytes read + q/out bytes, per shape.
#include <mla/mla_plugin.h>

#include <dlfcn.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <random>
#include <vector>

#include "tool_cli.hpp"

namespace {

struct shape {
  const char* name;
  int B, s_q, s_k, H;
};

double cpu_s() {  // CPU time of the whole process (all threads)
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// read+write bandwidth of a multi-threaded copy of 256 MiB, best of 5.
double copy_gbs(int threads) {
  const size_t n = (256u << 20) / sizeof(double);
  std::vector<double> a(n, 1.0), b(n, 0.0);
  double best = 1e30;
  for (int r = 0; r < 5; ++r) {
    const double t0 = now_s();
#pragma omp parallel for num_threads(threads) schedule(static)
    for (long i = 0; i < (long)n; ++i) b[i] = a[i];
    best = std::min(best, now_s() - t0);
  }
  return 2.0 * n * sizeof(double) / best / 1e9;
}

struct timing {
  double min_ms, median_ms, cpu_ms;  // cpu_ms: mean process CPU time per call
};

timing run_shape(const mla_api& api, const shape& s, int threads) {
  const int Dl = 512, Dr = 64, D = Dl + Dr, page = 64;
  std::mt19937 rng(1);
  std::uniform_int_distribution<int> bits(0x3c00, 0x3f80);  // bf16 values in about [0.0078, 1)
  const int pages_per_seq = (s.s_k + page - 1) / page;
  const int num_pages = s.B * pages_per_seq;
  std::vector<uint16_t> cache((size_t)num_pages * page * D), q((size_t)s.B * s.s_q * s.H * D),
      out((size_t)s.B * s.s_q * s.H * Dl);
  for (auto& v : cache) v = (uint16_t)(bits(rng) ^ (rng() & 0x8000));
  for (auto& v : q) v = (uint16_t)(bits(rng) ^ (rng() & 0x8000));
  std::vector<int32_t> table(num_pages), cu(s.B + 1), seqlens(s.B, s.s_k);
  std::iota(table.begin(), table.end(), 0);
  std::shuffle(table.begin(), table.end(), rng);
  for (int b = 0; b <= s.B; ++b) cu[b] = b * s.s_q;
  std::vector<float> lse((size_t)s.B * s.s_q * s.H);

  mla_context_desc desc{};
  desc.struct_size = sizeof desc;
  desc.num_threads = threads;
  mla_context* ctx = nullptr;
  if (api.context_create(&desc, &ctx) != MLA_OK) std::abort();
  mla_absorbed_args a{};
  a.struct_size = sizeof a;
  a.batch = s.B;
  a.num_heads = s.H;
  a.latent_dim = Dl;
  a.rope_dim = Dr;
  a.total_q = (int64_t)s.B * s.s_q;
  a.max_seqlen_q = s.s_q;
  a.causal = 1;
  a.scale = 1.0f / std::sqrt(192.0f);
  a.cu_seqlens_q = cu.data();
  auto tensor = [](void* p, int dt, int64_t s0, int64_t s1) {
    mla_tensor t{};
    t.struct_size = sizeof t;
    t.data = p;
    t.dtype = dt;
    t.stride[0] = s0;
    t.stride[1] = s1;
    t.stride[2] = s1 == 1 ? 0 : 1;
    return t;
  };
  a.q = tensor(q.data(), MLA_DTYPE_BF16, (int64_t)s.H * D, D);
  a.out = tensor(out.data(), MLA_DTYPE_BF16, (int64_t)s.H * Dl, Dl);
  a.lse = tensor(lse.data(), MLA_DTYPE_F32, s.H, 1);
  a.kv.struct_size = sizeof a.kv;
  a.kv.data = cache.data();
  a.kv.dtype = MLA_DTYPE_BF16;
  a.kv.page_size = page;
  a.kv.num_pages = num_pages;
  a.kv.page_stride = (int64_t)page * D;
  a.kv.row_stride = D;
  a.kv.latent_offset = 0;
  a.kv.rope_offset = Dl;
  a.kv.block_table = table.data();
  a.kv.block_table_stride = pages_per_seq;
  a.kv.seqlens_k = seqlens.data();
  size_t bytes = 0;
  if (api.absorbed_workspace_size(ctx, &a, &bytes) != MLA_OK) std::abort();
  void* ws = std::aligned_alloc(256, (bytes + 255) / 256 * 256);
  a.workspace = ws;
  a.workspace_bytes = bytes;
  if (api.absorbed_plan(ctx, &a) != MLA_OK) {
    std::fprintf(stderr, "plan: %s\n", api.last_error());
    std::abort();
  }
  std::vector<double> ms;
  const double budget_s = 1.0, t_start = now_s(), cpu_start = cpu_s();
  for (int r = 0; r < 100 && (r < 5 || now_s() - t_start < budget_s); ++r) {
    const double t0 = now_s();
    if (api.absorbed_run(ctx, &a) != MLA_OK) {
      std::fprintf(stderr, "run: %s\n", api.last_error());
      std::abort();
    }
    ms.push_back((now_s() - t0) * 1e3);
  }
  const double cpu_ms = (cpu_s() - cpu_start) * 1e3 / ms.size();
  std::free(ws);
  api.context_destroy(ctx);
  std::sort(ms.begin(), ms.end());
  return {ms.front(), ms[ms.size() / 2], cpu_ms};
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> thread_counts;
  CLI::App app{"mla_cpu_bench: op A of the cpu plugin on C1-C3 (bf16, page 64, causal) for each thread count, and "
               "the copy bandwidth; min and median over repeats.  A timing program, not a test."};
  app.add_option("threads", thread_counts, "thread counts to time (default: 1 2)")
      ->check(CLI::Range(1, MLA_MAX_THREADS));
  mla_tools::add_version_flag(app, "mla_cpu_bench");
  const int parsed = mla_tools::parse_command_line(app, "mla_cpu_bench", argc, argv);
  if (parsed >= 0) return parsed;
  if (thread_counts.empty()) thread_counts = {1, 2};
  void* lib = dlopen(MLA_CPU_PLUGIN_PATH, RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    std::fprintf(stderr, "dlopen: %s\n", dlerror());
    return 1;
  }
  const mla_api& api = *reinterpret_cast<mla_get_api_fn>(dlsym(lib, "mla_get_api"))();
  mla_probe_result probe{};
  probe.struct_size = sizeof probe;
  api.probe(&probe);
  std::printf("plugin: %s\n", probe.reason);
  for (int t : thread_counts) std::printf("copy bandwidth, %d thread(s): %.1f GB/s (read+write)\n", t, copy_gbs(t));

  const shape shapes[] = {{"C1", 1, 1, 4096, 16}, {"C2", 1, 1, 16384, 16}, {"C3", 4, 1, 4096, 128}};
  std::printf("\n| case | threads | min ms | median ms | GB/s (min) | GFLOP/s (min) | CPU ms/call |\n|---|---|---|---|---|---|---|\n");
  for (const shape& s : shapes)
    for (int t : thread_counts) {
      const timing tm = run_shape(api, s, t);
      const double bytes = (double)s.B * s.s_k * 576 * 2 + (double)s.B * s.s_q * s.H * (576 + 512) * 2;
      const double flops = 2.0 * s.H * s.B * s.s_q * s.s_k * (576 + 512);
      std::printf("| %s | %d | %.3f | %.3f | %.2f | %.1f | %.3f |\n", s.name, t, tm.min_ms, tm.median_ms,
                  bytes / tm.min_ms / 1e6, flops / tm.min_ms / 1e6, tm.cpu_ms);
    }
  return 0;
}
