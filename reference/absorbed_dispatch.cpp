// Picks the build of the op A kernel this CPU can run.  Compiled with the
// baseline flags: it must itself run anywhere.
#include "absorbed_kernel.hpp"

#include <cstdlib>
#include <cstring>

namespace mla_cpu {

absorbed_kernel select_absorbed_kernel() {
  const char* force = std::getenv("MLA_CPU_ISA");  // "baseline": for testing both builds on one machine
  const bool forced_baseline = force != nullptr && std::strcmp(force, "baseline") == 0;
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  if (!forced_baseline && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
      __builtin_cpu_supports("f16c"))
    return {isa_avx2::run_work_item, "avx2+fma"};
#endif
  (void)forced_baseline;
  return {isa_baseline::run_work_item, "baseline"};
}

}  // namespace mla_cpu
