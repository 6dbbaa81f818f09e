// SPDX-License-Identifier: MIT
// What the cpu plugin tells about the machine: model name and threads.
#pragma once
#include <string>

namespace mla_cpu {

// "model name" of /proc/cpuinfo, or "unknown CPU".
std::string cpu_model_name();

// Threads of a context with num_threads 0: OMP_NUM_THREADS (its first
// number, as OpenMP reads it), else the cores this process may run on.
int default_threads();

}  // namespace mla_cpu
