// SPDX-License-Identifier: MIT
// What a host engine holds to use libmla: the loader, the selected plugin's
// function table, memory and a stream of that plugin's device, and one
// context on that stream.  Shared by mla-demo and mla-bench.
#pragma once
#include <mla/mla.h>

#include <memory>
#include <string>

#include "backend_memory.hpp"
#include "host_thread_pool.hpp"

namespace mla_tools {

class backend_session {
 public:
  // `backend`: a name, a preference list or "auto"; empty = MLA_BACKEND (or auto).
  // `flags` (MLA_CONTEXT_*) and `kernel` (one of caps.kernels, "" = the
  // plugin's choice) go to the tools' context; `pool` (not NULL) runs a
  // host-memory plugin's calls on the host's threads (parallel_for; it must
  // outlive the session).  Returns nullptr with `error` set (the loader's
  // or the plugin's message).
  static std::unique_ptr<backend_session> open(const std::string& backend, int device, std::string& error,
                                               uint32_t flags = 0, const std::string& kernel = "",
                                               host_thread_pool* pool = nullptr);
  ~backend_session();  // context, then memory (its stream), then the loader
  backend_session(const backend_session&) = delete;
  backend_session& operator=(const backend_session&) = delete;

  const mla_api& api() const { return *api_; }
  mla_context* context() const { return ctx_; }
  backend_memory& memory() const { return *mem_; }
  const mla_caps& caps() const { return caps_; }
  std::string name() const { return api_->name; }
  // "<call>: <status name>: <plugin's last_error()>" for a failed call.
  std::string describe_failure(const char* call, mla_status status) const;

 private:
  backend_session() = default;
  mla_loader* loader_ = nullptr;
  const mla_api* api_ = nullptr;
  std::unique_ptr<backend_memory> mem_;
  mla_context* ctx_ = nullptr;
  mla_caps caps_{};
};

}  // namespace mla_tools
