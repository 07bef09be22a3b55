#pragma once
/// The reference kernels: one plain, obviously correct C++ function per op of
/// ir/ops.def, with ONNX's semantics, on host memory. They are the oracle that
/// every other backend is tested against, so they favour readability over
/// speed. Kernels trust the graph: a verified node's attributes are canonical
/// and its shapes agree (ir/shape_rules.cpp), so a kernel never fails.

#include <vector>

#include "ir/attrs.h"
#include "ir/error.h"
#include "ir/graph.h"
#include "ir/tensor.h"

namespace anet {

/// A tensor a kernel reads: host data, row-major, and its shape.
struct InView {
  const float *data = nullptr;
  Shape shape;
};

/// A tensor a kernel writes: host data, row-major, and its shape.
struct OutView {
  float *data = nullptr;
  Shape shape;
};

using InViews = std::vector<InView>;
using OutViews = std::vector<OutView>;

/// A reference kernel: reads the node's attributes and inputs and writes
/// every element of every output. Inputs and outputs are in the node's order
/// (optional inputs absent from the node are absent here).
using RefKernel = void (*)(const Attrs &attrs, const InViews &in, const OutViews &out);

#define ANET_OP(name, min_in, max_in, outs, fusion)                                                \
  void ref_##name(const Attrs &attrs, const InViews &in, const OutViews &out);
#include "ir/ops.def"
#undef ANET_OP

/// The reference kernel of `op` (every op has one).
RefKernel ref_kernel(OpKind op);

/// Runs `node`'s reference kernel on host tensors: the output types come
/// from the op's shape rule, whose error (naming the node and op) is
/// returned if the inputs or attributes do not fit. `node.outputs` only
/// provides the number of outputs.
Expected<std::vector<Tensor>> run_reference(const Node &node, const std::vector<Tensor> &inputs);

} // namespace anet
