// SPDX-License-Identifier: MIT
// The CUDA or HIP runtime, opened with dlopen when a plugin's caps ask for
// device memory, so that no tool links libcudart or libamdhip64.
//
// The calls the tools use have the same shapes in both runtimes (handles are
// pointers, the error is an int-sized enum with 0 = success, and the few
// enumerators passed below have the same values), so one table of function
// pointers, filled by dlsym with the prefix "cuda" or "hip", serves both.
// tests/device_runtime_test.cpp checks the enumerator values against each
// vendor's header where that header is installed.
#pragma once
#include <mla/mla_plugin.h>

#include <cstddef>
#include <string>

namespace mla_tools {

// The enumerator values shared by cudaMemcpyKind / hipMemcpyKind,
// cudaStreamNonBlocking / hipStreamNonBlocking and
// cudaStreamCaptureMode / hipStreamCaptureMode.
enum : int {
  kMemcpyHostToDevice = 1,
  kMemcpyDeviceToHost = 2,
  kMemcpyDeviceToDevice = 3,
  kStreamNonBlocking = 1,
  kStreamCaptureModeThreadLocal = 1,
};

// X(name, return type, parameters): the entry points, without their prefix.
#define MLA_DEVICE_RUNTIME_ENTRIES(X)                                   \
  X(GetDeviceCount, int, (int* count))                                  \
  X(SetDevice, int, (int device))                                       \
  X(Malloc, int, (void** ptr, size_t bytes))                            \
  X(Free, int, (void* ptr))                                             \
  X(MemcpyAsync, int, (void* dst, const void* src, size_t bytes, int kind, void* stream)) \
  X(MemsetAsync, int, (void* dst, int value, size_t bytes, void* stream)) \
  X(StreamCreateWithFlags, int, (void** stream, unsigned flags))        \
  X(StreamSynchronize, int, (void* stream))                             \
  X(StreamDestroy, int, (void* stream))                                 \
  X(EventCreate, int, (void** event))                                   \
  X(EventRecord, int, (void* event, void* stream))                      \
  X(EventSynchronize, int, (void* event))                               \
  X(EventElapsedTime, int, (float* ms, void* start, void* stop))        \
  X(EventDestroy, int, (void* event))                                   \
  X(MemGetInfo, int, (size_t* free_bytes, size_t* total_bytes))        \
  X(GetLastError, int, ())                                              \
  X(GetErrorString, const char*, (int error))                           \
  X(StreamBeginCapture, int, (void* stream, int mode))                  \
  X(StreamEndCapture, int, (void* stream, void** graph))                \
  X(GraphInstantiateWithFlags, int, (void** exec, void* graph, unsigned long long flags)) \
  X(GraphLaunch, int, (void* exec, void* stream))                       \
  X(GraphExecDestroy, int, (void* exec))                                \
  X(GraphDestroy, int, (void* graph))

struct device_runtime {
#define MLA_DEVICE_RUNTIME_FIELD(name, ret, params) ret(*name) params = nullptr;
  MLA_DEVICE_RUNTIME_ENTRIES(MLA_DEVICE_RUNTIME_FIELD)
#undef MLA_DEVICE_RUNTIME_FIELD
  mla_device_api api = MLA_DEVICE_API_NONE;
  std::string prefix;  // "cuda" or "hip"
  std::string path;    // the library it came from, as dlopen found it

  // Throws std::runtime_error("<prefix><what>: <runtime's message>") unless
  // e == 0, e.g. "cudaMalloc of 64 bytes: out of memory".
  void check(int e, const char* what) const;
};

// The library names tried for `api`, in order: for CUDA $MLA_CUDART, then
// libcudart.so.<major> for the major this build saw and the other majors
// newest first, then libcudart.so; each by the dynamic linker's search and
// in $CUDA_HOME/lib64, $CUDA_PATH/lib64, /usr/local/cuda/lib64.  For HIP
// $MLA_AMDHIP64, then libamdhip64.so.5, libamdhip64.so, libamdhip64.so.6;
// by the linker's search and in $ROCM_PATH/lib, /opt/rocm/lib.
std::string device_runtime_search_list(mla_device_api api);

// The runtime for `api`, opened once per process and never closed (a
// runtime already loaded by a plugin is reused).  nullptr with `error`
// saying what was tried when it cannot be opened or lacks an entry point.
const device_runtime* open_device_runtime(mla_device_api api, std::string& error);

}  // namespace mla_tools
