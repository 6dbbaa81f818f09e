// SPDX-License-Identifier: MIT
// The one portability header between the CUDA and HIP builds of backends/gpu
// (ggml-style).  Shared sources are written with CUDA runtime names; under
// HIP (MLA_GPU_HIP, or hipcc's __HIP_PLATFORM_AMD__) they map to hip*.
// Device code uses MLA_WARP_SIZE and mla_shfl_xor instead of 32 / __shfl_*.
#pragma once

#if defined(MLA_GPU_HIP) || defined(__HIP_PLATFORM_AMD__)
#ifndef MLA_GPU_HIP
#define MLA_GPU_HIP 1
#endif
#include <hip/hip_fp16.h>
#include <hip/hip_runtime.h>

#define MLA_GPU_VENDOR "HIP"
#define MLA_GPU_BACKEND_NAME "hip"

#define cudaError_t hipError_t
#define cudaSuccess hipSuccess
#define cudaErrorNoDevice hipErrorNoDevice
#define cudaStream_t hipStream_t
#define cudaEvent_t hipEvent_t
#define cudaDeviceProp hipDeviceProp_t
#define cudaGetDeviceCount hipGetDeviceCount
#define cudaGetDeviceProperties hipGetDeviceProperties
#define cudaGetDevice hipGetDevice
#define cudaSetDevice hipSetDevice
#define cudaGetLastError hipGetLastError
#define cudaPeekAtLastError hipPeekAtLastError
#define cudaGetErrorString hipGetErrorString
#define cudaGetErrorName hipGetErrorName
#define cudaMemsetAsync hipMemsetAsync
#define cudaFuncSetAttribute hipFuncSetAttribute
#define cudaFuncAttributeMaxDynamicSharedMemorySize hipFuncAttributeMaxDynamicSharedMemorySize
#define cudaDeviceGetAttribute hipDeviceGetAttribute
#define cudaDevAttrMultiProcessorCount hipDeviceAttributeMultiprocessorCount
#define cudaDevAttrMaxSharedMemoryPerBlockOptin hipDeviceAttributeSharedMemPerBlockOptin

#else  // CUDA
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#define MLA_GPU_VENDOR "CUDA"
#define MLA_GPU_BACKEND_NAME "cuda"
#endif

// Warp (wavefront) size as a compile-time constant of the device pass:
// 32 on NVIDIA, 64 on CDNA (gfx90a, gfx940), 32 on RDNA (gfx1030).  Host
// code must not rely on it; launchers use block sizes that are multiples of 64.
#if defined(MLA_GPU_HIP) && defined(__AMDGCN_WAVEFRONT_SIZE)
#define MLA_WARP_SIZE __AMDGCN_WAVEFRONT_SIZE
#elif defined(MLA_GPU_HIP) && defined(__HIP_DEVICE_COMPILE__)
#define MLA_WARP_SIZE 64
#else
#define MLA_WARP_SIZE 32
#endif

#if defined(__CUDACC__) || defined(__HIPCC__) || defined(__HIP__)
// Butterfly exchange within a warp: every lane takes part.
template <class T>
__device__ __forceinline__ T mla_shfl_xor(T value, int lane_mask) {
#if defined(MLA_GPU_HIP)
  return __shfl_xor(value, lane_mask);
#else
  return __shfl_xor_sync(0xffffffffu, value, lane_mask);
#endif
}

// The kernel's by-value argument `arg`, which must be its FIRST parameter,
// read afresh at each use.  Given the argument itself, AMD's compiler loads
// every field it can hoist into SGPRs once and keeps them live for the whole
// kernel, which spills; a kernarg-segment pointer it cannot prove unchanged
// (the empty asm) keeps each scalar load where it is written.  CUDA reads
// parameters from its constant bank anyway.
template <class T>
__device__ __forceinline__ const T& mla_reread_kernel_arg(const T& arg) {
#if defined(MLA_GPU_HIP)
  (void)arg;
  typedef const __attribute__((address_space(4))) T* kernarg_ptr;
  kernarg_ptr at = (kernarg_ptr)__builtin_amdgcn_kernarg_segment_ptr();
  asm volatile("" : "+s"(at));
  return *(const T*)at;
#else
  return arg;
#endif
}

// `v` unchanged, but opaque to the optimizer: what is computed from it is
// not hoisted out of the loop that calls this (per-lane bound checks hoisted
// out of a long loop each hold a register for the whole loop).
__device__ __forceinline__ int mla_opaque(int v) {
#if defined(MLA_GPU_HIP)
  asm volatile("" : "+v"(v));
#else
  asm volatile("" : "+r"(v));
#endif
  return v;
}
#endif
