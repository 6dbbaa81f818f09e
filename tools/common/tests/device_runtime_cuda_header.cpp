// SPDX-License-Identifier: MIT
// device_runtime.hpp's shared enumerators against the CUDA runtime header.
#include <cuda_runtime_api.h>

#include <type_traits>

#include "device_runtime.hpp"

static_assert(mla_tools::kMemcpyHostToDevice == (int)cudaMemcpyHostToDevice, "cudaMemcpyHostToDevice");
static_assert(mla_tools::kMemcpyDeviceToHost == (int)cudaMemcpyDeviceToHost, "cudaMemcpyDeviceToHost");
static_assert(mla_tools::kMemcpyDeviceToDevice == (int)cudaMemcpyDeviceToDevice, "cudaMemcpyDeviceToDevice");
static_assert(mla_tools::kStreamNonBlocking == cudaStreamNonBlocking, "cudaStreamNonBlocking");
static_assert(mla_tools::kStreamCaptureModeThreadLocal == (int)cudaStreamCaptureModeThreadLocal,
              "cudaStreamCaptureModeThreadLocal");
static_assert(cudaSuccess == 0 && sizeof(cudaError_t) == sizeof(int), "cudaError_t is an int, 0 = success");
// Every entry of the table has the runtime's own shape (handles as void*).
static_assert(sizeof(cudaStream_t) == sizeof(void*) && sizeof(cudaEvent_t) == sizeof(void*) &&
              sizeof(cudaGraph_t) == sizeof(void*) && sizeof(cudaGraphExec_t) == sizeof(void*), "handles");
template <class F, class G>
constexpr bool same = std::is_same<F, G>::value;
static_assert(same<decltype(&cudaGraphInstantiateWithFlags), cudaError_t (*)(cudaGraphExec_t*, cudaGraph_t, unsigned long long)>,
              "cudaGraphInstantiateWithFlags");
static_assert(same<decltype(&cudaStreamBeginCapture), cudaError_t (*)(cudaStream_t, cudaStreamCaptureMode)>,
              "cudaStreamBeginCapture");
static_assert(same<decltype(&cudaMemcpyAsync), cudaError_t (*)(void*, const void*, size_t, cudaMemcpyKind, cudaStream_t)>,
              "cudaMemcpyAsync");
static_assert(same<decltype(&cudaEventElapsedTime), cudaError_t (*)(float*, cudaEvent_t, cudaEvent_t)>,
              "cudaEventElapsedTime");
static_assert(same<decltype(&cudaMemGetInfo), cudaError_t (*)(size_t*, size_t*)>, "cudaMemGetInfo");
const char* device_runtime_cuda_header_checked() { return "cuda"; }
