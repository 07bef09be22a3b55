#pragma once
/// Activations: the unary elementwise ops a ComplexOutFusable node (Conv,
/// Gemm, MatMul) can apply in its epilogue after fusion. A fused node
/// carries `activation` (the op's name) and, for Clip, `activation_min` and
/// `activation_max`. One definition of each function, used by the reference
/// kernels, constant folding and the kernel emitters.

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>

#include "ir/graph.h"

namespace anet {

/// A resolved activation.
struct Activation {
  OpKind op = OpKind::Identity;
  float min = -INFINITY; ///< Clip only
  float max = INFINITY;  ///< Clip only

  float operator()(float x) const {
    switch (op) {
    case OpKind::Relu:
      return x > 0.f ? x : 0.f;
    case OpKind::Sigmoid:
      return 1.f / (1.f + std::exp(-x));
    case OpKind::Tanh:
      return std::tanh(x);
    case OpKind::Clip:
      return std::min(std::max(x, min), max);
    default:
      return x;
    }
  }

  /// The derivative f'(x), written in terms of the output y = f(x): what
  /// ActivationGrad multiplies the gradient by (at Relu's and Clip's kinks,
  /// the side where the output stops moving).
  float slope_at_output(float y) const {
    switch (op) {
    case OpKind::Relu:
      return y > 0.f ? 1.f : 0.f;
    case OpKind::Sigmoid:
      return y * (1.f - y);
    case OpKind::Tanh:
      return 1.f - y * y;
    case OpKind::Clip:
      return y > min && y < max ? 1.f : 0.f;
    default:
      return 1.f;
    }
  }
};

/// True for the ops that can become an epilogue activation.
inline bool is_activation_op(OpKind op) {
  return op == OpKind::Relu || op == OpKind::Sigmoid || op == OpKind::Tanh || op == OpKind::Clip;
}

/// The activation a standalone unary node of op `op` computes.
inline Activation activation_of_op(OpKind op, const Attrs &attrs) {
  Activation a{op};
  if (op == OpKind::Clip) {
    a.min = attrs.f("min");
    a.max = attrs.f("max");
  }
  return a;
}

/// The epilogue activation of a fused node, from its attributes, or nullopt
/// when it has none. Assumes a verified node.
inline std::optional<Activation> fused_activation(const Attrs &attrs) {
  const std::string *name = attrs.get_if<std::string>("activation");
  if (!name)
    return std::nullopt;
  Activation a{*op_from_name(*name)};
  if (a.op == OpKind::Clip) {
    a.min = attrs.f("activation_min");
    a.max = attrs.f("activation_max");
  }
  return a;
}

/// Checks a node's optional `activation` attribute (used by the shape rules
/// of the ComplexOutFusable ops).
Status check_fused_activation(const Node &n);

} // namespace anet
