#pragma once
/// Direct convolution: Conv, and ConvGradInput at unit strides (as a
/// TransposedConv, linear.h), with output channels along the vector lanes
/// and output positions broadcast from the input where it lies.
///
/// - A micro-tile is R consecutive positions of one output row x 16V output
///   channels, in R x V registers. Per depth step (c, r, s) it loads V
///   vectors of packed weights and broadcasts the R inputs, which sit side by
///   side in the task's Block (phase split, so at any width stride), into
///   R x V FMAs. Nothing but the Block is copied per task: no im2col panels,
///   whose packing cost a GEMM-based convolution 5-13 % of its time.
/// - The weights are packed once per run (every step while training; once
///   for all runs when constant) into the node's state as [depth][16V]
///   panels; a tile streams its panel from L2 while its sums stay in
///   registers over the whole depth.
/// - A tile ends with the bias and activation on channel vectors, then
///   transposes them (16 x 16) so each channel's R positions are one masked
///   store.
/// - Tasks are images x groups x blocks of output rows (a Block of at most
///   kDirectBlock floats each); where those leave workers idle (batch 1),
///   also x parts of the channel panels and of a block's rows. Every output
///   is a sum in depth order, whoever computes it.
/// - Used where it fits: output channels per group a multiple of 16, output
///   rows at least kMinTile wide, a depth of at most kDirectDepth, a window
///   other than a plain 1 x 1 read of the planes. Conv's GEMM (linear.h)
///   runs the others.

#include "anet/activation.h"
#include "anet/conv_input.h"
#include "anet/gemm.h"

namespace ak {
namespace linear {

/// Largest Block of a direct convolution's task, in floats (256 KiB).
constexpr long kDirectBlock = 1L << 16;
/// The narrowest tile worth running directly.
constexpr long kMinTile = 6;
/// The deepest direct convolution: its Block offsets are a table built at
/// compile time, one entry per depth step (AlexNet's deepest, conv3's dX,
/// has 3456).
constexpr long kDirectDepth = 4096;

/// The blocking of a direct convolution P.
template <class P> struct Direct : MapLanes<P> {
  using D = ConvDims<P>;
  using B = Block<P>;
  using MapLanes<P>::V, MapLanes<P>::lanes, MapLanes<P>::panels, MapLanes<P>::max_rows;
  /// An output row in near-equal tiles of at most max_rows positions; the
  /// last may be narrower.
  static constexpr long tiles = max_of(1L, ceil_div(P::ow, max_rows));
  static constexpr long R = ceil_div(P::ow, tiles);
  static constexpr long last_r = P::ow - (tiles - 1) * R;
  /// Input rows a Block of n output rows holds.
  static constexpr long input_rows(long n) {
    return (n - 1) * P::stride_h + (P::kh - 1) * P::dilation_h + 1;
  }
  static constexpr long row_floats = D::cg * B::sw * B::width;
  /// Output rows of a task: as many as keep the Block within kDirectBlock,
  /// then evened out.
  static constexpr long most_rows() {
    long n = 1;
    while (n < P::oh && input_rows(n + 1) * row_floats <= kDirectBlock)
      ++n;
    return n;
  }
  static constexpr long row_blocks = ceil_div(P::oh, most_rows());
  static constexpr long rows = ceil_div(P::oh, row_blocks);
  static constexpr long in_rows = input_rows(rows);
  static constexpr long block = in_rows * row_floats;
  static constexpr bool fits = !D::empty && !D::pointwise && D::mg % 16 == 0 && R >= kMinTile &&
                               block <= kWeightCache && D::depth <= kDirectDepth;
  /// Every group's packed panels, after the state's PackedTag.
  static constexpr long state = kHeader + P::group * D::mg * D::depth;
  static constexpr long scratch = block;

  /// Offsets in the Block of depth step k = (c, r, s) at output (row0, 0).
  struct Offsets {
    int at[D::depth > 0 ? D::depth : 1];
  };
  static constexpr Offsets offsets() {
    Offsets o{};
    for (long k = 0; k < D::depth; ++k) {
      const long c = k / D::taps, r = k % D::taps / P::kw, s = k % P::kw;
      o.at[k] =
          static_cast<int>(((c * B::sw + B::phase(s)) * in_rows + r * P::dilation_h) * B::width +
                           B::shift(s) - B::lo);
    }
    return o;
  }
  static constexpr Offsets offset = offsets();
};

/// Packs channel panel p of group g's weights as [depth][lanes]: Conv's
/// W[g*mg + p*lanes + l][k], or for a TransposedConv the forward weights
/// transposed and flipped (see FlippedWeights).
template <class P> void pack_direct_panel(float *dst, const float *w, long g, long p) {
  using D = ConvDims<P>;
  using T = Direct<P>;
  if constexpr (FlippedWeights<P>) {
    // The forward W[group * cg + mo][mg][taps] (cg, mg: this conv's); depth
    // step (mo, t) reads tap taps - 1 - t.
    const float *wg = w + g * D::cg * D::mg * D::taps;
    for (long mo = 0; mo < D::cg; ++mo)
      sgemm::pack_panels<T::lanes>(dst + mo * D::taps * T::lanes,
                                   wg + (mo * D::mg + p * T::lanes) * D::taps + D::taps - 1, -1,
                                   D::taps, T::lanes, D::taps);
  } else {
    sgemm::pack_panels<T::lanes>(dst, w + (g * D::mg + p * T::lanes) * D::depth, 1, D::depth,
                                 T::lanes, D::depth);
  }
}

/// One tile: output positions [0, W) from x (the Block at the tile's first
/// position) x the channel panel b, finished with bias (or none) and the
/// activation, into y (the tile's first position of the panel's first
/// channel).
template <class P, long W>
__attribute__((always_inline)) inline void direct_tile(const float *__restrict x,
                                                       const float *__restrict b,
                                                       float *__restrict y, const float *bias) {
  using D = ConvDims<P>;
  using T = Direct<P>;
  constexpr long V = T::V;
  v16 acc[W][V];
  sgemm::zero_tile(acc);
  for (long k = 0; k < D::depth; ++k) {
    const float *q = x + T::offset.at[k];
    sgemm::rank1_update(acc, b + k * T::lanes, [&](long i) { return q[i]; });
  }
  sgemm::store_transposed(acc, y, D::positions, [&](long v, v16 s) {
    if constexpr (P::has_bias)
      s += load16(bias + 16 * v);
    return activate16<P::act>(s, P::act_min, P::act_max);
  });
}

/// A direct convolution: X[N,C,H,W] (dY for a TransposedConv), W, optional
/// B[M] -> Y[N,M,OH,OW].
template <class P>
void direct_run(const float *const *in, float *const *out, const anet_cpu_rt *rt) {
  using D = ConvDims<P>;
  using T = Direct<P>;
  const float *x = in[0], *w = in[1];
  const float *bias = P::has_bias ? in[2] : nullptr;
  float *y = out[0];
  float *packed = rt->state + kHeader;
  pack_into_state<P>(rt, w, P::group * T::panels, [&](long gp) {
    pack_direct_panel<P>(packed + gp * D::depth * T::lanes, w, gp / T::panels, gp % T::panels);
  });
  // Where images and row blocks leave workers idle (batch 1), tasks also
  // take parts of the channel panels (a divisor of them, so the parts are
  // even), and where the tasks still do not divide among the workers,
  // parts of a row block's rows. A worker's consecutive tasks share a Block.
  const long outer = P::n * P::group * T::row_blocks;
  const long parts = panel_parts(outer, T::panels, rt->workers);
  long splits = 1;
  if (outer < kTasksPerWorker * rt->workers)
    while (outer * parts * splits % rt->workers != 0 && splits < T::rows)
      ++splits;
  const long per_part = T::panels / parts, split_rows = ceil_div(T::rows, splits);
  parallel_for(rt, outer * splits * parts, 1, [&](long begin, long end, int worker) {
    float *block = rt->scratch[worker];
    long filled = -1;
    for (long t = begin; t < end; ++t) {
      const long task = t / parts, p0 = t % parts * per_part, p1 = p0 + per_part;
      const long split = task % splits, rb = task / splits % T::row_blocks;
      const long g = task / splits / T::row_blocks % P::group;
      const long img = task / splits / T::row_blocks / P::group;
      const long oh0 = min_of(P::oh, rb * T::rows + split * split_rows);
      const long oh1 = min_of(min_of(P::oh, (rb + 1) * T::rows), oh0 + split_rows);
      if (oh0 >= oh1)
        continue;
      if (filled != task) {
        const float *xg = x + (img * P::c + g * D::cg) * D::plane;
        Block<P>::fill(block, xg, 0, D::cg, {oh0 * P::stride_h - P::pad_top, T::in_rows});
        filled = task;
      }
      for (long p = p0; p < p1; ++p) {
        const float *b = packed + (g * T::panels + p) * D::depth * T::lanes;
        const float *bias_p = P::has_bias ? bias + g * D::mg + p * T::lanes : nullptr;
        float *yp = y + (img * P::m + g * D::mg + p * T::lanes) * D::positions;
        for (long oh = oh0; oh < oh1; ++oh) {
          const float *row = block + (oh - oh0) * P::stride_h * Block<P>::width;
          for (long j = 0; j < T::tiles - 1; ++j)
            direct_tile<P, T::R>(row + j * T::R, b, yp + oh * P::ow + j * T::R, bias_p);
          constexpr long last = (T::tiles - 1) * T::R;
          direct_tile<P, T::last_r>(row + last, b, yp + oh * P::ow + last, bias_p);
        }
      }
    }
  });
}

/// The blocking of a direct ConvGradWeight P: dW[m][c, r, s] = sum over
/// images and positions of dY[m][pos] x X at tap (c, r, s) of pos.
///
/// - A tile is the kw taps of `rows` kernel rows of one input channel
///   (R = rows * kw, at most 13: conv1's 11, a 3 x 3 window's 9) x 16V
///   output channels. Its taps sit at fixed distances in a whole-image
///   Block, so per output position it loads V vectors of dY^T and
///   broadcasts R inputs at constant offsets from one pointer.
/// - dY^T is packed per chunk of output rows (a [positions][16V] panel of
///   at most 16 KiB, so it stays in L1 while the task's tiles sweep it); the
///   tiles' sums are added into an accumulator dW^T[tap][m] after each
///   chunk, which becomes dW at the end.
/// - Tasks are groups x parts of the taps (parts only where groups leave
///   workers idle); each sums every image in order, so no partial sums are
///   reduced and the bits do not depend on the workers.
template <class P> struct DirectGrad : MapLanes<P> {
  using D = ConvDims<P>;
  using B = Block<P>;
  using MapLanes<P>::V, MapLanes<P>::lanes, MapLanes<P>::panels, MapLanes<P>::max_rows;
  /// Kernel rows per tile, and tiles per input channel (the last may have
  /// fewer rows).
  static constexpr long tile_rows = max_of(1L, min_of(P::kh, max_rows / P::kw));
  static constexpr long row_tiles = ceil_div(P::kh, tile_rows);
  static constexpr long last_rows = P::kh - (row_tiles - 1) * tile_rows;
  static constexpr long tiles = D::cg * row_tiles;
  /// The whole image's input rows.
  static constexpr long in_rows = (P::oh - 1) * P::stride_h + (P::kh - 1) * P::dilation_h + 1;
  static constexpr long channel_floats = B::sw * in_rows * B::width;
  /// Output rows of a chunk: a dY^T panel of at most 16 KiB, evened out.
  static constexpr long most_chunk_rows = max_of(1L, 4096 / (lanes * max_of(P::ow, 1L)));
  static constexpr long chunks = ceil_div(P::oh, most_chunk_rows);
  static constexpr long chunk_rows = ceil_div(P::oh, chunks);
  static constexpr long chunk = chunk_rows * P::ow;
  /// The Block and the accumulator dW^T each within kWeightCache floats
  /// per worker (larger layers sum on the GEMM, which blocks dW).
  static constexpr bool fits = !D::empty && !D::pointwise && D::mg % 16 == 0 && P::kw <= max_rows &&
                               P::ow >= kMinTile && D::cg * channel_floats <= kWeightCache &&
                               D::depth * D::mg <= kWeightCache;
  static constexpr long block = round_up(D::cg * channel_floats, 16);
  static constexpr long scratch = block + round_up(chunk * D::mg, 16) + D::depth * D::mg;

  /// The offset of tap i of a tile (kernel row i / kw of the tile, column
  /// i % kw) from the tile's first row of its channel.
  static constexpr long tap_offset(long i) {
    const long s = i % P::kw;
    return (B::phase(s) * in_rows + i / P::kw * P::dilation_h) * B::width + B::shift(s) - B::lo;
  }
};

/// Sums one chunk into a tile of the accumulator: for the `rows` kernel
/// rows x kw taps at x (the Block at the tile's channel and first kernel
/// row, output row 0 of the chunk) and output rows [0, count) of the chunk's
/// dY^T panel b, adds the sums to acc (row i: tap i; stride ld).
template <class P, long Rows>
__attribute__((always_inline)) inline void grad_tile(const float *__restrict x,
                                                     const float *__restrict b, long count,
                                                     float *__restrict acc, long ld) {
  using T = DirectGrad<P>;
  constexpr long V = T::V, R = Rows * P::kw;
  v16 sum[R][V];
  sgemm::zero_tile(sum);
  // The accumulator lies in L3 or further: fetch its tile while the chunk
  // is summed.
#pragma clang loop unroll(full)
  for (long i = 0; i < R; ++i)
#pragma clang loop unroll(full)
    for (long v = 0; v < V; ++v)
      __builtin_prefetch(acc + i * ld + 16 * v, 1);
  for (long oh = 0; oh < count; ++oh) {
    const float *row = x + oh * P::stride_h * Block<P>::width;
    for (long ow = 0; ow < P::ow; ++ow, b += T::lanes)
      sgemm::rank1_update(sum, b, [&](long i) { return row[T::tap_offset(i) + ow]; });
  }
#pragma clang loop unroll(full)
  for (long i = 0; i < R; ++i)
#pragma clang loop unroll(full)
    for (long v = 0; v < V; ++v)
      store16(acc + i * ld + 16 * v, load16(acc + i * ld + 16 * v) + sum[i][v]);
}

/// dst[j][i] = src[i][j] for i < rows, j < cols (row strides ls, ld), by
/// 16 x 16 blocks.
inline void transpose_into(float *dst, long ld, const float *src, long ls, long rows, long cols) {
  for (long i0 = 0; i0 < rows; i0 += 16)
    for (long j0 = 0; j0 < cols; j0 += 16) {
      const mask16 in = sgemm::first_lanes(cols - j0), out = sgemm::first_lanes(rows - i0);
      v16 t[16];
#pragma clang loop unroll(full)
      for (long i = 0; i < 16; ++i)
        t[i] = i0 + i < rows ? sgemm::load_masked(src + (i0 + i) * ls + j0, in) : v16(0.f);
      sgemm::transpose16(t);
#pragma clang loop unroll(full)
      for (long j = 0; j < 16; ++j)
        if (j0 + j < cols)
          sgemm::store_masked(dst + (j0 + j) * ld + i0, t[j], out);
    }
}

/// A direct ConvGradWeight: X[N,C,H,W], dY[N,M,OH,OW] -> dW[M,C/group,KH,KW].
template <class P>
void direct_grad_run(const float *const *in, float *const *out, const anet_cpu_rt *rt) {
  using D = ConvDims<P>;
  using T = DirectGrad<P>;
  const float *x = in[0], *dy = in[1];
  float *dw = out[0];
  const long parts = min_of(T::tiles, ceil_div(long{rt->workers}, P::group));
  const long per_part = ceil_div(T::tiles, parts);
  parallel_for(rt, P::group * parts, 1, [&](long begin, long end, int worker) {
    float *block = rt->scratch[worker], *panel = block + T::block;
    float *acc = panel + round_up(T::chunk * D::mg, 16);
    for (long t = begin; t < end; ++t) {
      const long g = t / parts, first = t % parts * per_part;
      const long last = min_of(T::tiles, first + per_part);
      if (first >= last)
        continue;
      // The part's taps: whole tiles, [k0, k1) of the group's depth.
      auto first_tap = [](long tile) {
        return tile / T::row_tiles * D::taps + tile % T::row_tiles * T::tile_rows * P::kw;
      };
      const long c0 = first / T::row_tiles, c1 = (last - 1) / T::row_tiles + 1;
      const long k0 = first_tap(first), k1 = first_tap(last);
      for (long i = 0; i < (k1 - k0) * D::mg; ++i)
        acc[i] = 0.f;
      for (long img = 0; img < P::n; ++img) {
        const float *xg = x + (img * P::c + g * D::cg) * D::plane;
        Block<P>::fill(block, xg, c0, c1 - c0, {-P::pad_top, T::in_rows});
        const float *dyg = dy + (img * P::m + g * D::mg) * D::positions;
        for (long oh0 = 0; oh0 < P::oh; oh0 += T::chunk_rows) {
          const long rows = min_of(T::chunk_rows, P::oh - oh0), count = rows * P::ow;
          for (long p = 0; p < T::panels; ++p)
            sgemm::pack_panels<T::lanes>(panel + p * count * T::lanes,
                                         dyg + p * T::lanes * D::positions + oh0 * P::ow, 1,
                                         D::positions, T::lanes, count);
          for (long p = 0; p < T::panels; ++p)
            for (long tile = first; tile < last; ++tile) {
              const long c = tile / T::row_tiles, r0 = tile % T::row_tiles * T::tile_rows;
              const float *xt = block + ((c - c0) * Block<P>::sw * T::in_rows + r0 * P::dilation_h +
                                         oh0 * P::stride_h) *
                                            Block<P>::width;
              float *at = acc + (c * D::taps + r0 * P::kw - k0) * D::mg + p * T::lanes;
              const float *bp = panel + p * count * T::lanes;
              if (r0 + T::tile_rows <= P::kh)
                grad_tile<P, T::tile_rows>(xt, bp, rows, at, D::mg);
              else
                grad_tile<P, T::last_rows>(xt, bp, rows, at, D::mg);
            }
        }
      }
      transpose_into(dw + g * D::mg * D::depth + k0, D::depth, acc, D::mg, k1 - k0, D::mg);
    }
  });
}

} // namespace linear
} // namespace ak
