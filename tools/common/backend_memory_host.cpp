// SPDX-License-Identifier: MIT
// Host-memory implementation (the cpu plugin) and the factory.
#include "backend_memory.hpp"

#include <mla/mla_plugin.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <new>
#include <stdexcept>
#include <vector>

namespace mla_tools {

std::unique_ptr<backend_memory> make_device_memory(mla_device_api api, int device, std::string& error);

void backend_memory::copy(void*, const void*, size_t) {
  throw std::runtime_error("backend_memory::copy is not implemented for " + name());
}

std::unique_ptr<captured_work> backend_memory::capture(const std::function<void()>&) { return nullptr; }

namespace {

// A number from the first line of `path` ("max" and unreadable files: 0).
uint64_t read_number(const char* path) {
  std::ifstream f(path);
  uint64_t v = 0;
  return f >> v ? v : 0;
}

}  // namespace

size_t host_available_bytes() {
  uint64_t available = 0;
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  uint64_t kib = 0;
  while (meminfo >> key >> kib) {
    if (key == "MemAvailable:") {
      available = kib * 1024;
      break;
    }
    meminfo.ignore(256, '\n');
  }
  // A container's limit (cgroup v2, else v1) less what the group already uses.
  uint64_t limit = read_number("/sys/fs/cgroup/memory.max"), used = read_number("/sys/fs/cgroup/memory.current");
  if (limit == 0) {
    limit = read_number("/sys/fs/cgroup/memory/memory.limit_in_bytes");
    used = read_number("/sys/fs/cgroup/memory/memory.usage_in_bytes");
  }
  if (limit > 0 && limit < (uint64_t(1) << 60)) {
    const uint64_t room = limit > used ? limit - used : 0;
    if (available == 0 || room < available) available = room;
  }
  return (size_t)available;
}

namespace {

class host_memory final : public backend_memory {
 public:
  void* alloc(size_t bytes) override {
    void* p = std::aligned_alloc(256, (bytes + 255) / 256 * 256);
    if (!p) throw std::bad_alloc();
    return p;
  }
  void release(void* p) override { std::free(p); }
  void upload(void* dst, const void* src, size_t n) override { std::memcpy(dst, src, n); }
  void download(void* dst, const void* src, size_t n) override { std::memcpy(dst, src, n); }
  void copy(void* dst, const void* src, size_t n) override { std::memcpy(dst, src, n); }
  void* stream() override { return nullptr; }
  void synchronize() override {}
  double time_ms(const std::function<void()>& enqueue, int iters, int repeats) override {
    std::vector<double> ms;
    for (int r = 0; r < repeats; ++r) {
      auto t0 = std::chrono::steady_clock::now();
      for (int i = 0; i < iters; ++i) enqueue();
      auto t1 = std::chrono::steady_clock::now();
      ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count() / iters);
    }
    std::sort(ms.begin(), ms.end());
    return ms[ms.size() / 2];
  }
  std::string name() const override { return "host"; }
  size_t available_bytes() override { return host_available_bytes(); }
};

}  // namespace

std::unique_ptr<backend_memory> make_host_memory() { return std::make_unique<host_memory>(); }

std::unique_ptr<backend_memory> make_backend_memory(const mla_caps& caps, int device, std::string& error,
                                                    const std::string& plugin) {
  const std::string who = plugin.empty() ? "the plugin" : "plugin '" + plugin + "'";
  if (caps.struct_size < MLA_CAPS_SIZE_1_1 || caps.memory_kind == MLA_MEMORY_UNKNOWN) {
    error = who + " does not say where its memory lives (an ABI 1.0 plugin: caps.memory_kind is ABI 1.1); "
            "rebuild it against mla_plugin.h 1.1";
    return nullptr;
  }
  if (caps.memory_kind == MLA_MEMORY_HOST) return make_host_memory();
  if (caps.memory_kind != MLA_MEMORY_DEVICE && caps.memory_kind != MLA_MEMORY_MANAGED) {
    error = who + ": caps.memory_kind = " + std::to_string(caps.memory_kind) + " is not a memory kind this tool knows";
    return nullptr;
  }
  if (caps.device_api != MLA_DEVICE_API_CUDA && caps.device_api != MLA_DEVICE_API_HIP) {
    error = who + ": caps.device_api = " + std::to_string(caps.device_api) +
            " names no device runtime this tool knows (1 CUDA, 2 HIP) for its device memory";
    return nullptr;
  }
  std::unique_ptr<backend_memory> mem = make_device_memory((mla_device_api)caps.device_api, device, error);
  if (!mem) error = who + ": " + error;
  return mem;
}

}  // namespace mla_tools
