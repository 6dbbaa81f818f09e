// SPDX-License-Identifier: MIT
#include "cpu_info.hpp"

#include <mla/mla_plugin.h>

#include <sched.h>

#include <cerrno>
#include <cstdlib>
#include <cstdio>
#include <cstring>

namespace mla_cpu {

std::string cpu_model_name() {
  std::string name = "unknown CPU";
  FILE* f = std::fopen("/proc/cpuinfo", "r");
  if (!f) return name;
  char line[512];
  while (std::fgets(line, sizeof line, f)) {
    if (std::strncmp(line, "model name", 10) != 0) continue;
    const char* colon = std::strchr(line, ':');
    if (!colon) continue;
    std::string v = colon + 1;
    const size_t b = v.find_first_not_of(" \t"), e = v.find_last_not_of(" \t\r\n");
    if (b != std::string::npos) name = v.substr(b, e - b + 1);
    break;
  }
  std::fclose(f);
  return name;
}

int default_threads() {
  // OMP_NUM_THREADS as OpenMP reads it: the first number of the list.
  if (const char* env = std::getenv("OMP_NUM_THREADS")) {
    char* end = nullptr;
    errno = 0;
    const long n = std::strtol(env, &end, 10);
    if (end != env && errno == 0 && n >= 1) return n < MLA_MAX_THREADS ? (int)n : MLA_MAX_THREADS;
  }
  // The cores this process may run on (taskset, cgroup cpusets), as OpenMP counts them.
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    const int n = CPU_COUNT(&set);
    if (n >= 1) return n < MLA_MAX_THREADS ? n : MLA_MAX_THREADS;
  }
  return 1;
}

}  // namespace mla_cpu
