#pragma once
/// Tensor-core matrix products: small wrappers over PTX mma.sync whose
/// operands are the per-lane fragments of the PTX ISA ("Matrix fragments
/// for mma.m16n8k8" and "mma.m16n8k16"). groupID = lane / 4 and
/// tig = lane % 4 place each lane's registers:
///   A (16 x K, row-major):  a[r] holds row groupID + 8 * (r & 1);
///   B (K x 8, column):      column groupID;
///   C, D (16 x 8):          c[i] at row groupID + 8 * (i >> 1), column 2 * tig + (i & 1).
/// m16n8k8 tf32: a[r] at column tig + 4 * (r >> 1); b[r] at row tig + 4 * r.
/// m16n8k16 bf16 (two per register, low half first): a[r] holds columns
/// 2 * tig + 8 * (r >> 1) + {0, 1}; b[r] rows 2 * tig + 8 * r + {0, 1}.
///
/// On a GPU each wrapper is one instruction. Under the emu device (ANET_EMU)
/// the warp's fragments meet in one warp exchange and every lane computes
/// its part of D from the whole A, B and C, in fp32, k ascending.

namespace anet_cuda {

/// fp32 -> tf32 as cvt.rna.tf32.f32: round to nearest, ties away from zero,
/// to 10 mantissa bits (the result's low 13 bits are zero).
__device__ __forceinline__ unsigned to_tf32(float x) {
#ifdef ANET_EMU
  const unsigned bits = __float_as_uint(x);
  if ((bits & 0x7f800000u) == 0x7f800000u) // inf and NaN pass unchanged
    return bits;
  return (bits + 0x1000u) & 0xffffe000u;
#else
  unsigned r;
  asm("cvt.rna.tf32.f32 %0, %1;" : "=r"(r) : "f"(x));
  return r;
#endif
}

#ifdef ANET_EMU
namespace emu {

/// What one lane brings to an mma: its A, B and C fragments.
struct Fragments {
  unsigned a[4];
  unsigned b[2];
  float c[4];
};

/// tf32 operands: the tensor core reads the top 19 bits.
inline float tf32_value(unsigned bits) { return __uint_as_float(bits & 0xffffe000u); }

inline float bf16_value(unsigned reg, unsigned half) {
  return __uint_as_float(((reg >> (16 * half)) & 0xffffu) << 16);
}

/// D = A B + C for one lane, given every lane's fragments; `a_at(slots,
/// row, k)` and `b_at(slots, k, col)` read the whole operands.
template <int K, class A, class B>
inline void mma(float (&d)[4], const unsigned char *slots, A a_at, B b_at) {
  const unsigned lane = anet_emu_self()->lane, group = lane / 4, tig = lane % 4;
  for (int i = 0; i < 4; ++i) {
    const unsigned row = group + 8 * (i >> 1), col = 2 * tig + (i & 1);
    // C's element (row, col) lives in lane 4 * row % 32 + col / 2, register i.
    const unsigned c_lane = 4 * (row % 8) + col / 2;
    const int c_reg = 2 * (row / 8) + (col & 1);
    float acc = anet_emu::slot<Fragments>(slots, c_lane).c[c_reg];
    for (int k = 0; k < K; ++k)
      acc += a_at(slots, row, k) * b_at(slots, k, col);
    d[i] = acc;
  }
}

} // namespace emu
#endif

/// D (16 x 8) = A (16 x 8, tf32) B (8 x 8, tf32) + C, fp32 accumulation.
__device__ __forceinline__ void mma_m16n8k8_tf32(float (&d)[4], const unsigned (&a)[4],
                                                 const unsigned (&b)[2], const float (&c)[4]) {
#ifdef ANET_EMU
  const emu::Fragments mine{{a[0], a[1], a[2], a[3]}, {b[0], b[1]}, {c[0], c[1], c[2], c[3]}};
  const unsigned char *slots = anet_emu::gather(0xffffffffu, mine);
  emu::mma<8>(
      d, slots,
      [](const unsigned char *s, unsigned row, int k) {
        // Row `row`, column k: lane 4 * (row % 8) + k % 4, register (row / 8) + 2 * (k / 4).
        return emu::tf32_value(
            anet_emu::slot<emu::Fragments>(s, 4 * (row % 8) + k % 4).a[row / 8 + 2 * (k / 4)]);
      },
      [](const unsigned char *s, int k, unsigned col) {
        return emu::tf32_value(anet_emu::slot<emu::Fragments>(s, 4 * col + k % 4).b[k / 4]);
      });
#else
  asm volatile("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0,%1,%2,%3}, "
               "{%4,%5,%6,%7}, {%8,%9}, {%10,%11,%12,%13};"
               : "=f"(d[0]), "=f"(d[1]), "=f"(d[2]), "=f"(d[3])
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]), "f"(c[0]),
                 "f"(c[1]), "f"(c[2]), "f"(c[3]));
#endif
}

/// D (16 x 8) = A (16 x 16, bf16) B (16 x 8, bf16) + C, fp32 accumulation.
__device__ __forceinline__ void mma_m16n8k16_bf16(float (&d)[4], const unsigned (&a)[4],
                                                  const unsigned (&b)[2], const float (&c)[4]) {
#ifdef ANET_EMU
  const emu::Fragments mine{{a[0], a[1], a[2], a[3]}, {b[0], b[1]}, {c[0], c[1], c[2], c[3]}};
  const unsigned char *slots = anet_emu::gather(0xffffffffu, mine);
  emu::mma<16>(
      d, slots,
      [](const unsigned char *s, unsigned row, int k) {
        // Column k: lane 4 * (row % 8) + (k % 8) / 2, register row / 8 + 2 * (k / 8), half k % 2.
        const unsigned reg =
            anet_emu::slot<emu::Fragments>(s, 4 * (row % 8) + (k % 8) / 2).a[row / 8 + 2 * (k / 8)];
        return emu::bf16_value(reg, k % 2);
      },
      [](const unsigned char *s, int k, unsigned col) {
        const unsigned reg = anet_emu::slot<emu::Fragments>(s, 4 * col + (k % 8) / 2).b[k / 8];
        return emu::bf16_value(reg, k % 2);
      });
#else
  asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, "
               "{%4,%5,%6,%7}, {%8,%9}, {%10,%11,%12,%13};"
               : "=f"(d[0]), "=f"(d[1]), "=f"(d[2]), "=f"(d[3])
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]), "f"(c[0]),
                 "f"(c[1]), "f"(c[2]), "f"(c[3]));
#endif
}

} // namespace anet_cuda
