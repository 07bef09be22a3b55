#pragma once
/// What a node costs in arithmetic: the floating-point operations of the
/// ops that multiply and accumulate (a multiply-add counts as two), for
/// benchmarks that report GFLOP/s and the fraction of a processor's peak.

#include <cstdint>

#include "ir/graph.h"

namespace anet {

/// The flops of `node` in `graph`: Conv, its two gradients, Gemm and MatMul
/// count their multiply-adds twice; every other op counts 0.
inline int64_t node_flops(const Graph &graph, const Node &node) {
  auto numel = [&](ValueId v) { return graph.type(v).numel(); };
  switch (node.op) {
  case OpKind::Conv: { // y[N,M,OH,OW], w[M,Cg,KH,KW]
    const Shape &w = graph.type(node.inputs[1]).shape;
    return 2 * numel(node.outputs[0]) * (w[1] * w[2] * w[3]);
  }
  case OpKind::ConvGradInput: { // dy[N,M,OH,OW], w[M,Cg,KH,KW]
    const Shape &w = graph.type(node.inputs[1]).shape;
    return 2 * numel(node.inputs[0]) * (w[1] * w[2] * w[3]);
  }
  case OpKind::ConvGradWeight: { // x, dy[N,M,OH,OW] -> dw[M,Cg,KH,KW]
    const Shape &dw = graph.type(node.outputs[0]).shape;
    return 2 * numel(node.inputs[1]) * (dw[1] * dw[2] * dw[3]);
  }
  case OpKind::Gemm: { // y[M,N] = A[M,K] B[K,N] (either transposed)
    const Shape &a = graph.type(node.inputs[0]).shape;
    const int64_t k = node.attrs.i("transA") ? a[0] : a[1];
    return 2 * numel(node.outputs[0]) * k;
  }
  case OpKind::MatMul: {
    const Shape &a = graph.type(node.inputs[0]).shape;
    return 2 * numel(node.outputs[0]) * a.back();
  }
  default:
    return 0;
  }
}

} // namespace anet
