// The CPU emitters of the normalising ops: BatchNormalization (kernel
// ak::batch_norm), LRN (ak::lrn) and Softmax / LogSoftmax (ak::softmax).
// Each views its input as [outer, n, inner] around the op's axis.

#include "codegen/cpu/emit.h"

namespace anet::cpu {
namespace {

// The shape as [outer, n, inner] around `axis`, as the reference splits it
// (a scalar is [1, 1, 1]).
struct AxisSplit {
  int64_t outer = 1, n = 1, inner = 1;
};

AxisSplit split_at_axis(const Shape &shape, int64_t axis) {
  AxisSplit s;
  for (size_t d = 0; d < shape.size(); ++d) {
    const auto i = static_cast<int64_t>(d);
    (i < axis ? s.outer : i == axis ? s.n : s.inner) *= shape[d];
  }
  return s;
}

Expected<std::string> softmax(const EmitContext &ctx, bool log) {
  const AxisSplit s = split_at_axis(ctx.in[0], ctx.node.attrs.i("axis"));
  KernelSourceBuilder b;
  b.constant("outer", s.outer);
  b.constant("n", s.n);
  b.constant("inner", s.inner);
  b.flag("log", log);
  return b.finish("softmax");
}

} // namespace

Expected<std::string> emit_BatchNormalization(const EmitContext &ctx) {
  const AxisSplit s = split_at_axis(ctx.in[0], 1);
  KernelSourceBuilder b;
  b.constant("outer", s.outer);
  b.constant("channels", s.n);
  b.constant("inner", s.inner);
  b.constant("epsilon", ctx.node.attrs.f("epsilon"));
  return b.finish("batch_norm");
}

// alpha / size is rounded to float once, as the reference computes it.
Expected<std::string> emit_LRN(const EmitContext &ctx) {
  const Attrs &attrs = ctx.node.attrs;
  const AxisSplit s = split_at_axis(ctx.in[0], 1);
  const int64_t size = attrs.i("size");
  const float beta = attrs.f("beta");
  KernelSourceBuilder b;
  b.constant("outer", s.outer);
  b.constant("channels", s.n);
  b.constant("inner", s.inner);
  b.constant("size", size);
  b.constant("alpha_over_size", attrs.f("alpha") / static_cast<float>(size));
  b.constant("bias", attrs.f("bias"));
  b.constant("beta", beta);
  b.flag("beta_is_three_quarters", beta == 0.75f);
  return b.finish("lrn");
}

Expected<std::string> emit_Softmax(const EmitContext &ctx) { return softmax(ctx, false); }

Expected<std::string> emit_LogSoftmax(const EmitContext &ctx) { return softmax(ctx, true); }

} // namespace anet::cpu
