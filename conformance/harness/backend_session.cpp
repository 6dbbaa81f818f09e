#include "backend_session.hpp"

#include <cstring>

namespace conformance {

backend_session::~backend_session() {
  if (context) {
    if (memory) {
      try {
        memory->synchronize();  // work on the stream must finish before the context goes
      } catch (...) {
      }
    }
    api->context_destroy(context);
  }
}

std::string last_error_of(const mla_api* api) {
  const char* m = api->last_error ? api->last_error() : nullptr;
  return m ? std::string(m) : std::string("(last_error returned NULL)");
}

std::unique_ptr<backend_session> open_session(const mla_api* api, int device, int num_threads, std::string& error) {
  auto s = std::make_unique<backend_session>();
  s->name = api->name ? api->name : "?";
  s->api = api;
  s->memory = mla_tools::make_backend_memory(s->name, device, error);
  if (!s->memory) return nullptr;
  s->host_memory = s->memory->name() == "host";
  mla_context_desc desc{};
  desc.struct_size = sizeof desc;
  desc.device_ordinal = device;
  desc.stream = s->memory->stream();
  desc.num_threads = num_threads;
  mla_status st = api->context_create(&desc, &s->context);
  if (st != MLA_OK) {
    error = "context_create failed (status " + std::to_string((int)st) + "): " + last_error_of(api);
    s->context = nullptr;
    return nullptr;
  }
  s->caps.struct_size = sizeof(mla_caps);
  st = api->get_caps(s->context, &s->caps);
  if (st != MLA_OK) {
    error = "get_caps failed (status " + std::to_string((int)st) + "): " + last_error_of(api);
    return nullptr;
  }
  return s;
}

}  // namespace conformance
