// SPDX-License-Identifier: MIT
// Where each matrix element lives in the registers of one wave64 for the
// CDNA MFMA shapes the HIP fast path uses (gfx90a, gfx940):
//   v_mfma_f32_32x32x8f16 / v_mfma_f32_32x32x8bf16_1k   (D = A·B + C, 32x32, K = 8)
//   v_mfma_f32_16x16x16f16 / v_mfma_f32_16x16x16bf16_1k (16x16, K = 16)
// A is M x K, B is K x N, C/D are M x N (f32).  A lane holds 4 consecutive-k
// values of A (or B) and M*N/64 values of C.  Layout as documented by AMD
// (CDNA ISA guides, "AMD matrix cores" lab notes, matrix instruction
// calculator); f16 and bf16_1k variants of a shape share it.
//
// Plain constexpr so the host test (mfma_layout_test.cpp) checks the same
// code the kernel (mfma_absorbed.hip) uses to place its fragments.
#pragma once

#if defined(__HIPCC__) || defined(__CUDACC__)
#define MLA_MFMA_HD __host__ __device__
#else
#define MLA_MFMA_HD
#endif

namespace mla_hip::mfma {

constexpr int wave_size = 64;       // MFMA exists only on wave64 CDNA
constexpr int operand_elements = 4;  // 16-bit A/B values per lane (one 64-bit register pair)

struct coord {  // a matrix element: row, column
  int row;
  int col;
};
struct slot {   // where it lives: lane of the wave, index into the lane's vector
  int lane;
  int index;
};

// Square shapes only: MN = 32 (K = 8) or MN = 16 (K = 16).
template <int MN>
struct shape {
  static_assert(MN == 32 || MN == 16, "MFMA shapes used here: 32x32x8 and 16x16x16");
  static constexpr int m = MN, n = MN;
  static constexpr int k_groups = wave_size / MN;               // lane blocks along k: 2 or 4
  static constexpr int k = k_groups * operand_elements;         // 8 or 16
  static constexpr int c_elements = MN * MN / wave_size;         // f32 accumulators per lane: 16 or 4

  // A[i][kk]: lanes run over rows, lane blocks over groups of 4 k's.
  MLA_MFMA_HD static constexpr coord a_element(int lane, int index) {
    return coord{lane % MN, (lane / MN) * operand_elements + index};
  }
  MLA_MFMA_HD static constexpr slot a_slot(int row, int kk) {
    return slot{row + MN * (kk / operand_elements), kk % operand_elements};
  }
  // B[kk][j]: the transpose of A's rule (lanes run over columns).
  MLA_MFMA_HD static constexpr coord b_element(int lane, int index) {
    return coord{(lane / MN) * operand_elements + index, lane % MN};
  }
  MLA_MFMA_HD static constexpr slot b_slot(int kk, int col) {
    return slot{col + MN * (kk / operand_elements), kk % operand_elements};
  }
  // C/D[i][j]: lanes run over columns; each lane holds groups of 4 rows,
  // lane block b taking rows 4b..4b+3 of every 4*k_groups-row band.
  MLA_MFMA_HD static constexpr coord c_element(int lane, int index) {
    return coord{(index / 4) * (4 * k_groups) + (lane / MN) * 4 + index % 4, lane % MN};
  }
  MLA_MFMA_HD static constexpr slot c_slot(int row, int col) {
    return slot{col + MN * ((row / 4) % k_groups), (row / (4 * k_groups)) * 4 + row % 4};
  }
};

using shape_32x32x8 = shape<32>;
using shape_16x16x16 = shape<16>;

}  // namespace mla_hip::mfma
