// The CPU emitters of the pools: MaxPool and AveragePool (kernel
// ak::pool2d) and GlobalAveragePool (ak::global_average_pool). The window
// is baked in; AveragePool without count_include_pad also gets its divisors,
// the number of window taps inside the input per output row and column
// (ir/reference/indexing.h, Window::average_divisor, is their definition).

#include "codegen/cpu/emit.h"

namespace anet::cpu {
namespace {

// Taps k < kernel of the window at output o whose input coordinate
// o * stride - pad + k * dilation lies in [0, size).
int64_t taps_inside(int64_t o, int64_t kernel, int64_t stride, int64_t pad, int64_t dilation,
                    int64_t size) {
  int64_t count = 0;
  for (int64_t k = 0; k < kernel; ++k) {
    const int64_t at = o * stride - pad + k * dilation;
    count += at >= 0 && at < size;
  }
  return count;
}

Expected<std::string> pool2d(const EmitContext &ctx, bool is_max) {
  const Attrs &attrs = ctx.node.attrs;
  const Shape &x = ctx.in[0], &y = ctx.out[0];
  const auto &k = attrs.ints("kernel_shape"), &s = attrs.ints("strides"), &p = attrs.ints("pads"),
             &d = attrs.ints("dilations");
  const bool include_pad = !is_max && attrs.i("count_include_pad") != 0;
  KernelSourceBuilder b;
  add_pool_window(b, ctx.node, x, y);
  b.flag("is_max", is_max);
  b.flag("include_pad", include_pad);
  if (!is_max && !include_pad) {
    std::vector<int64_t> rows;
    for (int64_t oh = 0; oh < y[2]; ++oh)
      rows.push_back(taps_inside(oh, k[0], s[0], p[0], d[0], x[2]));
    // Padded to whole vectors of 16 (the extra lanes are never stored).
    std::vector<float> cols;
    for (int64_t ow = 0; ow < y[3]; ++ow)
      cols.push_back(static_cast<float>(taps_inside(ow, k[1], s[1], p[1], d[1], x[3])));
    cols.resize((cols.size() + 15) / 16 * 16, 1.f);
    b.array("row_taps", rows);
    b.array("col_taps", cols);
  }
  return b.finish("pool2d");
}

} // namespace

Expected<std::string> emit_MaxPool(const EmitContext &ctx) { return pool2d(ctx, true); }

Expected<std::string> emit_AveragePool(const EmitContext &ctx) { return pool2d(ctx, false); }

Expected<std::string> emit_GlobalAveragePool(const EmitContext &ctx) {
  const Shape &x = ctx.in[0];
  int64_t inner = 1;
  for (size_t d = 2; d < x.size(); ++d)
    inner *= x[d];
  KernelSourceBuilder b;
  b.constant("planes", x[0] * x[1]);
  b.constant("inner", inner);
  return b.finish("global_average_pool");
}

} // namespace anet::cpu
