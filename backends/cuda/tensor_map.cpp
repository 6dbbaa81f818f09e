// SPDX-License-Identifier: MIT
#include "tensor_map.hpp"

#include <cuda_runtime.h>

namespace mla_cuda {

tensor_map_encode_fn tensor_map_encoder() {
  static const tensor_map_encode_fn fn = [] {
    void* f = nullptr;
    cudaDriverEntryPointQueryResult q;
    if (cudaGetDriverEntryPointByVersion("cuTensorMapEncodeTiled", &f, 12000, cudaEnableDefault, &q) !=
            cudaSuccess ||
        q != cudaDriverEntryPointSuccess)
      return static_cast<tensor_map_encode_fn>(nullptr);
    return reinterpret_cast<tensor_map_encode_fn>(f);
  }();
  return fn;
}

}  // namespace mla_cuda
