// SPDX-License-Identifier: MIT
#include "paged_kv_cache.hpp"

#include <algorithm>
#include <limits>
#include <random>
#include <stdexcept>

#include "dtype_convert.hpp"

namespace mla_tools {

paged_kv_cache::paged_kv_cache(backend_memory& mem, const shape& s, uint64_t seed)
    : mem_(mem), s_(s), elem_(element_bytes(s.dtype)) {
  if (elem_ == 0) throw std::invalid_argument("paged_kv_cache: dtype must be f32, f16 or bf16");
  if (s.layers < 1 || s.num_pages < 1 || s.page_size < 1 || s.row_elems < 1 || s.max_seqs < 1 ||
      s.max_pages_per_seq < 1)
    throw std::invalid_argument("paged_kv_cache: every size must be >= 1");
  // Every row starts as NaN: a backend that reads a row outside a sequence's
  // s_k turns the checked output into NaN, which the oracle check catches.
  std::vector<float> nan_page((size_t)s.page_size * s.row_elems, std::numeric_limits<float>::quiet_NaN());
  std::vector<uint8_t> nan_bytes(page_bytes());
  encode(s.dtype, nan_page.data(), nan_bytes.data(), nan_page.size());
  for (int l = 0; l < s.layers; ++l) {
    pools_.emplace_back(mem, page_bytes() * s.num_pages);
    mirrors_.emplace_back(page_bytes() * s.num_pages);
    for (int p = 0; p < s.num_pages; ++p)
      std::copy(nan_bytes.begin(), nan_bytes.end(), mirrors_.back().begin() + (size_t)p * page_bytes());
    dirty_.emplace_back(s.num_pages, uint8_t(1));  // first sync uploads everything
  }
  for (int p = s.num_pages - 1; p >= 0; --p) free_list_.push_back(p);
  std::mt19937_64 rng(seed);
  std::shuffle(free_list_.begin(), free_list_.end(), rng);
  block_table_.assign((size_t)s.max_seqs * s.max_pages_per_seq, -1);
  seqlens_.assign(s.max_seqs, 0);
  block_table_dev_ = device_buffer(mem, block_table_.size() * sizeof(int32_t));
  seqlens_dev_ = device_buffer(mem, seqlens_.size() * sizeof(int32_t));
}

size_t paged_kv_cache::page_bytes() const { return (size_t)s_.page_size * s_.row_elems * elem_; }

int paged_kv_cache::append_tokens(int seq, int count, std::string& error) {
  if (seq < 0 || seq >= s_.max_seqs || count < 0) {
    error = "append_tokens: sequence " + std::to_string(seq) + " / count " + std::to_string(count) + " out of range";
    return -1;
  }
  const int first = seqlens_[seq];
  const int have = (first + s_.page_size - 1) / s_.page_size;
  const int need = (first + count + s_.page_size - 1) / s_.page_size;
  if (need > s_.max_pages_per_seq) {
    error = "sequence " + std::to_string(seq) + " would need " + std::to_string(need) +
            " pages, more than the block table's " + std::to_string(s_.max_pages_per_seq);
    return -1;
  }
  if (need - have > (int)free_list_.size()) {
    error = "out of cache pages: sequence " + std::to_string(seq) + " needs " + std::to_string(need - have) +
            " more, " + std::to_string(free_list_.size()) + " free";
    return -1;
  }
  for (int p = have; p < need; ++p) {
    block_table_[(size_t)seq * s_.max_pages_per_seq + p] = free_list_.back();
    free_list_.pop_back();
  }
  seqlens_[seq] = first + count;
  return first;
}

void paged_kv_cache::release(int seq) {
  const int pages = (seqlens_[seq] + s_.page_size - 1) / s_.page_size;
  for (int p = 0; p < pages; ++p) {
    int32_t& slot = block_table_[(size_t)seq * s_.max_pages_per_seq + p];
    free_list_.push_back(slot);
    slot = -1;
  }
  seqlens_[seq] = 0;
}

void paged_kv_cache::write_row(int layer, int seq, int token, const float* row) {
  if (token < 0 || token >= seqlens_[seq]) throw std::out_of_range("paged_kv_cache::write_row: token not appended");
  const int32_t page = block_table_[(size_t)seq * s_.max_pages_per_seq + token / s_.page_size];
  const size_t offset = (size_t)page * page_bytes() + (size_t)(token % s_.page_size) * s_.row_elems * elem_;
  encode(s_.dtype, row, mirrors_[layer].data() + offset, s_.row_elems);
  dirty_[layer][page] = 1;
}

void paged_kv_cache::sync_to_backend() {
  for (int l = 0; l < s_.layers; ++l) {
    uint8_t* dev = static_cast<uint8_t*>(pools_[l].get());
    // Upload runs of consecutive dirty pages in one copy each.
    for (int p = 0; p < s_.num_pages;) {
      if (!dirty_[l][p]) { ++p; continue; }
      int end = p;
      while (end < s_.num_pages && dirty_[l][end]) dirty_[l][end++] = 0;
      mem_.upload(dev + (size_t)p * page_bytes(), mirrors_[l].data() + (size_t)p * page_bytes(),
                  (size_t)(end - p) * page_bytes());
      p = end;
    }
  }
  mem_.upload(block_table_dev_.get(), block_table_.data(), block_table_.size() * sizeof(int32_t));
  mem_.upload(seqlens_dev_.get(), seqlens_.data(), seqlens_.size() * sizeof(int32_t));
}

mla_paged_cache paged_kv_cache::view(int layer, int latent_dim) const {
  mla_paged_cache kv{};
  kv.struct_size = sizeof(kv);
  kv.data = pools_[layer].get();
  kv.dtype = s_.dtype;
  kv.page_size = s_.page_size;
  kv.num_pages = s_.num_pages;
  kv.page_stride = (int64_t)s_.page_size * s_.row_elems;
  kv.row_stride = s_.row_elems;
  kv.latent_offset = 0;
  kv.rope_offset = latent_dim;
  kv.block_table = static_cast<const int32_t*>(block_table_dev_.get());
  kv.block_table_stride = s_.max_pages_per_seq;
  kv.seqlens_k = static_cast<const int32_t*>(seqlens_dev_.get());
  return kv;
}

void paged_kv_cache::read_row(int layer, int seq, int token, double* row) const {
  const int32_t page = block_table_[(size_t)seq * s_.max_pages_per_seq + token / s_.page_size];
  const size_t offset = (size_t)page * page_bytes() + (size_t)(token % s_.page_size) * s_.row_elems * elem_;
  std::vector<float> tmp(s_.row_elems);
  decode(s_.dtype, mirrors_[layer].data() + offset, tmp.data(), s_.row_elems);
  for (int i = 0; i < s_.row_elems; ++i) row[i] = tmp[i];
}

}  // namespace mla_tools
