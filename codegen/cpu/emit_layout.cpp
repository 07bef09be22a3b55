// Emitters of the ops that only move data (kernels/layout.h): Flatten,
// Reshape, Squeeze, Unsqueeze and Transfer are copies; Transpose and Slice
// are strided views of their input; Concat, Split and Pad have kernels of
// their own.
//
// Every emitter first reduces its copy to the fewest axes: axes of size 1
// vanish, and two neighbouring axes merge when the outer one's input stride
// is the inner one's extent times its stride (they then walk memory as one
// axis). A transpose of NCHW to NHWC is then three axes, a crop of a
// contiguous block one run per row, and most copies a single memcpy.

#include <cassert>

#include "codegen/cpu/emit.h"
#include "ir/reference/indexing.h"
#include "ir/tensor_type.h"

namespace anet::cpu {
namespace {

std::string copy_kernel(int64_t n) {
  KernelSourceBuilder b;
  b.constant("n", n);
  return b.finish("copy");
}

// The output, read row-major, as a view of the input: output axis d has
// extent dims[d] and input stride strides[d]; index 0 is input element
// `offset`.
struct View {
  std::vector<int64_t> dims;
  std::vector<int64_t> strides;
  int64_t offset = 0;
};

// The same view over the fewest axes.
View collapse(const View &v) {
  View c;
  c.offset = v.offset;
  for (size_t d = 0; d < v.dims.size(); ++d) {
    if (v.dims[d] == 1)
      continue;
    if (!c.dims.empty() && c.strides.back() == v.dims[d] * v.strides[d]) {
      c.dims.back() *= v.dims[d];
      c.strides.back() = v.strides[d];
      continue;
    }
    c.dims.push_back(v.dims[d]);
    c.strides.push_back(v.strides[d]);
  }
  return c;
}

// The kernel that writes view `v` of the input as the output: rows when the
// input's unit-stride axis is the output's last (or there is none), else
// 16 x 16 tiles.
std::string view_kernel(const View &view) {
  if (checked_numel(view.dims) == 0)
    return copy_kernel(0);
  View v = collapse(view);
  if (v.dims.empty()) {
    v.dims = {1};
    v.strides = {1};
  }
  const size_t last = v.dims.size() - 1;
  size_t unit = last;
  for (size_t d = 0; d < last; ++d)
    if (v.strides[d] == 1)
      unit = d;
  KernelSourceBuilder b;
  b.constant("offset", v.offset);
  if (unit == last || v.strides[last] == 1) {
    std::vector<int64_t> outer_dims(v.dims.begin(), v.dims.end() - 1);
    std::vector<int64_t> outer_strides(v.strides.begin(), v.strides.end() - 1);
    b.constant("rows", checked_numel(outer_dims));
    b.array("outer_dims", outer_dims);
    b.array("outer_strides", outer_strides);
    b.constant("inner", v.dims[last]);
    b.constant("inner_stride", v.strides[last]);
    return b.finish("strided_rows");
  }
  // Output row-major strides; the tiles run over axes `unit` (rows) and
  // `last` (columns), the task loop over the others.
  std::vector<int64_t> out_strides = ref::strides_of(v.dims);
  std::vector<int64_t> outer_dims, outer_in, outer_out;
  for (size_t d = 0; d < last; ++d) {
    if (d == unit)
      continue;
    outer_dims.push_back(v.dims[d]);
    outer_in.push_back(v.strides[d]);
    outer_out.push_back(out_strides[d]);
  }
  b.constant("outer", checked_numel(outer_dims));
  b.array("outer_dims", outer_dims);
  b.array("outer_in_strides", outer_in);
  b.array("outer_out_strides", outer_out);
  b.constant("rows", v.dims[unit]);
  b.constant("row_stride", out_strides[unit]);
  b.constant("cols", v.dims[last]);
  b.constant("col_stride", v.strides[last]);
  return b.finish("transpose");
}

// Concat (`joining`) or Split: `whole` is the concatenated shape, `parts`
// the pieces along `axis`.
std::string parts_kernel(const Shape &whole, const std::vector<Shape> &parts, int64_t axis,
                         bool joining) {
  const auto ax = static_cast<size_t>(axis);
  const int64_t outer = checked_numel(Shape(whole.begin(), whole.begin() + axis));
  const int64_t inner = checked_numel(Shape(whole.begin() + axis + 1, whole.end()));
  std::vector<int64_t> runs, starts = {0};
  for (const Shape &part : parts) {
    runs.push_back(part[ax] * inner);
    starts.push_back(starts.back() + runs.back());
  }
  if (outer * starts.back() == 0)
    return copy_kernel(0);
  KernelSourceBuilder b;
  b.constant("outer", outer);
  b.constant("parts", static_cast<int64_t>(parts.size()));
  b.array("runs", runs);
  b.array("starts", starts);
  b.constant("row", starts.back());
  return b.finish(joining ? "concat" : "split");
}

// One axis of a Pad: the input's extent and the pads before and after.
struct PadAxis {
  int64_t size;
  int64_t begin;
  int64_t end;
  bool padded() const { return begin != 0 || end != 0; }
};

} // namespace

Expected<std::string> emit_Flatten(const EmitContext &ctx) {
  return copy_kernel(checked_numel(ctx.out[0]));
}
Expected<std::string> emit_Reshape(const EmitContext &ctx) {
  return copy_kernel(checked_numel(ctx.out[0]));
}
Expected<std::string> emit_Squeeze(const EmitContext &ctx) {
  return copy_kernel(checked_numel(ctx.out[0]));
}
Expected<std::string> emit_Unsqueeze(const EmitContext &ctx) {
  return copy_kernel(checked_numel(ctx.out[0]));
}
// Both logical devices of the cpu device share host memory: a copy.
Expected<std::string> emit_Transfer(const EmitContext &ctx) {
  return copy_kernel(checked_numel(ctx.out[0]));
}

// Output axis d is input axis perm[d].
Expected<std::string> emit_Transpose(const EmitContext &ctx) {
  const auto &perm = ctx.node.attrs.ints("perm");
  std::vector<int64_t> in_strides = ref::strides_of(ctx.in[0]);
  View v;
  for (int64_t p : perm) {
    v.dims.push_back(ctx.in[0][static_cast<size_t>(p)]);
    v.strides.push_back(in_strides[static_cast<size_t>(p)]);
  }
  return view_kernel(v);
}

// Output index i along axis d reads input index starts[d] + i * steps[d].
Expected<std::string> emit_Slice(const EmitContext &ctx) {
  const auto &starts = ctx.node.attrs.ints("starts"), &steps = ctx.node.attrs.ints("steps");
  std::vector<int64_t> in_strides = ref::strides_of(ctx.in[0]);
  View v;
  v.dims = ctx.out[0];
  for (size_t d = 0; d < v.dims.size(); ++d) {
    v.strides.push_back(in_strides[d] * steps[d]);
    v.offset += starts[d] * in_strides[d];
  }
  return view_kernel(v);
}

Expected<std::string> emit_Concat(const EmitContext &ctx) {
  return parts_kernel(ctx.out[0], ctx.in, ctx.node.attrs.i("axis"), true);
}

Expected<std::string> emit_Split(const EmitContext &ctx) {
  return parts_kernel(ctx.in[0], ctx.out, ctx.node.attrs.i("axis"), false);
}

// Pad collapses as a copy does, with one more condition: an unpadded axis
// merges into the padded axis before it only under constant padding (where
// a padded row of the merged axis is all fill); reflect and edge padding of
// the outer axis would otherwise mirror single elements instead of rows.
Expected<std::string> emit_Pad(const EmitContext &ctx) {
  const Shape &xs = ctx.in[0];
  const int64_t n = checked_numel(ctx.out[0]);
  if (n == 0)
    return copy_kernel(0);
  const auto &pads = ctx.node.attrs.ints("pads");
  const std::string &mode = ctx.node.attrs.s("mode");
  int64_t mode_code = 0;
  if (mode == "reflect")
    mode_code = 1;
  else if (mode == "edge")
    mode_code = 2;
  else
    assert(mode == "constant" && "Pad mode unchecked by its shape rule");

  std::vector<PadAxis> axes;
  for (size_t d = 0; d < xs.size(); ++d) {
    PadAxis a{xs[d], pads[d], pads[d + xs.size()]};
    if (a.size == 1 && !a.padded())
      continue;
    if (!axes.empty() && !a.padded() && (mode_code == 0 || !axes.back().padded())) {
      axes.back().size *= a.size;
      axes.back().begin *= a.size;
      axes.back().end *= a.size;
      continue;
    }
    axes.push_back(a);
  }
  bool padded = false;
  for (const PadAxis &a : axes)
    padded |= a.padded();
  if (!padded)
    return copy_kernel(n);

  std::vector<int64_t> in_dims, out_dims, begins;
  for (const PadAxis &a : axes) {
    in_dims.push_back(a.size);
    out_dims.push_back(a.size + a.begin + a.end);
    begins.push_back(a.begin);
  }
  KernelSourceBuilder b;
  b.constant("n", n);
  b.array("out_dims", out_dims);
  b.array("in_dims", in_dims);
  b.array("in_strides", ref::strides_of(in_dims));
  b.array("begins", begins);
  b.constant("mode", mode_code);
  b.constant("value", ctx.node.attrs.f("value"));
  return b.finish("pad");
}

} // namespace anet::cpu
