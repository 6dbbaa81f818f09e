// SPDX-License-Identifier: MIT
// mla-ceilings: the ceilings every GPU result is reported against
// (docs/design.md section 6), measured on the device it runs on.
//   copy_gbs=<x>      device-to-device copy, bytes read + bytes written per second
//   gemm_tflops=<y>   bf16 GEMM through cuBLAS (8192^3 by default, random data)
//   read_gbs=<z>      read-only stream (read_stream.cu): the memory-bound decode ceiling
// Each: warm-up, then the median of `repeats` timings of `iters` back-to-back
// operations between CUDA events.
//
//   mla-ceilings [--copy-mib N] [--gemm N] [--iters N] [--repeats N]
// Exit status: 0 measured, 1 a CUDA or cuBLAS call failed, 2 a bad option,
// 77 no CUDA device (--help and --version need none).
#include "read_stream.hpp"

#include <cublas_v2.h>
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "tool_cli.hpp"

namespace {

#define CHECK_CUDA(x)                                                                       \
  do {                                                                                      \
    cudaError_t e_ = (x);                                                                   \
    if (e_ != cudaSuccess) {                                                                \
      std::fprintf(stderr, "mla-ceilings: %s: %s\n", #x, cudaGetErrorString(e_));           \
      return false;                                                                         \
    }                                                                                       \
  } while (0)

// Fills n bf16 values with a cheap hash in [-1, 1): never zeros (which run
// faster on tensor cores than real data).
__global__ void fill_random(__nv_bfloat16* x, size_t n, unsigned seed) {
  for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
    unsigned h = (unsigned)i * 2654435761u ^ seed;
    h ^= h >> 13;
    h *= 0x5bd1e995u;
    h ^= h >> 15;
    x[i] = __float2bfloat16((h & 0xffff) / 32768.0f - 1.0f);
  }
}

template <class F>
bool median_ms(cudaStream_t s, int iters, int repeats, F&& enqueue, double* out) {
  cudaEvent_t a, b;
  CHECK_CUDA(cudaEventCreate(&a));
  CHECK_CUDA(cudaEventCreate(&b));
  for (int i = 0; i < 3; ++i) enqueue();  // warm-up: clocks, handles, first touch
  CHECK_CUDA(cudaStreamSynchronize(s));
  std::vector<double> ms;
  for (int r = 0; r < repeats; ++r) {
    CHECK_CUDA(cudaEventRecord(a, s));
    for (int i = 0; i < iters; ++i) enqueue();
    CHECK_CUDA(cudaEventRecord(b, s));
    CHECK_CUDA(cudaEventSynchronize(b));
    float t = 0;
    CHECK_CUDA(cudaEventElapsedTime(&t, a, b));
    ms.push_back(t / iters);
  }
  CHECK_CUDA(cudaGetLastError());
  std::sort(ms.begin(), ms.end());
  *out = ms[ms.size() / 2];
  cudaEventDestroy(a);
  cudaEventDestroy(b);
  return true;
}

bool copy_bandwidth(cudaStream_t s, size_t mib, int iters, int repeats, double* gbs) {
  const size_t bytes = mib << 20;
  void *src = nullptr, *dst = nullptr;
  CHECK_CUDA(cudaMalloc(&src, bytes));
  CHECK_CUDA(cudaMalloc(&dst, bytes));
  CHECK_CUDA(cudaMemset(src, 1, bytes));
  double ms = 0;
  const bool ok = median_ms(s, iters, repeats, [&] { cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, s); }, &ms);
  cudaFree(src);
  cudaFree(dst);
  if (!ok) return false;
  *gbs = 2.0 * bytes / (ms * 1e-3) / 1e9;  // read + write
  return true;
}

bool gemm_rate(cudaStream_t s, int n, int iters, int repeats, double* tflops) {
  const size_t elems = (size_t)n * n;
  __nv_bfloat16 *a = nullptr, *b = nullptr, *c = nullptr;
  CHECK_CUDA(cudaMalloc(&a, elems * 2));
  CHECK_CUDA(cudaMalloc(&b, elems * 2));
  CHECK_CUDA(cudaMalloc(&c, elems * 2));
  fill_random<<<1024, 256, 0, s>>>(a, elems, 1u);
  fill_random<<<1024, 256, 0, s>>>(b, elems, 2u);
  cublasHandle_t h;
  if (cublasCreate(&h) != CUBLAS_STATUS_SUCCESS) return std::fprintf(stderr, "mla-ceilings: cublasCreate failed\n"), false;
  cublasSetStream(h, s);
  const float one = 1.0f, zero = 0.0f;
  bool gemm_ok = true;
  double ms = 0;
  const bool ok = median_ms(s, iters, repeats, [&] {
    gemm_ok &= cublasGemmEx(h, CUBLAS_OP_N, CUBLAS_OP_N, n, n, n, &one, a, CUDA_R_16BF, n, b, CUDA_R_16BF, n, &zero, c,
                            CUDA_R_16BF, n, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT) == CUBLAS_STATUS_SUCCESS;
  }, &ms);
  cublasDestroy(h);
  cudaFree(a);
  cudaFree(b);
  cudaFree(c);
  if (!ok || !gemm_ok) return std::fprintf(stderr, "mla-ceilings: cublasGemmEx failed\n"), false;
  *tflops = 2.0 * n * (double)n * n / (ms * 1e-3) / 1e12;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  size_t copy_mib = 2048;
  int gemm_n = 8192, iters = 20, repeats = 7;
  CLI::App app{"mla-ceilings: the copy bandwidth (read + write) and the bf16 GEMM rate of CUDA device 0, as "
               "copy_gbs=<x> / gemm_tflops=<y> lines for mla-bench --ceilings.  Exit status: 0 measured, 1 a CUDA "
               "or cuBLAS call failed, 2 a bad option, 77 no CUDA device."};
  app.add_option("--copy-mib", copy_mib, "MiB per copy buffer")->check(CLI::Range(1, 1 << 20))->capture_default_str();
  app.add_option("--gemm", gemm_n, "GEMM size N (N x N x N)")->check(CLI::Range(16, 65536))->capture_default_str();
  app.add_option("--iters", iters, "operations per timed repeat")->check(CLI::Range(1, 100000))->capture_default_str();
  app.add_option("--repeats", repeats, "timed repeats; the median is reported")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  mla_tools::add_version_flag(app, "mla-ceilings");
  const int parsed = mla_tools::parse_command_line(app, "mla-ceilings", argc, argv);
  if (parsed >= 0) return parsed;
  int count = 0;
  const cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess || count == 0) {  // stderr: stdout stays a valid ceilings file
    std::fprintf(stderr, "mla-ceilings: SKIPPED: no CUDA device (%s)\n",
                 e != cudaSuccess ? cudaGetErrorString(e) : "0 devices");
    return 77;
  }
  cudaDeviceProp prop;
  cudaGetDeviceProperties(&prop, 0);
  cudaStream_t s;
  cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking);
  double gbs = 0, tflops = 0;
  if (!copy_bandwidth(s, copy_mib, iters, repeats, &gbs)) return 1;
  if (!gemm_rate(s, gemm_n, iters, repeats, &tflops)) return 1;
  double read_gbs = 0;
  std::string read_how;
  if (!mla_ceilings::read_bandwidth(s, 2 * copy_mib, iters, repeats, &read_gbs, read_how)) return 1;
  std::printf("# %s, copy %zu MiB x2 buffers, GEMM %d^3 bf16 (f32 accumulate), median of %d x %d\n", prop.name,
              copy_mib, gemm_n, repeats, iters);
  std::printf("copy_gbs=%.1f\n", gbs);
  std::printf("gemm_tflops=%.1f\n", tflops);
  std::printf("# read-only stream over %zu MiB: %s\n", 2 * copy_mib, read_how.c_str());
  std::printf("read_gbs=%.1f\n", read_gbs);
  cudaStreamDestroy(s);
  return 0;
}
