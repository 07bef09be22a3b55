#pragma once
/// What every convolution kernel shares: its shapes (ConvDims), where it
/// reads its input from (Source, Block), packed weights kept in a node's
/// state (PackedTag, pack_into_state), and the output channels on the lanes
/// of the direct and Winograd kernels (MapLanes, panel_parts).

#include "anet/gemm.h"

namespace ak {
namespace linear {

using sgemm::mask16;
using sgemm::v16i;

/// Floats at the head of a worker's scratch (the key of what its packed
/// weight cache holds) or of a node's state (a PackedTag): 64 bytes, so the
/// buffers after it stay aligned.
constexpr long kHeader = 16;
/// The largest packed weight cache of a worker, in floats (4 MiB).
constexpr long kWeightCache = 1L << 20;
/// Tasks per worker to aim for when splitting small problems.
constexpr long kTasksPerWorker = 2;

/// The state header: the weights' address and the runtime's generation
/// they were packed at.
struct PackedTag {
  const float *weights;
  long generation;
};

/// True when the node's state holds weights packed from w at the runtime's
/// generation. Otherwise tags the state with them and returns false: the
/// caller packs them now.
inline bool packed_current(const anet_cpu_rt *rt, const float *w) {
  const PackedTag want{w, rt->generation};
  PackedTag held;
  __builtin_memcpy(&held, rt->state, sizeof held);
  if (held.weights == want.weights && held.generation == want.generation)
    return true;
  __builtin_memcpy(rt->state, &want, sizeof want);
  return false;
}

/// A convolution over dY whose weights are a forward convolution's,
/// transposed and flipped (TransposedConv): its row c, depth (m, r, s) is
/// the forward W[m][c][kh-1-r][kw-1-s].
template <class P>
concept FlippedWeights = requires {
  P::flipped_weights;
};

/// The shapes of a convolution node P (Conv or one of its gradients).
template <class P> struct ConvDims {
  static constexpr long cg = P::c / P::group;      ///< input channels per group
  static constexpr long mg = P::m / P::group;      ///< output channels per group
  static constexpr long taps = P::kh * P::kw;      ///< taps per input channel
  static constexpr long depth = cg * taps;         ///< rows of im2col
  static constexpr long plane = P::h * P::w;       ///< one input channel
  static constexpr long positions = P::oh * P::ow; ///< one output channel
  /// No image, output channel or output position: no product to compute.
  static constexpr bool empty = P::n == 0 || P::m == 0 || positions == 0;
  /// A 1x1 window, stride 1, no padding: im2col is X itself.
  static constexpr bool pointwise = P::kh == 1 && P::kw == 1 && P::stride_h == 1 &&
                                    P::stride_w == 1 && P::pad_top == 0 && P::pad_left == 0 &&
                                    P::oh == P::h && P::ow == P::w;
};

/// Output channels on the vector lanes (the direct and Winograd
/// convolutions): V vectors a register tile, two where a group's channels
/// allow 32; panels of 16V channels; and the most rows a tile broadcasts: 13
/// with two vectors (26 sums and 2 weight vectors in 32 registers), 14 with
/// one.
template <class P> struct MapLanes {
  static constexpr long V = ConvDims<P>::mg % 32 == 0 ? 2 : 1;
  static constexpr long lanes = 16 * V;
  static constexpr long panels = ConvDims<P>::mg / lanes;
  static constexpr long max_rows = V == 2 ? 13 : 14;
};

/// The parts a task cuts its channel panels into: 1 where the `outer`
/// tasks give every worker kTasksPerWorker; otherwise the smallest divisor
/// of `panels` that does (so the parts are even), or all of them.
inline long panel_parts(long outer, long panels, int workers) {
  const long want = kTasksPerWorker * workers;
  if (outer >= want)
    return 1;
  for (long d = 1; d < panels; ++d)
    if (panels % d == 0 && outer * d >= want)
      return d;
  return panels;
}

/// Packs a convolution's weights w into the node's state, pack(i) for each
/// of `count` pieces in parallel: every run, or for constant weights only
/// when the state does not hold them already (packed_current).
template <class P, class Pack>
void pack_into_state(const anet_cpu_rt *rt, const float *w, long count, const Pack &pack) {
  if (P::constant_weights && packed_current(rt, w))
    return;
  parallel_for(rt, count, 1, [&](long begin, long end, int) {
    for (long i = begin; i < end; ++i)
      pack(i);
  });
}

/// Where a convolution's im2col rows are read from: the image and group's
/// channels as they are (Padded false), or a Block.
template <bool Padded> struct Source {
  const float *base;
  long c0 = 0, row0 = 0, rows = 0;
};

/// A block of a convolution's input, zero padded and each row split into
/// the width stride's phases: phase f of input row ih holds, at column q,
/// X[c][ih][q*sw + f] (zero outside the image). On it, the lanes of an output
/// row read consecutive floats (a tap's column q = ow + shift) with no
/// bounds to check: a row of im2col is one masked load per output row the
/// lanes span, for a stride-4 conv1 as for a 3x3 conv.
///
/// A block holds input rows [row0, row0 + rows) (unclipped) and columns
/// [lo, lo + width) of channels [c0, c0 + channels) of one image and group:
/// phase f of channel c, row ih, column q at
///   (((c - c0)*sw + f)*rows + ih - row0)*width + q - lo.
template <class P> struct Block {
  static constexpr long sw = P::stride_w;
  /// The input column of tap s at output column 0: s*dw - pl = shift*sw +
  /// phase, 0 <= phase < sw.
  static constexpr long phase(long s) {
    const long t = s * P::dilation_w - P::pad_left;
    return (t % sw + sw) % sw;
  }
  static constexpr long shift(long s) { return (s * P::dilation_w - P::pad_left - phase(s)) / sw; }
  static constexpr long lo = shift(0);
  static constexpr long width = P::ow + shift(P::kw - 1) - lo;
  /// Worth it when 16 consecutive positions span at most 3 output rows (and
  /// the window is not a plain 1x1 read of X's planes).
  static constexpr bool fit = ceil_div(15, P::ow) + 1 <= 3 && !ConvDims<P>::pointwise;

  struct Rows {
    long row0, rows;
  };
  /// The input rows that output positions [first, first + count) read.
  static Rows rows_of(long first, long count) {
    const long oh0 = first / P::ow, oh1 = (first + count - 1) / P::ow;
    return Rows{oh0 * P::stride_h - P::pad_top,
                (oh1 - oh0) * P::stride_h + (P::kh - 1) * P::dilation_h + 1};
  }
  /// The most rows rows_of gives for `count` positions.
  static constexpr long max_rows(long count) {
    return ceil_div(count - 1, P::ow) * P::stride_h + (P::kh - 1) * P::dilation_h + 1;
  }
  /// Floats of a block of `channels` channels over max_rows(count) rows.
  static constexpr long floats(long channels, long count) {
    return channels * sw * max_rows(count) * width;
  }
  /// The offset in block `src` of im2col row (c, r, s) at output (0, 0):
  /// row_offset(c, r) + column(s).
  static long row_offset(const Source<true> &src, long c, long r) {
    return (c - src.c0) * sw * src.rows * width + r * P::dilation_h * width;
  }
  static long column(const Source<true> &src, long s) {
    return phase(s) * src.rows * width + shift(s);
  }

  /// Lanes of t whose input l*sw + phase lies in vector K of a row's 16 sw
  /// inputs take it from vk (that vector); the others keep t's.
  template <long K, long Phase, int... L>
  static v16 merge(v16 t, v16 vk, sgemm::lane_seq<int, L...>) {
    return __builtin_shufflevector(
        t, vk, ((L * sw + Phase) / 16 == K ? int(16 + L * sw + Phase - 16 * K) : L)...);
  }
  /// Phase `Phase` of the 16 sw inputs in v: lane l = input l*sw + Phase.
  template <long Phase, int... K> static v16 pick(const v16 *v, sgemm::lane_seq<int, K...>) {
    v16 t = v16(0.f);
    ((t = merge<K, Phase>(t, v[K], sgemm::lanes16{})), ...);
    return t;
  }
  /// Stores each phase of the 16 sw inputs in v: phase f to d + f*stride.
  template <int... Phase>
  static void put_phases(float *d, long stride, const v16 *v, mask16 m,
                         sgemm::lane_seq<int, Phase...>) {
    (sgemm::store_masked(d + Phase * stride,
                         pick<Phase>(v, __make_integer_seq<sgemm::lane_seq, int, sw>{}), m),
     ...);
  }

  /// Writes the block of channels [c0, c0 + channels) and rows `r` of the
  /// image and group at xg into dst: per 16 columns of the phases, sw
  /// vectors of the row in (zero outside it), one vector of each phase out.
  static void fill(float *dst, const float *xg, long c0, long channels, Rows r) {
    const long stride = r.rows * width;
    for (long c = 0; c < channels; ++c)
      for (long i = 0; i < r.rows; ++i) {
        const long ih = r.row0 + i;
        float *d = dst + c * sw * stride + i * width;
        if (static_cast<unsigned long>(ih) >= static_cast<unsigned long>(P::h)) {
          for (long f = 0; f < sw; ++f)
            for (long q = 0; q < width; q += 16)
              sgemm::store_masked(d + f * stride + q, v16(0.f), sgemm::first_lanes(width - q));
          continue;
        }
        const float *src = xg + ((c0 + c) * P::h + ih) * P::w;
        for (long q = 0; q < width; q += 16) {
          const long at = (lo + q) * sw;
          v16 v[sw];
#pragma clang loop unroll(full)
          for (long k = 0; k < sw; ++k) {
            const v16i iw = sgemm::kLanes + static_cast<int>(at + 16 * k);
            v[k] = sgemm::load_masked(src + (at + 16 * k), sgemm::lanes_below(iw, P::w));
          }
          put_phases(d + q, stride, v, sgemm::first_lanes(width - q),
                     __make_integer_seq<sgemm::lane_seq, int, sw>{});
        }
      }
  }
};

} // namespace linear
} // namespace ak
