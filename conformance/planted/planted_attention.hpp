// SPDX-License-Identifier: MIT
// The planted plugin's own small CPU implementation of ops A and C (f32
// accumulation, written for this test plugin; not the reference backend's
// code), with the bug switches of planted_bugs.hpp.
#pragma once
#include "planted_bugs.hpp"

#include <mla/mla_plugin.h>

namespace planted {

// args were validated (validate_absorbed + validate_absorbed_indices_host).
// `reverse_keys` sums keys last-to-first.  The (row, head) pairs are shared
// out over `threads` worker threads, each with its own scratch (except under
// bug::data_race).
void absorbed_attention(const mla_absorbed_args& args, bug b, bool reverse_keys, int threads);
void merge_states(const mla_merge_args& args);
// Op B (planted_decompressed.cpp): the decompressed form with every key of a
// (sequence, head) decompressed at once, or the absorbed form per query row;
// AUTO picks per sequence by `break_even`.
void decompressed_attention(const mla_decompressed_args& args, bug b, int threads, int32_t break_even);

}  // namespace planted
