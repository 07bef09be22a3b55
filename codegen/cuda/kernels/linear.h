#pragma once
/// CUDA kernels of the ops that multiply and accumulate: Conv, Gemm, MatMul
/// and the convolution gradients ConvGradInput and ConvGradWeight, reading
/// the parameter structs of codegen/cpu/emit_linear.cpp as the CPU
/// library's linear.h does.
///
/// Every op is one or a batch of products C = A B run by the same tiled
/// GEMM: a block of 256 threads computes a tile of C (128 x 128, 64 x 64, or
/// 16 x 256 and the like for products with few rows or columns) in depth
/// slices of 16. Each slice of A and B is staged in shared memory, then
/// every thread of the 16 x 16 grid adds it into its micro-tile of registers
/// (rows ty + 16 r, columns tx + 16 c) while reading its part of the next
/// slice into registers. Blocks loop block-stride over the tiles, so any
/// grid computes every tile. The operands are read through functions of (row, depth) and
/// (depth, column), so the convolutions never form im2col:
///
/// - Conv, per group: Y[Mg, N*OH*OW] = W[Mg, Cg*KH*KW] im2col(X); bias and
///   the fused activation are the epilogue.
/// - ConvGradInput, per group: dX[Cg, N*H*W] = W^T[Cg, Mg*KH*KW] dY', where
///   dY'((m, r, s), (n, ih, iw)) is the output that input (ih, iw) meets at
///   tap (r, s), or zero where none does: each thread owns its inputs, so no
///   two threads write one element.
/// - ConvGradWeight, per group: dW[Mg, Cg*KH*KW] = dY[Mg, N*OH*OW]
///   im2col(X)^T, the sum over images and positions in one depth.
/// - Gemm: one product, A and B read through their transposes; alpha, beta
///   and C (broadcast) and the activation are the epilogue.
/// - MatMul: a batch of row-major products, batch axes broadcast.
///
/// A product with few tiles and a long depth (ConvGradWeight: conv1's is 96
/// x 363 summed over 387,200; Gemm: fc6's) splits its depth among blocks
/// (split_k), so that it keeps the GPU busy.
///
/// Sums run in depth order per element but in fp32 FMA steps, so results
/// match the reference to rounding (the tests' tolerance), not bit for bit.

#include "anet/activation.h"
#include "anet/base.h"

namespace ac {
namespace linear {

/// Depth of one slice of A and B staged in shared memory.
constexpr long kSlice = 16;
/// The side of the thread grid that computes a tile: a 16 x 16 grid of
/// micro-tiles, one per thread of the block's 256.
constexpr long kSide = 16;
/// The threads of that grid.
constexpr long kGridThreads = kSide * kSide;

/// The tile of a product of Rows x Cols outputs: 128 x 128 (8 x 8 per
/// thread: 16 shared-memory loads feed 64 FMAs) where both sides are longer
/// than 64; else 4096 outputs, 64 x 64 unless the product is narrow along
/// one side (16 x 256 for one row).
template <long Rows, long Cols> struct TileShape {
  static constexpr long rows = Rows <= 16                 ? 16
                               : Cols <= 16               ? 256
                               : Rows <= 32               ? 32
                               : Cols <= 32               ? 128
                               : Rows <= 64 || Cols <= 64 ? 64
                                                          : 128;
  static constexpr long cols = (rows == 128 ? 16384 : 4096) / rows;
};

/// Runs f(b, i0, j0) for every tile of `batch` products of rows x cols
/// outputs, tiles T (TileShape), one block per tile.
template <class T, class F>
__device__ __forceinline__ void for_each_tile(long batch, long rows, long cols, F f) {
  const long row_tiles = ceil_div(rows, T::rows), col_tiles = ceil_div(cols, T::cols);
  block_stride(batch * row_tiles * col_tiles, [&](long t) {
    const long j = t % col_tiles, i = t / col_tiles % row_tiles, b = t / col_tiles / row_tiles;
    f(b, i * T::rows, j * T::cols);
  });
}

/// The tile of C = A B at rows [i0, i0 + T::rows) and columns [j0, j0 +
/// T::cols), clipped to rows x cols, summed over depths [k_begin, k_end):
/// out(i, j, sum) for each element inside. a_at(i, k) and b_at(k, j) read A and B (asked only
/// inside rows, cols and depth). kARowsFast says A's consecutive rows are
/// adjacent in memory (else its consecutive depths), kBColsFast the same of
/// B's columns: the threads staging a slice then read adjacent addresses.
/// Every thread of the block calls it (it synchronises the block), and the
/// block has kGridThreads (256) threads: one per micro-tile; any other size
/// traps.
template <class T, bool kARowsFast, bool kBColsFast, class A, class B, class Out>
__device__ __forceinline__ void multiply_tile(long i0, long j0, long rows, long cols, long k_begin,
                                              long k_end, const A &a_at, const B &b_at,
                                              const Out &out) {
  constexpr long tm = T::rows, tn = T::cols, rm = tm / kSide, rn = tn / kSide;
  // Padded by one column, so that staging along the depth hits distinct banks.
  __shared__ float as[kSlice][tm + 1];
  __shared__ float bs[kSlice][tn + 1];
  // Element e of a slice of A (tm x kSlice) or B (kSlice x tn): its row or
  // column and its depth, the fast one first along e.
  auto a_of = [](int e, int &i, int &k) {
    i = kARowsFast ? e % tm : e / kSlice;
    k = kARowsFast ? e / tm : e % kSlice;
  };
  auto b_of = [](int e, int &j, int &k) {
    j = kBColsFast ? e % tn : e / kSlice;
    k = kBColsFast ? e / tn : e % kSlice;
  };
  auto a_value = [&](long k0, int e) {
    int i, k;
    a_of(e, i, k);
    return i0 + i < rows && k0 + k < k_end ? a_at(i0 + i, k0 + k) : 0.f;
  };
  auto b_value = [&](long k0, int e) {
    int j, k;
    b_of(e, j, k);
    return j0 + j < cols && k0 + k < k_end ? b_at(k0 + k, j0 + j) : 0.f;
  };
  // One thread per micro-tile (the host launches kBlockThreads = 256), its
  // rows ty + 16 r and columns tx + 16 c. Each thread reads its elements of
  // the next slice from global memory into registers while the block
  // multiplies the staged one, so the loads' latency hides behind the FMAs.
  if (blockDim.x != kGridThreads)
    __trap();
  const int tid = threadIdx.x, ty = tid / kSide, tx = tid % kSide;
  constexpr int la = tm * kSlice / kGridThreads, lb = tn * kSlice / kGridThreads;
  float pa[la], pb[lb];
  auto fetch = [&](long k0) {
#pragma unroll
    for (int n = 0; n < la; ++n)
      pa[n] = a_value(k0, tid + n * kGridThreads);
#pragma unroll
    for (int n = 0; n < lb; ++n)
      pb[n] = b_value(k0, tid + n * kGridThreads);
  };
  float acc[rm][rn] = {};
  if (k_begin < k_end)
    fetch(k_begin);
  for (long k0 = k_begin; k0 < k_end; k0 += kSlice) {
#pragma unroll
    for (int n = 0; n < la; ++n) {
      int i, k;
      a_of(tid + n * kGridThreads, i, k);
      as[k][i] = pa[n];
    }
#pragma unroll
    for (int n = 0; n < lb; ++n) {
      int j, k;
      b_of(tid + n * kGridThreads, j, k);
      bs[k][j] = pb[n];
    }
    __syncthreads();
    if (k0 + kSlice < k_end)
      fetch(k0 + kSlice);
#pragma unroll
    for (int k = 0; k < kSlice; ++k) {
      float a[rm], b[rn];
#pragma unroll
      for (int r = 0; r < rm; ++r)
        a[r] = as[k][ty + kSide * r];
#pragma unroll
      for (int c = 0; c < rn; ++c)
        b[c] = bs[k][tx + kSide * c];
#pragma unroll
      for (int r = 0; r < rm; ++r)
#pragma unroll
        for (int c = 0; c < rn; ++c)
          acc[r][c] = fmaf(a[r], b[c], acc[r][c]);
    }
    __syncthreads();
  }
#pragma unroll
  for (int r = 0; r < rm; ++r)
#pragma unroll
    for (int c = 0; c < rn; ++c) {
      const long i = i0 + ty + kSide * r, j = j0 + tx + kSide * c;
      if (i < rows && j < cols)
        out(i, j, acc[r][c]);
    }
}

/// `batch` products of rows x cols outputs over `depth`, tiles T, with the
/// depth split `Splits` ways (split-K) for products with few tiles and a long
/// depth. tile(b, i0, j0, k_begin, k_end, store) sums one tile over depths
/// [k_begin, k_end) into store(i, j, sum) (multiply_tile); out(b, i, j, sum)
/// takes each element's whole sum (the epilogue). Unsplit, store is out. Else
/// each block sums one slice of one tile into `scratch` (Splits partial
/// products, then one arrival counter per tile, zero between launches), and
/// the tile's last slice to arrive adds the slices in order: the result does
/// not depend on the order the blocks ran in.
template <class T, long Splits, class Tile, class Out>
__device__ __forceinline__ void split_k(long batch, long rows, long cols, long depth, void *scratch,
                                        const Tile &tile, const Out &out) {
  if constexpr (Splits == 1) {
    for_each_tile<T>(batch, rows, cols, [&](long b, long i0, long j0) {
      tile(b, i0, j0, 0, depth, [&](long i, long j, float sum) { out(b, i, j, sum); });
    });
  } else {
    float *partial = static_cast<float *>(scratch);
    const long outputs = batch * rows * cols;
    unsigned *arrivals = reinterpret_cast<unsigned *>(partial + Splits * outputs);
    // Slices of whole staging depths.
    const long per_split = ceil_div(ceil_div(depth, Splits), kSlice) * kSlice;
    const long row_tiles = ceil_div(rows, T::rows), col_tiles = ceil_div(cols, T::cols);
    __shared__ bool last;
    block_stride(batch * row_tiles * col_tiles * Splits, [&](long t) {
      const long split = t % Splits, index = t / Splits;
      const long j0 = index % col_tiles * T::cols, i0 = index / col_tiles % row_tiles * T::rows;
      const long b = index / col_tiles / row_tiles;
      const long k_begin = min_of(split * per_split, depth);
      float *slice = partial + split * outputs + b * rows * cols;
      tile(b, i0, j0, k_begin, min_of(k_begin + per_split, depth),
           [&](long i, long j, float sum) { slice[i * cols + j] = sum; });
      __threadfence();
      __syncthreads();
      if (threadIdx.x == 0)
        last = atomicAdd(&arrivals[index], 1u) == Splits - 1;
      __syncthreads();
      if (last) {
        __threadfence();
        const volatile float *slices = partial + b * rows * cols;
        for (long e = threadIdx.x; e < T::rows * T::cols; e += blockDim.x) {
          const long i = i0 + e / T::cols, j = j0 + e % T::cols;
          if (i >= rows || j >= cols)
            continue;
          float sum = 0.f;
          for (long s = 0; s < Splits; ++s)
            sum += slices[s * outputs + i * cols + j];
          out(b, i, j, sum);
        }
        if (threadIdx.x == 0)
          arrivals[index] = 0; // ready for the next launch
      }
      __syncthreads(); // `last` is rewritten for the next tile
    });
  }
}

/// The shapes of a convolution node P (Conv or one of its gradients), as
/// int: the emitters refuse inputs of 2^31 elements or more, and 32-bit
/// index arithmetic is several times cheaper than 64-bit on a GPU.
template <class P> struct ConvDims {
  static constexpr int n = P::n, c = P::c, h = P::h, w = P::w, m = P::m;
  static constexpr int kh = P::kh, kw = P::kw, oh = P::oh, ow = P::ow;
  static constexpr int stride_h = P::stride_h, stride_w = P::stride_w;
  static constexpr int pad_top = P::pad_top, pad_left = P::pad_left;
  static constexpr int dilation_h = P::dilation_h, dilation_w = P::dilation_w;
  static constexpr int cg = c / P::group;       ///< input channels per group
  static constexpr int mg = m / P::group;       ///< output channels per group
  static constexpr int taps = kh * kw;          ///< taps per input channel
  static constexpr int depth = cg * taps;       ///< rows of im2col
  static constexpr int plane = h * w;           ///< one input channel
  static constexpr int positions = oh * ow;     ///< one output channel
  static constexpr int outputs = n * positions; ///< columns of im2col
  static constexpr int inputs = n * plane;      ///< columns of dX per channel
};

/// im2col(X) at row `tap` (c, r, s) and column `col` (image, oh, ow) of one
/// group, whose first channel of image 0 is at xg: X[image][c][oh*sh - pt +
/// r*dh][ow*sw - pl + s*dw], zero in the padding. Needs positions > 0.
template <class P> __device__ __forceinline__ float im2col_at(const float *xg, int tap, int col) {
  using D = ConvDims<P>;
  const int c = tap / D::taps, r = tap % D::taps / D::kw, s = tap % D::kw;
  const int image = col / D::positions, p = col % D::positions;
  const int ih = p / D::ow * D::stride_h - D::pad_top + r * D::dilation_h;
  const int iw = p % D::ow * D::stride_w - D::pad_left + s * D::dilation_w;
  if (ih < 0 || ih >= D::h || iw < 0 || iw >= D::w)
    return 0.f;
  return xg[((image * D::c + c) * D::h + ih) * D::w + iw];
}

} // namespace linear

/// Conv: X[N,C,H,W], W[M,C/group,KH,KW], optional B[M] -> Y[N,M,OH,OW] =
/// act(W * X + B), per group an implicit GEMM over im2col(X) with the bias
/// and activation as its epilogue.
template <class P> __device__ void conv(const anet_cuda_args &args) {
  using D = linear::ConvDims<P>;
  using T = linear::TileShape<D::mg, D::outputs>;
  if constexpr (D::outputs > 0) {
    const float *x = args.in[0], *w = args.in[1];
    const float *bias = P::has_bias ? args.in[2] : nullptr;
    float *y = args.out[0];
    linear::for_each_tile<T>(P::group, D::mg, D::outputs, [&](long g, long i0, long j0) {
      const float *wg = w + g * D::mg * D::depth, *xg = x + g * D::cg * D::plane;
      linear::multiply_tile<T, false, true>(
          i0, j0, D::mg, D::outputs, 0, D::depth,
          [&](int i, int k) { return wg[i * D::depth + k]; },
          [&](int k, int j) { return linear::im2col_at<P>(xg, k, j); },
          [&](long i, long j, float sum) {
            const long m = g * D::mg + i;
            if constexpr (P::has_bias)
              sum += bias[m];
            y[(j / D::positions * P::m + m) * D::positions + j % D::positions] = activate_p<P>(sum);
          });
    });
  }
}

/// ConvGradInput: dY[N,M,OH,OW], W[M,C/group,KH,KW] -> dX[N,C,H,W], the
/// gradient of Conv's input: dX[n][c][ih][iw] = sum over the group's maps m
/// and taps (r, s) of W[m][c][r][s] dY[n][m][oh][ow] where ih = oh*sh - pt +
/// r*dh and iw = ow*sw - pl + s*dw. Per group an implicit GEMM whose columns
/// are the inputs; a tap that meets no output reads zero.
template <class P> __device__ void conv_grad_input(const anet_cuda_args &args) {
  using D = linear::ConvDims<P>;
  using T = linear::TileShape<D::cg, D::inputs>;
  if constexpr (D::inputs > 0) {
    const float *dy = args.in[0], *w = args.in[1];
    float *dx = args.out[0];
    constexpr long depth = D::mg * D::taps;
    linear::for_each_tile<T>(P::group, D::cg, D::inputs, [&](long g, long i0, long j0) {
      const float *wg = w + g * D::mg * D::depth;
      const float *dyg = dy + g * D::mg * D::positions;
      linear::multiply_tile<T, D::taps == 1, true>(
          i0, j0, D::cg, D::inputs, 0, depth,
          [&](int i, int k) { return wg[(k / D::taps * D::cg + i) * D::taps + k % D::taps]; },
          [&](int k, int j) {
            const int m = k / D::taps, r = k % D::taps / D::kw, s = k % D::kw;
            const int image = j / D::plane, ih = j % D::plane / D::w, iw = j % D::w;
            const int th = ih + D::pad_top - r * D::dilation_h;
            const int tw = iw + D::pad_left - s * D::dilation_w;
            if (th < 0 || tw < 0 || th % D::stride_h != 0 || tw % D::stride_w != 0)
              return 0.f;
            const int oh = th / D::stride_h, ow = tw / D::stride_w;
            if (oh >= D::oh || ow >= D::ow)
              return 0.f;
            return dyg[((image * D::m + m) * D::oh + oh) * D::ow + ow];
          },
          [&](long i, long j, float sum) {
            dx[(j / D::plane * P::c + g * D::cg + i) * D::plane + j % D::plane] = sum;
          });
    });
  }
}

/// ConvGradWeight: X[N,C,H,W], dY[N,M,OH,OW] -> dW[M,C/group,KH,KW], the
/// gradient of Conv's weight: dW[m][c][r][s] = sum over images and output
/// positions of dY[n][m][oh][ow] im2col(X)[(c, r, s)][(n, oh, ow)]. Per
/// group an implicit GEMM whose depth is every image's positions (zero where
/// there are none), split P::splits ways (codegen/cuda/emit.cpp).
template <class P> __device__ void conv_grad_weight(const anet_cuda_args &args) {
  using D = linear::ConvDims<P>;
  using T = linear::TileShape<D::mg, D::depth>;
  const float *x = args.in[0], *dy = args.in[1];
  float *dw = args.out[0];
  linear::split_k<T, P::splits>(
      P::group, D::mg, D::depth, D::outputs, args.scratch,
      [&](long g, long i0, long j0, long k_begin, long k_end, const auto &store) {
        const float *xg = x + g * D::cg * D::plane;
        const float *dyg = dy + g * D::mg * D::positions;
        linear::multiply_tile<T, false, false>(
            i0, j0, D::mg, D::depth, k_begin, k_end,
            [&](int i, int k) {
              if constexpr (D::positions > 0)
                return dyg[(k / D::positions * D::m + i) * D::positions + k % D::positions];
              else
                return 0.f;
            },
            [&](int k, int j) {
              if constexpr (D::positions > 0)
                return linear::im2col_at<P>(xg, j, k);
              else
                return 0.f;
            },
            store);
      },
      [&](long g, long i, long j, float sum) { dw[(g * D::mg + i) * D::depth + j] = sum; });
}

/// Gemm: A, B, optional C -> Y[M,N] = act(alpha op(A) op(B) + beta C), op
/// transposing when P::trans_a / P::trans_b, C read through the broadcast
/// strides P::c_rs, P::c_cs; the depth split P::splits ways (fc6 at batch
/// 128 has 128 tiles of 9216 depths).
template <class P> __device__ void gemm(const anet_cuda_args &args) {
  using T = linear::TileShape<P::m, P::n>;
  constexpr int m = P::m, n = P::n, depth = P::k; // 32-bit indices, as ConvDims
  const float *a = args.in[0], *b = args.in[1];
  const float *c = P::has_c ? args.in[2] : nullptr;
  float *y = args.out[0];
  linear::split_k<T, P::splits>(
      1, P::m, P::n, P::k, args.scratch,
      [&](long, long i0, long j0, long k_begin, long k_end, const auto &store) {
        linear::multiply_tile<T, P::trans_a, !P::trans_b>(
            i0, j0, P::m, P::n, k_begin, k_end,
            [&](int i, int k) { return P::trans_a ? a[k * m + i] : a[i * depth + k]; },
            [&](int k, int j) { return P::trans_b ? b[j * depth + k] : b[k * n + j]; }, store);
      },
      [&](long, long i, long j, float sum) {
        float v = P::alpha * sum;
        if constexpr (P::has_c)
          v += P::beta * c[i * P::c_rs + j * P::c_cs];
        y[i * P::n + j] = activate_p<P>(v);
      });
}

/// MatMul: A, B -> act(A B) over a batch of row-major products [M,K] x
/// [K,N] (a 1-D A is one row, a 1-D B one column): product b's operands are
/// at P::a_batch_stride . index and P::b_batch_stride . index of its
/// multi-index over P::batch_shape, its output at b*M*N.
template <class P> __device__ void matmul(const anet_cuda_args &args) {
  using T = linear::TileShape<P::m, P::n>;
  constexpr auto shape = P::batch_shape;
  constexpr auto a_strides = P::a_batch_stride, b_strides = P::b_batch_stride;
  const float *a = args.in[0], *b = args.in[1];
  float *y = args.out[0];
  linear::for_each_tile<T>(P::batch, P::m, P::n, [&](long bi, long i0, long j0) {
    long a_off = 0, b_off = 0;
    for (long d = P::batch_shape_size - 1, rest = bi; d >= 0; --d) {
      const long index = rest % shape[d];
      rest /= shape[d];
      a_off += index * a_strides[d];
      b_off += index * b_strides[d];
    }
    const float *ab = a + a_off, *bb = b + b_off;
    float *yb = y + bi * P::m * P::n;
    linear::multiply_tile<T, false, true>(
        i0, j0, P::m, P::n, 0, P::k, [&](long i, long k) { return ab[i * P::k + k]; },
        [&](long k, long j) { return bb[k * P::n + j]; },
        [&](long i, long j, float sum) { yb[i * P::n + j] = activate_p<P>(sum); });
  });
}

} // namespace ac
