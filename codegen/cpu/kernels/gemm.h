#pragma once
/// Single-precision matrix multiplication: the engine under linear.h's Conv,
/// Gemm, MatMul and convolution gradients.
///
/// Design (the Goto/BLIS scheme, with the operand access left to the caller):
/// - C[rows, cols] = A[rows, depth] * B[depth, cols] runs in depth slices of
///   at most KC. Per slice, A's rows are packed as MR-row panels ([kc][MR],
///   zero padded) and B's columns, a chunk of at most NC at a time, as NR-wide
///   panels ([kc][NR], zero padded) that stay in L2; each A panel stays in L1
///   while the micro-kernel sweeps the chunk's B panels.
/// - The micro-kernel keeps an MR x NR tile of C (12 rows x 2 vectors) in 24
///   zmm registers; per depth step it loads two vectors of B and broadcasts
///   twelve scalars of A into 24 FMAs. A tile of at most 16 columns runs a
///   one-vector variant.
/// - The caller supplies the packers, so an operand is read where it lies:
///   strided operands by vector loads along their unit stride (16 x 16
///   transposes when that is the depth), Conv's input through im2col
///   indices. Nothing copies a whole matrix first.
/// - Each slice's sums are added into C; after the last slice an epilogue
///   functor finishes every vector (bias, alpha and beta, activation) while
///   the tile is still in registers.
/// - Products with at most four rows or columns (a fully connected layer at
///   batch 1) are bound by memory: they stream the large operand once,
///   unpacked (skinny_dot, skinny_axpy).
/// - The instances every product shares (ANET_GEMM_INSTANCES: the packers of
///   both panel widths, the micro-kernel without epilogue) are compiled once
///   per process, in the JIT's shared translation unit, and linked to every
///   kernel: compiling them in each kernel took a third of its time.

#include "anet/base.h"

namespace ak {
namespace sgemm {

/// 16 int32 lanes (gather indices, coordinates).
typedef int v16i __attribute__((ext_vector_type(16)));
/// 16 uint32 lanes (unsigned range checks).
typedef unsigned v16w __attribute__((ext_vector_type(16)));
/// 16 booleans, one bit each.
typedef bool v16b __attribute__((ext_vector_type(16)));
/// A lane mask: bit l selects lane l.
typedef unsigned short mask16;

/// Rows of a micro-tile (broadcast from the packed A panel).
constexpr long MR = 12;
/// Vectors per micro-tile row.
constexpr long NV = 2;
/// Columns of a micro-tile (vectors of the packed B panel).
constexpr long NR = 16 * NV;
/// The longest depth slice: a [KC][MR] A panel (12 KiB) stays in L1.
constexpr long KC = 256;
/// The most rows of a plain product's task (its A slice, 252 KiB).
constexpr long MC = 252;
/// The widest column chunk: a [KC][NC] block of B panels (256 KiB) stays
/// in L2.
constexpr long NC = 256;
/// The widest side of a product that skinny_dot / skinny_axpy handle.
constexpr long kSkinny = 4;

/// 0, 1, ..., 15.
constexpr v16i kLanes = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

/// The first n lanes (none for n <= 0, all for n >= 16).
constexpr mask16 first_lanes(long n) {
  return n >= 16 ? mask16(0xFFFF) : n <= 0 ? mask16(0) : mask16((1u << n) - 1u);
}

/// Lanes whose v lies in [0, n).
inline mask16 lanes_below(v16i v, long n) {
  v16b in = __builtin_convertvector((v16w)v < static_cast<unsigned>(n), v16b);
  return __builtin_bit_cast(mask16, in);
}

/// Loads the lanes of m from p (unaligned); the others are zero and are not
/// read.
inline v16 load_masked(const float *p, mask16 m) {
  return __builtin_ia32_loadups512_mask(p, v16(0.f), m);
}

/// Loads the lanes of m from p into x, keeping x's other lanes.
inline v16 load_into(v16 x, const float *p, mask16 m) {
  return __builtin_ia32_loadups512_mask(p, x, m);
}

/// Stores the lanes of m to p (unaligned).
inline void store_masked(float *p, v16 v, mask16 m) { __builtin_ia32_storeups512_mask(p, v, m); }

/// Lane l = base[idx[l]] for the lanes of m, zero (and not read) elsewhere.
inline v16 gather(const float *base, v16i idx, mask16 m) {
  return __builtin_ia32_gathersiv16sf(v16(0.f), base, idx, m, 4);
}

/// Loads and stores at 64-byte aligned addresses (packed panels).
inline v16 load_aligned(const float *p) { return *reinterpret_cast<const v16 *>(p); }
inline void store_aligned(float *p, v16 v) { *reinterpret_cast<v16 *>(p) = v; }

/// The sum of the 16 lanes.
inline float sum_lanes(v16 x) {
  v8 h = __builtin_shufflevector(x, x, 0, 1, 2, 3, 4, 5, 6, 7) +
         __builtin_shufflevector(x, x, 8, 9, 10, 11, 12, 13, 14, 15);
  float s = 0.f;
  for (int l = 0; l < 8; ++l)
    s += h[l];
  return s;
}

/// A balanced depth slice: the depth cut into ceil(depth / KC) near-equal
/// slices.
constexpr long balanced_slice(long depth) {
  return depth <= 0 ? 1 : ceil_div(depth, ceil_div(depth, KC));
}

/// Lane lists for __builtin_shufflevector patterns.
template <class T, T... L> struct lane_seq {};
typedef __make_integer_seq<lane_seq, int, 16> lanes16;

/// One stage of a 16 x 16 transpose: rows a and b, S rows apart, swap their
/// off-diagonal blocks of S lanes.
template <int S, int... L> inline void swap_blocks(v16 &a, v16 &b, lane_seq<int, L...>) {
  v16 x = __builtin_shufflevector(a, b, ((L & S) ? 16 + L - S : L)...);
  v16 y = __builtin_shufflevector(a, b, ((L & S) ? 16 + L : L + S)...);
  a = x;
  b = y;
}

template <int S> inline void transpose_stage(v16 (&r)[16]) {
#pragma clang loop unroll(full)
  for (int i = 0; i < 16; ++i)
    if (!(i & S))
      swap_blocks<S>(r[i], r[i + S], lanes16{});
}

/// Transposes the 16 x 16 matrix whose rows are r.
inline void transpose16(v16 (&r)[16]) {
  transpose_stage<8>(r);
  transpose_stage<4>(r);
  transpose_stage<2>(r);
  transpose_stage<1>(r);
}

/// Packs lanes [0, n) x depth [0, kc) of a strided operand, element (k, l)
/// at src[k*ks + l*ls], into panels of width W (MR or NR): panel p, at
/// dst + p*kc*W, holds dst[p*kc*W + k*W + l'] = element (k, p*W + l'), zero
/// for lanes past n. Whichever stride is 1 is read contiguously: rows of
/// lanes by vector loads, rows of depth through 16 x 16 transposes; other
/// strides gather. dst is 64-byte aligned when W is NR.
template <long W>
void pack_panels(float *dst, const float *src, long ks, long ls, long n, long kc) {
  constexpr long V = ceil_div(W, 16);
  constexpr mask16 kTail = first_lanes(W - 16 * (V - 1));
  const long panels = ceil_div(n, W);
  auto put = [&](long p, long k, long v, v16 x) {
    float *d = dst + (p * kc + k) * W + 16 * v;
    if constexpr (W % 16 == 0)
      store_aligned(d, x);
    else
      store_masked(d, x, v == V - 1 ? kTail : mask16(0xFFFF));
  };
  auto lanes_of = [&](long p, long v) {
    return static_cast<mask16>(first_lanes(n - p * W - 16 * v) &
                               (v == V - 1 ? kTail : mask16(0xFFFF)));
  };
  if (ls == 1) {
    for (long k = 0; k < kc; ++k)
      for (long p = 0; p < panels; ++p)
#pragma clang loop unroll(full)
        for (long v = 0; v < V; ++v)
          put(p, k, v, load_masked(src + k * ks + p * W + 16 * v, lanes_of(p, v)));
    return;
  }
  if (ks == 1) {
    // 16 lanes x 16 depth steps at a time: rows of depth in, one transpose,
    // rows of lanes out. Whole blocks are unrolled; the edges go row by row.
    for (long p = 0; p < panels; ++p)
#pragma clang loop unroll(full)
      for (long v = 0; v < V; ++v) {
        const long width = min_of(16L, W - 16 * v);
        const long l0 = p * W + 16 * v, count = min_of(width, n - l0);
        const float *s = src + l0 * ls;
        long k0 = 0;
        if (count == width)
          for (; k0 + 16 <= kc; k0 += 16) {
            v16 r[16];
#pragma clang loop unroll(full)
            for (long l = 0; l < 16; ++l)
              if (l < width) {
                r[l] = load16(s + l * ls + k0);
                // Rows of depth are 16 streams: fetch two lines ahead.
                __builtin_prefetch(s + l * ls + k0 + 32);
              } else {
                r[l] = v16(0.f);
              }
            transpose16(r);
#pragma clang loop unroll(full)
            for (long kk = 0; kk < 16; ++kk)
              put(p, k0 + kk, v, r[kk]);
          }
        for (; k0 < kc; k0 += 16) {
          const mask16 depth = first_lanes(kc - k0);
          v16 r[16];
          for (long l = 0; l < 16; ++l)
            r[l] = l < count ? load_masked(s + l * ls + k0, depth) : v16(0.f);
          transpose16(r);
          for (long kk = 0; kk < min_of(16L, kc - k0); ++kk)
            put(p, k0 + kk, v, r[kk]);
        }
      }
    return;
  }
  for (long p = 0; p < panels; ++p)
#pragma clang loop unroll(full)
    for (long v = 0; v < V; ++v) {
      const mask16 m = lanes_of(p, v);
      const v16i idx = (kLanes + static_cast<int>(p * W + 16 * v)) * static_cast<int>(ls);
      for (long k = 0; k < kc; ++k)
        put(p, k, v, gather(src + k * ks, idx, m));
    }
}

/// Packs lanes [0, n) over the whole `depth` as pack_panels<W> slices of
/// kc_max: the slice at depth k0 starts at dst + k0 * round_up(n, W), so a
/// slice's panels lie one after another (see sliced_panel).
template <long W>
inline void pack_slices(float *dst, const float *src, long ks, long ls, long n, long depth,
                        long kc_max) {
  for (long k0 = 0; k0 < depth; k0 += kc_max)
    pack_panels<W>(dst + k0 * round_up(n, W), src + k0 * ks, ks, ls, n, min_of(kc_max, depth - k0));
}

/// The panel of lanes [i, i+W) of the slice at k0 (kc long) that
/// pack_slices<W> wrote for n lanes at base.
template <long W>
inline const float *sliced_panel(const float *base, long n, long k0, long kc, long i) {
  return base + k0 * round_up(n, W) + i * kc;
}

/// An MR x 16V block of C in registers.
template <long V> struct Tile { v16 c[MR][V]; };
/// Writes the W x 16V tile t (W <= 16) transposed: lane l of t[i][q],
/// finished by finish(q, t[i][q]), goes to y[(16q + l) * stride + i], each
/// (q, l) one masked store of W floats.
template <long W, long V, class F>
__attribute__((always_inline)) inline void store_transposed(const v16 (&t)[W][V], float *y,
                                                            long stride, const F &finish) {
  static_assert(W <= 16, "a transposed tile is at most 16 wide");
#pragma clang loop unroll(full)
  for (long q = 0; q < V; ++q) {
    v16 rows[16];
#pragma clang loop unroll(full)
    for (long i = 0; i < 16; ++i)
      rows[i] = i < W ? finish(q, t[i][q]) : v16(0.f);
    transpose16(rows);
#pragma clang loop unroll(full)
    for (long l = 0; l < 16; ++l)
      store_masked(y + (16 * q + l) * stride, rows[l], first_lanes(W));
  }
}
/// Every vector of the register tile c set to zero.
template <long R, long V> __attribute__((always_inline)) inline void zero_tile(v16 (&c)[R][V]) {
#pragma clang loop unroll(full)
  for (long i = 0; i < R; ++i)
#pragma clang loop unroll(full)
    for (long v = 0; v < V; ++v)
      c[i][v] = v16(0.f);
}
/// One depth step of an outer-product micro-kernel: c[i][v] += a(i) x the
/// v-th vector at b (64-byte aligned), for R rows broadcast from a(i) and V
/// vectors. Every register kernel (the GEMM's, direct.h's) steps with it.
template <long R, long V, class A>
__attribute__((always_inline)) inline void rank1_update(v16 (&c)[R][V], const float *b,
                                                        const A &a) {
  v16 bv[V];
#pragma clang loop unroll(full)
  for (long v = 0; v < V; ++v)
    bv[v] = load_aligned(b + 16 * v);
#pragma clang loop unroll(full)
  for (long i = 0; i < R; ++i) {
    const v16 ai = v16(a(i));
#pragma clang loop unroll(full)
    for (long v = 0; v < V; ++v)
      c[i][v] = __builtin_elementwise_fma(ai, bv[v], c[i][v]);
  }
}

/// t = A panel ([kc][MR]) times the first 16V columns of B panel ([kc][NR],
/// 64-byte aligned).
template <long V>
__attribute__((always_inline)) inline void
multiply_panels(const float *__restrict a, const float *__restrict b, long kc, Tile<V> &t) {
  v16 c[MR][V];
  zero_tile(c);
  for (long k = 0; k < kc; ++k) {
    // B streams from L2: ask for the rows eight steps ahead.
    __builtin_prefetch(b + (k + 8) * NR);
    __builtin_prefetch(b + (k + 8) * NR + 16);
    rank1_update(c, b + k * NR, [&](long i) { return a[k * MR + i]; });
  }
#pragma clang loop unroll(full)
  for (long i = 0; i < MR; ++i)
#pragma clang loop unroll(full)
    for (long v = 0; v < V; ++v)
      t.c[i][v] = c[i][v];
}

/// The epilogue of a depth slice that is not the last: values as they are.
struct NoEpilogue {
  v16 operator()(long, long, v16 x, mask16) const { return x; }
};

/// Writes rows [0, rows) and columns [0, cols) of t to c (row stride ldc):
/// c = post(i, j, t (+ c when accumulate), mask) for the vector at tile row
/// i and column j, mask its lanes inside the block.
template <long V, class Post>
__attribute__((always_inline)) inline void store_tile(const Tile<V> &t, float *c, long ldc,
                                                      long rows, long cols, bool accumulate,
                                                      const Post &post) {
  if (rows == MR && cols == 16 * V) {
#pragma clang loop unroll(full)
    for (long i = 0; i < MR; ++i)
#pragma clang loop unroll(full)
      for (long v = 0; v < V; ++v) {
        float *p = c + i * ldc + 16 * v;
        v16 x = accumulate ? t.c[i][v] + load16(p) : t.c[i][v];
        store16(p, post(i, 16 * v, x, mask16(0xFFFF)));
      }
    return;
  }
#pragma clang loop unroll(full)
  for (long i = 0; i < MR; ++i)
#pragma clang loop unroll(full)
    for (long v = 0; v < V; ++v) {
      const mask16 m = i < rows ? first_lanes(cols - 16 * v) : mask16(0);
      if (m) {
        float *p = c + i * ldc + 16 * v;
        v16 x = accumulate ? t.c[i][v] + load_masked(p, m) : t.c[i][v];
        store_masked(p, post(i, 16 * v, x, m), m);
      }
    }
}

/// One micro-tile of C (rows x cols, at most MR x NR) = post(A panel x B
/// panel (+ C)); a tile of at most 16 columns runs the one-vector kernel.
template <class Post>
void update_tile(const float *a, const float *b, long kc, float *c, long ldc, long rows, long cols,
                 bool accumulate, const Post &post) {
  if (cols <= 16) {
    Tile<1> t;
    multiply_panels(a, b, kc, t);
    store_tile(t, c, ldc, rows, cols, accumulate, post);
    return;
  }
  Tile<NV> t;
  multiply_panels(a, b, kc, t);
  store_tile(t, c, ldc, rows, cols, accumulate, post);
}

/// The instances of pack_panels and update_tile every product uses:
/// ANET_GEMM_INSTANCES(extern template) declares them (below: kernels call,
/// never compile, them), ANET_GEMM_INSTANCES(template) defines them (the
/// JIT's shared translation unit, codegen/cpu/jit.cpp). The functions are
/// not `inline`, which would let each kernel compile them anyway.
#define ANET_GEMM_INSTANCES(how)                                                                   \
  how void pack_panels<MR>(float *, const float *, long, long, long, long);                        \
  how void pack_panels<NR>(float *, const float *, long, long, long, long);                        \
  how void update_tile<NoEpilogue>(const float *, const float *, long, float *, long, long, long,  \
                                   bool, const NoEpilogue &);
ANET_GEMM_INSTANCES(extern template)

/// C[rows, cols] (row stride ldc) = post(A B (+ C when accumulate)) over
/// `depth`, in slices of at most kc_max and column chunks of at most nc_max:
///   pack_a(k0, kc): once per slice, before its chunks: packs whatever
///     panel_a reads for depth [k0, k0+kc) (nothing if A is packed already);
///   panel_a(i, k0, kc) -> const float *: A's rows [i, i+MR) over depth
///     [k0, k0+kc) as a [kc][MR] panel, rows past `rows` zero;
///   pack_b(k0, kc, j0, n): packs B's depth [k0, k0+kc) x columns [j0, j0+n)
///     (n <= nc_max) into [kc][NR] panels at b_panels (64-byte aligned; the
///     panel of column j0 + j at b_panels + j*kc);
///   post(i, j, x, mask) -> v16: the finished vector at row i, columns
///     [j, j+16) of the block, mask its lanes inside the block.
template <class PackA, class PanelA, class PackB, class Post>
inline void multiply_block(float *c, long ldc, long rows, long cols, long depth, long kc_max,
                           long nc_max, bool accumulate, const float *b_panels, const PackA &pack_a,
                           const PanelA &panel_a, const PackB &pack_b, const Post &post) {
  if (depth == 0) {
    Tile<NV> zero;
    for (long i = 0; i < MR; ++i)
      for (long v = 0; v < NV; ++v)
        zero.c[i][v] = v16(0.f);
    for (long i = 0; i < rows; i += MR)
      for (long j = 0; j < cols; j += NR)
        store_tile(zero, c + i * ldc + j, ldc, min_of(MR, rows - i), min_of(NR, cols - j),
                   accumulate,
                   [&](long ti, long tj, v16 x, mask16 m) { return post(i + ti, j + tj, x, m); });
    return;
  }
  for (long k0 = 0; k0 < depth; k0 += kc_max) {
    const long kc = min_of(kc_max, depth - k0);
    const bool add = accumulate || k0 > 0, last = k0 + kc == depth;
    pack_a(k0, kc);
    for (long j0 = 0; j0 < cols; j0 += nc_max) {
      const long nc = min_of(nc_max, cols - j0);
      pack_b(k0, kc, j0, nc);
      for (long i = 0; i < rows; i += MR) {
        const long m = min_of(MR, rows - i);
        const float *a = panel_a(i, k0, kc);
        for (long j = j0; j < j0 + nc; j += NR) {
          const float *b = b_panels + (j - j0) * kc;
          float *cp = c + i * ldc + j;
          const long n = min_of(NR, j0 + nc - j);
          if (last)
            update_tile(a, b, kc, cp, ldc, m, n, add, [&](long ti, long tj, v16 x, mask16 mk) {
              return post(i + ti, j + tj, x, mk);
            });
          else
            update_tile(a, b, kc, cp, ldc, m, n, add, NoEpilogue{});
        }
      }
    }
  }
}

/// Rows [0, rows) x columns [0, cols) of C (row stride ldc) = post(i, j,
/// C, mask), vector by vector along the rows: the epilogue of the skinny
/// products.
template <class Post>
inline void finish_block(float *c, long ldc, long rows, long cols, const Post &post) {
  for (long i = 0; i < rows; ++i)
    for (long j = 0; j < cols; j += 16) {
      mask16 m = first_lanes(cols - j);
      float *p = c + i * ldc + j;
      store_masked(p, post(i, j, load_masked(p, m), m), m);
    }
}

/// A skinny product in dot form, for operands contiguous along the depth:
/// out[t*ots + l*ols] = sum_k T[t*tts + k] * L[l*ls + k] for t < TN and
/// l in [l0, l1). Four rows of L share each vector of T.
template <long TN>
inline void skinny_dot(const float *tp, long tts, const float *lp, long ls, long l0, long l1,
                       long depth, float *out, long ots, long ols) {
  constexpr long LB = 4;
  auto rows = [&]<long B>(long l) {
    v16 acc[B][TN];
#pragma clang loop unroll(full)
    for (long q = 0; q < B; ++q)
#pragma clang loop unroll(full)
      for (long t = 0; t < TN; ++t)
        acc[q][t] = v16(0.f);
    auto step = [&](long k, mask16 m, auto load) {
      v16 tv[TN], lv[B];
#pragma clang loop unroll(full)
      for (long t = 0; t < TN; ++t)
        tv[t] = load(tp + t * tts + k, m);
#pragma clang loop unroll(full)
      for (long q = 0; q < B; ++q)
        lv[q] = load(lp + (l + q) * ls + k, m);
#pragma clang loop unroll(full)
      for (long q = 0; q < B; ++q)
#pragma clang loop unroll(full)
        for (long t = 0; t < TN; ++t)
          acc[q][t] = __builtin_elementwise_fma(tv[t], lv[q], acc[q][t]);
    };
    long k = 0;
    for (; k + 16 <= depth; k += 16)
      step(k, mask16(0xFFFF), [](const float *p, mask16) { return load16(p); });
    if (k < depth)
      step(k, first_lanes(depth - k), load_masked);
#pragma clang loop unroll(full)
    for (long q = 0; q < B; ++q)
#pragma clang loop unroll(full)
      for (long t = 0; t < TN; ++t)
        out[t * ots + (l + q) * ols] = sum_lanes(acc[q][t]);
  };
  long l = l0;
  for (; l + LB <= l1; l += LB)
    rows.template operator()<LB>(l);
  for (; l < l1; ++l)
    rows.template operator()<1>(l);
}

/// A skinny product in axpy form, for a large operand contiguous along l:
/// out[t*ots + l*ols] = sum_k T[t*tts + k*tks] * L[k*lks + l] for t < TN and
/// l in [l0, l1). Blocks of 64 columns of L share each scalar of T.
template <long TN>
inline void skinny_axpy(const float *tp, long tts, long tks, const float *lp, long lks, long l0,
                        long l1, long depth, float *out, long ots, long ols) {
  constexpr long V = 4;
  for (long l = l0; l < l1; l += 16 * V) {
    mask16 m[V];
#pragma clang loop unroll(full)
    for (long v = 0; v < V; ++v)
      m[v] = first_lanes(l1 - l - 16 * v);
    v16 acc[TN][V];
#pragma clang loop unroll(full)
    for (long t = 0; t < TN; ++t)
#pragma clang loop unroll(full)
      for (long v = 0; v < V; ++v)
        acc[t][v] = v16(0.f);
    auto sweep = [&](auto load) {
      for (long k = 0; k < depth; ++k) {
        v16 lv[V];
#pragma clang loop unroll(full)
        for (long v = 0; v < V; ++v)
          lv[v] = load(lp + k * lks + l + 16 * v, m[v]);
#pragma clang loop unroll(full)
        for (long t = 0; t < TN; ++t) {
          v16 tv = v16(tp[t * tts + k * tks]);
#pragma clang loop unroll(full)
          for (long v = 0; v < V; ++v)
            acc[t][v] = __builtin_elementwise_fma(tv, lv[v], acc[t][v]);
        }
      }
    };
    if (l + 16 * V <= l1)
      sweep([](const float *p, mask16) { return load16(p); });
    else
      sweep(load_masked);
#pragma clang loop unroll(full)
    for (long t = 0; t < TN; ++t)
#pragma clang loop unroll(full)
      for (long v = 0; v < V; ++v) {
        if (ols == 1) {
          store_masked(out + t * ots + l + 16 * v, acc[t][v], m[v]);
          continue;
        }
        for (long e = 0; e < 16 && l + 16 * v + e < l1; ++e)
          out[t * ots + (l + 16 * v + e) * ols] = acc[t][v][e];
      }
  }
}

} // namespace sgemm
} // namespace ak
