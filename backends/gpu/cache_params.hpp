// SPDX-License-Identifier: MIT
// The paged cache of a call, copied on the host into the kernel parameters
// of op A (absorbed_params) or op B (opb_params), whose cache fields have the
// same names.
#pragma once
#include <mla/mla_plugin.h>

namespace mla_gpu {

template <class Params>
void copy_cache_params(Params& p, const mla_paged_cache& kv) {
  p.kv = kv.data;
  p.kv_dtype = kv.dtype;
  p.page_size = kv.page_size;
  p.num_pages = kv.num_pages;
  p.page_stride = kv.page_stride;
  p.row_stride = kv.row_stride;
  p.latent_offset = kv.latent_offset;
  p.rope_offset = kv.rope_offset;
  p.block_table = kv.block_table;
  p.block_table_stride = kv.block_table_stride;
  p.seqlens_k = kv.seqlens_k;
}

}  // namespace mla_gpu
