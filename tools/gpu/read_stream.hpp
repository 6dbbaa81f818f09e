// SPDX-License-Identifier: MIT
// mla-ceilings' read-only stream ceiling (read_stream.cu).
#pragma once
#include <cuda_runtime.h>

#include <cstddef>
#include <string>

namespace mla_ceilings {

// Bytes read per second (read only, nothing written back) over a buffer of
// `mib` MiB, the faster of two readers; `how` says what each reached.
bool read_bandwidth(cudaStream_t s, size_t mib, int iters, int repeats, double* gbs, std::string& how);

}  // namespace mla_ceilings
