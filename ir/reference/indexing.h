#pragma once
/// Index arithmetic shared by the reference kernels: row-major strides,
/// multi-index iteration, broadcasting, the axis split used by per-axis ops,
/// and the 2-D sliding window of Conv and the pools.

#include <cstdint>
#include <vector>

#include "ir/attrs.h"
#include "ir/tensor_type.h"

namespace anet::ref {

using Index = std::vector<int64_t>;

/// Number of elements of `shape` (1 for a scalar).
int64_t numel(const Shape &shape);

/// Row-major strides of `shape`, in elements.
std::vector<int64_t> strides_of(const Shape &shape);

/// Strides for reading a tensor of shape `in` at the indices of the larger
/// shape `out` it broadcasts to (numpy rules: aligned at the last axis; a
/// size-1 or missing axis gets stride 0).
std::vector<int64_t> broadcast_strides(const Shape &in, const Shape &out);

/// Sum of index[i] * strides[i].
int64_t offset_of(const Index &index, const std::vector<int64_t> &strides);

/// Calls f(index) for every multi-index of `shape` in row-major order (once,
/// with an empty index, for a scalar; never for an empty tensor).
template <class F> void for_each_index(const Shape &shape, F &&f) {
  if (numel(shape) == 0)
    return;
  Index index(shape.size(), 0);
  while (true) {
    f(static_cast<const Index &>(index));
    size_t d = shape.size();
    while (d > 0 && ++index[d - 1] == shape[d - 1])
      index[--d] = 0;
    if (d == 0)
      return;
  }
}

/// A shape seen as [outer, n, inner] around one axis: outer is the product of
/// the dimensions before `axis`, n its size, inner the product after it. A
/// scalar is [1, 1, 1].
struct AxisSplit {
  int64_t outer = 1;
  int64_t n = 1;
  int64_t inner = 1;
};
AxisSplit split_at_axis(const Shape &shape, int64_t axis);

/// The 2-D sliding window of Conv, MaxPool and AveragePool, from the
/// canonical attributes kernel_shape, strides, pads (begins, then ends) and
/// dilations. Index 0 is the height axis, 1 the width axis.
struct Window {
  int64_t kernel[2];
  int64_t stride[2];
  int64_t pad_begin[2];
  int64_t pad_end[2];
  int64_t dilation[2];

  /// Input coordinate along spatial axis `axis` of tap `k` of the window at
  /// output position `o`; may lie in the padding (< 0 or >= the input size).
  int64_t tap(int axis, int64_t o, int64_t k) const {
    return o * stride[axis] - pad_begin[axis] + k * dilation[axis];
  }

  /// AveragePool's divisor for the window at output (oh, ow) over an input
  /// plane of height x width: the whole kernel with count_include_pad, else
  /// the taps inside the input. One definition for the pool and its gradient.
  int64_t average_divisor(int64_t oh, int64_t ow, int64_t height, int64_t width,
                          bool include_pad) const;
};
Window window_of(const Attrs &attrs);

} // namespace anet::ref
