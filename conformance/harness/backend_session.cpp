// SPDX-License-Identifier: MIT
#include "backend_session.hpp"

#include <cstring>
#include <sstream>

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

namespace {

// A context on the default stream, only to read the caps (where memory lives).
bool caps_of_default_context(const mla_api* api, int device, mla_caps& caps, std::string& error) {
  mla_context_desc desc{};
  desc.struct_size = sizeof desc;
  desc.device_ordinal = device;
  mla_context* ctx = nullptr;
  mla_status st = api->context_create(&desc, &ctx);
  if (st != MLA_OK) {
    error = "context_create failed (status " + std::to_string((int)st) + "): " + last_error_of(api);
    return false;
  }
  caps = mla_caps{};
  caps.struct_size = sizeof caps;
  st = api->get_caps(ctx, &caps);
  if (st != MLA_OK) error = "get_caps failed (status " + std::to_string((int)st) + "): " + last_error_of(api);
  api->context_destroy(ctx);
  return st == MLA_OK;
}

std::string label_of(const std::string& plugin, const session_config& c) {
  std::string label = plugin;
  std::string parts;
  if (!c.kernel.empty()) parts += c.kernel;
  if (c.num_threads > 0) parts += (parts.empty() ? "t=" : ",t=") + std::to_string(c.num_threads);
  if (c.flags & MLA_CONTEXT_BATCH_INVARIANT) parts += parts.empty() ? "invariant" : ",invariant";
  if (c.device != 0) parts += (parts.empty() ? "dev=" : ",dev=") + std::to_string(c.device);
  return parts.empty() ? label : label + "[" + parts + "]";
}

}  // namespace

std::vector<std::string> kernel_variants(const mla_caps& caps) {
  std::vector<std::string> names;
  if (caps.struct_size < MLA_CAPS_SIZE_1_1 || memchr(caps.kernels, 0, sizeof caps.kernels) == nullptr) return names;
  std::stringstream list(caps.kernels);
  for (std::string name; std::getline(list, name, ',');)
    if (!name.empty()) names.push_back(name);
  return names;
}

std::vector<session_config> configurations(const mla_caps& caps, int device, const std::string& kernel,
                                           int threads) {
  std::vector<std::string> kernels = kernel_variants(caps);
  if (kernels.empty()) kernels.push_back("");
  const bool host = caps.struct_size >= MLA_CAPS_SIZE_1_1 && caps.memory_kind == MLA_MEMORY_HOST;  // 1.0: one config
  std::vector<session_config> out;
  for (size_t k = 0; k < kernels.size(); ++k) {
    if (!kernel.empty() && kernels[k] != kernel) continue;
    std::vector<int> counts{0};
    if (host) counts = k == 0 ? std::vector<int>{1, 2, 3} : std::vector<int>{2};
    if (threads > 0) counts = {threads};
    for (int t : counts) {
      session_config c;
      c.device = device;
      c.num_threads = t;
      c.kernel = kernels[k];
      out.push_back(c);
    }
  }
  return out;
}

mla_context_desc context_desc_for(const session_config& config, void* stream) {
  mla_context_desc desc{};
  desc.struct_size = sizeof desc;
  desc.device_ordinal = config.device;
  desc.stream = stream;
  desc.num_threads = config.num_threads;
  desc.flags = config.flags;
  desc.kernel = config.kernel.empty() ? nullptr : config.kernel.c_str();
  return desc;
}

std::unique_ptr<backend_session> open_session(const mla_api* api, const session_config& config, std::string& error) {
  auto s = std::make_unique<backend_session>();
  s->plugin = api->name ? api->name : "?";
  s->name = label_of(s->plugin, config);
  s->api = api;
  s->config = config;
  mla_caps probe_caps{};
  if (!caps_of_default_context(api, config.device, probe_caps, error)) return nullptr;
  const bool says = probe_caps.struct_size >= MLA_CAPS_SIZE_1_1 && probe_caps.memory_kind != MLA_MEMORY_UNKNOWN;
  if (!says && config.memory_kind != 0) {  // a 1.0 plugin: the memory the user named
    probe_caps.struct_size = sizeof probe_caps;
    probe_caps.memory_kind = config.memory_kind;
    probe_caps.device_api = config.device_api;
  }
  s->memory = mla_tools::make_backend_memory(probe_caps, config.device, error);
  if (!s->memory) return nullptr;
  s->host_memory = probe_caps.memory_kind == MLA_MEMORY_HOST;
  const mla_context_desc desc = context_desc_for(config, s->memory->stream());
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
