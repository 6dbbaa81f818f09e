// SPDX-License-Identifier: MIT
// device_runtime.hpp's shared enumerators against the HIP runtime header (ROCm).
#include <hip/hip_runtime_api.h>

#include <type_traits>

#include "device_runtime.hpp"

static_assert(mla_tools::kMemcpyHostToDevice == (int)hipMemcpyHostToDevice, "hipMemcpyHostToDevice");
static_assert(mla_tools::kMemcpyDeviceToHost == (int)hipMemcpyDeviceToHost, "hipMemcpyDeviceToHost");
static_assert(mla_tools::kMemcpyDeviceToDevice == (int)hipMemcpyDeviceToDevice, "hipMemcpyDeviceToDevice");
static_assert(mla_tools::kStreamNonBlocking == hipStreamNonBlocking, "hipStreamNonBlocking");
static_assert(mla_tools::kStreamCaptureModeThreadLocal == (int)hipStreamCaptureModeThreadLocal,
              "hipStreamCaptureModeThreadLocal");
static_assert(hipSuccess == 0 && sizeof(hipError_t) == sizeof(int), "hipError_t is an int, 0 = success");
// Every entry of the table has the runtime's own shape (handles as void*).
static_assert(sizeof(hipStream_t) == sizeof(void*) && sizeof(hipEvent_t) == sizeof(void*) &&
              sizeof(hipGraph_t) == sizeof(void*) && sizeof(hipGraphExec_t) == sizeof(void*), "handles");
template <class F, class G>
constexpr bool same = std::is_same<F, G>::value;
static_assert(same<decltype(&hipGraphInstantiateWithFlags), hipError_t (*)(hipGraphExec_t*, hipGraph_t, unsigned long long)>,
              "hipGraphInstantiateWithFlags");
static_assert(same<decltype(&hipStreamBeginCapture), hipError_t (*)(hipStream_t, hipStreamCaptureMode)>,
              "hipStreamBeginCapture");
static_assert(same<decltype(&hipMemcpyAsync), hipError_t (*)(void*, const void*, size_t, hipMemcpyKind, hipStream_t)>,
              "hipMemcpyAsync");
static_assert(same<decltype(&hipEventElapsedTime), hipError_t (*)(float*, hipEvent_t, hipEvent_t)>,
              "hipEventElapsedTime");
static_assert(same<decltype(&hipMemGetInfo), hipError_t (*)(size_t*, size_t*)>, "hipMemGetInfo");
const char* device_runtime_hip_header_checked() { return "hip"; }
