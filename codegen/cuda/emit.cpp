// The CUDA kernel of a node; see emit.h.

#include "codegen/cuda/emit.h"

#include <algorithm>

#include "codegen/cpu/emit.h"

namespace anet::cuda {

Expected<KernelSource> emit_kernel(const Graph &graph, NodeId id) {
  ANET_ASSIGN_OR_RETURN(std::string body, cpu::emit_kernel(graph, id));
  const Node &node = graph.nodes[static_cast<size_t>(id)];
  int64_t work = 1;
  for (const auto *values : {&node.inputs, &node.outputs})
    for (ValueId v : *values)
      work = std::max(work, graph.type(v).numel());
  KernelSource k;
  // The node is not named in the source: equal nodes (the halves of a
  // grouped layer) share one source, hence one compiled kernel.
  k.source = "#include \"anet/cuda.h\"\n" + body;
  // One thread per element of the largest operand, up to 65536 blocks
  // (beyond that the grid-stride loops take over).
  const int64_t blocks = (work + kBlockThreads - 1) / kBlockThreads;
  k.grid = static_cast<unsigned>(std::clamp<int64_t>(blocks, 1, 65536));
  return k;
}

} // namespace anet::cuda
