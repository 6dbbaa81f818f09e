#include "onednn_gemm.hpp"

#include <oneapi/dnnl/dnnl.h>
#include <omp.h>

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
