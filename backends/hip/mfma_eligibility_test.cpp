// SPDX-License-Identifier: MIT
// Host test of mfma_eligibility.hpp: the MFMA path is taken exactly when the
// kernel's assumptions hold, and each broken assumption sends the call to the
// portable kernel.
#include "mfma_eligibility.hpp"

#include <doctest/doctest.h>

#include <cstdint>

using mla_gpu::absorbed_params;
using mla_hip::mfma_ineligible_reason;

namespace {

alignas(16) uint16_t g_storage[64];

// DeepSeek decode, bf16, dense q rows and 576-element cache rows in 64-row pages.
absorbed_params eligible() {
  absorbed_params p{};
  p.q = g_storage;
  p.q_dtype = 3;
  p.q_stride[0] = 16 * 576;
  p.q_stride[1] = 576;
  p.q_stride[2] = 1;
  p.kv = g_storage;
  p.kv_dtype = 3;
  p.page_size = 64;
  p.page_stride = 64 * 576;
  p.row_stride = 576;
  p.latent_offset = 0;
  p.rope_offset = 512;
  p.latent_dim = 512;
  p.rope_dim = 64;
  p.heads = 16;
  p.tile.rows = 64;
  p.tile.block_n = 64;
  return p;
}

}  // namespace

TEST_CASE("the DeepSeek bf16 and f16 decode shapes take the MFMA path") {
  absorbed_params p = eligible();
  CHECK(mfma_ineligible_reason(p, true, 64) == nullptr);
  p.q_dtype = p.kv_dtype = 2;
  CHECK(mfma_ineligible_reason(p, true, 64) == nullptr);
  p.rope_offset = 0;  // RoPE first, latent after it: another engine's row layout
  p.latent_offset = 64;
  CHECK(mfma_ineligible_reason(p, true, 64) == nullptr);
}

TEST_CASE("device without MFMA or with wave32 goes portable") {
  const absorbed_params p = eligible();
  CHECK(mfma_ineligible_reason(p, false, 64) != nullptr);  // e.g. gfx1030, or gfx942 without a code object
  CHECK(mfma_ineligible_reason(p, true, 32) != nullptr);
}

TEST_CASE("each broken kernel assumption goes portable") {
  auto rejected = [](void (*edit)(absorbed_params&)) {
    absorbed_params p = eligible();
    edit(p);
    return mfma_ineligible_reason(p, true, 64) != nullptr;
  };
  CHECK(rejected([](absorbed_params& p) { p.tile.rows = 16; }));
  CHECK(rejected([](absorbed_params& p) { p.tile.block_n = 32; }));
  CHECK(rejected([](absorbed_params& p) { p.latent_dim = 256; }));
  CHECK(rejected([](absorbed_params& p) { p.rope_dim = 0; }));
  CHECK(rejected([](absorbed_params& p) { p.q_dtype = 1; }));           // f32 q
  CHECK(rejected([](absorbed_params& p) { p.kv_dtype = 2; }));          // bf16 q, f16 cache
  CHECK(rejected([](absorbed_params& p) { p.q_dtype = p.kv_dtype = 1; }));
  CHECK(rejected([](absorbed_params& p) { p.q_stride[2] = 2; }));
  CHECK(rejected([](absorbed_params& p) { p.q_stride[1] = 578; }));
  CHECK(rejected([](absorbed_params& p) { p.q_stride[0] = 9218; }));
  CHECK(rejected([](absorbed_params& p) { p.q = g_storage + 1; }));
  CHECK(rejected([](absorbed_params& p) { p.kv = g_storage + 2; }));
  CHECK(rejected([](absorbed_params& p) { p.row_stride = 578; }));
  CHECK(rejected([](absorbed_params& p) { p.page_stride = 64 * 576 + 2; }));
  CHECK(rejected([](absorbed_params& p) { p.latent_offset = 1; }));
  CHECK(rejected([](absorbed_params& p) { p.rope_offset = 514; }));
}
