#pragma once
/// The CUDA kernel of a node: the CPU emitters' source (codegen/cpu/emit.h:
/// struct P and ANET_KERNEL(template)) after the CUDA kernel library's
/// include, and the shape of its launch. One emitter per op serves both
/// targets; the CUDA library (codegen/cuda/kernels) implements each template.

#include <string>

#include "ir/error.h"
#include "ir/graph.h"

namespace anet::cuda {

/// Threads per block of every generated kernel.
constexpr unsigned kBlockThreads = 256;

/// A node's kernel: CUDA C++ whose __global__ function `entry` takes one
/// anet_cuda_args (codegen/cuda/kernels/args.h), launched as `grid` blocks
/// of `block` threads. The kernels loop grid-stride, so the grid sets the
/// parallelism only: it is sized to the node's largest operand.
struct KernelSource {
  std::string source;
  std::string entry = "anet_kernel";
  unsigned grid = 1;
  unsigned block = kBlockThreads;
};

/// The kernel of node `id` of `graph`. Errors name the node and op.
Expected<KernelSource> emit_kernel(const Graph &graph, NodeId id);

} // namespace anet::cuda
