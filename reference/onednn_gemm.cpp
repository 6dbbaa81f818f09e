// SPDX-License-Identifier: MIT
#include "onednn_gemm.hpp"

#include <oneapi/dnnl/dnnl.h>

// Debian's oneDNN runs on gcc's OpenMP runtime (libgomp), whichever compiler
// builds the plugin: these two OpenMP API calls must reach that runtime, so
// they are declared here and linked against libgomp itself (CMakeLists.txt),
// not taken from the compiler's omp.h (clang's would be LLVM's libomp).
extern "C" int omp_get_max_threads(void);
extern "C" void omp_set_num_threads(int);

namespace mla_cpu {

bool sgemm(char trans_a, char trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
           const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  if (M <= 0 || N <= 0) return true;
  // Debian's oneDNN runs on OpenMP and sizes its team by this thread's
  // nthreads ICV (per thread: other threads and the host are unaffected).
  const int saved = omp_get_max_threads();
  if (saved != 1) omp_set_num_threads(1);
  const dnnl_status_t st = dnnl_sgemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  if (saved != 1) omp_set_num_threads(saved);
  return st == dnnl_success;
}

}  // namespace mla_cpu
