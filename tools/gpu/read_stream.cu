// SPDX-License-Identifier: MIT
// The read-only stream ceiling of mla-ceilings: how fast the GPU reads a
// buffer far larger than its L2 when nothing is written back, the
// denominator of memory-bound decode (a decode kernel reads the cache and
// writes almost nothing; a device-to-device copy also pays the writes).
// Two readers, the faster one counts: 16-byte loads that skip L1
// (ld.global.nc.L1::no_allocate, 4 in flight per thread), and bulk copies
// into shared memory (cp.async.bulk, the TMA path decode kernels use).
#include "read_stream.hpp"

#include <cuda/ptx>

#include <algorithm>
#include <cstdio>
#include <vector>

namespace mla_ceilings {
namespace {

namespace ptx = cuda::ptx;

constexpr int kThreads = 256;
constexpr int kUnroll = 4;

__device__ __forceinline__ uint4 load_streaming(const uint4* p) {
  uint4 v;
  asm volatile("ld.global.nc.L1::no_allocate.v4.u32 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w)
               : "l"(p));
  return v;
}

// Every 16-byte word read once; the xor of all words written per block so
// the loads are not dead code.
__global__ void __launch_bounds__(kThreads) read_loads(const uint4* src, size_t words, unsigned* sink) {
  unsigned acc = 0;
  const size_t stride = (size_t)gridDim.x * kThreads * kUnroll;
  for (size_t i = (size_t)blockIdx.x * kThreads * kUnroll + threadIdx.x; i < words; i += stride) {
    uint4 v[kUnroll];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u)
      v[u] = i + (size_t)u * kThreads < words ? load_streaming(src + i + (size_t)u * kThreads) : make_uint4(0, 0, 0, 0);
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) acc ^= v[u].x ^ v[u].y ^ v[u].z ^ v[u].w;
  }
  if (acc == 0x9e3779b9u) sink[blockIdx.x] = acc;  // practically never: keeps the loads alive
}

// One thread per block streams chunks of kChunk bytes into a 2-stage ring of
// shared memory with cp.async.bulk and an mbarrier per stage.
constexpr uint32_t kChunk = 32768;
__global__ void read_bulk(const char* src, size_t bytes, unsigned* sink) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  extern __shared__ __align__(128) char ring[];
  __shared__ uint64_t bar[2];
  if (threadIdx.x != 0) return;
  for (int s = 0; s < 2; ++s) ptx::mbarrier_init(&bar[s], 1);
  ptx::fence_mbarrier_init(ptx::sem_release, ptx::scope_cluster);
  const size_t chunks = bytes / kChunk;
  uint32_t phase[2] = {0, 0};
  int issued = 0;
  for (size_t c = blockIdx.x; c < chunks; c += gridDim.x, ++issued) {
    const int s = issued % 2;
    if (issued >= 2) {  // wait for the chunk issued two steps ago in this stage
      while (!ptx::mbarrier_try_wait_parity(&bar[s], phase[s])) {
      }
      phase[s] ^= 1;
    }
    const uint32_t chunk = kChunk;  // passed by reference
    ptx::mbarrier_arrive_expect_tx(ptx::sem_release, ptx::scope_cta, ptx::space_shared, &bar[s], chunk);
    ptx::cp_async_bulk(ptx::space_cluster, ptx::space_global, ring + s * chunk, src + c * chunk, chunk, &bar[s]);
  }
  for (int k = issued > 2 ? issued - 2 : 0; k < issued; ++k) {
    const int s = k % 2;
    while (!ptx::mbarrier_try_wait_parity(&bar[s], phase[s])) {
    }
    phase[s] ^= 1;
  }
  if (ring[0] == 0x5a && ring[kChunk] == 0x5a) sink[blockIdx.x] = 1;  // keeps the copies observable
#endif
}

}  // namespace

bool read_bandwidth(cudaStream_t s, size_t mib, int iters, int repeats, double* gbs, std::string& how) {
  const size_t bytes = (mib << 20) / kChunk * kChunk;
  char* src = nullptr;
  unsigned* sink = nullptr;
  cudaDeviceProp prop;
  if (cudaGetDeviceProperties(&prop, 0) != cudaSuccess || cudaMalloc(&src, bytes) != cudaSuccess ||
      cudaMalloc(&sink, 65536 * sizeof(unsigned)) != cudaSuccess) {
    std::fprintf(stderr, "mla-ceilings: read stream: allocation failed\n");
    return false;
  }
  cudaMemsetAsync(src, 1, bytes, s);  // initialized: never time reads of uninitialized memory
  const int sms = prop.multiProcessorCount;
  cudaFuncAttributes attr{};  // the bulk reader exists only in sm_90+ code
  const bool bulk_ok = cudaFuncGetAttributes(&attr, read_bulk) == cudaSuccess && attr.binaryVersion >= 90 &&
                       cudaFuncSetAttribute(read_bulk, cudaFuncAttributeMaxDynamicSharedMemorySize, 2 * kChunk) ==
                           cudaSuccess;
  auto time_of = [&](auto&& launch, double* ms) {
    cudaEvent_t a, b;
    cudaEventCreate(&a);
    cudaEventCreate(&b);
    for (int i = 0; i < 3; ++i) launch();
    std::vector<double> t;
    for (int r = 0; r < repeats; ++r) {
      cudaEventRecord(a, s);
      for (int i = 0; i < iters; ++i) launch();
      cudaEventRecord(b, s);
      cudaEventSynchronize(b);
      float v = 0;
      cudaEventElapsedTime(&v, a, b);
      t.push_back(v / iters);
    }
    cudaEventDestroy(a);
    cudaEventDestroy(b);
    std::sort(t.begin(), t.end());
    *ms = t[t.size() / 2];
    return cudaGetLastError() == cudaSuccess;
  };
  double ms_loads = 0, ms_bulk = 1e30;
  bool ok = time_of([&] { read_loads<<<sms * 8, kThreads, 0, s>>>((const uint4*)src, bytes / 16, sink); }, &ms_loads);
  if (ok && bulk_ok) {
    // Several blocks per SM keep enough chunks in flight (2 x 32 KB each).
    if (!time_of([&] { read_bulk<<<sms * 3, 32, 2 * kChunk, s>>>(src, bytes, sink); }, &ms_bulk)) ms_bulk = 1e30;
  }
  cudaFree(src);
  cudaFree(sink);
  if (!ok) {
    std::fprintf(stderr, "mla-ceilings: read stream: kernel failed\n");
    return false;
  }
  const double best = std::min(ms_loads, ms_bulk);
  *gbs = bytes / (best * 1e-3) / 1e9;
  char buf[160];
  std::snprintf(buf, sizeof buf, "16-byte loads %.1f GB/s, bulk copies %s", bytes / (ms_loads * 1e-3) / 1e9,
                ms_bulk < 1e29 ? (std::to_string((int)(bytes / (ms_bulk * 1e-3) / 1e9)) + " GB/s").c_str()
                               : "not available");
  how = buf;
  return true;
}

}  // namespace mla_ceilings
