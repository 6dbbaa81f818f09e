// SPDX-License-Identifier: MIT
// cuTensorMapEncodeTiled for the Hopper kernels' TMA copies, reached
// through the runtime's driver entry point (no link-time libcuda).
#pragma once
#include <cuda.h>

namespace mla_cuda {

using tensor_map_encode_fn = CUresult (*)(CUtensorMap*, CUtensorMapDataType, cuuint32_t, void*, const cuuint64_t*,
                                          const cuuint64_t*, const cuuint32_t*, const cuuint32_t*,
                                          CUtensorMapInterleave, CUtensorMapSwizzle, CUtensorMapL2promotion,
                                          CUtensorMapFloatOOBfill);

// The driver's encoder, or nullptr when the driver does not offer it.
tensor_map_encode_fn tensor_map_encoder();

}  // namespace mla_cuda
