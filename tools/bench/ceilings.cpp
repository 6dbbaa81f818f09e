// SPDX-License-Identifier: MIT
#include "ceilings.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

namespace mla_bench {

bool parse_ceilings(const std::string& text, ceilings& out, std::string& error) {
  std::istringstream in(text);
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    line = line.substr(0, line.find('#'));
    const size_t eq = line.find('=');
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    if (eq == std::string::npos) {
      error = "line " + std::to_string(n) + ": expected key=value, got '" + line + "'";
      return false;
    }
    auto trim = [](std::string s) {
      s.erase(0, s.find_first_not_of(" \t\r"));
      s.erase(s.find_last_not_of(" \t\r") + 1);
      return s;
    };
    const std::string key = trim(line.substr(0, eq)), value = trim(line.substr(eq + 1));
    double* slot = key == "copy_gbs"      ? &out.copy_gbs
                   : key == "gemm_tflops" ? &out.gemm_tflops
                   : key == "read_gbs"    ? &out.read_gbs
                                          : nullptr;
    if (!slot) continue;
    char* end = nullptr;
    const double v = std::strtod(value.c_str(), &end);
    if (value.empty() || *end || !(v > 0)) {
      error = "line " + std::to_string(n) + ": " + key + " = '" + value + "' is not a positive number";
      return false;
    }
    *slot = v;
  }
  return true;
}

bool read_ceilings_file(const std::string& path, ceilings& out, std::string& error) {
  std::ifstream f(path);
  if (!f) {
    error = "cannot read " + path;
    return false;
  }
  std::stringstream ss;
  ss << f.rdbuf();
  if (!parse_ceilings(ss.str(), out, error)) {
    error = path + ": " + error;
    return false;
  }
  if (out.copy_gbs > 0) out.copy_source = "file " + path;
  if (out.gemm_tflops > 0) out.gemm_source = "file " + path;
  return true;
}

double measure_host_copy_gbs(size_t bytes, int threads, int repeats) {
  threads = std::max(1, threads);
  std::vector<char> src(bytes), dst(bytes);
  const size_t slice = (bytes / threads + 63) / 64 * 64;
  auto copy_all = [&] {
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
      pool.emplace_back([&, t] {
        const size_t lo = std::min(bytes, t * slice), hi = std::min(bytes, lo + slice);
        std::memcpy(dst.data() + lo, src.data() + lo, hi - lo);
      });
    for (auto& th : pool) th.join();
  };
  std::memset(src.data(), 1, bytes);
  copy_all();  // first touch of dst
  std::vector<double> gbs;
  for (int r = 0; r < std::max(1, repeats); ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    copy_all();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    gbs.push_back(2.0 * bytes / s * 1e-9);
  }
  std::sort(gbs.begin(), gbs.end());
  return gbs[gbs.size() / 2];
}

double measure_backend_copy_gbs(mla_tools::backend_memory& mem, size_t bytes, int repeats) {
  mla_tools::device_buffer a(mem, bytes), b(mem, bytes);
  const double ms = mem.time_ms([&] { mem.copy(b.get(), a.get(), bytes); }, 10, std::max(1, repeats));
  return 2.0 * bytes / (ms * 1e-3) * 1e-9;
}

}  // namespace mla_bench
