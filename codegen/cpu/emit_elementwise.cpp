// The CPU emitters of the elementwise ops: the unary ops (kernels
// ak::eltwise_unary) and the broadcasting binary ops (ak::eltwise_binary).
//
// A binary op's broadcast is resolved here, once: each operand gets numpy
// strides over the output's axes (0 along a broadcast axis), axes of size 1
// are dropped, and neighbouring axes along which both operands advance
// contiguously are merged. What is left is rows of one innermost axis along
// which each operand is either contiguous (stride 1) or a single scalar
// (stride 0), so the kernel's inner loop is a plain vector stream.

#include "codegen/cpu/emit.h"
#include "ir/reference/indexing.h"

#include <cassert>

namespace anet::cpu {
namespace {

// Elements of one parallel work item along a long row (a multiple of 16).
constexpr int64_t kRowChunk = 4096;

Expected<std::string> unary(const EmitContext &ctx, const std::optional<Activation> &act) {
  KernelSourceBuilder b;
  b.constant("n", ref::numel(ctx.out[0]));
  add_activation(b, act);
  return b.finish("eltwise_unary");
}

// A broadcasting binary op as rows of one innermost stream.
struct Collapsed {
  std::vector<int64_t> dims;                 // outer axes (at least one)
  std::vector<int64_t> a_strides, b_strides; // per outer axis
  int64_t inner = 1;                         // length of the innermost axis
  bool a_inner = false, b_inner = false;     // contiguous along it (else scalar)
};

Collapsed collapse(const Shape &a, const Shape &b, const Shape &out) {
  std::vector<int64_t> sa = ref::broadcast_strides(a, out), sb = ref::broadcast_strides(b, out);
  Collapsed c;
  if (ref::numel(out) == 0) {
    c.dims = {0};
    c.a_strides = c.b_strides = {0};
    return c;
  }
  // Drop the axes of size 1; merge an axis into the previous one when both
  // operands step over it exactly as over one longer axis.
  std::vector<int64_t> dims, as, bs;
  for (size_t d = 0; d < out.size(); ++d) {
    if (out[d] == 1)
      continue;
    if (!dims.empty() && as.back() == sa[d] * out[d] && bs.back() == sb[d] * out[d]) {
      dims.back() *= out[d];
      as.back() = sa[d];
      bs.back() = sb[d];
      continue;
    }
    dims.push_back(out[d]);
    as.push_back(sa[d]);
    bs.push_back(sb[d]);
  }
  if (!dims.empty()) {
    assert(as.back() <= 1 && bs.back() <= 1 && "the innermost axis of an operand is contiguous");
    c.inner = dims.back();
    c.a_inner = as.back() == 1;
    c.b_inner = bs.back() == 1;
    dims.pop_back();
    as.pop_back();
    bs.pop_back();
  }
  if (dims.empty()) {
    dims = {1};
    as = bs = {0};
  }
  c.dims = std::move(dims);
  c.a_strides = std::move(as);
  c.b_strides = std::move(bs);
  return c;
}

// The codes of ak::eltwise::BinaryOp.
enum class BinaryOp : int64_t { Add = 0, Sub = 1, Mul = 2, Div = 3 };

Expected<std::string> binary(const EmitContext &ctx, BinaryOp op) {
  Collapsed c = collapse(ctx.in[0], ctx.in[1], ctx.out[0]);
  KernelSourceBuilder b;
  b.constant("op", static_cast<int64_t>(op));
  b.array("dims", c.dims);
  b.array("a_strides", c.a_strides);
  b.array("b_strides", c.b_strides);
  b.constant("inner", c.inner);
  b.flag("a_inner", c.a_inner);
  b.flag("b_inner", c.b_inner);
  b.constant("chunk", c.inner > kRowChunk ? kRowChunk : c.inner);
  return b.finish("eltwise_binary");
}

} // namespace

Expected<std::string> emit_Relu(const EmitContext &ctx) {
  return unary(ctx, activation_of_op(OpKind::Relu, ctx.node.attrs));
}

Expected<std::string> emit_Sigmoid(const EmitContext &ctx) {
  return unary(ctx, activation_of_op(OpKind::Sigmoid, ctx.node.attrs));
}

Expected<std::string> emit_Tanh(const EmitContext &ctx) {
  return unary(ctx, activation_of_op(OpKind::Tanh, ctx.node.attrs));
}

Expected<std::string> emit_Clip(const EmitContext &ctx) {
  return unary(ctx, activation_of_op(OpKind::Clip, ctx.node.attrs));
}

Expected<std::string> emit_Identity(const EmitContext &ctx) { return unary(ctx, std::nullopt); }

// Inference: Dropout passes its input through.
Expected<std::string> emit_Dropout(const EmitContext &ctx) { return unary(ctx, std::nullopt); }

Expected<std::string> emit_Add(const EmitContext &ctx) { return binary(ctx, BinaryOp::Add); }

Expected<std::string> emit_Sub(const EmitContext &ctx) { return binary(ctx, BinaryOp::Sub); }

Expected<std::string> emit_Mul(const EmitContext &ctx) { return binary(ctx, BinaryOp::Mul); }

Expected<std::string> emit_Div(const EmitContext &ctx) { return binary(ctx, BinaryOp::Div); }

} // namespace anet::cpu
