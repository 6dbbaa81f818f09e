// SPDX-License-Identifier: MIT
#include "backend_session.hpp"

#include <exception>

namespace mla_tools {

std::unique_ptr<backend_session> backend_session::open(const std::string& backend, int device,
                                                       std::string& error, uint32_t flags,
                                                       const std::string& kernel, host_thread_pool* pool) {
  std::unique_ptr<backend_session> s(new backend_session());
  mla_loader_options opts{};
  opts.struct_size = sizeof(opts);
  opts.backend = backend.empty() ? nullptr : backend.c_str();
  mla_status st = mla_loader_open(&opts, &s->loader_);
  if (st != MLA_OK) {
    error = std::string("mla_loader_open: ") + mla_status_name(st);
    return nullptr;
  }
  s->api_ = mla_loader_api(s->loader_);
  if (!s->api_) {
    error = std::string("no backend selected: ") + mla_loader_error(s->loader_);
    return nullptr;
  }
  // Where the plugin's memory lives is in its caps (ABI 1.1), read from a
  // context on the default stream; then the memory, its stream, and the
  // context the tools use, on that stream.
  mla_context_desc desc{};
  desc.struct_size = sizeof(desc);
  desc.device_ordinal = device;
  mla_caps probe_caps{};
  probe_caps.struct_size = sizeof(probe_caps);
  st = s->api_->context_create(&desc, &s->ctx_);
  if (st == MLA_OK) st = s->api_->get_caps(s->ctx_, &probe_caps);
  if (st != MLA_OK) {
    error = s->describe_failure(s->ctx_ ? "get_caps" : "context_create", st);
    return nullptr;
  }
  s->api_->context_destroy(s->ctx_);
  s->ctx_ = nullptr;
  if (pool && probe_caps.memory_kind != MLA_MEMORY_HOST) {
    error = std::string("a host thread pool is for plugins that run on the host; '") + s->api_->name +
            "' does not (its memory kind is not host)";
    return nullptr;
  }
  s->mem_ = make_backend_memory(probe_caps, device, error, s->api_->name);
  if (!s->mem_) return nullptr;
  desc = mla_context_desc{};
  desc.struct_size = sizeof(desc);
  desc.device_ordinal = device;
  desc.stream = s->mem_->stream();
  desc.flags = flags;
  desc.kernel = kernel.empty() ? nullptr : kernel.c_str();
  if (pool) {
    desc.num_threads = pool->threads();  // the most tasks a call hands to the pool
    desc.parallel_for = &host_thread_pool::parallel_for;
    desc.parallel_for_pool = pool;
  }
  st = s->api_->context_create(&desc, &s->ctx_);
  if (st != MLA_OK) {
    error = s->describe_failure("context_create", st);
    return nullptr;
  }
  s->caps_.struct_size = sizeof(mla_caps);
  st = s->api_->get_caps(s->ctx_, &s->caps_);
  if (st != MLA_OK) {
    error = s->describe_failure("get_caps", st);
    return nullptr;
  }
  return s;
}

backend_session::~backend_session() {
  if (ctx_) {
    try {
      if (mem_) mem_->synchronize();  // no work of ours may still use the stream
    } catch (const std::exception&) {
      // A device error was already reported by the call that caused it.
    }
    api_->context_destroy(ctx_);
  }
  mem_.reset();
  mla_loader_close(loader_);
}

std::string backend_session::describe_failure(const char* call, mla_status status) const {
  return std::string(call) + ": " + mla_status_name(status) + ": " + api_->last_error();
}

}  // namespace mla_tools
