// The CPU emitters of the normalising ops: BatchNormalization (kernel
// ak::batch_norm), LRN (ak::lrn) and Softmax / LogSoftmax (ak::softmax).
// Each views its input as [outer, n, inner] around the op's axis.

#include "codegen/cpu/emit.h"

namespace anet::cpu {
namespace {

Expected<std::string> softmax(const EmitContext &ctx, bool log) {
  KernelSourceBuilder b;
  add_axis_split(b, ctx.in[0], ctx.node.attrs.i("axis"), "n");
  b.flag("log", log);
  return b.finish("softmax");
}

} // namespace

Expected<std::string> emit_BatchNormalization(const EmitContext &ctx) {
  KernelSourceBuilder b;
  add_axis_split(b, ctx.in[0], 1, "channels");
  b.constant("epsilon", ctx.node.attrs.f("epsilon"));
  return b.finish("batch_norm");
}

// alpha / size is rounded to float once, as the reference computes it.
Expected<std::string> emit_LRN(const EmitContext &ctx) {
  const Attrs &attrs = ctx.node.attrs;
  const int64_t size = attrs.i("size");
  const float beta = attrs.f("beta");
  KernelSourceBuilder b;
  add_axis_split(b, ctx.in[0], 1, "channels");
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
