// Emitters of the training ops (kernels/training.h): the loss and its
// gradient, DropoutMask, BatchNormTrain/Grad, ReduceSum, the activation,
// LRN, pool and (Log)Softmax gradients, and SgdUpdate. Each writes the
// node's shapes and attributes as constants; ReduceSum also collapses its
// axes into alternating kept and reduced groups.

#include <algorithm>

#include "codegen/cpu/emit.h"
#include "ir/tensor_type.h"

namespace anet::cpu {
namespace {

// The constants of a pool gradient, named as kernels/pooling.h's pools name
// them: `x` is the pool's input shape, `y` its output shape.
std::string pool_grad_kernel(const EmitContext &ctx, const Shape &x, const Shape &y, bool is_max) {
  KernelSourceBuilder b;
  add_pool_window(b, ctx.node, x, y);
  b.flag("is_max", is_max);
  if (!is_max)
    b.flag("include_pad", ctx.node.attrs.i("count_include_pad") != 0);
  return b.finish("pool_grad");
}

std::string softmax_grad_kernel(const EmitContext &ctx, bool log) {
  KernelSourceBuilder b;
  add_axis_split(b, ctx.in[0], ctx.node.attrs.i("axis"), "n");
  b.flag("log", log);
  return b.finish("softmax_grad");
}

// One collapsed axis group of a ReduceSum input.
struct Group {
  int64_t size;
  bool reduced;
};

} // namespace

Expected<std::string> emit_SoftmaxCrossEntropy(const EmitContext &ctx) {
  KernelSourceBuilder b;
  b.constant("rows", ctx.in[0][0]);
  b.constant("classes", ctx.in[0][1]);
  return b.finish("softmax_cross_entropy");
}

Expected<std::string> emit_SoftmaxCrossEntropyGrad(const EmitContext &ctx) {
  KernelSourceBuilder b;
  b.constant("rows", ctx.in[0][0]);
  b.constant("classes", ctx.in[0][1]);
  return b.finish("softmax_cross_entropy_grad");
}

Expected<std::string> emit_DropoutMask(const EmitContext &ctx) {
  const float ratio = ctx.node.attrs.f("ratio");
  KernelSourceBuilder b;
  b.constant("n", checked_numel(ctx.out[0]));
  b.constant("seed", ctx.node.attrs.i("seed"));
  b.constant("ratio", ratio);
  b.constant("kept", 1.f / (1.f - ratio));
  return b.finish("dropout_mask");
}

Expected<std::string> emit_BatchNormTrain(const EmitContext &ctx) {
  KernelSourceBuilder b;
  add_axis_split(b, ctx.in[0], 1, "channels");
  b.constant("epsilon", ctx.node.attrs.f("epsilon"));
  b.constant("momentum", ctx.node.attrs.f("momentum"));
  return b.finish("batch_norm_train");
}

Expected<std::string> emit_BatchNormGrad(const EmitContext &ctx) {
  KernelSourceBuilder b;
  add_axis_split(b, ctx.in[0], 1, "channels");
  return b.finish("batch_norm_grad");
}

// Axes of size 1 vanish and neighbours of the same kind merge; the last
// group is the contiguous inner run. An empty input sums nothing: every
// output element is 0, which the kernel writes with an inner run of 0.
Expected<std::string> emit_ReduceSum(const EmitContext &ctx) {
  const Shape &xs = ctx.in[0];
  const auto &axes = ctx.node.attrs.ints("axes");
  std::vector<Group> groups;
  for (size_t d = 0; d < xs.size(); ++d) {
    const bool reduced = std::find(axes.begin(), axes.end(), static_cast<int64_t>(d)) != axes.end();
    if (xs[d] == 1)
      continue;
    if (!groups.empty() && groups.back().reduced == reduced)
      groups.back().size *= xs[d];
    else
      groups.push_back({xs[d], reduced});
  }
  if (groups.empty())
    groups.push_back({1, false});
  const int64_t outputs_total = checked_numel(ctx.out[0]);
  bool inner_kept = !groups.back().reduced;
  int64_t inner = groups.back().size;
  groups.pop_back();
  if (checked_numel(xs) == 0) {
    groups.clear();
    inner_kept = false;
    inner = 0;
  }

  // Input strides of the groups, then the kept and reduced ones apart.
  std::vector<int64_t> kept_dims, kept_strides, reduced_dims, reduced_strides;
  int64_t stride = std::max<int64_t>(inner, 1);
  for (size_t g = groups.size(); g-- > 0;) {
    auto &dims = groups[g].reduced ? reduced_dims : kept_dims;
    auto &strides = groups[g].reduced ? reduced_strides : kept_strides;
    dims.insert(dims.begin(), groups[g].size);
    strides.insert(strides.begin(), stride);
    stride *= groups[g].size;
  }
  KernelSourceBuilder b;
  b.constant("outputs", inner_kept ? outputs_total / inner : outputs_total);
  b.constant("reduced", checked_numel(reduced_dims));
  b.constant("inner", inner);
  b.flag("inner_kept", inner_kept);
  b.array("kept_dims", kept_dims);
  b.array("kept_strides", kept_strides);
  b.array("reduced_dims", reduced_dims);
  b.array("reduced_strides", reduced_strides);
  return b.finish("reduce_sum");
}

Expected<std::string> emit_ActivationGrad(const EmitContext &ctx) {
  KernelSourceBuilder b;
  b.constant("n", checked_numel(ctx.out[0]));
  add_activation(b, fused_activation(ctx.node.attrs));
  return b.finish("activation_grad");
}

// alpha / size is rounded to float as the forward LRN rounds it.
Expected<std::string> emit_LRNGrad(const EmitContext &ctx) {
  const Attrs &a = ctx.node.attrs;
  const int64_t size = a.i("size"), before = (size - 1) / 2;
  const float alpha_over_size = a.f("alpha") / static_cast<float>(size), beta = a.f("beta");
  KernelSourceBuilder b;
  add_axis_split(b, ctx.in[0], 1, "channels");
  b.constant("before", before);
  b.constant("after", size - 1 - before);
  b.constant("bias", a.f("bias"));
  b.constant("alpha_over_size", alpha_over_size);
  b.constant("beta", beta);
  b.constant("coef", 2.f * alpha_over_size * beta);
  return b.finish("lrn_grad");
}

Expected<std::string> emit_MaxPoolGrad(const EmitContext &ctx) {
  return pool_grad_kernel(ctx, ctx.in[0], ctx.in[1], true);
}

Expected<std::string> emit_AveragePoolGrad(const EmitContext &ctx) {
  return pool_grad_kernel(ctx, ctx.out[0], ctx.in[0], false);
}

Expected<std::string> emit_SoftmaxGrad(const EmitContext &ctx) {
  return softmax_grad_kernel(ctx, false);
}

Expected<std::string> emit_LogSoftmaxGrad(const EmitContext &ctx) {
  return softmax_grad_kernel(ctx, true);
}

Expected<std::string> emit_SgdUpdate(const EmitContext &ctx) {
  KernelSourceBuilder b;
  b.constant("n", checked_numel(ctx.in[0]));
  b.constant("momentum", ctx.node.attrs.f("momentum"));
  b.constant("weight_decay", ctx.node.attrs.f("weight_decay"));
  return b.finish("sgd_update");
}

} // namespace anet::cpu
