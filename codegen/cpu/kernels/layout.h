#pragma once
/// Kernels of the ops that only move data (Flatten, Reshape, Squeeze,
/// Unsqueeze, Transfer, Transpose, Slice, Concat, Split, Pad), instantiated by
/// codegen/cpu/emit_layout.cpp.
///
/// The emitter collapses axes before it writes P: axes of size 1 vanish and
/// neighbouring axes that stay contiguous merge, so a kernel sees the fewest
/// axes its copy needs. The output is always written in row-major order; what
/// remains of the input is a strided view:
///
///   copy          one contiguous run (skipped when the memory plan made the
///                 output a view of the input);
///   strided_rows  rows of `inner` elements, `inner_stride` apart in the input:
///                 a memcpy per row when that stride is 1, else a gather;
///   transpose     the input's unit-stride axis is not the output's last one:
///                 16 x 16 tiles, each loaded as 16 vectors, transposed in
///                 registers (pooling.h's pool::transpose16) and stored as 16
///                 vectors;
///   concat/split  for each index before the axis, one run per part;
///   pad           per output row: the row's source (or the fill value), then
///                 the padding of the last axis around one memcpy.
///
/// Every kernel splits its work into slices of at least kCopyGrain floats for
/// the host's thread pool; slices write disjoint parts of the output.

#include "anet/base.h"
#include "anet/pooling.h"

namespace ak {
namespace layout {

/// Floats a parallel slice of a copy moves at least.
constexpr long kCopyGrain = 1L << 15;

/// The offset, under `strides`, of the row-major flat index `r` over the
/// `Rank` axes `dims`.
template <long Rank> inline long offset_of(long r, const long *dims, const long *strides) {
  long off = 0;
  for (long k = Rank - 1; k >= 0; --k) {
    off += r % dims[k] * strides[k];
    r /= dims[k];
  }
  return off;
}

/// y[0, n) = x[0, n).
inline void copy_floats(float *y, const float *x, long n) {
  __builtin_memcpy(y, x, static_cast<unsigned long>(n) * sizeof(float));
}

/// Calls f(part, outer, at, flat, length) for the pieces of the flat range
/// [first, last) of the concatenated tensor: `length` floats at `flat` of it
/// are floats [at, at + length) of part `part`'s run at index `outer` before
/// the axis. P::starts[i] is where part i's run begins within a row of
/// P::row floats (P::starts[P::parts] == P::row).
template <class P, class F> inline void for_each_piece(long first, long last, const F &f) {
  long outer = first / P::row, at = first % P::row, part = 0;
  while (at >= P::starts[part + 1])
    ++part;
  while (first < last) {
    long length = min_of(P::starts[part + 1] - at, last - first);
    f(part, outer, at - P::starts[part], first, length);
    first += length;
    at += length;
    while (part < P::parts && at == P::starts[part + 1])
      ++part;
    if (part == P::parts) {
      part = 0;
      at = 0;
      ++outer;
      while (P::starts[part + 1] == 0)
        ++part;
    }
  }
}

/// Runs copy(part, outer, at, flat, length) for every piece of a
/// concatenation of P::parts runs (P::runs) repeated P::outer times, in
/// parallel: by rows when a row is short, else by kCopyGrain slices of the
/// flat tensor.
template <class P, class F> inline void copy_parts(const anet_cpu_rt *rt, const F &copy) {
  static_assert(P::runs_size == P::parts && P::starts_size == P::parts + 1 &&
                P::starts[P::parts] == P::row);
  if constexpr (P::row < kCopyGrain) {
    parallel_for(rt, P::outer, ceil_div(kCopyGrain, max_of(P::row, 1L)),
                 [&](long begin, long end, int) {
                   for (long o = begin; o < end; ++o) {
                     long flat = o * P::row;
                     for (long part = 0; part < P::parts; ++part) {
                       copy(part, o, 0L, flat, P::runs[part]);
                       flat += P::runs[part];
                     }
                   }
                 });
  } else {
    constexpr long total = P::outer * P::row;
    parallel_for(rt, ceil_div(total, kCopyGrain), 1, [&](long begin, long end, int) {
      for_each_piece<P>(begin * kCopyGrain, min_of(end * kCopyGrain, total), copy);
    });
  }
}

} // namespace layout

/// y = x, P::n floats; nothing to do when y is x.
template <class P> void copy_run(const float *const *in, float *const *out, const anet_cpu_rt *rt) {
  using namespace layout;
  const float *x = in[0];
  float *y = out[0];
  if (x == y)
    return;
  parallel_for(rt, ceil_div(P::n, kCopyGrain), 1, [&](long begin, long end, int) {
    long first = begin * kCopyGrain;
    copy_floats(y + first, x + first, min_of(end * kCopyGrain, P::n) - first);
  });
}

/// A copy (Flatten, Reshape, Squeeze, Unsqueeze, Transfer). P: n.
template <class P> constexpr anet_kernel_info copy() { return kernel_info<&copy_run<P>>(); }

/// y[r * inner + i] = x[offset + row_offset(r) + i * inner_stride], where
/// row_offset decodes r over outer_dims with outer_strides.
template <class P>
void strided_rows_run(const float *const *in, float *const *out, const anet_cpu_rt *rt) {
  using namespace layout;
  static_assert(P::outer_strides_size == P::outer_dims_size);
  // Long rows are cut into pieces so that a few rows still spread over the pool.
  constexpr long piece = min_of(P::inner, kCopyGrain);
  constexpr long pieces = ceil_div(P::inner, max_of(piece, 1L));
  const float *x = in[0] + P::offset;
  float *y = out[0];
  parallel_for(rt, P::rows * pieces, ceil_div(kCopyGrain, max_of(piece, 1L)),
               [&](long begin, long end, int) {
                 for (long t = begin; t < end; ++t) {
                   long r = t / pieces, first = t % pieces * piece;
                   long length = min_of(piece, P::inner - first);
                   const float *src =
                       x + offset_of<P::outer_dims_size>(r, P::outer_dims, P::outer_strides) +
                       first * P::inner_stride;
                   float *dst = y + r * P::inner + first;
                   if constexpr (P::inner_stride == 1) {
                     copy_floats(dst, src, length);
                   } else {
                     for (long i = 0; i < length; ++i)
                       dst[i] = src[i * P::inner_stride];
                   }
                 }
               });
}

/// Transpose and Slice whose input rows stay rows, and Slice with any step.
/// P: offset, rows, outer_dims[], outer_strides[], inner, inner_stride.
template <class P> constexpr anet_kernel_info strided_rows() {
  return kernel_info<&strided_rows_run<P>>();
}

/// For every index o over the outer axes:
///   y[out_offset(o) + r * row_stride + c] = x[offset + in_offset(o) + r + c * col_stride]
/// for r < rows (the input's unit-stride axis) and c < cols (the output's last
/// axis), copied in 16 x 16 tiles.
template <class P>
void transpose_run(const float *const *in, float *const *out, const anet_cpu_rt *rt) {
  using namespace layout;
  static_assert(P::outer_in_strides_size == P::outer_dims_size &&
                P::outer_out_strides_size == P::outer_dims_size);
  constexpr long row_tiles = ceil_div(P::rows, 16);
  constexpr long full_rows = P::rows / 16 * 16, full_cols = P::cols / 16 * 16;
  const float *x = in[0] + P::offset;
  float *y = out[0];
  // A task is 16 rows (or the last, shorter ones) of one outer index, all columns.
  parallel_for(
      rt, P::outer * row_tiles, ceil_div(kCopyGrain, 16 * P::cols), [&](long begin, long end, int) {
        for (long t = begin; t < end; ++t) {
          long o = t / row_tiles, r0 = t % row_tiles * 16;
          const float *xo =
              x + offset_of<P::outer_dims_size>(o, P::outer_dims, P::outer_in_strides);
          float *yo = y + offset_of<P::outer_dims_size>(o, P::outer_dims, P::outer_out_strides);
          long c0 = 0;
          if (r0 < full_rows) {
            for (; c0 < full_cols; c0 += 16) {
              v16 tile[16];
              for (int k = 0; k < 16; ++k)
                tile[k] = load16(xo + (c0 + k) * P::col_stride + r0);
              pool::transpose16(tile);
              for (int k = 0; k < 16; ++k)
                store16(yo + (r0 + k) * P::row_stride + c0, tile[k]);
            }
          }
          // The ragged edge: columns past the last full tile, or short rows.
          long r1 = min_of(r0 + 16, P::rows);
          for (long c = c0; c < P::cols; ++c)
            for (long r = r0; r < r1; ++r)
              yo[r * P::row_stride + c] = xo[r + c * P::col_stride];
        }
      });
}

/// Transpose (and Slice) whose input's unit-stride axis is not the output's
/// last. P: offset, outer, outer_dims[], outer_in_strides[],
/// outer_out_strides[], rows, row_stride, cols, col_stride.
template <class P> constexpr anet_kernel_info transpose() {
  return kernel_info<&transpose_run<P>>();
}

/// The body of concat<P>.
template <class P>
void concat_run(const float *const *in, float *const *out, const anet_cpu_rt *rt) {
  float *y = out[0];
  layout::copy_parts<P>(rt, [&](long part, long outer, long at, long flat, long length) {
    layout::copy_floats(y + flat, in[part] + outer * P::runs[part] + at, length);
  });
}

/// Concat: for each of P::outer indices before the axis, the inputs' runs
/// (P::runs[i] floats of input i) one after another. P: outer, parts, runs[],
/// starts[] (running sums of runs), row (their total).
template <class P> constexpr anet_kernel_info concat() { return kernel_info<&concat_run<P>>(); }

/// The body of split<P>.
template <class P>
void split_run(const float *const *in, float *const *out, const anet_cpu_rt *rt) {
  const float *x = in[0];
  layout::copy_parts<P>(rt, [&](long part, long outer, long at, long flat, long length) {
    layout::copy_floats(out[part] + outer * P::runs[part] + at, x + flat, length);
  });
}

/// Split: Concat's inverse, with the same P.
template <class P> constexpr anet_kernel_info split() { return kernel_info<&split_run<P>>(); }

/// Pad modes, as P::mode holds them.
enum PadMode : long { kPadConstant = 0, kPadReflect = 1, kPadEdge = 2 };

namespace layout {

/// The input index that output index `i - begin` reads along an axis of
/// `size` elements under mode M, or -1 for the fill value.
template <long M> inline long pad_source(long i, long size) {
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

/// The body of pad<P>.
template <class P> void pad_run(const float *const *in, float *const *out, const anet_cpu_rt *rt) {
  using namespace layout;
  static_assert(P::in_dims_size == P::out_dims_size && P::in_strides_size == P::out_dims_size &&
                P::begins_size == P::out_dims_size);
  constexpr long rank = P::out_dims_size, last = rank - 1;
  constexpr long width = P::out_dims[last], size = P::in_dims[last], begin = P::begins[last];
  constexpr long rows = P::n / width;
  // The output columns [mid_first, mid_last) copy input columns from mid_first - begin.
  constexpr long mid_first = min_of(max_of(begin, 0L), width);
  constexpr long mid_last = max_of(min_of(begin + size, width), mid_first);
  const float *x = in[0];
  float *y = out[0];
  parallel_for(rt, rows, ceil_div(kCopyGrain, width), [&](long first_row, long last_row, int) {
    for (long r = first_row; r < last_row; ++r) {
      float *row = y + r * width;
      // The source row: each outer axis's index mapped through the mode.
      long at = 0, q = r;
      bool filled = false;
      for (long d = last - 1; d >= 0; --d) {
        long i = pad_source<P::mode>(q % P::out_dims[d] - P::begins[d], P::in_dims[d]);
        q /= P::out_dims[d];
        filled |= i < 0;
        at += i * P::in_strides[d];
      }
      if (filled) {
        for (long j = 0; j < width; ++j)
          row[j] = P::value;
        continue;
      }
      const float *src = x + at;
      for (long j = 0; j < mid_first; ++j) {
        long i = pad_source<P::mode>(j - begin, size);
        row[j] = i < 0 ? P::value : src[i];
      }
      copy_floats(row + mid_first, src + (mid_first - begin), mid_last - mid_first);
      for (long j = mid_last; j < width; ++j) {
        long i = pad_source<P::mode>(j - begin, size);
        row[j] = i < 0 ? P::value : src[i];
      }
    }
  });
}

/// Pad. P: n (output floats), out_dims[], in_dims[], in_strides[], begins[]
/// (each axis's leading pad; negative crops), mode (PadMode), value.
template <class P> constexpr anet_kernel_info pad() { return kernel_info<&pad_run<P>>(); }

} // namespace ak
