// SPDX-License-Identifier: MIT
// The cpu plugin's one matrix product: oneDNN's dnnl_sgemm, always on the
// calling thread (the plugin's threads are its parallelism; a GEMM that
// started its own team inside every task would oversubscribe the cores and
// make results depend on the team size).
//
// Why oneDNN (Debian libdnnl-dev 2.6): measured single-threaded on the 2-core
// Xeon (AVX-512, AMX) CI machine on op B's shapes (M x N x K = 256x256x512,
// 128x256x192, 128x128x256, 64x256x512): oneDNN 137-166 GFLOP/s (its JIT
// picks AVX-512), OpenBLAS 0.3.21 74-101 (SkylakeX kernels), BLIS 0.9.0
// 73-102 (Debian's build has no AVX-512 config: "haswell").  OpenBLAS's
// thread count is process-global (openblas_set_num_threads would change the
// host's own BLAS), BLIS aborts the process on a bad BLIS_ARCH_TYPE.
// oneDNN's C API returns a status instead of calling xerbla or abort.
#pragma once
#include <cstdint>

namespace mla_cpu {

// C[M,N] = alpha * op(A)[M,K] * op(B)[K,N] + beta * C, row-major, f32;
// trans_a / trans_b: 'N' or 'T'; ld* in elements (>= the row length).
// Runs single-threaded on the caller.  false if oneDNN refused the call.
bool sgemm(char trans_a, char trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
           const float* B, int64_t ldb, float beta, float* C, int64_t ldc);

}  // namespace mla_cpu
