// SPDX-License-Identifier: MIT
// Static names for status codes and element types, for messages and tools,
// and the loader's own version.
#include <mla/mla.h>

extern "C" {

const char* mla_status_name(mla_status status) {
  switch (status) {
    case MLA_OK: return "MLA_OK";
    case MLA_ERR_INVALID_ARGUMENT: return "MLA_ERR_INVALID_ARGUMENT";
    case MLA_ERR_UNSUPPORTED: return "MLA_ERR_UNSUPPORTED";
    case MLA_ERR_VERSION: return "MLA_ERR_VERSION";
    case MLA_ERR_NO_DEVICE: return "MLA_ERR_NO_DEVICE";
    case MLA_ERR_DEVICE: return "MLA_ERR_DEVICE";
    case MLA_ERR_WORKSPACE: return "MLA_ERR_WORKSPACE";
    case MLA_ERR_NOT_PLANNED: return "MLA_ERR_NOT_PLANNED";
    case MLA_ERR_OUT_OF_MEMORY: return "MLA_ERR_OUT_OF_MEMORY";
    case MLA_ERR_INTERNAL: return "MLA_ERR_INTERNAL";
  }
  return "MLA_ERR_UNKNOWN_STATUS";
}

const char* mla_dtype_name(mla_dtype dtype) {
  switch (dtype) {
    case MLA_DTYPE_INVALID: return "invalid";
    case MLA_DTYPE_F32: return "f32";
    case MLA_DTYPE_F16: return "f16";
    case MLA_DTYPE_BF16: return "bf16";
    case MLA_DTYPE_Q8_0: return "q8_0";
    case MLA_DTYPE_FP8_E4M3: return "fp8_e4m3";
  }
  return "unknown";
}

void mla_loader_version(uint32_t* abi_major, uint32_t* abi_minor, const char** package_version) {
  if (abi_major) *abi_major = MLA_ABI_MAJOR;
  if (abi_minor) *abi_minor = MLA_ABI_MINOR;
  if (package_version) *package_version = MLA_PACKAGE_VERSION;
}

}  // extern "C"
