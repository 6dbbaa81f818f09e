// SPDX-License-Identifier: MIT
// A test-only plugin whose probe answer and table are set at compile time,
// so the loader tests can present every kind of good and bad plugin:
//   FAKE_NAME        the name in the table (the file name comes from CMake)
//   FAKE_SCORE       probe score
//   FAKE_USABLE      0: probe says "no device"
//   FAKE_ABI_MAJOR   the table's abi_major
//   FAKE_TABLE_SIZE  the table's struct_size
//   FAKE_NULL_TABLE  mla_get_api returns NULL
//   FAKE_PROBE_FAILS probe returns MLA_ERR_DEVICE with a message
//   FAKE_PROBE_CRASHES  probe kills the process (a broken driver, issue 11)
// It runs no op: the ops answer MLA_ERR_UNSUPPORTED.
#include <mla/mla_plugin.h>

#include <common/plugin_error.hpp>

#include <cstdio>
#include <cstdlib>

#ifndef FAKE_SCORE
#define FAKE_SCORE 0
#endif
#ifndef FAKE_USABLE
#define FAKE_USABLE 1
#endif
#ifndef FAKE_ABI_MAJOR
#define FAKE_ABI_MAJOR MLA_ABI_MAJOR
#endif
#ifndef FAKE_TABLE_SIZE
#define FAKE_TABLE_SIZE sizeof(mla_api)
#endif

namespace {

struct FakeContext {
  int unused = 0;
};

mla_status probe(mla_probe_result* result) {
  return mla::guarded("probe", [&] {
    if (result == nullptr) return mla::fail(MLA_ERR_INVALID_ARGUMENT, "probe: result is NULL");
#if defined(FAKE_PROBE_CRASHES)
    std::fprintf(stderr, "fake plugin " FAKE_NAME ": probe crashes the host\n");
    std::abort();
#elif defined(FAKE_PROBE_FAILS)
    return mla::fail(MLA_ERR_DEVICE, "probe: fake driver error");
#else
    result->usable = FAKE_USABLE;
    result->score = FAKE_SCORE;
    result->num_devices = FAKE_USABLE;
    std::snprintf(result->reason, sizeof result->reason, "%s",
                  FAKE_USABLE ? "fake device " FAKE_NAME : "no device");
    return MLA_OK;
#endif
  });
}

const char* last_error() { return mla::last_error_message(); }

mla_status context_create(const mla_context_desc* desc, mla_context** ctx) {
  return mla::guarded("context_create", [&] {
    if (desc == nullptr) return mla::fail(MLA_ERR_INVALID_ARGUMENT, "context_create: desc is NULL");
    if (ctx == nullptr) return mla::fail(MLA_ERR_INVALID_ARGUMENT, "context_create: ctx is NULL");
    *ctx = reinterpret_cast<mla_context*>(new FakeContext);
    return MLA_OK;
  });
}

mla_status context_destroy(mla_context* ctx) {
  delete reinterpret_cast<FakeContext*>(ctx);
  return MLA_OK;
}

mla_status get_caps(mla_context* ctx, mla_caps* caps) {
  return mla::guarded("get_caps", [&] {
    if (ctx == nullptr) return mla::fail(MLA_ERR_INVALID_ARGUMENT, "get_caps: ctx is NULL");
    if (caps == nullptr) return mla::fail(MLA_ERR_INVALID_ARGUMENT, "get_caps: caps is NULL");
    caps->ops = 0;  // a fake runs nothing
    caps->q_dtypes = caps->cache_dtypes = caps->out_dtypes = 0;
    caps->max_heads = caps->max_latent_dim = caps->max_rope_dim = 0;
    caps->latent_dim_multiple = 1;
    caps->max_page_size = 0;
    std::snprintf(caps->device_name, sizeof caps->device_name, "fake device %s", FAKE_NAME);
    return MLA_OK;
  });
}

mla_status unsupported_size(mla_context*, const mla_absorbed_args*, size_t*) {
  return mla::fail(MLA_ERR_UNSUPPORTED, "fake plugin " FAKE_NAME " runs no op");
}
mla_status unsupported_absorbed(mla_context*, const mla_absorbed_args*) {
  return mla::fail(MLA_ERR_UNSUPPORTED, "fake plugin " FAKE_NAME " runs no op");
}
mla_status unsupported_merge(mla_context*, const mla_merge_args*) {
  return mla::fail(MLA_ERR_UNSUPPORTED, "fake plugin " FAKE_NAME " runs no op");
}

const mla_api kTable = {
    FAKE_TABLE_SIZE, FAKE_ABI_MAJOR, MLA_ABI_MINOR, FAKE_NAME, "0.0.0-test",
    probe, last_error, context_create, context_destroy, get_caps,
    unsupported_size, unsupported_absorbed, unsupported_absorbed, unsupported_merge,
};

}  // namespace

extern "C" MLA_EXPORT const mla_api* mla_get_api(void) {
#ifdef FAKE_NULL_TABLE
  return nullptr;
#else
  return &kTable;
#endif
}
