// What the cpu plugin tells about the machine: model name and threads.
#pragma once
#include <string>

namespace mla_cpu {

// "model name" of /proc/cpuinfo, or "unknown CPU".
std::string cpu_model_name();

// OpenMP's default team size (OMP_NUM_THREADS or the core count).
int default_threads();

}  // namespace mla_cpu
