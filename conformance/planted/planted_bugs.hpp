// SPDX-License-Identifier: MIT
// The bugs the planted test plugin can carry, chosen by MLA_PLANTED_BUG.
// Each is a realistic mistake; the conformance harness must reject each one
// and pass `none`.
#pragma once

namespace planted {

enum class bug {
  none,
  drop_last_page,     // the last page of each multi-page sequence is skipped
  wrong_scale,        // uses 1/sqrt(Dl+Dr) instead of the host's scale
  read_past_seqlen,   // processes whole pages, reading slots beyond s_k
  write_past_output,  // off by one: writes element Dl of every output row
  wrong_lse,          // returns lse in log2 units
  ignore_strides,     // treats q and out as dense
  nondeterministic,   // every other run sums keys in reverse order
  bf16_weights,       // rounds softmax weights to bf16 whatever the dtypes (a subtle, "fake f32" bug)
  data_race,          // the worker threads share one scratch row (only a bug with >= 2 threads)
  batch_variant,      // claims batch invariance, but sums keys in another order inside a batch
  one_plan,           // a context keeps only its last plan (a second workspace is "not planned")
  opb_no_rope,        // op B's decompressed form leaves the RoPE part out of the scores
  opb_auto_inverted,  // op B's AUTO takes the decompressed form below the break-even, op A above
  unknown
};

// MLA_PLANTED_BUG, read once; unset means none.
bug active_bug();
const char* active_bug_text();

}  // namespace planted
