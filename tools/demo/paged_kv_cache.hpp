// SPDX-License-Identifier: MIT
// The demo engine's latent KV cache, as a paged-attention engine keeps it:
// one page pool per layer, all layers using the same page numbers so that
// one block table (and one plan) serves every layer of a step; pages are
// taken from a shuffled free list as sequences grow and given back when a
// sequence ends.  A host mirror of every page is kept for the oracle checks.
//
//   pool[layer]  : [num_pages, page_size, row_elems]   backend memory, `dtype`
//   block_table  : [max_seqs, max_pages_per_seq]       int32, -1 = no page
//   seqlens_k    : [max_seqs]                          int32
#pragma once
#include <mla/mla_plugin.h>

#include <cstdint>
#include <string>
#include <vector>

#include "backend_memory.hpp"

namespace mla_tools {

class paged_kv_cache {
 public:
  struct shape {
    int layers = 1, num_pages = 1, page_size = 64, row_elems = 576;
    int max_seqs = 1, max_pages_per_seq = 1;
    mla_dtype dtype = MLA_DTYPE_BF16;
  };
  // Shuffles the free list with `seed`, so block tables are not contiguous.
  paged_kv_cache(backend_memory& mem, const shape& s, uint64_t seed);

  // Grows sequence `seq` by `count` tokens, taking pages from the free list.
  // Returns the first new token's index, or -1 with `error` set when the pool
  // or the block-table row runs out (nothing changes then).
  int append_tokens(int seq, int count, std::string& error);
  // Ends sequence `seq`: its pages go back to the free list.
  void release(int seq);
  // Stores the row of `token` (< seqlen) of `seq` in `layer`, rounding to the dtype.
  void write_row(int layer, int seq, int token, const float* row);
  // Uploads pages written since the last call, the block table and seqlens.
  void sync_to_backend();

  // The ABI view of one layer (rows: latent at 0, rope at latent_dim).
  mla_paged_cache view(int layer, int latent_dim) const;
  // Row `token` of `seq` in `layer` as the backend sees it (for the oracle).
  void read_row(int layer, int seq, int token, double* row) const;

  int seqlen(int seq) const { return seqlens_[seq]; }
  int free_pages() const { return (int)free_list_.size(); }
  const std::vector<int32_t>& block_table() const { return block_table_; }

 private:
  size_t page_bytes() const;
  backend_memory& mem_;
  shape s_;
  size_t elem_;
  std::vector<device_buffer> pools_;            // per layer
  std::vector<std::vector<uint8_t>> mirrors_;   // per layer, same bytes as the pool
  std::vector<std::vector<uint8_t>> dirty_;     // per layer, per page
  std::vector<int32_t> free_list_;              // pages to hand out, from the back
  std::vector<int32_t> block_table_, seqlens_;
  device_buffer block_table_dev_, seqlens_dev_;
};

}  // namespace mla_tools
