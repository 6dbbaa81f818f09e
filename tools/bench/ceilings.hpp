// SPDX-License-Identifier: MIT
// The ceilings each result is compared with (docs/design.md section 6):
// copy bandwidth counting read + write, the read-only stream (the ceiling of
// memory-bound decode, which reads the cache and writes little), and the
// bf16 GEMM rate.  Read from a file of `copy_gbs=<x>` / `read_gbs=<z>` /
// `gemm_tflops=<y>` lines (what mla-ceilings prints), or the copy bandwidth
// measured in the same run.
#pragma once
#include <string>

#include "backend_memory.hpp"

namespace mla_bench {

struct ceilings {
  double copy_gbs = 0;     // 0 = unknown
  double gemm_tflops = 0;  // 0 = unknown
  double read_gbs = 0;     // read-only stream (mla-ceilings); 0 = unknown
  std::string copy_source, gemm_source;  // "file <path>", "measured: ..."
};

// Parses `key=value` lines; '#' starts a comment; unknown keys are ignored.
// Returns false with `error` naming the line for a malformed value.
bool parse_ceilings(const std::string& text, ceilings& out, std::string& error);
bool read_ceilings_file(const std::string& path, ceilings& out, std::string& error);

// Host memory: `threads` threads each copying its slice of two `bytes`
// buffers, median of repeats, GB/s counting read + write.
double measure_host_copy_gbs(size_t bytes, int threads, int repeats);
// Backend memory: backend_memory::copy between two buffers, timed on its stream.
double measure_backend_copy_gbs(mla_tools::backend_memory& mem, size_t bytes, int repeats);

}  // namespace mla_bench
