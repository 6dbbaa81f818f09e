// SPDX-License-Identifier: MIT
// Loads the cpu plugin the way a host does: dlopen of its file, then
// mla_get_api.  The path comes from CMake ($<TARGET_FILE:mla_backend_cpu>).
#pragma once
#include <mla/mla_plugin.h>

#include <dlfcn.h>

#include <stdexcept>
#include <string>

#ifndef MLA_CPU_PLUGIN_PATH
#error "MLA_CPU_PLUGIN_PATH must be the path of libmla_backend_cpu.so"
#endif

namespace cpu_test {

class plugin_handle {
 public:
  plugin_handle() {
    lib_ = dlopen(MLA_CPU_PLUGIN_PATH, RTLD_NOW | RTLD_LOCAL);
    if (!lib_) throw std::runtime_error(std::string("dlopen: ") + dlerror());
    auto get = reinterpret_cast<mla_get_api_fn>(dlsym(lib_, "mla_get_api"));
    if (!get) throw std::runtime_error("no mla_get_api in " MLA_CPU_PLUGIN_PATH);
    api_ = get();
  }
  ~plugin_handle() { dlclose(lib_); }
  plugin_handle(const plugin_handle&) = delete;
  plugin_handle& operator=(const plugin_handle&) = delete;
  const mla_api& api() const { return *api_; }

 private:
  void* lib_ = nullptr;
  const mla_api* api_ = nullptr;
};

// The process-wide handle (loaded once).
inline const mla_api& cpu_api() {
  static plugin_handle handle;
  return handle.api();
}

// A context with `threads` threads (the plugin's own), destroyed at scope exit.
class context {
 public:
  explicit context(int threads) {
    mla_context_desc desc{};
    desc.struct_size = sizeof desc;
    desc.num_threads = threads;
    if (cpu_api().context_create(&desc, &ctx_) != MLA_OK)
      throw std::runtime_error(std::string("context_create: ") + cpu_api().last_error());
  }
  ~context() { cpu_api().context_destroy(ctx_); }
  context(const context&) = delete;
  context& operator=(const context&) = delete;
  mla_context* get() const { return ctx_; }

 private:
  mla_context* ctx_ = nullptr;
};

}  // namespace cpu_test
