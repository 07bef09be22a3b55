// The parts of the CPU kernel emitters that every op shares: formatting of
// constants and the dispatch from a node to its op's emitter.

#include "codegen/cpu/emit.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>

#include "ir/reference/indexing.h"

namespace anet::cpu {

std::string float_literal(float v) {
  char buf[64];
  // Infinities and NaNs by their bits: the one constant expression that
  // Clang, GCC and NVRTC all take (NVRTC has no __builtin_inff).
  if (!std::isfinite(v)) {
    std::snprintf(buf, sizeof buf, "__builtin_bit_cast(float, 0x%08xu)",
                  std::bit_cast<uint32_t>(v));
    return buf;
  }
  std::snprintf(buf, sizeof buf, "%af", static_cast<double>(v));
  return buf;
}

KernelSourceBuilder &KernelSourceBuilder::constant(std::string_view name, int64_t v) {
  fields_ += "  static constexpr long " + std::string(name) + " = " + std::to_string(v) + ";\n";
  return *this;
}

KernelSourceBuilder &KernelSourceBuilder::flag(std::string_view name, bool v) {
  fields_ +=
      "  static constexpr bool " + std::string(name) + " = " + (v ? "true" : "false") + ";\n";
  return *this;
}

KernelSourceBuilder &KernelSourceBuilder::constant(std::string_view name, float v) {
  fields_ += "  static constexpr float " + std::string(name) + " = " + float_literal(v) + ";\n";
  return *this;
}

namespace {

template <class T, class Format> std::string list_of(std::span<const T> v, Format format) {
  if (v.empty())
    return "{" + format(T{}) + "}";
  std::string s = "{";
  for (size_t i = 0; i < v.size(); ++i)
    s += (i ? ", " : "") + format(v[i]);
  return s + "}";
}

} // namespace

KernelSourceBuilder &KernelSourceBuilder::array(std::string_view name, std::span<const int64_t> v) {
  fields_ += "  static constexpr anet_array<long, " +
             std::to_string(std::max<size_t>(v.size(), 1)) + "> " + std::string(name) + " = {" +
             list_of(v, [](int64_t x) { return std::to_string(x); }) + "};\n";
  return constant(std::string(name) + "_size", static_cast<int64_t>(v.size()));
}

KernelSourceBuilder &KernelSourceBuilder::array(std::string_view name, std::span<const float> v) {
  fields_ += "  static constexpr anet_array<float, " +
             std::to_string(std::max<size_t>(v.size(), 1)) + "> " + std::string(name) + " = {" +
             list_of(v, float_literal) + "};\n";
  return constant(std::string(name) + "_size", static_cast<int64_t>(v.size()));
}

std::string KernelSourceBuilder::finish(std::string_view kernel_template) const {
  return "struct P {\n" + fields_ + "};\nANET_KERNEL(" + std::string(kernel_template) + ")\n";
}

void add_activation(KernelSourceBuilder &b, const std::optional<Activation> &act) {
  int64_t code = 0;
  if (act) {
    switch (act->op) {
    case OpKind::Relu:
      code = 1;
      break;
    case OpKind::Sigmoid:
      code = 2;
      break;
    case OpKind::Tanh:
      code = 3;
      break;
    case OpKind::Clip:
      code = 4;
      break;
    default:
      break;
    }
  }
  const bool clip = act && act->op == OpKind::Clip;
  b.constant("act", code);
  // With min > max, Clip gives max everywhere (min(max(x, min), max)): as
  // the kernels clamp low first, the bounds become [max, max].
  const float max = clip ? act->max : 0.f;
  b.constant("act_min", clip ? std::min(act->min, max) : 0.f);
  b.constant("act_max", max);
}

void add_axis_split(KernelSourceBuilder &b, const Shape &shape, int64_t axis,
                    std::string_view axis_name) {
  const ref::AxisSplit s = ref::split_at_axis(shape, axis);
  b.constant("outer", s.outer);
  b.constant(axis_name, s.n);
  b.constant("inner", s.inner);
}

void add_pool_window(KernelSourceBuilder &b, const Node &node, const Shape &x, const Shape &y) {
  const ref::Window win = ref::window_of(node.attrs);
  b.constant("planes", x[0] * x[1]);
  b.constant("height", x[2]);
  b.constant("width", x[3]);
  b.constant("out_h", y[2]);
  b.constant("out_w", y[3]);
  b.constant("kernel_h", win.kernel[0]);
  b.constant("kernel_w", win.kernel[1]);
  b.constant("stride_h", win.stride[0]);
  b.constant("stride_w", win.stride[1]);
  b.constant("dilation_h", win.dilation[0]);
  b.constant("dilation_w", win.dilation[1]);
  b.constant("pad_top", win.pad_begin[0]);
  b.constant("pad_left", win.pad_begin[1]);
}

Expected<std::string> emit_kernel(const Graph &graph, NodeId id) {
  const Node &node = graph.nodes[static_cast<size_t>(id)];
  EmitContext ctx{graph, node, {}, {}};
  for (ValueId v : node.inputs)
    ctx.in.push_back(graph.type(v).shape);
  for (ValueId v : node.outputs)
    ctx.out.push_back(graph.type(v).shape);
  switch (node.op) {
#define ANET_OP(name, min_in, max_in, outs, fusion)                                                \
  case OpKind::name:                                                                               \
    return emit_##name(ctx);
#include "ir/ops.def"
#undef ANET_OP
  }
  return make_error(ExitCode::Runtime, "node '", node.name, "': op ", op_name(node.op),
                    " has no CPU kernel emitter");
}

} // namespace anet::cpu
