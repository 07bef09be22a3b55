// Reference kernels of the ops that only move data: Flatten, Reshape,
// Squeeze, Unsqueeze and Transfer (row-major copies), Transpose, Concat, Split, Slice
// (any step, negative included) and Pad (constant, reflect, edge; negative
// pads crop).

#include <algorithm>

#include "ir/reference/indexing.h"
#include "ir/reference/reference.h"

namespace anet {
namespace {

// The row-major data is unchanged; only the shape differs. A memory plan
// may make the output a view of the input: then there is nothing to copy.
void copy(const InViews &in, const OutViews &out) {
  if (in[0].data != out[0].data)
    std::copy_n(in[0].data, ref::numel(out[0].shape), out[0].data);
}

} // namespace

void ref_Flatten(const Attrs &, const InViews &in, const OutViews &out) { copy(in, out); }
void ref_Reshape(const Attrs &, const InViews &in, const OutViews &out) { copy(in, out); }
void ref_Squeeze(const Attrs &, const InViews &in, const OutViews &out) { copy(in, out); }
void ref_Unsqueeze(const Attrs &, const InViews &in, const OutViews &out) { copy(in, out); }
// Between host memories a transfer is a copy; devices with their own
// memory move data with their own transfer kernels.
void ref_Transfer(const Attrs &, const InViews &in, const OutViews &out) { copy(in, out); }

// Output axis d is input axis perm[d].
void ref_Transpose(const Attrs &attrs, const InViews &in, const OutViews &out) {
  const auto &perm = attrs.ints("perm");
  std::vector<int64_t> in_strides = ref::strides_of(in[0].shape);
  std::vector<int64_t> strides(perm.size());
  for (size_t d = 0; d < perm.size(); ++d)
    strides[d] = in_strides[static_cast<size_t>(perm[d])];
  float *y = out[0].data;
  ref::for_each_index(out[0].shape, [&](const ref::Index &index) {
    *y++ = in[0].data[ref::offset_of(index, strides)];
  });
}

// For every index before `axis`, the inputs' blocks follow each other.
void ref_Concat(const Attrs &attrs, const InViews &in, const OutViews &out) {
  int64_t axis = attrs.i("axis");
  int64_t outer = ref::split_at_axis(out[0].shape, axis).outer;
  float *y = out[0].data;
  for (int64_t o = 0; o < outer; ++o)
    for (const InView &x : in) {
      ref::AxisSplit s = ref::split_at_axis(x.shape, axis);
      y = std::copy_n(x.data + o * s.n * s.inner, s.n * s.inner, y);
    }
}

// The inverse of Concat: consecutive blocks along `axis` go to each output.
void ref_Split(const Attrs &attrs, const InViews &in, const OutViews &out) {
  int64_t axis = attrs.i("axis");
  int64_t outer = ref::split_at_axis(in[0].shape, axis).outer;
  const float *x = in[0].data;
  for (int64_t o = 0; o < outer; ++o)
    for (const OutView &y : out) {
      ref::AxisSplit s = ref::split_at_axis(y.shape, axis);
      std::copy_n(x, s.n * s.inner, y.data + o * s.n * s.inner);
      x += s.n * s.inner;
    }
}

// Output index i along axis d reads input index starts[d] + i * steps[d];
// starts are clamped (ir/shape_rules.cpp), so every read is in range.
void ref_Slice(const Attrs &attrs, const InViews &in, const OutViews &out) {
  const auto &starts = attrs.ints("starts"), &steps = attrs.ints("steps");
  std::vector<int64_t> in_strides = ref::strides_of(in[0].shape);
  float *y = out[0].data;
  ref::for_each_index(out[0].shape, [&](const ref::Index &index) {
    int64_t at = 0;
    for (size_t d = 0; d < index.size(); ++d)
      at += (starts[d] + index[d] * steps[d]) * in_strides[d];
    *y++ = in[0].data[at];
  });
}

// Output index i along axis d comes from input index i - pads[d] (a
// negative pad crops). Outside the input: `value` (constant), the mirror
// image without repeating the border (reflect), or the border (edge).
void ref_Pad(const Attrs &attrs, const InViews &in, const OutViews &out) {
  const auto &pads = attrs.ints("pads");
  const std::string &mode = attrs.s("mode");
  float value = attrs.f("value");
  const Shape &xs = in[0].shape;
  std::vector<int64_t> in_strides = ref::strides_of(xs);
  float *y = out[0].data;
  ref::for_each_index(out[0].shape, [&](const ref::Index &index) {
    int64_t at = 0;
    for (size_t d = 0; d < index.size(); ++d) {
      int64_t i = index[d] - pads[d], size = xs[d];
      if (i < 0 || i >= size) {
        if (mode == "constant") {
          *y++ = value;
          return;
        }
        if (mode == "reflect")
          i = i < 0 ? -i : 2 * (size - 1) - i;
        else
          i = std::clamp<int64_t>(i, 0, size - 1);
      }
      at += i * in_strides[d];
    }
    *y++ = in[0].data[at];
  });
}

} // namespace anet
