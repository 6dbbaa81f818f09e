// SPDX-License-Identifier: MIT
// Picks the build of the op A kernel this CPU can run.  Compiled with the
// baseline flags: it must itself run anywhere.
#include "absorbed_kernel.hpp"

#include <cstdlib>
#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace mla_cpu {
namespace {

bool cpu_has_avx2() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  // F16C from CPUID leaf 1 (ECX bit 29): clang before 16 has no "f16c" for
  // __builtin_cpu_supports, and the fuzz and TSan builds use clang 15.
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  const bool f16c = __get_cpuid(1, &eax, &ebx, &ecx, &edx) && (ecx & (1u << 29)) != 0;
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && f16c;
#else
  return false;
#endif
}

}  // namespace

const char* available_kernels() { return cpu_has_avx2() ? "avx2,baseline" : "baseline"; }

bool select_absorbed_kernel(const char* name, absorbed_kernel* out) {
  if (name == nullptr) {
    // MLA_CPU_ISA=baseline: the portable build without asking through the ABI.
    const char* force = std::getenv("MLA_CPU_ISA");
    name = cpu_has_avx2() && !(force && std::strcmp(force, "baseline") == 0) ? "avx2" : "baseline";
  }
  if (std::strcmp(name, "baseline") == 0) {
    *out = {isa_baseline::run_work_item, "baseline"};
    return true;
  }
  if (std::strcmp(name, "avx2") == 0 && cpu_has_avx2()) {
    *out = {isa_avx2::run_work_item, "avx2"};
    return true;
  }
  return false;
}

}  // namespace mla_cpu
