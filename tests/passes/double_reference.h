#pragma once
/// A test-only evaluator of whole graphs in double precision: the oracle of
/// the finite-difference gradient checks (tests/passes/autodiff_test.cpp).
/// Every op is written from its ONNX definition (and, for anet's training
/// ops, from the definition beside its shape rule in ir/shape_rules.cpp),
/// independently of anet's float reference kernels, so the checks compare
/// two implementations rather than one with itself.

#include <map>
#include <vector>

#include "ir/error.h"
#include "ir/graph.h"

namespace anet::testing {

/// Values in double, row-major, by value id.
using DoubleValues = std::map<ValueId, std::vector<double>>;

/// The result of evaluating a graph in double.
struct DoubleEvaluation {
  /// Every graph input, param, constant and node output.
  DoubleValues values;
  /// How close the evaluation came to a point where the function is not
  /// differentiable: the smallest distance of a Relu or Clip input (also a
  /// fused epilogue's) to its kink, and of a MaxPool window's maximum to its
  /// runner-up. Infinity when the graph has no such op. A finite-difference
  /// step well below it does not cross a kink.
  double kink_margin = 0;
};

/// Evaluates `g` in double. `given` holds every graph input and param and may
/// pin any node's outputs (a DropoutMask's mask, which is a function of
/// anet's random draw): a node whose outputs are all given is not evaluated.
/// Constants come from g.constants. Output shapes are the graph's value
/// types. An op the evaluator does not implement, or a DropoutMask left
/// unpinned, is an ExitCode::InvalidModel error naming the node.
Expected<DoubleEvaluation> evaluate_double(const Graph &g, const DoubleValues &given);

} // namespace anet::testing
