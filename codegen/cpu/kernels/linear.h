#pragma once
/// Kernels of the ops that multiply and accumulate: Conv, Gemm, MatMul and
/// the convolution gradients ConvGradInput and ConvGradWeight. Convolutions
/// with 16k output channels per group and rows at least 6 wide run direct
/// (direct.h: no im2col panels); the others, and Gemm and MatMul, run on
/// the packed GEMM of gemm.h, as follows.
///
/// - Conv, per image and group: Y[Mg, OH*OW] = W[Mg, Cg*KH*KW] x
///   im2col(X)[Cg*KH*KW, OH*OW]. The im2col matrix never exists: its panels
///   are read from X while packing (masked loads per output row at unit width
///   stride, gathers otherwise; zeros in the padding). W is packed once per
///   worker and group into a cache in the worker's scratch. Bias and the
///   fused activation are the epilogue. Tasks are images x groups x row
///   blocks x column blocks, so batch 1 fills the pool too.
/// - Conv reads a task's input rows as a Block: zero padded and split into
///   the width stride's phases, so the lanes of an output row load
///   consecutive floats with no bounds to check (a stride-4 conv1 too).
/// - ConvGradInput at unit strides is a Conv over dY with the weights
///   transposed and flipped (TransposedConv). Otherwise, per image and
///   group: cols = W^T x dY, then col2im adds the columns into dX; a task
///   owns whole input channels of one image, so no two tasks write the same
///   element of dX.
/// - ConvGradWeight, per group: dW[Mg, Cg*KH*KW] = sum over images of
///   dY[Mg, OH*OW] x im2col(X)^T, whose panels are im2col rows transposed. A
///   task owns a block of dW and sums every image into it in a fixed order:
///   no races and no partial sums to reduce.
/// - Gemm and MatMul: one (batch of) strided product(s). Products with at
///   most four rows or columns stream the large operand (gemm.h skinny_*);
///   the others run packed, tasks over batch x row blocks x column blocks.
///
/// Every output element is summed in an order fixed by the shapes alone, so
/// results do not depend on the number of workers or on how the pool hands
/// out tasks.

#include "anet/activation.h"
#include "anet/conv_input.h"
#include "anet/direct.h"
#include "anet/gemm.h"
#include "anet/winograd.h"

namespace ak {
namespace linear {

using sgemm::mask16;
using sgemm::MR;
using sgemm::NR;
using sgemm::NV;
using sgemm::v16i;

/// Largest Conv column (output position) block of one task.
constexpr long kConvNC = 384;
/// Largest row block (output channels) of a ConvGradWeight task.
constexpr long kGradWeightMC = 384;
/// ConvGradInput's column buffer, in floats (512 KiB).
constexpr long kColsBuffer = 1L << 17;

/// Marks every worker's weight cache empty (before a run's parallel loop).
inline void forget_caches(const anet_cpu_rt *rt) {
  const long none = -1;
  for (int w = 0; w < rt->workers; ++w)
    __builtin_memcpy(rt->scratch[w], &none, sizeof none);
}

/// True when the worker's cache already holds `key`; otherwise records
/// `key` (the caller then fills the cache) and returns false.
inline bool cache_holds(float *scratch, long key) {
  long held;
  __builtin_memcpy(&held, scratch, sizeof held);
  if (held == key)
    return true;
  __builtin_memcpy(scratch, &key, sizeof key);
  return false;
}

/// A dimension cut into `count` blocks of `size` (the last may be shorter).
struct Blocks {
  long size, count;
};

/// Cuts `extent` into blocks of a multiple of `unit`, at most `max_block`
/// (itself a multiple of `unit`), and small enough that `outer` x count
/// tasks give each of `workers` kTasksPerWorker tasks where the extent
/// allows.
inline Blocks split(long extent, long max_block, long unit, long outer, int workers) {
  const long fewest = ceil_div(extent, max_block);
  const long want = ceil_div(kTasksPerWorker * workers, max_of(outer, 1L));
  const long size = fewest >= want ? round_up(ceil_div(extent, fewest), unit)
                                   : max_of(unit, ceil_div(extent, want) / unit * unit);
  return Blocks{size, ceil_div(extent, size)};
}

/// Sixteen consecutive output positions of a convolution (one vector's
/// lanes), prepared to read im2col rows: row (c, r, s) at these positions is
/// X[c][oh*sh - pt + r*dh][ow*sw - pl + s*dw], zero in the padding. From a
/// Block, or from X at unit width stride, the lanes on one output row read
/// consecutive floats, so a row is one masked load per output row the lanes
/// span (from X, masked to the image); otherwise the lanes gather.
template <class P, bool Padded = false> struct Positions {
  /// Output rows 16 consecutive positions can span.
  static constexpr long kSpan = ceil_div(15, P::ow) + 1;
  static constexpr bool kRuns = (Padded || P::stride_w == 1) && kSpan <= 3;
  static constexpr long kRunCount = kRuns ? kSpan : 1;

  v16i hs, ws;  ///< each lane's first input row and column (tap 0, 0)
  mask16 valid; ///< lanes that are positions
  /// Runs of lanes on one output row: their lanes, first input row, and the
  /// source offset that lane 0 would read (so lane l reads base + l).
  mask16 run_lanes[kRunCount];
  long run_row[kRunCount], run_base[kRunCount];

  /// Positions [first, first + count), count <= 16, read from src.
  Positions(long first, long count, const Source<Padded> &src) {
    const v16i pos = sgemm::kLanes + static_cast<int>(first);
    const v16i oh = pos / static_cast<int>(P::ow), ow = pos - oh * static_cast<int>(P::ow);
    hs = oh * static_cast<int>(P::stride_h) - static_cast<int>(P::pad_top);
    ws = ow * static_cast<int>(P::stride_w) - static_cast<int>(P::pad_left);
    valid = sgemm::first_lanes(count);
    long lane = 0;
#pragma clang loop unroll(full)
    for (long q = 0; q < kRunCount; ++q) {
      const long at = first + lane, row = at / P::ow, col = at % P::ow;
      const long len = lane < count ? min_of(count - lane, P::ow - col) : 0;
      run_lanes[q] =
          static_cast<mask16>(sgemm::first_lanes(lane + len) & ~sgemm::first_lanes(lane));
      run_row[q] = row * P::stride_h - P::pad_top;
      run_base[q] = Padded ? (run_row[q] - src.row0) * Block<P>::width + col - Block<P>::lo - lane
                           : run_row[q] * P::w + col - P::pad_left - lane;
      lane += len;
    }
  }

  /// From a Block: the im2col row at offset `off` (Block::row_offset +
  /// Block::column) at these positions.
  v16 at(const float *base, long off) const {
    v16 x = v16(0.f);
#pragma clang loop unroll(full)
    for (long q = 0; q < kRunCount; ++q)
      x = sgemm::load_into(x, base + (run_base[q] + off), run_lanes[q]);
    return x;
  }

  /// From X itself (not a Block): im2col row (c, r, s) at these positions;
  /// base is the group's first channel of the image.
  v16 row(const float *base, long c, long r, long s) const {
    const long dh = r * P::dilation_h, dw = s * P::dilation_w;
    const long off = c * P::h * P::w + dh * P::w + dw;
    const mask16 across = valid & sgemm::lanes_below(ws + static_cast<int>(dw), P::w);
    if constexpr (kRuns) {
      v16 x = v16(0.f);
#pragma clang loop unroll(full)
      for (long q = 0; q < kRunCount; ++q)
        if (run_lanes[q] &&
            static_cast<unsigned long>(run_row[q] + dh) < static_cast<unsigned long>(P::h))
          x = sgemm::load_into(x, base + (run_base[q] + off), run_lanes[q] & across);
      return x;
    } else {
      const mask16 m = across & sgemm::lanes_below(hs + static_cast<int>(dh), P::h);
      return sgemm::gather(base, hs * static_cast<int>(P::w) + ws + static_cast<int>(off), m);
    }
  }
};

/// Packs im2col(X)'s rows [k0, k0+kc) (taps) x columns [j0, j0+cols)
/// (output positions) as [kc][NR] panels: Conv's B. A 1x1 window at stride
/// 1 without padding reads X's planes as they are.
template <class P, bool Padded>
inline void pack_im2col(float *dst, const Source<Padded> &src, long k0, long kc, long j0,
                        long cols) {
  using D = ConvDims<P>;
  using L = Positions<P, Padded>;
  const float *xg = src.base;
  if constexpr (D::pointwise) {
    sgemm::pack_panels<NR>(dst, xg + k0 * D::plane + j0, D::plane, 1, cols, kc);
  } else {
    for (long p = 0; p * NR < cols; ++p) {
      const L lanes[NV] = {L(j0 + p * NR, min_of(16L, cols - p * NR), src),
                           L(j0 + p * NR + 16, min_of(16L, cols - p * NR - 16), src)};
      long c = k0 / D::taps, r = k0 % D::taps / P::kw, s = k0 % P::kw;
      float *panel = dst + p * kc * NR;
      // From a Block, the column part of each tap's offset, once.
      long column[P::kw] = {};
      if constexpr (Padded)
        for (long t = 0; t < P::kw; ++t)
          column[t] = Block<P>::column(src, t);
      for (long k = 0; k < kc; ++k) {
        if constexpr (Padded) {
          const long off = Block<P>::row_offset(src, c, r) + column[s];
#pragma clang loop unroll(full)
          for (long v = 0; v < NV; ++v)
            sgemm::store_aligned(panel + k * NR + 16 * v, lanes[v].at(xg, off));
        } else {
#pragma clang loop unroll(full)
          for (long v = 0; v < NV; ++v)
            sgemm::store_aligned(panel + k * NR + 16 * v, lanes[v].row(xg, c, r, s));
        }
        if (++s == P::kw) {
          s = 0;
          if (++r == P::kh) {
            r = 0;
            ++c;
          }
        }
      }
    }
  }
}

/// Packs im2col(X)^T's rows [k0, k0+kc) (output positions) x columns
/// [j0, j0+cols) (taps) as [kc][NR] panels: ConvGradWeight's B. Blocks of
/// 16 taps x 16 positions are read as im2col rows and transposed.
template <class P, bool Padded>
inline void pack_im2col_t(float *dst, const Source<Padded> &src, long k0, long kc, long j0,
                          long cols) {
  using D = ConvDims<P>;
  const float *xg = src.base;
  for (long p = 0; p * NR < cols; ++p)
    for (long v = 0; v < NV; ++v) {
      const long first_tap = j0 + p * NR + 16 * v, taps = min_of(16L, cols - p * NR - 16 * v);
      long tc[16], tr[16], ts[16];
      for (long l = 0; l < 16; ++l) {
        const long tap = first_tap + min_of(l, max_of(taps - 1, 0L));
        tc[l] = tap / D::taps;
        tr[l] = tap % D::taps / P::kw;
        ts[l] = tap % P::kw;
      }
      float *panel = dst + p * kc * NR + 16 * v;
      long off[16] = {};
      if constexpr (Padded)
        for (long l = 0; l < 16; ++l)
          off[l] = Block<P>::row_offset(src, tc[l], tr[l]) + Block<P>::column(src, ts[l]);
      for (long k = 0; k < kc; k += 16) {
        const long steps = min_of(16L, kc - k);
        const Positions<P, Padded> lanes(k0 + k, steps, src);
        v16 block[16];
#pragma clang loop unroll(full)
        for (long l = 0; l < 16; ++l) {
          if constexpr (Padded)
            block[l] = l < taps ? lanes.at(xg, off[l]) : v16(0.f);
          else
            block[l] = l < taps ? lanes.row(xg, tc[l], tr[l], ts[l]) : v16(0.f);
        }
        sgemm::transpose16(block);
        if (steps == 16) {
#pragma clang loop unroll(full)
          for (long kk = 0; kk < 16; ++kk)
            sgemm::store_aligned(panel + (k + kk) * NR, block[kk]);
        } else {
          for (long kk = 0; kk < steps; ++kk)
            sgemm::store_aligned(panel + (k + kk) * NR, block[kk]);
        }
      }
    }
}

/// The output positions [lo, hi) of one axis whose tap at offset `shift`
/// (tap index times dilation, minus the leading pad) lands inside an input
/// of `size`: o*stride + shift in [0, size).
struct Span {
  long lo, hi;
};
constexpr Span inside_span(long shift, long stride, long size, long out) {
  const long lo = shift >= 0 ? 0 : ceil_div(-shift, stride);
  const long hi = size - 1 - shift < 0 ? 0 : (size - 1 - shift) / stride + 1;
  return Span{min_of(lo, out), min_of(max_of(hi, lo), out)};
}

/// col2im: adds the columns [j0, j0+count) (output positions) of cols
/// (row stride ldc; rows are the taps of input channels [c0, c0+channels)
/// of the group, in order) into dX's group channels at dxg. With unit width
/// stride, each 16 inputs of a row sum the taps (r, s) that reach them from
/// cols in registers and are loaded and stored once per (r, output row);
/// otherwise taps are added one by one.
template <class P>
inline void add_columns(float *dxg, const float *cols, long ldc, long c0, long channels, long j0,
                        long count) {
  using D = ConvDims<P>;
  const long oh_first = j0 / P::ow, oh_last = (j0 + count - 1) / P::ow;
  for (long c = 0; c < channels; ++c)
    for (long r = 0; r < P::kh; ++r) {
      const long dh = r * P::dilation_h - P::pad_top;
      const Span along_h = inside_span(dh, P::stride_h, P::h, P::oh);
      const float *tap_rows = cols + (c * D::taps + r * P::kw) * ldc;
      float *plane = dxg + (c0 + c) * D::plane;
      for (long oh = max_of(oh_first, along_h.lo); oh <= oh_last && oh < along_h.hi; ++oh) {
        // The block's output columns on this row, and cols' offset of ow = 0.
        const long lo = max_of(j0, oh * P::ow) - oh * P::ow;
        const long hi = min_of(j0 + count, (oh + 1) * P::ow) - oh * P::ow;
        const long from = oh * P::ow - j0;
        float *d = plane + (oh * P::stride_h + dh) * P::w;
        if constexpr (P::stride_w == 1) {
          const long iw_lo = max_of(0L, lo - P::pad_left);
          const long iw_hi = min_of(P::w, hi + (P::kw - 1) * P::dilation_w - P::pad_left);
          for (long iw = iw_lo; iw < iw_hi; iw += 16) {
            const mask16 m = sgemm::first_lanes(iw_hi - iw);
            v16 sum = sgemm::load_masked(d + iw, m);
#pragma clang loop unroll(full)
            for (long s = 0; s < P::kw; ++s) {
              // Lane l is input iw + l, reached from output ow0 + l.
              const long ow0 = iw - s * P::dilation_w + P::pad_left;
              const mask16 taps = static_cast<mask16>(m & sgemm::first_lanes(hi - ow0) &
                                                      ~sgemm::first_lanes(lo - ow0));
              sum += sgemm::load_masked(tap_rows + s * ldc + (from + ow0), taps);
            }
            sgemm::store_masked(d + iw, sum, m);
          }
        } else {
          for (long s = 0; s < P::kw; ++s) {
            const long dw = s * P::dilation_w - P::pad_left;
            const Span along_w = inside_span(dw, P::stride_w, P::w, P::ow);
            const float *row = tap_rows + s * ldc;
            for (long ow = max_of(lo, along_w.lo); ow < min_of(hi, along_w.hi); ++ow)
              d[ow * P::stride_w + dw] += row[from + ow];
          }
        }
      }
    }
}

/// Conv's blocking.
template <class P> struct ConvForward {
  using D = ConvDims<P>;
  static constexpr long kc = sgemm::balanced_slice(D::depth);
  /// Rows (output channels) of a task: the whole group when its packed
  /// weights fit the cache.
  static constexpr long mc =
      min_of(round_up(D::mg, MR), max_of(MR, kWeightCache / max_of(D::depth, 1L) / MR * MR));
  static constexpr long m_blocks = ceil_div(D::mg, mc);
  static constexpr long nc = min_of(round_up(D::positions, NR), kConvNC);
  static constexpr long cache = round_up(mc * D::depth, 16);
  /// Weights that stay the same from run to run (P::constant_weights: an
  /// inference program's) are packed once, every block of rows, into the
  /// node's state; otherwise each worker packs its block into its scratch.
  static constexpr long blocks = P::group * m_blocks;
  static constexpr long state = P::constant_weights ? kHeader + blocks * cache : 0;
  /// A task reads its input rows as a Block, when one fits the scratch a
  /// cache of weights would.
  static constexpr long block = Block<P>::floats(D::cg, nc);
  static constexpr bool padded = Block<P>::fit && block <= kWeightCache;
  static constexpr long scratch =
      (P::constant_weights ? 0 : kHeader + cache) + kc * nc + (padded ? block : 0);
};

/// Packs rows [m0, m0 + rows) of group g's weights as Conv's A: pack_slices
/// of [rows][depth], transposing and flipping them for a TransposedConv.
template <class P> void pack_weight_rows(float *dst, const float *w, long g, long m0, long rows) {
  using D = ConvDims<P>;
  constexpr long kc = sgemm::balanced_slice(D::depth);
  if constexpr (FlippedWeights<P>) {
    // The forward W[group * cg + mo][mg][taps] (cg, mg: this conv's).
    const float *wg = w + g * D::cg * D::mg * D::taps;
    for (long k0 = 0; k0 < D::depth; k0 += kc) {
      const long kcs = min_of(kc, D::depth - k0);
      for (long p = 0; p * MR < rows; ++p) {
        float *panel = dst + k0 * round_up(rows, MR) + p * kcs * MR;
        for (long k = 0; k < kcs; ++k) {
          const long mo = (k0 + k) / D::taps, tap = D::taps - 1 - (k0 + k) % D::taps;
          const float *src = wg + (mo * D::mg + m0 + p * MR) * D::taps + tap;
#pragma clang loop unroll(full)
          for (long i = 0; i < MR; ++i)
            panel[k * MR + i] = p * MR + i < rows ? src[i * D::taps] : 0.f;
        }
      }
    }
  } else {
    sgemm::pack_slices<MR>(dst, w + (g * D::mg + m0) * D::depth, 1, D::depth, rows, D::depth, kc);
  }
}

/// Packs Conv's weights, every block of rows of every group, into `state`
/// unless its header says they are there already.
template <class P> void pack_conv_weights(const anet_cpu_rt *rt, const float *w) {
  using D = ConvDims<P>;
  using F = ConvForward<P>;
  pack_into_state<P>(rt, w, F::blocks, [&](long gm) {
    const long g = gm / F::m_blocks, m0 = gm % F::m_blocks * F::mc;
    pack_weight_rows<P>(rt->state + kHeader + gm * F::cache, w, g, m0, min_of(F::mc, D::mg - m0));
  });
}

/// Conv: X[N,C,H,W], W[M,C/group,KH,KW], optional B[M] -> Y[N,M,OH,OW].
template <class P> void conv_run(const float *const *in, float *const *out, const anet_cpu_rt *rt) {
  using D = ConvDims<P>;
  using F = ConvForward<P>;
  if constexpr (Winograd<P>::fits) {
    winograd_run<P>(in, out, rt);
  } else if constexpr (Direct<P>::fits) {
    direct_run<P>(in, out, rt);
  } else if constexpr (!D::empty) {
    const float *x = in[0], *w = in[1];
    float *y = out[0];
    const float *bias = P::has_bias ? in[2] : nullptr;
    const long outer = P::n * P::group * F::m_blocks;
    // Packed once, the weights are the operand every task streams from the
    // shared cache (at batch 1, from memory: the fully connected layers'
    // weights have pushed them out of cache). With them, columns are cut
    // only as the scratch needs, and when that leaves workers idle a block's
    // rows are shared out instead: each worker then reads only its part of
    // the weights, and the parts are even. Otherwise columns are cut to
    // keep the workers busy.
    long nc, parts = 1;
    if constexpr (P::constant_weights) {
      nc = round_up(ceil_div(D::positions, ceil_div(D::positions, F::nc)), NR);
      const long tasks = outer * ceil_div(D::positions, nc);
      parts = min_of(ceil_div(long{rt->workers}, tasks), ceil_div(min_of(F::mc, D::mg), MR));
    } else {
      nc = split(D::positions, F::nc, NR, outer, rt->workers).size;
    }
    const long n_blocks = ceil_div(D::positions, nc);
    // A worker takes every column block of a block of rows together, so it
    // reads those weights once, unless that would leave a worker idle.
    const long grain = outer * parts >= rt->workers ? n_blocks : 1;
    if constexpr (P::constant_weights)
      pack_conv_weights<P>(rt, w);
    else
      forget_caches(rt);
    parallel_for(rt, outer * parts * n_blocks, grain, [&](long begin, long end, int worker) {
      float *scratch = rt->scratch[worker];
      float *b_panels = P::constant_weights ? scratch : scratch + kHeader + F::cache;
      float *block = b_panels + F::kc * F::nc;
      for (long t = begin; t < end; ++t) {
        const long nb = t % n_blocks, part = t / n_blocks % parts;
        const long img = t / n_blocks / parts % P::n, gm = t / n_blocks / parts / P::n;
        const long g = gm / F::m_blocks, m0 = gm % F::m_blocks * F::mc;
        const long rows = min_of(F::mc, D::mg - m0), j0 = nb * nc;
        const long cols = min_of(nc, D::positions - j0);
        // The part's rows: whole panels of the block's.
        const long panels = ceil_div(ceil_div(rows, MR), parts);
        const long r0 = part * panels * MR, part_rows = min_of(rows - r0, panels * MR);
        if (part_rows <= 0)
          continue;
        const float *cache =
            P::constant_weights ? rt->state + kHeader + gm * F::cache : scratch + kHeader;
        if (!P::constant_weights && !cache_holds(scratch, gm))
          pack_weight_rows<P>(scratch + kHeader, w, g, m0, rows);
        const float *xg = x + (img * P::c + g * D::cg) * D::plane;
        Source<F::padded> src{xg};
        if constexpr (F::padded) {
          const auto r = Block<P>::rows_of(j0, cols);
          Block<P>::fill(block, xg, 0, D::cg, r);
          src = {block, 0, r.row0, r.rows};
        }
        const float *bias_b = bias + g * D::mg + m0 + r0;
        sgemm::multiply_block(
            y + (img * P::m + g * D::mg + m0 + r0) * D::positions + j0, D::positions, part_rows,
            cols, D::depth, F::kc, F::nc, false, b_panels, [](long, long) {},
            [&](long i, long k0, long kc) {
              return sgemm::sliced_panel<MR>(cache, rows, k0, kc, r0 + i);
            },
            [&](long k0, long kc, long jj, long n) {
              pack_im2col<P>(b_panels, src, k0, kc, j0 + jj, n);
            },
            [&](long i, long, v16 v, mask16) {
              if constexpr (P::has_bias)
                v += bias_b[i];
              return activate16<P::act>(v, P::act_min, P::act_max);
            });
      }
    });
  }
}

/// ConvGradInput of a stride-1 convolution P as a convolution: dX = dY
/// convolved with P's weights transposed (maps <-> channels) and flipped,
/// over dY padded by dilation * (kernel - 1) - pad. It runs as Conv does,
/// its output written once, with no column buffer to add back.
template <class P> struct TransposedConv {
  static constexpr long n = P::n, c = P::m, h = P::oh, w = P::ow, m = P::c, group = P::group;
  static constexpr long kh = P::kh, kw = P::kw, oh = P::h, ow = P::w;
  static constexpr long stride_h = 1, stride_w = 1;
  static constexpr long dilation_h = P::dilation_h, dilation_w = P::dilation_w;
  static constexpr long pad_top = P::dilation_h * (P::kh - 1) - P::pad_top;
  static constexpr long pad_left = P::dilation_w * (P::kw - 1) - P::pad_left;
  static constexpr bool has_bias = false, constant_weights = false, flipped_weights = true;
  static constexpr long act = 0;
  static constexpr float act_min = 0.f, act_max = 0.f;
  /// P's gradient fits: unit strides, pads within the window, and maps and
  /// channels to size Conv's blocks by (ConvForward divides by them).
  static constexpr bool fits =
      P::stride_h == 1 && P::stride_w == 1 && pad_top >= 0 && pad_left >= 0 && P::m > 0 && P::c > 0;
};

/// ConvGradInput's blocking.
template <class P> struct ConvGradInputBlocks {
  using D = ConvDims<P>;
  static constexpr long kc = sgemm::balanced_slice(D::mg);
  /// Input channels of a task at most: their packed weights fit the cache.
  static constexpr long channels =
      max_of(1L, min_of(D::cg, kWeightCache / max_of(D::taps * D::mg, 1L)));
  static constexpr long rows = round_up(channels * D::taps, MR);
  static constexpr long nc =
      min_of(round_up(D::positions, NR), max_of(NR, kColsBuffer / max_of(rows, 1L) / NR * NR));
  static constexpr long cache = round_up(rows * D::mg, 16);
  static constexpr long scratch = kHeader + cache + kc * nc + rows * nc;
};

/// ConvGradInput: dY[N,M,OH,OW], W[M,C/group,KH,KW] -> dX[N,C,H,W].
template <class P>
void conv_grad_input_run(const float *const *in, float *const *out, const anet_cpu_rt *rt) {
  using D = ConvDims<P>;
  using B = ConvGradInputBlocks<P>;
  float *dx = out[0];
  if constexpr (D::depth == 0) {
    return;
  } else if constexpr (TransposedConv<P>::fits && !D::empty) {
    conv_run<TransposedConv<P>>(in, out, rt);
  } else if constexpr (D::empty) {
    for (long i = 0; i < P::n * P::c * D::plane; ++i)
      dx[i] = 0.f;
  } else {
    const float *dy = in[0], *w = in[1];
    const long outer = P::group * P::n;
    const Blocks channel_blocks = split(D::cg, B::channels, 1, outer, rt->workers);
    const long cpb = channel_blocks.size, c_blocks = channel_blocks.count;
    forget_caches(rt);
    parallel_for(rt, outer * c_blocks, 1, [&](long begin, long end, int worker) {
      float *scratch = rt->scratch[worker];
      float *cache = scratch + kHeader, *b_panels = cache + B::cache;
      float *cols = b_panels + B::kc * B::nc;
      for (long t = begin; t < end; ++t) {
        const long img = t % P::n, gc = t / P::n, g = gc / c_blocks;
        const long c0 = gc % c_blocks * cpb, channels = min_of(cpb, D::cg - c0);
        const long first_tap = c0 * D::taps, rows = channels * D::taps;
        if (!cache_holds(scratch, gc))
          sgemm::pack_slices<MR>(cache, w + g * D::mg * D::depth + first_tap, D::depth, 1, rows,
                                 D::mg, B::kc);
        float *dxg = dx + (img * P::c + g * D::cg) * D::plane;
        for (long i = c0 * D::plane; i < (c0 + channels) * D::plane; ++i)
          dxg[i] = 0.f;
        const float *dyg = dy + (img * P::m + g * D::mg) * D::positions;
        for (long j0 = 0; j0 < D::positions; j0 += B::nc) {
          const long count = min_of(B::nc, D::positions - j0);
          sgemm::multiply_block(
              cols, B::nc, rows, count, D::mg, B::kc, B::nc, false, b_panels, [](long, long) {},
              [&](long i, long k0, long kc) {
                return sgemm::sliced_panel<MR>(cache, rows, k0, kc, i);
              },
              [&](long k0, long kc, long, long n) {
                sgemm::pack_panels<NR>(b_panels, dyg + k0 * D::positions + j0, D::positions, 1, n,
                                       kc);
              },
              sgemm::NoEpilogue{});
          add_columns<P>(dxg, cols, B::nc, c0, channels, j0, count);
        }
      }
    });
  }
}

/// ConvGradWeight's blocking.
template <class P> struct ConvGradWeightBlocks {
  using D = ConvDims<P>;
  static constexpr long kc = sgemm::balanced_slice(D::positions);
  static constexpr long mc = min_of(round_up(D::mg, MR), kGradWeightMC);
  static constexpr long m_blocks = ceil_div(D::mg, mc);
  static constexpr long nc = min_of(round_up(D::depth, NR), sgemm::NC);
  /// A task reads each image as a Block of the channels its columns (taps)
  /// cover, every row, when one fits the scratch a cache of weights would.
  static constexpr long block = Block<P>::floats(D::cg, D::positions);
  static constexpr bool padded = Block<P>::fit && block <= kWeightCache;
  static constexpr long scratch = kc * nc + round_up(mc, MR) * kc + (padded ? block : 0);
};

/// ConvGradWeight: X[N,C,H,W], dY[N,M,OH,OW] -> dW[M,C/group,KH,KW].
template <class P>
void conv_grad_weight_run(const float *const *in, float *const *out, const anet_cpu_rt *rt) {
  using D = ConvDims<P>;
  using B = ConvGradWeightBlocks<P>;
  float *dw = out[0];
  if constexpr (P::n == 0 || D::positions == 0) {
    for (long i = 0; i < P::m * D::depth; ++i)
      dw[i] = 0.f;
  } else if constexpr (DirectGrad<P>::fits) {
    direct_grad_run<P>(in, out, rt);
  } else if constexpr (P::m > 0 && D::depth > 0) {
    const float *x = in[0], *dy = in[1];
    const long outer = P::group * B::m_blocks;
    // A task owns rows of dW and as many columns as parallelism allows: its
    // slices of dY are packed once for all of its columns. Tasks are even
    // (every image, every position), so one per worker is enough.
    const long n_blocks = min_of(ceil_div(long{rt->workers}, outer), ceil_div(D::depth, NR));
    const long nc = round_up(ceil_div(D::depth, n_blocks), NR);
    parallel_for(rt, outer * n_blocks, 1, [&](long begin, long end, int worker) {
      float *b_panels = rt->scratch[worker], *a_panels = b_panels + B::kc * B::nc;
      float *block = a_panels + round_up(B::mc, MR) * B::kc;
      for (long t = begin; t < end; ++t) {
        const long nb = t % n_blocks, gm = t / n_blocks;
        const long g = gm / B::m_blocks, m0 = gm % B::m_blocks * B::mc;
        const long rows = min_of(B::mc, D::mg - m0), j0 = nb * nc;
        const long cols = min_of(nc, D::depth - j0);
        float *c = dw + (g * D::mg + m0) * D::depth + j0;
        for (long img = 0; img < P::n; ++img) {
          const float *xg = x + (img * P::c + g * D::cg) * D::plane;
          Source<B::padded> src{xg};
          if constexpr (B::padded) {
            const long c0 = j0 / D::taps, channels = (j0 + cols - 1) / D::taps + 1 - c0;
            const auto r = Block<P>::rows_of(0, D::positions);
            Block<P>::fill(block, xg, c0, channels, r);
            src = {block, c0, r.row0, r.rows};
          }
          const float *dyg = dy + (img * P::m + g * D::mg + m0) * D::positions;
          sgemm::multiply_block(
              c, D::depth, rows, cols, D::positions, B::kc, B::nc, img > 0, b_panels,
              [&](long k0, long kc) {
                sgemm::pack_panels<MR>(a_panels, dyg + k0, 1, D::positions, rows, kc);
              },
              [&](long i, long, long kc) { return a_panels + i * kc; },
              [&](long k0, long kc, long jj, long n) {
                pack_im2col_t<P>(b_panels, src, k0, kc, j0 + jj, n);
              },
              sgemm::NoEpilogue{});
        }
      }
    });
  }
}

/// A batch of products C_b[m, n] = A_b B_b, A(i, k) at a[i*a_rs + k*a_cs]
/// and B(k, j) at b[k*b_rs + j*b_cs], from G's constants (m, n, k, the
/// strides and `batch`). Runs the skinny or the packed form.
template <class G> struct Product {
  static constexpr bool small_m = G::m <= sgemm::kSkinny;
  static constexpr bool small_n = !small_m && G::n <= sgemm::kSkinny;
  static constexpr bool skinny = small_m || small_n;
  /// The skinny operand T (t < tn) and the large one L (l < ln).
  static constexpr long tn = small_m ? G::m : G::n, ln = small_m ? G::n : G::m;
  static constexpr long t_ts = small_m ? G::a_rs : G::b_cs, t_ks = small_m ? G::a_cs : G::b_rs;
  static constexpr long l_ls = small_m ? G::b_cs : G::a_rs, l_ks = small_m ? G::b_rs : G::a_cs;
  /// Dot form when L is contiguous along the depth; T is then packed
  /// unless it is too.
  static constexpr bool dot = l_ks == 1 && G::k > 1;
  static constexpr bool pack_t = dot && t_ks != 1;
  static constexpr long mc = min_of(round_up(G::m, MR), sgemm::MC);
  static constexpr long nc = min_of(round_up(G::n, NR), sgemm::NC);
  static constexpr long kc = sgemm::balanced_slice(G::k);
  static constexpr long scratch = skinny ? (pack_t ? tn * G::k : 0) : kc * nc + mc * kc;

  /// Runs every product; offsets(b, &a_off, &b_off) gives product b's
  /// operand offsets; post(i, j, x, mask) finishes C's vectors.
  template <class Offsets, class Post>
  static void run(const anet_cpu_rt *rt, const float *a, const float *b, float *c,
                  const Offsets &offsets, const Post &post) {
    if constexpr (G::m == 0 || G::n == 0 || G::batch == 0)
      return;
    else if constexpr (skinny)
      run_skinny(rt, a, b, c, offsets, post);
    else
      run_packed(rt, a, b, c, offsets, post);
  }

  template <class Offsets, class Post>
  static void run_skinny(const anet_cpu_rt *rt, const float *a, const float *b, float *c,
                         const Offsets &offsets, const Post &post) {
    constexpr long unit = dot ? 4 : 64;
    const Blocks lines = split(ln, 1024, unit, G::batch, rt->workers);
    const long lc = lines.size, blocks = lines.count;
    parallel_for(rt, G::batch * blocks, 1, [&](long begin, long end, int worker) {
      long packed = -1;
      for (long t = begin; t < end; ++t) {
        const long bi = t / blocks, l0 = t % blocks * lc, l1 = min_of(ln, l0 + lc);
        long a_off, b_off;
        offsets(bi, a_off, b_off);
        const float *tp = small_m ? a + a_off : b + b_off;
        const float *lp = small_m ? b + b_off : a + a_off;
        float *cb = c + bi * G::m * G::n;
        constexpr long ots = small_m ? G::n : 1, ols = small_m ? 1 : G::n;
        if constexpr (G::k == 0) {
          for (long t2 = 0; t2 < tn; ++t2)
            for (long l = l0; l < l1; ++l)
              cb[t2 * ots + l * ols] = 0.f;
        } else if constexpr (dot) {
          long tts = t_ts;
          if constexpr (pack_t) {
            float *tbuf = rt->scratch[worker];
            if (packed != bi)
              for (long t2 = 0; t2 < tn; ++t2)
                for (long k = 0; k < G::k; ++k)
                  tbuf[t2 * G::k + k] = tp[t2 * t_ts + k * t_ks];
            packed = bi;
            tp = tbuf;
            tts = G::k;
          }
          sgemm::skinny_dot<tn>(tp, tts, lp, l_ls, l0, l1, G::k, cb, ots, ols);
        } else {
          sgemm::skinny_axpy<tn>(tp, t_ts, t_ks, lp, l_ks, l0, l1, G::k, cb, ots, ols);
        }
        if constexpr (small_m)
          sgemm::finish_block(cb + l0, G::n, G::m, l1 - l0, [&](long i, long j, v16 x, mask16 m) {
            return post(i, l0 + j, x, m);
          });
        else
          sgemm::finish_block(
              cb + l0 * G::n, G::n, l1 - l0, G::n,
              [&](long i, long j, v16 x, mask16 m) { return post(l0 + i, j, x, m); });
      }
    });
  }

  template <class Offsets, class Post>
  static void run_packed(const anet_cpu_rt *rt, const float *a, const float *b, float *c,
                         const Offsets &offsets, const Post &post) {
    constexpr long m_blocks = ceil_div(G::m, mc);
    // A task owns rows and as many columns as parallelism allows: its slices
    // of A are packed once for all of its columns.
    const Blocks columns = split(G::n, round_up(G::n, NR), NR, G::batch * m_blocks, rt->workers);
    const long ncr = columns.size, n_blocks = columns.count;
    parallel_for(rt, G::batch * m_blocks * n_blocks, 1, [&](long begin, long end, int worker) {
      float *b_panels = rt->scratch[worker], *a_panels = b_panels + kc * nc;
      for (long t = begin; t < end; ++t) {
        const long nb = t % n_blocks, mb = t / n_blocks % m_blocks, bi = t / n_blocks / m_blocks;
        const long i0 = mb * mc, j0 = nb * ncr;
        const long rows = min_of(mc, G::m - i0), cols = min_of(ncr, G::n - j0);
        long a_off, b_off;
        offsets(bi, a_off, b_off);
        const float *ab = a + a_off + i0 * G::a_rs, *bb = b + b_off + j0 * G::b_cs;
        sgemm::multiply_block(
            c + bi * G::m * G::n + i0 * G::n + j0, G::n, rows, cols, G::k, kc, nc, false, b_panels,
            [&](long k0, long kcs) {
              sgemm::pack_panels<MR>(a_panels, ab + k0 * G::a_cs, G::a_cs, G::a_rs, rows, kcs);
            },
            [&](long i, long, long kcs) { return a_panels + i * kcs; },
            [&](long k0, long kcs, long jj, long n) {
              sgemm::pack_panels<NR>(b_panels, bb + k0 * G::b_rs + jj * G::b_cs, G::b_rs, G::b_cs,
                                     n, kcs);
            },
            [&](long i, long j, v16 x, mask16 m) { return post(i0 + i, j0 + j, x, m); });
      }
    });
  }
};

/// Gemm's product: one matrix, strides from transA and transB.
template <class P> struct GemmShape {
  static constexpr long m = P::m, n = P::n, k = P::k, batch = 1;
  static constexpr long a_rs = P::trans_a ? 1 : P::k, a_cs = P::trans_a ? P::m : 1;
  static constexpr long b_rs = P::trans_b ? 1 : P::n, b_cs = P::trans_b ? P::k : 1;
};

/// MatMul's products: row-major matrices (a 1-D A is one row, a 1-D B one
/// column), batched with numpy broadcasting.
template <class P> struct MatMulShape {
  static constexpr long m = P::m, n = P::n, k = P::k, batch = P::batch;
  static constexpr long a_rs = P::k, a_cs = 1, b_rs = P::n, b_cs = 1;
};

} // namespace linear

namespace linear {
/// The scratch and state of Conv P's kernel: Winograd, direct or on the GEMM.
template <class P> constexpr anet_kernel_info conv_info(anet_kernel_fn run) {
  if constexpr (Winograd<P>::fits)
    return anet_kernel_info{run, Winograd<P>::scratch, Winograd<P>::state};
  else if constexpr (Direct<P>::fits)
    return anet_kernel_info{run, Direct<P>::scratch, Direct<P>::state};
  else
    return anet_kernel_info{run, ConvForward<P>::scratch, ConvForward<P>::state};
}
} // namespace linear

template <class P> constexpr anet_kernel_info conv() {
  return linear::conv_info<P>(&linear::conv_run<P>);
}

template <class P> constexpr anet_kernel_info conv_grad_input() {
  using T = linear::TransposedConv<P>;
  if constexpr (T::fits)
    return linear::conv_info<T>(&linear::conv_grad_input_run<P>);
  else
    return kernel_info<&linear::conv_grad_input_run<P>>(linear::ConvGradInputBlocks<P>::scratch);
}

template <class P> constexpr anet_kernel_info conv_grad_weight() {
  return kernel_info<&linear::conv_grad_weight_run<P>>(
      linear::DirectGrad<P>::fits ? linear::DirectGrad<P>::scratch
                                  : linear::ConvGradWeightBlocks<P>::scratch);
}

/// Gemm: A, B, optional C -> Y = act(alpha op(A) op(B) + beta C), C read
/// through broadcast strides P::c_rs, P::c_cs.
template <class P> void gemm_run(const float *const *in, float *const *out, const anet_cpu_rt *rt) {
  using G = linear::GemmShape<P>;
  const float *cin = P::has_c ? in[2] : nullptr;
  linear::Product<G>::run(
      rt, in[0], in[1], out[0], [](long, long &a_off, long &b_off) { a_off = b_off = 0; },
      [&](long i, long j, v16 x, sgemm::mask16 m) {
        v16 y = x * P::alpha;
        if constexpr (P::has_c) {
          const float *cp = cin + i * P::c_rs + j * P::c_cs;
          if constexpr (P::c_cs == 0)
            y += P::beta * v16(*cp);
          else
            y += P::beta * sgemm::load_masked(cp, m);
        }
        return activate16<P::act>(y, P::act_min, P::act_max);
      });
}

template <class P> constexpr anet_kernel_info gemm() {
  return kernel_info<&gemm_run<P>>(linear::Product<linear::GemmShape<P>>::scratch);
}

/// MatMul: A, B -> act(A B), batch axes broadcast: product b's operands are
/// at the offsets P::a_batch_stride . index and P::b_batch_stride . index of
/// its multi-index over P::batch_shape.
template <class P>
void matmul_run(const float *const *in, float *const *out, const anet_cpu_rt *rt) {
  using G = linear::MatMulShape<P>;
  linear::Product<G>::run(
      rt, in[0], in[1], out[0],
      [](long bi, long &a_off, long &b_off) {
        a_off = b_off = 0;
        for (long d = P::batch_shape_size - 1; d >= 0; --d) {
          const long i = bi % P::batch_shape[d];
          bi /= P::batch_shape[d];
          a_off += i * P::a_batch_stride[d];
          b_off += i * P::b_batch_stride[d];
        }
      },
      [](long, long, v16 x, sgemm::mask16) {
        return activate16<P::act>(x, P::act_min, P::act_max);
      });
}

template <class P> constexpr anet_kernel_info matmul() {
  return kernel_info<&matmul_run<P>>(linear::Product<linear::MatMulShape<P>>::scratch);
}

} // namespace ak
