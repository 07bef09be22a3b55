#pragma once
/// CUDA kernels of the ops that only move data (Flatten, Reshape, Squeeze,
/// Unsqueeze, Transfer, Transpose, Slice, Concat, Split, Pad), reading the
/// parameter structs of codegen/cpu/emit_layout.cpp as the CPU library's
/// layout.h does. The emitter has collapsed the axes; the output is written
/// row-major, and what remains of the input is a strided view:
///
///   copy          one contiguous run (skipped when the output is the input);
///   strided_rows  rows of `inner` elements, `inner_stride` apart in the input;
///   transpose     the input's unit-stride axis is not the output's last one:
///                 32 x 32 tiles through shared memory, so that both the
///                 reads and the writes of a warp are contiguous;
///   concat/split  for each index before the axis, one run per part;
///   pad           per output element, its source element or the fill value.
///
/// Everything else is one thread per output element, grid-stride.

#include "anet/base.h"

namespace ac {
namespace layout {

/// The side of a transpose's square tile.
constexpr long kTile = 32;

} // namespace layout

/// y = x, P::n floats; nothing to do when y is x.
template <class P> __device__ void copy(const anet_cuda_args &args) {
  const float *x = args.in[0];
  float *y = args.out[0];
  if (x == y)
    return;
  grid_stride(P::n, [&](long i) { y[i] = x[i]; });
}

/// Transpose and Slice whose input rows stay rows, and Slice with any step:
/// y[r * inner + i] = x[offset + row_offset(r) + i * inner_stride], where
/// row_offset decodes r over outer_dims with outer_strides. P: offset, rows,
/// outer_dims[], outer_strides[], inner, inner_stride.
template <class P> __device__ void strided_rows(const anet_cuda_args &args) {
  static_assert(P::outer_strides_size == P::outer_dims_size);
  constexpr auto outer_dims = P::outer_dims;
  constexpr auto outer_strides = P::outer_strides;
  const float *x = args.in[0] + P::offset;
  float *y = args.out[0];
  grid_stride(P::rows * P::inner, [&](long e) {
    const long r = e / P::inner, i = e % P::inner;
    y[e] = x[offset_of<P::outer_dims_size>(r, outer_dims, outer_strides) + i * P::inner_stride];
  });
}

/// Transpose (and Slice) whose input's unit-stride axis is not the output's
/// last: for every index o over the outer axes,
///   y[out_offset(o) + r * row_stride + c] = x[offset + in_offset(o) + r + c * col_stride]
/// for r < rows (the input's unit-stride axis) and c < cols (the output's
/// last axis). P: offset, outer, outer_dims[], outer_in_strides[],
/// outer_out_strides[], rows, row_stride, cols, col_stride.
///
/// A block moves kTile x kTile tiles: it reads a tile with consecutive
/// threads along r, and writes it with consecutive threads along c. When
/// either side is shorter than a tile, most of a tile would idle, and one
/// thread per output element (consecutive along c, then r) reads and writes
/// short contiguous runs instead.
template <class P> __device__ void transpose(const anet_cuda_args &args) {
  using layout::kTile;
  static_assert(P::outer_in_strides_size == P::outer_dims_size &&
                P::outer_out_strides_size == P::outer_dims_size);
  constexpr auto outer_dims = P::outer_dims;
  constexpr auto outer_in = P::outer_in_strides;
  constexpr auto outer_out = P::outer_out_strides;
  constexpr long rank = P::outer_dims_size;
  const float *x = args.in[0] + P::offset;
  float *y = args.out[0];
  if constexpr (P::rows < kTile || P::cols < kTile) {
    grid_stride(P::outer * P::rows * P::cols, [&](long e) {
      const long c = e % P::cols, r = e / P::cols % P::rows, o = e / (P::cols * P::rows);
      y[offset_of<rank>(o, outer_dims, outer_out) + r * P::row_stride + c] =
          x[offset_of<rank>(o, outer_dims, outer_in) + r + c * P::col_stride];
    });
  } else {
    // One column of padding keeps the column-wise reads free of bank conflicts.
    __shared__ float tile[kTile][kTile + 1];
    constexpr long row_tiles = (P::rows + kTile - 1) / kTile;
    constexpr long col_tiles = (P::cols + kTile - 1) / kTile;
    block_stride(P::outer * row_tiles * col_tiles, [&](long t) {
      const long c0 = t % col_tiles * kTile, r0 = t / col_tiles % row_tiles * kTile;
      const long o = t / (col_tiles * row_tiles);
      const float *xo = x + offset_of<rank>(o, outer_dims, outer_in);
      float *yo = y + offset_of<rank>(o, outer_dims, outer_out);
      const long r_end = min_of(kTile, P::rows - r0), c_end = min_of(kTile, P::cols - c0);
      // The previous tile's writes are done before this one overwrites it.
      __syncthreads();
      for (long k = threadIdx.x; k < kTile * kTile; k += blockDim.x) {
        const long r = k % kTile, c = k / kTile;
        if (r < r_end && c < c_end)
          tile[c][r] = xo[r0 + r + (c0 + c) * P::col_stride];
      }
      __syncthreads();
      for (long k = threadIdx.x; k < kTile * kTile; k += blockDim.x) {
        const long c = k % kTile, r = k / kTile;
        if (r < r_end && c < c_end)
          yo[(r0 + r) * P::row_stride + c0 + c] = tile[c][r];
      }
    });
  }
}

/// Concat: for each of P::outer indices before the axis, the inputs' runs
/// (P::runs[i] floats of input i) one after another, P::starts[i] into a row
/// of P::row floats. Each input is read in order, one thread per element.
template <class P> __device__ void concat(const anet_cuda_args &args) {
  static_assert(P::runs_size == P::parts && P::starts_size == P::parts + 1 &&
                P::starts[P::parts] == P::row);
  constexpr auto runs = P::runs;
  constexpr auto starts = P::starts;
  float *y = args.out[0];
  for (long part = 0; part < P::parts; ++part) {
    const float *x = args.in[part];
    const long run = runs[part];
    float *yp = y + starts[part];
    grid_stride(P::outer * run, [&](long e) { yp[e / run * P::row + e % run] = x[e]; });
  }
}

/// Split: Concat's inverse, with the same P; each output is written in
/// order, one thread per element.
template <class P> __device__ void split(const anet_cuda_args &args) {
  static_assert(P::runs_size == P::parts && P::starts_size == P::parts + 1 &&
                P::starts[P::parts] == P::row);
  constexpr auto runs = P::runs;
  constexpr auto starts = P::starts;
  for (long part = 0; part < P::parts; ++part) {
    const float *xp = args.in[0] + starts[part];
    float *y = args.out[part];
    const long run = runs[part];
    grid_stride(P::outer * run, [&](long e) { y[e] = xp[e / run * P::row + e % run]; });
  }
}

/// Pad modes, as P::mode holds them.
enum PadMode : long { kPadConstant = 0, kPadReflect = 1, kPadEdge = 2 };

namespace layout {

/// The input index that output index `i + begin` reads along an axis of
/// `size` elements under mode M, or -1 for the fill value.
template <long M> __device__ __forceinline__ long pad_source(long i, long size) {
  if (i >= 0 && i < size)
    return i;
  if constexpr (M == kPadConstant)
    return -1;
  else if constexpr (M == kPadReflect)
    return i < 0 ? -i : 2 * (size - 1) - i;
  else
    return i < 0 ? 0 : size - 1;
}

} // namespace layout

/// Pad: each output element is the input element its index maps to, axis by
/// axis through the mode, or P::value where constant padding leaves none.
/// P: n (output floats), out_dims[], in_dims[], in_strides[], begins[] (each
/// axis's leading pad; negative crops), mode (PadMode), value.
template <class P> __device__ void pad(const anet_cuda_args &args) {
  static_assert(P::in_dims_size == P::out_dims_size && P::in_strides_size == P::out_dims_size &&
                P::begins_size == P::out_dims_size);
  constexpr long rank = P::out_dims_size;
  constexpr auto out_dims = P::out_dims;
  constexpr auto in_dims = P::in_dims;
  constexpr auto in_strides = P::in_strides;
  constexpr auto begins = P::begins;
  const float *x = args.in[0];
  float *y = args.out[0];
  grid_stride(P::n, [&](long e) {
    long at = 0, q = e;
    for (long d = rank - 1; d >= 0; --d) {
      const long i = layout::pad_source<P::mode>(q % out_dims[d] - begins[d], in_dims[d]);
      if (i < 0) {
        y[e] = P::value;
        return;
      }
      q /= out_dims[d];
      at += i * in_strides[d];
    }
    y[e] = x[at];
  });
}

} // namespace ac
