// SPDX-License-Identifier: MIT
// One plugin configuration as the harness drives it: its table, its memory
// (host or device, via tools/common/backend_memory, chosen by the memory
// kind its caps report), a context on that memory's stream with the
// configuration's kernel variant, thread count and flags, and the
// capabilities it claims.
#pragma once
#include <mla/mla_plugin.h>

#include <backend_memory.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace conformance {

// How a context is created: mla_context_desc's fields.
struct session_config {
  int device = 0;
  int num_threads = 0;  // 0: the plugin's default
  uint32_t flags = 0;   // MLA_CONTEXT_*
  std::string kernel;   // "": the plugin's choice
  // For a 1.0 plugin, whose caps do not say where its memory lives
  // (--memory): MLA_MEMORY_* and MLA_DEVICE_API_*; 0: unknown, refuse.
  int32_t memory_kind = 0, device_api = 0;
};

struct backend_session {
  std::string name;     // the plugin's name plus its configuration: "cpu[avx2,t=2]"
  std::string plugin;   // the plugin's name: "cpu"
  const mla_api* api = nullptr;
  session_config config;
  std::unique_ptr<mla_tools::backend_memory> memory;
  mla_context* context = nullptr;
  mla_caps caps{};
  bool host_memory = true;  // index contents are checked on the host (fail the call)

  backend_session() = default;
  backend_session(const backend_session&) = delete;
  backend_session& operator=(const backend_session&) = delete;
  ~backend_session();
};

// The desc of a context configured as `config` says, on `stream` (it points
// into config.kernel: config must outlive it).
mla_context_desc context_desc_for(const session_config& config, void* stream);

// Memory, context and caps; nullptr with `error` set on failure.
std::unique_ptr<backend_session> open_session(const mla_api* api, const session_config& config, std::string& error);

// The configurations a full check of a plugin covers, from the caps of its
// default context: every kernel variant it lists; for host-memory plugins
// the fastest at 1, 2 and 3 threads and the others at 2 (docs/design.md section 5).
// `kernel` / `threads` (when set) restrict the list.
std::vector<session_config> configurations(const mla_caps& caps, int device, const std::string& kernel,
                                           int threads);

// The kernel variants listed in caps.kernels (empty for a 1.0 plugin).
std::vector<std::string> kernel_variants(const mla_caps& caps);

// The message of the last failed call, copied (it is valid only until the next call).
std::string last_error_of(const mla_api* api);

}  // namespace conformance
