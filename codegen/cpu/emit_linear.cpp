// The CPU kernel emitters of the ops that multiply and accumulate: Conv,
// Gemm, MatMul, ConvGradInput and ConvGradWeight. Each writes the node's
// shapes, window and epilogue as constants for the templates of
// codegen/cpu/kernels/linear.h.

#include "codegen/cpu/emit.h"

#include <limits>

#include "ir/activation.h"

namespace anet::cpu {
namespace {

/// The kernels index their operands with 32-bit lanes (gathers): every
/// tensor a kernel reads must have fewer elements than that.
Status check_index_range(const EmitContext &ctx) {
  constexpr int64_t limit = std::numeric_limits<int32_t>::max();
  for (const Shape &s : ctx.in)
    if (checked_numel(s) > limit)
      return make_error(ExitCode::Runtime, "node '", ctx.node.name, "': op ", op_name(ctx.node.op),
                        " input ", shape_string(s),
                        " has more elements than the CPU kernels index (2^31 - 1)");
  return {};
}

/// The constants of a convolution: input X[n,c,h,w], weight W[m,c/group,
/// kh,kw], output Y[n,m,oh,ow], and the window (pads: top, left, bottom,
/// right; the kernels need only the leading ones).
void add_convolution(KernelSourceBuilder &b, const Shape &x, const Shape &w, const Shape &y,
                     const Attrs &attrs) {
  const std::vector<int64_t> &strides = attrs.ints("strides"), &pads = attrs.ints("pads"),
                             &dilations = attrs.ints("dilations");
  b.constant("n", x[0]).constant("c", x[1]).constant("h", x[2]).constant("w", x[3]);
  b.constant("m", w[0]).constant("kh", w[2]).constant("kw", w[3]);
  b.constant("oh", y[2]).constant("ow", y[3]).constant("group", attrs.i("group"));
  b.constant("stride_h", strides[0]).constant("stride_w", strides[1]);
  b.constant("pad_top", pads[0]).constant("pad_left", pads[1]);
  b.constant("dilation_h", dilations[0]).constant("dilation_w", dilations[1]);
}

/// Strides that read a tensor of shape `in` at the indices of `out`,
/// numpy-broadcast (aligned at the last axis; size-1 and missing axes 0).
std::vector<int64_t> broadcast_strides(const Shape &in, const Shape &out, int64_t unit) {
  std::vector<int64_t> strides(out.size(), 0);
  int64_t stride = unit;
  for (size_t k = 0; k < in.size(); ++k) {
    const size_t d_in = in.size() - 1 - k, d_out = out.size() - 1 - k;
    strides[d_out] = in[d_in] == 1 ? 0 : stride;
    stride *= in[d_in];
  }
  return strides;
}

/// True when input `index` of the node is the same from run to run apart
/// from new weights loaded between runs: a param or constant that the
/// program does not update (an inference program's weights; not a train
/// step's, which SGD rewrites every run).
bool constant_input(const EmitContext &ctx, size_t index) {
  const ValueId id = ctx.node.inputs[index];
  const ValueKind kind = ctx.graph.value(id).kind;
  if (kind != ValueKind::Param && kind != ValueKind::Constant)
    return false;
  for (const auto &[param, value] : ctx.graph.updates)
    if (param == id)
      return false;
  return true;
}

} // namespace

Expected<std::string> emit_Conv(const EmitContext &ctx) {
  ANET_RETURN_IF_ERR(check_index_range(ctx));
  KernelSourceBuilder b;
  add_convolution(b, ctx.in[0], ctx.in[1], ctx.out[0], ctx.node.attrs);
  b.flag("has_bias", ctx.in.size() == 3);
  b.flag("constant_weights", constant_input(ctx, 1));
  add_activation(b, fused_activation(ctx.node.attrs));
  return b.finish("conv");
}

Expected<std::string> emit_ConvGradInput(const EmitContext &ctx) {
  ANET_RETURN_IF_ERR(check_index_range(ctx));
  KernelSourceBuilder b;
  add_convolution(b, ctx.out[0], ctx.in[1], ctx.in[0], ctx.node.attrs);
  return b.finish("conv_grad_input");
}

Expected<std::string> emit_ConvGradWeight(const EmitContext &ctx) {
  ANET_RETURN_IF_ERR(check_index_range(ctx));
  KernelSourceBuilder b;
  add_convolution(b, ctx.in[0], ctx.out[0], ctx.in[1], ctx.node.attrs);
  return b.finish("conv_grad_weight");
}

Expected<std::string> emit_Gemm(const EmitContext &ctx) {
  ANET_RETURN_IF_ERR(check_index_range(ctx));
  const Attrs &attrs = ctx.node.attrs;
  const bool trans_a = attrs.i("transA") != 0, trans_b = attrs.i("transB") != 0;
  const Shape &y = ctx.out[0];
  KernelSourceBuilder b;
  b.constant("m", y[0]).constant("n", y[1]).constant("k", ctx.in[0][trans_a ? 0 : 1]);
  b.flag("trans_a", trans_a).flag("trans_b", trans_b);
  b.constant("alpha", attrs.f("alpha")).constant("beta", attrs.f("beta"));
  const bool has_c = ctx.in.size() == 3;
  const std::vector<int64_t> c_strides =
      has_c ? broadcast_strides(ctx.in[2], y, 1) : std::vector<int64_t>{0, 0};
  b.flag("has_c", has_c).constant("c_rs", c_strides[0]).constant("c_cs", c_strides[1]);
  add_activation(b, fused_activation(attrs));
  return b.finish("gemm");
}

Expected<std::string> emit_MatMul(const EmitContext &ctx) {
  ANET_RETURN_IF_ERR(check_index_range(ctx));
  Shape a = ctx.in[0], bs = ctx.in[1];
  const bool a_vector = a.size() == 1, b_vector = bs.size() == 1;
  if (a_vector)
    a.insert(a.begin(), 1);
  if (b_vector)
    bs.push_back(1);
  const int64_t m = a[a.size() - 2], k = a.back(), n = bs.back();
  const Shape &y = ctx.out[0];
  const Shape batch(y.begin(), y.end() - (a_vector ? 0 : 1) - (b_vector ? 0 : 1));
  int64_t count = 1;
  for (int64_t d : batch)
    count *= d;
  KernelSourceBuilder b;
  b.constant("m", m).constant("n", n).constant("k", k).constant("batch", count);
  b.array("batch_shape", batch);
  b.array("a_batch_stride", broadcast_strides(Shape(a.begin(), a.end() - 2), batch, m * k));
  b.array("b_batch_stride", broadcast_strides(Shape(bs.begin(), bs.end() - 2), batch, k * n));
  add_activation(b, fused_activation(ctx.node.attrs));
  return b.finish("matmul");
}

} // namespace anet::cpu
