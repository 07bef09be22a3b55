#pragma once
/// Winograd F(2x2, 3x3) for Conv with a 3 x 3 window at unit strides and
/// dilations, and so for its ConvGradInput (a TransposedConv, linear.h): 16
/// multiplies per 2 x 2 outputs and input channel, where a direct
/// convolution spends 36.
///
/// Per image and group (Lavin and Gray, "Fast Algorithms for Convolutional
/// Neural Networks", 2016; correlation, as Conv computes):
/// - input tiles: the 4 x 4 inputs of each 2 x 2 outputs, V = B^T d B, stored
///   V[xi][c][tile] (xi = 4a + b, the 16 entries of the transform). Each
///   input row is loaded as two masked vectors (zeros outside the image),
///   split into even and odd columns by shuffles, so a row of tiles is one
///   vector per entry;
/// - weights: U = G g G^T, packed once per run (once for all runs when
///   constant) into the node's state as [panel][xi][c][16V];
/// - 16 products M[xi][tile][m] = sum over c of V[xi][c][tile] U[xi][c][m],
///   each tile of R tiles x 16V maps in registers (sgemm::rank1_update, the
///   tiles broadcast where V holds them), stored transposed as M[xi][m][tile];
/// - outputs: Y = A^T M A, plus bias and activation, two rows of outputs per
///   row of tiles, the even and odd columns interleaved by shuffles.
/// The transforms' constants are 1 and 1/2, so the sums round about as a
/// direct convolution's do.

#include "anet/activation.h"
#include "anet/conv_input.h"
#include "anet/gemm.h"

namespace ak {
namespace linear {

/// The blocking of a Winograd convolution P.
template <class P> struct Winograd : MapLanes<P> {
  using D = ConvDims<P>;
  using MapLanes<P>::V, MapLanes<P>::lanes, MapLanes<P>::panels, MapLanes<P>::max_rows;
  /// Rows and columns of 2 x 2 tiles, and their count.
  static constexpr long th = ceil_div(P::oh, 2), tw = ceil_div(P::ow, 2);
  static constexpr long tiles = th * tw;
  /// The tiles in near-equal blocks of at most max_rows.
  static constexpr long blocks = max_of(1L, ceil_div(tiles, max_rows));
  static constexpr long R = ceil_div(tiles, blocks);
  static constexpr long last_r = tiles - (blocks - 1) * R;
  /// Per worker: V (16 x cg x tiles) and M (16 x lanes x tiles).
  static constexpr long v_floats = round_up(16 * D::cg * tiles, 16);
  static constexpr long scratch = v_floats + 16 * lanes * tiles;
  static constexpr long state = kHeader + P::group * 16 * D::cg * D::mg;
  /// A row of tiles is one vector (2 tw + 2 input columns in two): at most
  /// 15 tiles, 30 outputs, a row.
  static constexpr bool fits = !D::empty && P::kh == 3 && P::kw == 3 && P::stride_h == 1 &&
                               P::stride_w == 1 && P::dilation_h == 1 && P::dilation_w == 1 &&
                               D::mg % 16 == 0 && tw <= 15 && R >= 6 && v_floats <= kWeightCache;
};

namespace wino {

/// The 1-D input transform B^T x: (x0 - x2, x1 + x2, x2 - x1, x1 - x3).
inline void input4(const v16 (&x)[4], v16 (&y)[4]) {
  y[0] = x[0] - x[2];
  y[1] = x[1] + x[2];
  y[2] = x[2] - x[1];
  y[3] = x[1] - x[3];
}

/// Lane l = v's lane l + 1 (zero past the end).
inline v16 next_lane(v16 v) {
  return __builtin_shufflevector(v, v16(0.f), 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
                                 16);
}

} // namespace wino

/// Packs channel panel p of group g's weights as U = G g G^T: [xi][c][lanes];
/// for a TransposedConv, g is the forward weights transposed and flipped.
template <class P> void pack_winograd_panel(float *dst, const float *w, long g, long p) {
  using D = ConvDims<P>;
  using T = Winograd<P>;
  for (long c = 0; c < D::cg; ++c)
    for (long v = 0; v < T::V; ++v) {
      const long map = p * T::lanes + 16 * v; // lane l: map + l of the group
      // Tap (r, s) of lane l at base[tap(r, s) + l * step].
      const float *base;
      long step;
      auto tap = [](long r, long s) { return FlippedWeights<P> ? 8 - 3 * r - s : 3 * r + s; };
      if constexpr (FlippedWeights<P>) {
        // The forward W[group * cg + c][mg][3][3] (cg, mg: this conv's).
        base = w + ((g * D::cg + c) * D::mg + map) * 9;
        step = 9;
      } else {
        base = w + ((g * D::mg + map) * D::cg + c) * 9;
        step = D::cg * 9;
      }
      const v16i lanes = sgemm::kLanes * static_cast<int>(step);
      v16 k[3][3];
      for (long r = 0; r < 3; ++r)
        for (long s = 0; s < 3; ++s)
          k[r][s] = sgemm::gather(base + tap(r, s), lanes, mask16(0xFFFF));
      // G k: rows (k0, (k0 + k1 + k2) / 2, (k0 - k1 + k2) / 2, k2), then the
      // same along the columns.
      v16 gk[4][3];
      for (long s = 0; s < 3; ++s) {
        gk[0][s] = k[0][s];
        gk[1][s] = 0.5f * (k[0][s] + k[1][s] + k[2][s]);
        gk[2][s] = 0.5f * (k[0][s] - k[1][s] + k[2][s]);
        gk[3][s] = k[2][s];
      }
      for (long a = 0; a < 4; ++a) {
        const v16 u[4] = {gk[a][0], 0.5f * (gk[a][0] + gk[a][1] + gk[a][2]),
                          0.5f * (gk[a][0] - gk[a][1] + gk[a][2]), gk[a][2]};
        for (long b = 0; b < 4; ++b)
          sgemm::store_aligned(dst + ((4 * a + b) * D::cg + c) * T::lanes + 16 * v, u[b]);
      }
    }
}

/// V = B^T d B of channels [0, cg) of the image and group at xg, every tile,
/// into v ([xi][c][tile]).
template <class P> void winograd_inputs(float *v, const float *xg) {
  using D = ConvDims<P>;
  using T = Winograd<P>;
  const long span = 2 * T::tw + 2; // input columns of a row of tiles
  const long w0 = -P::pad_left;
  const mask16 lo = static_cast<mask16>(sgemm::first_lanes(P::w - w0) & ~sgemm::first_lanes(-w0) &
                                        sgemm::first_lanes(span));
  const mask16 hi =
      static_cast<mask16>(sgemm::first_lanes(P::w - w0 - 16) & ~sgemm::first_lanes(-w0 - 16) &
                          sgemm::first_lanes(span - 16));
  const mask16 out = sgemm::first_lanes(T::tw);
  for (long c = 0; c < D::cg; ++c)
    for (long ty = 0; ty < T::th; ++ty) {
      // Per input row i: the columns of each tile's 4 x 4 (even, odd, and
      // both one tile on), transformed along the columns.
      v16 cols[4][4];
      for (long i = 0; i < 4; ++i) {
        const long ih = 2 * ty - P::pad_top + i;
        v16 e = v16(0.f), o = v16(0.f);
        if (static_cast<unsigned long>(ih) < static_cast<unsigned long>(P::h)) {
          const float *row = xg + (c * P::h + ih) * P::w + w0;
          const v16 a = sgemm::load_masked(row, lo), b = sgemm::load_masked(row + 16, hi);
          e = __builtin_shufflevector(a, b, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28,
                                      30);
          o = __builtin_shufflevector(a, b, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29,
                                      31);
        }
        const v16 x[4] = {e, o, wino::next_lane(e), wino::next_lane(o)};
        v16 y[4];
        wino::input4(x, y);
        for (long b = 0; b < 4; ++b)
          cols[b][i] = y[b];
      }
      // Then along the rows: entry (a, b) of every tile in the row.
      for (long b = 0; b < 4; ++b) {
        v16 y[4];
        wino::input4(cols[b], y);
        for (long a = 0; a < 4; ++a)
          sgemm::store_masked(v + ((4 * a + b) * D::cg + c) * T::tiles + ty * T::tw, y[a], out);
      }
    }
}

/// M[xi][m][t0, t0 + W) = sum over c of V[xi][c][t0 + i] U[xi][c][m] for one
/// channel panel: u at the panel's entry xi, v at V's entry xi and tile t0,
/// m at M's entry xi and tile t0.
template <class P, long W>
__attribute__((always_inline)) inline void
winograd_tile(const float *__restrict v, const float *__restrict u, float *__restrict m) {
  using D = ConvDims<P>;
  using T = Winograd<P>;
  v16 acc[W][T::V];
  sgemm::zero_tile(acc);
  for (long c = 0; c < D::cg; ++c) {
    const float *vc = v + c * T::tiles;
    sgemm::rank1_update(acc, u + c * T::lanes, [&](long i) { return vc[i]; });
  }
  sgemm::store_transposed(acc, m, T::tiles, [](long, v16 x) { return x; });
}

/// Y = A^T M A for one channel panel's maps (m: M[xi][map][tile]), plus the
/// bias and activation, into y (the panel's first map).
template <class P> void winograd_outputs(float *y, const float *m, const float *bias) {
  using D = ConvDims<P>;
  using T = Winograd<P>;
  const mask16 in = sgemm::first_lanes(T::tw);
  for (long map = 0; map < T::lanes; ++map)
    for (long ty = 0; ty < T::th; ++ty) {
      v16 x[16];
      for (long xi = 0; xi < 16; ++xi)
        x[xi] = sgemm::load_masked(m + (xi * T::lanes + map) * T::tiles + ty * T::tw, in);
      // A^T along the rows: (x0 + x1 + x2, x1 - x2 - x3) of each column b.
      v16 s[2][4];
      for (long b = 0; b < 4; ++b) {
        s[0][b] = x[b] + x[4 + b] + x[8 + b];
        s[1][b] = x[4 + b] - x[8 + b] - x[12 + b];
      }
      for (long a = 0; a < 2; ++a) {
        const long oh = 2 * ty + a;
        if (oh >= P::oh)
          break;
        v16 even = s[a][0] + s[a][1] + s[a][2], odd = s[a][1] - s[a][2] - s[a][3];
        if constexpr (P::has_bias) {
          even += bias[map];
          odd += bias[map];
        }
        even = activate16<P::act>(even, P::act_min, P::act_max);
        odd = activate16<P::act>(odd, P::act_min, P::act_max);
        const v16 first = __builtin_shufflevector(even, odd, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5,
                                                  21, 6, 22, 7, 23);
        const v16 second = __builtin_shufflevector(even, odd, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28,
                                                   13, 29, 14, 30, 15, 31);
        float *row = y + map * D::positions + oh * P::ow;
        sgemm::store_masked(row, first, sgemm::first_lanes(P::ow));
        if (P::ow > 16)
          sgemm::store_masked(row + 16, second, sgemm::first_lanes(P::ow - 16));
      }
    }
}

/// Conv by Winograd F(2x2, 3x3): X[N,C,H,W], W[M,C/group,3,3], optional B[M]
/// -> Y[N,M,OH,OW].
template <class P>
void winograd_run(const float *const *in, float *const *out, const anet_cpu_rt *rt) {
  using D = ConvDims<P>;
  using T = Winograd<P>;
  const float *x = in[0], *w = in[1];
  const float *bias = P::has_bias ? in[2] : nullptr;
  float *y = out[0];
  float *packed = rt->state + kHeader;
  constexpr long panel_floats = 16 * D::cg * T::lanes;
  pack_into_state<P>(rt, w, P::group * T::panels, [&](long gp) {
    pack_winograd_panel<P>(packed + gp * panel_floats, w, gp / T::panels, gp % T::panels);
  });
  // Where images and groups leave workers idle (batch 1), tasks also take
  // parts of the channel panels; each part transforms the inputs again.
  const long outer = P::n * P::group;
  const long parts = panel_parts(outer, T::panels, rt->workers);
  const long per_part = T::panels / parts;
  parallel_for(rt, outer * parts, 1, [&](long begin, long end, int worker) {
    float *v = rt->scratch[worker], *m = v + T::v_floats;
    long transformed = -1;
    for (long t = begin; t < end; ++t) {
      const long task = t / parts, p0 = t % parts * per_part;
      const long g = task % P::group, img = task / P::group;
      if (transformed != task) {
        winograd_inputs<P>(v, x + (img * P::c + g * D::cg) * D::plane);
        transformed = task;
      }
      for (long p = p0; p < p0 + per_part; ++p) {
        const float *u = packed + (g * T::panels + p) * panel_floats;
        for (long xi = 0; xi < 16; ++xi) {
          const float *vx = v + xi * D::cg * T::tiles, *ux = u + xi * D::cg * T::lanes;
          float *mx = m + xi * T::lanes * T::tiles;
          for (long b = 0; b < T::blocks - 1; ++b)
            winograd_tile<P, T::R>(vx + b * T::R, ux, mx + b * T::R);
          constexpr long last = (T::blocks - 1) * T::R;
          winograd_tile<P, T::last_r>(vx + last, ux, mx + last);
        }
        winograd_outputs<P>(y + (img * P::m + g * D::mg + p * T::lanes) * D::positions, m,
                            P::has_bias ? bias + g * D::mg + p * T::lanes : nullptr);
      }
    }
  });
}

} // namespace linear
} // namespace ak
