#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes the seed corpus of the fuzz targets (fuzz/corpus/<target>/<name>).

The input formats are described in fuzz_input.hpp, fuzz_ops.cpp and
fuzz_loader_env.cpp; each seed here is one valid call or one of the
hostile calls of issue 11, named for what it does.  Run from anywhere:
    python3 fuzz/make_seeds.py
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
MASK = (1 << 64) - 1


class Rng:
    """splitmix64, as fuzz_input.hpp's rng."""

    def __init__(self, seed):
        self.s = seed

    def next(self):
        self.s = (self.s + 0x9E3779B97F4A7C15) & MASK
        z = self.s
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def below(self, n):
        return self.next() % n


def op_a_seed():
    """A 4-byte seed whose op A call has B >= 2, every s_q >= 1 and s_k >= 20."""
    for seed in range(1, 1 << 20):
        r = Rng(seed)
        b = r.below(4)
        r.below(5), r.below(48)
        if r.below(3):
            r.below(17)
        s = [(r.below(4), r.below(70)) for _ in range(b)]
        if b >= 2 and all(q >= 1 and k >= 20 for q, k in s):
            return seed
    raise RuntimeError("no seed")


def op_b_seed():
    """A 4-byte seed whose op B call (fuzz_decompressed, the cpu plugin's caps) is
    AUTO with B >= 2, one sequence at or above the break-even (56 query rows),
    and one below it with s_q >= 1: both forms in one call."""
    for seed in range(1, 1 << 20):
        r = Rng(seed)
        b = r.below(4)
        r.below(4), r.below(40)
        if r.below(3):
            r.below(9)
        r.below(24), r.below(24)
        mode = r.below(3)
        s_q = []
        for _ in range(b):
            q = 48 + r.below(16) if r.below(4) == 0 else r.below(5)
            r.below(40)
            s_q.append(q)
        if b >= 2 and mode == 0 and any(q >= 56 for q in s_q) and any(1 <= q < 56 for q in s_q):
            return seed
    raise RuntimeError("no seed")


# mutate_int's specials (fuzz_input.hpp), by value.
SPECIAL = [0, 1, -1, 2, 3, 4, 7, 8, 15, 16, 31, 32, 33, 63, 64, 127, 128, 255, 256, 1023, 1024, 1025, 4096,
           65535, 65536, 32767, 2**31 - 1, -2**31, 2**31 - 2, 2**31, 2**32, 2**40, 2**55, 2**56 - 1, 2**56,
           2**62, 2**63 - 1, -2**63]
FLOAT_SPECIAL = ["0", "-0", "1", "0.5", "0.0625", "1e-45", "1e-38", "1e-10", "100", "65536", "65536.01", "1e10",
                 "1e38", "3.4e38", "-1", "inf", "-inf", "nan"]


def rec(group, sub, kind, value, groups=8):
    """One mutation record: field = group + groups * sub (8 groups for op A, 5 for C, 10 for B)."""
    return struct.pack("<BBQ", group + groups * sub, kind, value & MASK)


def header(op, seed, ctx):
    return struct.pack("<BIB", op, seed, ctx)


# op A (field = group + 8 * sub): groups 0 scalars, 1 q, 2 out, 3 lse, 4 cache, 5 index, 6 workspace, 7 plan corruption.
# Tensor subs: 0 data, 1 dtype, 2 reserved0, 3-6 stride[0..3], 7 struct_size.
# Cache subs: 0 data, 1 dtype, 2 page_size, 3 num_pages, 4 page_stride, 5 row_stride,
#             6 latent_offset, 7 rope_offset, 8 block_table, 9 block_table_stride, 10 seqlens_k.
# Buffers of op A, in order: 0 cache, 1 seqlens_k, 2 block_table, 3 cu_seqlens_q, 4 q, 5 out, 6 lse.
def ops_seeds():
    a = op_a_seed()
    s = {}
    for ctx, name in [(0, "1thread"), (1, "2threads"), (2, "3threads"), (0x11, "invariant_2threads"),
                      (0x04 | 1, "baseline_2threads"), (0x08, "avx2"), (0x20, "desc_1_0"), (0x0C, "unknown_kernel")]:
        s["a_valid_" + name] = header(0, a, ctx)
        s["c_valid_" + name] = header(1, a, ctx)
    h = header(0, a, 1)
    s["a_out_stride0_2e62"] = h + rec(2, 3, 0, SPECIAL.index(2**62))
    s["a_lse_stride0_2e62"] = h + rec(3, 3, 0, SPECIAL.index(2**62))
    s["a_q_stride1_int64max"] = h + rec(1, 4, 0, SPECIAL.index(2**63 - 1))
    s["a_kv_row_stride_2e62"] = h + rec(4, 5, 0, SPECIAL.index(2**62))
    s["a_kv_page_stride_2e56"] = h + rec(4, 4, 0, SPECIAL.index(2**56))
    s["a_kv_block_table_stride_2e62"] = h + rec(4, 9, 0, SPECIAL.index(2**62))
    s["a_total_q_2e62_batch0"] = h + rec(0, 0, 0, 0) + rec(0, 4, 0, SPECIAL.index(2**62))
    s["a_scale_1e38"] = h + rec(0, 7, 0, FLOAT_SPECIAL.index("1e38"))
    s["a_scale_nan"] = h + rec(0, 7, 0, FLOAT_SPECIAL.index("nan"))
    s["a_out_over_q"] = h + rec(2, 0, 0, 4)
    s["a_out_over_cache"] = h + rec(2, 0, 0, 0)
    s["a_lse_over_out"] = h + rec(3, 0, 0, 5)
    s["a_lse_over_block_table"] = h + rec(3, 0, 0, 2)
    s["a_cu_seqlens_q_misaligned"] = h + rec(5, 0, 0, 3 | 1 << 8)
    s["a_out_misaligned"] = h + rec(2, 0, 0, 5 | 2 << 8)
    s["a_batch0"] = h + rec(0, 0, 0, 0)
    s["a_out_head_stride0"] = h + rec(2, 4, 0, 0)
    s["a_block_table_entry_minus1"] = h + rec(5, 3, 0, SPECIAL.index(-1))
    s["a_seqlens_k_int32max"] = h + rec(5, 2, 0, SPECIAL.index(2**31 - 1))
    s["a_cu_decreasing"] = h + rec(5, 1, 0, (1 << 32) | SPECIAL.index(-1))
    # Workspace records: kind % 3 picks 0 the pointer, 1 workspace_bytes (mutate_int with kind >> 2:
    # kind 4 adds the int8 value, 0xFF: one byte short), 2 an offset of value % 512 bytes.
    s["a_workspace_bytes_minus1"] = h + rec(6, 0, 4, 0xFF)
    s["a_workspace_misaligned"] = h + rec(6, 0, 2, 64)
    s["a_workspace_over_out"] = h + rec(6, 0, 0, 5)
    s["a_plan_overwritten"] = h + rec(7, 0, 0, 0x5A00000000 | 72) + rec(7, 0, 0, 0x3300000000 | 300)
    s["a_null_args"] = h + rec(0, 10, 0x5A, 0)
    s["a_struct_size_1_0"] = h + rec(0, 9, 2, 320)
    s["a_struct_size_small"] = h + rec(0, 9, 2, 312)
    s["a_q_dtype_fp8"] = h + rec(1, 1, 0, SPECIAL.index(4))
    # op C: groups 0 scalars (0 num_parts, 1 head_dim, 2 num_rows, 3 num_heads), 1 parts_out,
    # 2 parts_lse, 3 out, 4 lse.  Buffers: 0 parts_out, 1 parts_lse, 2 out, 3 lse.
    c = header(1, a, 1)
    s["c_out_stride0_0"] = c + rec(3, 3, 0, 0, groups=5)
    s["c_out_over_parts_out"] = c + rec(3, 0, 0, 0, groups=5)
    s["c_lse_over_out"] = c + rec(4, 0, 0, 2, groups=5)
    s["c_head_dim_int32max"] = c + rec(0, 1, 0, SPECIAL.index(2**31 - 1), groups=5)
    s["c_num_rows_0"] = c + rec(0, 2, 0, 0, groups=5)
    s["c_parts_out_stride3_2e62"] = c + rec(1, 6, 0, SPECIAL.index(2**62), groups=5)
    # op B: groups 0 scalars (0 batch, 1 num_heads, 2 latent_dim, 3 rope_dim, 4 nope_dim, 5 v_dim,
    # 6 total_q, 7 max_seqlen_q, 8 causal, 9 scale, 10 mode, 11 struct_size), 1 q, 2 w_uk, 3 w_uv,
    # 4 out, 5 lse, 6 cache, 7 index, 8 workspace, 9 plan corruption.
    # Buffers: 0 cache, 1 seqlens_k, 2 block_table, 3 cu_seqlens_q, 4 q, 5 w_uk, 6 w_uv, 7 out, 8 lse.
    bseed = op_b_seed()
    for ctx, name in [(0, "1thread"), (1, "2threads"), (2, "3threads"), (0x11, "invariant_2threads"),
                      (0x04 | 1, "baseline_2threads"), (0x08, "avx2"), (0x20, "desc_1_0"), (0x0C, "unknown_kernel")]:
        s["b_valid_" + name] = header(2, bseed, ctx)

    def brec(group, sub, kind, value):
        return rec(group, sub, kind, value, groups=10)

    b = header(2, bseed, 1)
    s["b_valid_force_decompressed"] = b + brec(0, 10, 0, SPECIAL.index(1))
    s["b_valid_force_absorbed"] = b + brec(0, 10, 0, SPECIAL.index(2))
    s["b_mode_3"] = b + brec(0, 10, 0, SPECIAL.index(3))
    s["b_mode_minus1"] = b + brec(0, 10, 0, SPECIAL.index(-1))
    s["b_scale_1e38"] = b + brec(0, 9, 0, FLOAT_SPECIAL.index("1e38"))
    s["b_scale_nan"] = b + brec(0, 9, 0, FLOAT_SPECIAL.index("nan"))
    s["b_batch0"] = b + brec(0, 0, 0, 0)
    s["b_total_q_2e62_batch0"] = b + brec(0, 0, 0, 0) + brec(0, 6, 0, SPECIAL.index(2**62))
    s["b_nope_dim_int32max"] = b + brec(0, 4, 0, SPECIAL.index(2**31 - 1))
    s["b_v_dim_1024"] = b + brec(0, 5, 0, SPECIAL.index(1024))
    s["b_max_seqlen_q_1"] = b + brec(0, 7, 0, SPECIAL.index(1))
    s["b_causal_2"] = b + brec(0, 8, 0, SPECIAL.index(2))
    s["b_struct_size_absorbed_1_1"] = b + brec(0, 11, 2, 328)
    s["b_out_over_w_uk"] = b + brec(4, 0, 0, 5)
    s["b_out_over_w_uv"] = b + brec(4, 0, 0, 6)
    s["b_out_over_cache"] = b + brec(4, 0, 0, 0)
    s["b_lse_over_q"] = b + brec(5, 0, 0, 4)
    s["b_w_uk_stride1_2e62"] = b + brec(2, 4, 0, SPECIAL.index(2**62))
    s["b_w_uv_stride1_int64max"] = b + brec(3, 4, 0, SPECIAL.index(2**63 - 1))
    s["b_q_stride2_2e56"] = b + brec(1, 5, 0, SPECIAL.index(2**56))
    s["b_w_uk_misaligned"] = b + brec(2, 0, 0, 0 | 1 << 8)  # into the (larger) cache buffer, 1 byte in
    s["b_w_uv_dtype_fp8"] = b + brec(3, 1, 0, SPECIAL.index(4))
    s["b_kv_row_stride_2e62"] = b + brec(6, 5, 0, SPECIAL.index(2**62))
    s["b_block_table_entry_minus1"] = b + brec(7, 3, 0, SPECIAL.index(-1))
    s["b_seqlens_k_int32max"] = b + brec(7, 2, 0, SPECIAL.index(2**31 - 1))
    s["b_cu_decreasing"] = b + brec(7, 1, 0, (1 << 32) | SPECIAL.index(-1))
    s["b_workspace_bytes_minus1"] = b + brec(8, 0, 4, 0xFF)
    s["b_workspace_misaligned"] = b + brec(8, 0, 2, 64)
    s["b_workspace_over_out"] = b + brec(8, 0, 0, 7)
    s["b_plan_overwritten"] = b + brec(9, 0, 0, 0x5A00000000 | 72) + brec(9, 0, 0, 0x3300000000 | 300)
    return s


def loader_seeds():
    d = b"/tmp/mla-fuzz-loader/special"
    return {
        "options_cpu": b"\x00cpu\x00" + d,
        "options_auto_hostile_folder": b"\x00auto\x00" + d,
        "options_separator_name": b"\x00a,b\x00" + d,
        "options_list_with_blanks": b"\x00 fifo , text ,auto\x00" + d + b":/nonexistent::",
        "env_bracket_name": b"\x01x[1]\x00" + d,
        "env_auto": b"\x01auto\x00" + d,
        "env_ignored": b"\x05auto\x00" + d,
        "ignore_environment_2": b"\x08auto\x00" + d,
        "null_options_env": b"\x11auto\x00" + d,
        "empty_items": b"\x00,,,\x00::::",
        "file_as_folder": b"\x00auto,auto\x00" + d + b"/libmla_backend_text.so",
        "dangling_and_loop": b"\x00dangling,loop\x00" + d,
        "reserved_auto_file": b"\x00auto\x00" + d + b":" + d,
        "options_backend_null": b"\x02\x00" + d,
    }


def write(target, seeds):
    folder = os.path.join(HERE, "corpus", target)
    os.makedirs(folder, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(folder, name), "wb") as f:
            f.write(data)
    print(f"{folder}: {len(seeds)} seeds")


if __name__ == "__main__":
    write("ops", ops_seeds())
    write("loader_env", loader_seeds())
