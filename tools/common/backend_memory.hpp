// SPDX-License-Identifier: MIT
// Memory, stream and timer of the device a plugin runs on, for the tools and
// the conformance harness (the ABI itself never allocates: the caller does).
// Chosen by the plugin's caps (memory_kind, device_api), never by its name:
// host memory, or device memory of the CUDA or HIP runtime, which is opened
// with dlopen only then (device_runtime.hpp), so no tool links a runtime.
#pragma once
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

struct mla_caps;

namespace mla_tools {

// Work captured into a CUDA/HIP graph, replayed on the memory's stream.
class captured_work {
 public:
  virtual ~captured_work() = default;
  virtual void replay() = 0;  // enqueues one replay; throws on a device error
};

class backend_memory {
 public:
  virtual ~backend_memory() = default;
  virtual void* alloc(size_t bytes) = 0;  // throws std::runtime_error on failure
  virtual void release(void* ptr) = 0;
  virtual void upload(void* dst, const void* src, size_t bytes) = 0;    // host -> backend, synchronous
  virtual void download(void* dst, const void* src, size_t bytes) = 0;  // backend -> host, synchronous
  // Enqueues a copy between two buffers of this backend's memory on stream()
  // (asynchronous on GPUs); mla-bench times it for the copy-bandwidth
  // ceiling.  Default: throws std::runtime_error (not available).
  virtual void copy(void* dst, const void* src, size_t bytes);
  virtual void* stream() = 0;   // for mla_context_desc.stream
  virtual void synchronize() = 0;  // waits for the stream; throws on a device error
  // Device time of `enqueue` (work put on stream()), in milliseconds: the
  // median over `repeats` measurements of `iters` back-to-back calls each.
  virtual double time_ms(const std::function<void()>& enqueue, int iters, int repeats) = 0;
  virtual std::string name() const = 0;
  // Bytes that can still be allocated here, to refuse a run before it
  // allocates: device memory, the runtime's free memory; host memory,
  // MemAvailable capped by the process's cgroup limit.  0 = unknown.
  virtual size_t available_bytes() = 0;
  // Captures the work `enqueue` puts on stream() into a graph (thread-local
  // capture mode); nullptr where there are no graphs (host memory).
  virtual std::unique_ptr<captured_work> capture(const std::function<void()>& enqueue);
};

// Host memory the process may still take: MemAvailable, capped by its
// cgroup's limit; 0 = unknown.
size_t host_available_bytes();
// Host memory (aligned_alloc, memcpy, wall-clock timing, no stream).
std::unique_ptr<backend_memory> make_host_memory();
// The memory a plugin's caps say it uses: MLA_MEMORY_HOST -> host memory;
// MLA_MEMORY_DEVICE or MLA_MEMORY_MANAGED -> device memory (and a
// non-blocking stream) of device `device` of the runtime in caps.device_api.
// nullptr with `error` set when the caps cannot say (a 1.0 plugin: caps too
// small or memory_kind MLA_MEMORY_UNKNOWN), name an unknown runtime, or the
// runtime or the device is missing.  `plugin` names the plugin in messages.
std::unique_ptr<backend_memory> make_backend_memory(const mla_caps& caps, int device, std::string& error,
                                                    const std::string& plugin = "");

// RAII buffer in backend memory.
class device_buffer {
 public:
  device_buffer() = default;
  device_buffer(backend_memory& mem, size_t bytes) : mem_(&mem), ptr_(bytes ? mem.alloc(bytes) : nullptr), bytes_(bytes) {}
  ~device_buffer() { if (ptr_) mem_->release(ptr_); }
  device_buffer(device_buffer&& o) noexcept : mem_(o.mem_), ptr_(o.ptr_), bytes_(o.bytes_) { o.ptr_ = nullptr; }
  device_buffer& operator=(device_buffer&& o) noexcept {
    if (this != &o) { if (ptr_) mem_->release(ptr_); mem_ = o.mem_; ptr_ = o.ptr_; bytes_ = o.bytes_; o.ptr_ = nullptr; }
    return *this;
  }
  device_buffer(const device_buffer&) = delete;
  device_buffer& operator=(const device_buffer&) = delete;
  void* get() const { return ptr_; }
  size_t bytes() const { return bytes_; }

 private:
  backend_memory* mem_ = nullptr;
  void* ptr_ = nullptr;
  size_t bytes_ = 0;
};

}  // namespace mla_tools
