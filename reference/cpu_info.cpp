#include "cpu_info.hpp"

#include <omp.h>

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

int default_threads() { return omp_get_max_threads(); }

}  // namespace mla_cpu
