#pragma once
/// The CUDA kernel of a node: the CPU emitters' source (codegen/cpu/emit.h:
/// struct P and ANET_KERNEL(template)) after the CUDA kernel library's
/// include, and the shape of its launch. One emitter per op serves both
/// targets; the CUDA library (codegen/cuda/kernels) implements each template.

#include <span>
#include <string>

#include "codegen/cuda/kernels/args.h"
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
  /// Device memory the kernel keeps between launches (anet_cuda_args::
  /// scratch), zeroed when allocated; 0 for none.
  size_t scratch_bytes = 0;
};

/// The blocks a split-K product aims to keep busy: a few per multiprocessor
/// of the largest GPUs (132 on the H100 and H200).
constexpr int64_t kSplitTargetBlocks = 512;
/// The least depth one split of a split-K product sums.
constexpr int64_t kSplitMinDepth = 1024;

/// The kernel of node `id` of `graph`. Errors name the node and op.
Expected<KernelSource> emit_kernel(const Graph &graph, NodeId id);

/// The one argument of a launch (the cuda and emu devices): the operands'
/// addresses in order and the kernel's scratch; an error naming `where`
/// beyond ANET_CUDA_MAX_OPERANDS inputs or outputs.
Expected<anet_cuda_args> launch_args(std::span<const float *const> inputs,
                                     std::span<float *const> outputs, void *scratch,
                                     const std::string &where);

} // namespace anet::cuda
