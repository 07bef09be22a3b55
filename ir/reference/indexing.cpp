// Index arithmetic shared by the reference kernels (see indexing.h).

#include "ir/reference/indexing.h"

#include <cassert>

namespace anet::ref {

int64_t numel(const Shape &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

std::vector<int64_t> strides_of(const Shape &shape) {
  std::vector<int64_t> strides(shape.size());
  int64_t s = 1;
  for (size_t d = shape.size(); d-- > 0;) {
    strides[d] = s;
    s *= shape[d];
  }
  return strides;
}

std::vector<int64_t> broadcast_strides(const Shape &in, const Shape &out) {
  assert(in.size() <= out.size() && "a broadcast operand cannot have more axes than the result");
  std::vector<int64_t> in_strides = strides_of(in);
  std::vector<int64_t> strides(out.size(), 0);
  size_t lead = out.size() - in.size();
  for (size_t d = 0; d < in.size(); ++d) {
    assert((in[d] == out[lead + d] || in[d] == 1) && "shapes do not broadcast");
    strides[lead + d] = in[d] == 1 ? 0 : in_strides[d];
  }
  return strides;
}

int64_t offset_of(const Index &index, const std::vector<int64_t> &strides) {
  assert(index.size() == strides.size());
  int64_t off = 0;
  for (size_t d = 0; d < index.size(); ++d)
    off += index[d] * strides[d];
  return off;
}

AxisSplit split_at_axis(const Shape &shape, int64_t axis) {
  AxisSplit s;
  for (size_t d = 0; d < shape.size(); ++d) {
    auto i = static_cast<int64_t>(d);
    if (i < axis)
      s.outer *= shape[d];
    else if (i == axis)
      s.n = shape[d];
    else
      s.inner *= shape[d];
  }
  return s;
}

int64_t Window::average_divisor(int64_t oh, int64_t ow, int64_t height, int64_t width,
                                bool include_pad) const {
  if (include_pad)
    return kernel[0] * kernel[1];
  auto inside = [&](int axis, int64_t o, int64_t size) {
    int64_t count = 0;
    for (int64_t k = 0; k < kernel[axis]; ++k) {
      int64_t at = tap(axis, o, k);
      count += at >= 0 && at < size;
    }
    return count;
  };
  return inside(0, oh, height) * inside(1, ow, width);
}

Window window_of(const Attrs &attrs) {
  const auto &k = attrs.ints("kernel_shape"), &s = attrs.ints("strides"), &p = attrs.ints("pads"),
             &d = attrs.ints("dilations");
  assert(k.size() == 2 && s.size() == 2 && p.size() == 4 && d.size() == 2);
  Window w{};
  for (int a = 0; a < 2; ++a) {
    w.kernel[a] = k[a];
    w.stride[a] = s[a];
    w.pad_begin[a] = p[a];
    w.pad_end[a] = p[2 + a];
    w.dilation[a] = d[a];
  }
  return w;
}

} // namespace anet::ref
