// One plugin as the harness drives it: its table, its memory (host or
// device, via tools/common/backend_memory), a context on that memory's
// stream and the capabilities it claims.
#pragma once
#include <mla/mla_plugin.h>

#include <backend_memory.hpp>

#include <memory>
#include <string>

namespace conformance {

struct backend_session {
  std::string name;
  const mla_api* api = nullptr;
  std::unique_ptr<mla_tools::backend_memory> memory;
  mla_context* context = nullptr;
  mla_caps caps{};
  bool host_memory = true;  // index contents are checked on the host (fail the call)

  backend_session() = default;
  backend_session(const backend_session&) = delete;
  backend_session& operator=(const backend_session&) = delete;
  ~backend_session();
};

// Memory, context (num_threads as given) and caps; nullptr with `error` set on failure.
std::unique_ptr<backend_session> open_session(const mla_api* api, int device, int num_threads, std::string& error);

// The message of the last failed call, copied (it is valid only until the next call).
std::string last_error_of(const mla_api* api);

}  // namespace conformance
