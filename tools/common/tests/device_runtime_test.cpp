// SPDX-License-Identifier: MIT
// Backend memory chosen from a plugin's caps, and the dlopen'ed device
// runtimes: a 1.0 caps struct is refused naming the plugin; an unknown
// runtime is refused; on a machine without the runtime or without a device
// the message says which; with a device, memory, copies and a captured graph
// work through the one table for CUDA and HIP.
#include <doctest/doctest.h>
#include <mla/mla_plugin.h>

#include <cstdio>
#include <cstring>
#include <vector>

#include "backend_memory.hpp"
#include "device_runtime.hpp"

#if defined(MLA_TEST_CUDA_HEADER)
const char* device_runtime_cuda_header_checked();
#endif
#if defined(MLA_TEST_HIP_HEADER)
const char* device_runtime_hip_header_checked();
#endif

using namespace mla_tools;

namespace {

mla_caps caps_of(int memory_kind, int device_api) {
  mla_caps c{};
  c.struct_size = sizeof c;
  c.memory_kind = memory_kind;
  c.device_api = device_api;
  return c;
}

}  // namespace

TEST_CASE("the shared enumerators were checked against the installed vendor headers") {
#if defined(MLA_TEST_CUDA_HEADER)
  CHECK(std::strcmp(device_runtime_cuda_header_checked(), "cuda") == 0);
#else
  MESSAGE("no CUDA toolkit here: cuda_runtime_api.h not checked");
#endif
#if defined(MLA_TEST_HIP_HEADER)
  CHECK(std::strcmp(device_runtime_hip_header_checked(), "hip") == 0);
#else
  MESSAGE("no HIP headers here: hip_runtime_api.h not checked");
#endif
}

TEST_CASE("a 1.0 plugin's caps are refused with a message naming the plugin") {
  std::string error;
  mla_caps c = caps_of(MLA_MEMORY_DEVICE, MLA_DEVICE_API_CUDA);
  c.struct_size = MLA_CAPS_SIZE_1_0;  // a 1.0 caller's struct: the 1.1 fields are not there
  CHECK(make_backend_memory(c, 0, error, "oldgpu") == nullptr);
  CHECK(error.find("plugin 'oldgpu'") != std::string::npos);
  CHECK(error.find("ABI 1.0") != std::string::npos);
  error.clear();
  CHECK(make_backend_memory(caps_of(MLA_MEMORY_UNKNOWN, MLA_DEVICE_API_NONE), 0, error, "x") == nullptr);
  CHECK(error.find("plugin 'x' does not say where its memory lives") != std::string::npos);
}

TEST_CASE("host memory for MLA_MEMORY_HOST, whatever the device API") {
  std::string error;
  auto mem = make_backend_memory(caps_of(MLA_MEMORY_HOST, MLA_DEVICE_API_NONE), 0, error, "cpu");
  REQUIRE(mem != nullptr);
  CHECK(mem->name() == "host");
  CHECK(mem->stream() == nullptr);
  CHECK(mem->capture([] {}) == nullptr);  // no graphs in host memory
  CHECK(mem->available_bytes() > (size_t(1) << 20));  // MemAvailable (capped by a cgroup limit)
  device_buffer a(*mem, 64), b(*mem, 64);
  std::vector<unsigned char> in(64), out(64, 0);
  for (int i = 0; i < 64; ++i) in[i] = (unsigned char)i;
  mem->upload(a.get(), in.data(), 64);
  mem->copy(b.get(), a.get(), 64);
  mem->download(out.data(), b.get(), 64);
  CHECK(in == out);
}

TEST_CASE("device memory needs a runtime this build knows") {
  std::string error;
  CHECK(make_backend_memory(caps_of(MLA_MEMORY_DEVICE, 7), 0, error, "odd") == nullptr);
  CHECK(error.find("plugin 'odd': caps.device_api = 7") != std::string::npos);
  error.clear();
  CHECK(make_backend_memory(caps_of(MLA_MEMORY_DEVICE, MLA_DEVICE_API_NONE), 0, error, "odd") == nullptr);
  CHECK(error.find("caps.device_api = 0") != std::string::npos);
  error.clear();
  CHECK(make_backend_memory(caps_of(9, MLA_DEVICE_API_CUDA), 0, error, "odd") == nullptr);
  CHECK(error.find("caps.memory_kind = 9") != std::string::npos);
}

TEST_CASE("the search list names every majors' libcudart and libamdhip64.so.5") {
  const std::string cuda = device_runtime_search_list(MLA_DEVICE_API_CUDA);
  const std::string hip = device_runtime_search_list(MLA_DEVICE_API_HIP);
  for (const char* n : {"libcudart.so.13", "libcudart.so.12", "libcudart.so", "/usr/local/cuda/lib64/libcudart.so.12"})
    CHECK(cuda.find(n) != std::string::npos);
  CHECK(hip.rfind("libamdhip64.so.5", 0) == 0);
}

// On this machine: either the runtime or a device is missing and the message
// says which, or there is a device and the memory works, graphs included.
TEST_CASE("CUDA and HIP device memory through the one table") {
  for (int api : {MLA_DEVICE_API_CUDA, MLA_DEVICE_API_HIP}) {
    const std::string vendor = api == MLA_DEVICE_API_CUDA ? "CUDA" : "HIP";
    CAPTURE(vendor);
    std::string error;
    auto mem = make_backend_memory(caps_of(MLA_MEMORY_DEVICE, api), 0, error, "gpu");
    if (!mem) {
      MESSAGE(vendor << " memory not available here: " << error);
      const bool says_why = error.find("cannot open the " + vendor + " runtime") != std::string::npos ||
                            error.find("no " + vendor + " device") != std::string::npos;
      CHECK(says_why);
      CHECK(error.rfind("plugin 'gpu': ", 0) == 0);
      continue;
    }
    const size_t n = 1 << 20;
    device_buffer a(*mem, n), b(*mem, n);
    std::vector<unsigned char> in(n), out(n, 0);
    for (size_t i = 0; i < n; ++i) in[i] = (unsigned char)(i * 7);
    mem->upload(a.get(), in.data(), n);
    mem->upload(b.get(), out.data(), n);
    auto graph = mem->capture([&] { mem->copy(b.get(), a.get(), n); });
    REQUIRE(graph != nullptr);
    mem->download(out.data(), b.get(), n);
    CHECK(out != in);  // capturing enqueues nothing
    graph->replay();
    mem->synchronize();
    mem->download(out.data(), b.get(), n);
    CHECK(out == in);
    CHECK(mem->time_ms([&] { graph->replay(); }, 2, 3) > 0);
    CHECK(mem->available_bytes() > n);
    std::string bad;
    CHECK(make_backend_memory(caps_of(MLA_MEMORY_DEVICE, api), 1 << 20, bad, "gpu") == nullptr);
    CHECK(bad.find("does not exist") != std::string::npos);
  }
}
