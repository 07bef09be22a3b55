// The CUDA kernel of a node; see emit.h.

#include "codegen/cuda/emit.h"

#include <algorithm>

#include "codegen/cpu/emit.h"

namespace anet::cuda {

namespace {

/// Adds `line` (a constant of the CUDA template alone) to the body's struct P.
void add_to_p(std::string &body, const std::string &line) {
  const size_t end = body.find("};\nANET_KERNEL(");
  body.insert(end, "  " + line + "\n");
}

/// The split of the depth of `batch` products of rows x cols outputs (the
/// template's linear::split_k): enough slices for kSplitTargetBlocks blocks
/// over its tiles, each at least kSplitMinDepth deep. Sets
/// P::splits and the scratch: the partial products, then an arrival counter
/// per tile (counted for tiles of 16 x 16, the smallest the template uses).
void split_depth(std::string &body, KernelSource &k, int64_t batch, int64_t rows, int64_t cols,
                 int64_t depth) {
  // linear::TileShape: 128 x 128 where both sides pass 64, else 4096 outputs.
  const int64_t tile = rows > 64 && cols > 64 ? 16384 : 4096;
  const int64_t outputs = batch * rows * cols, tiles = std::max<int64_t>(1, outputs / tile);
  const int64_t splits = std::clamp<int64_t>((kSplitTargetBlocks + tiles - 1) / tiles, 1,
                                             std::max<int64_t>(1, depth / kSplitMinDepth));
  add_to_p(body, "static constexpr long splits = " + std::to_string(splits) + ";");
  if (splits > 1)
    k.scratch_bytes =
        static_cast<size_t>(splits * outputs) * sizeof(float) +
        static_cast<size_t>(batch * ((rows + 15) / 16) * ((cols + 15) / 16)) * sizeof(unsigned);
}

} // namespace

Expected<KernelSource> emit_kernel(const Graph &graph, NodeId id) {
  ANET_ASSIGN_OR_RETURN(std::string body, cpu::emit_kernel(graph, id));
  const Node &node = graph.nodes[static_cast<size_t>(id)];
  KernelSource k;
  auto shape = [&](ValueId v) -> const Shape & { return graph.type(v).shape; };
  if (node.op == OpKind::ConvGradWeight) {
    // Per group: dW[M/group, C/group*KH*KW] over N*OH*OW.
    const Shape &x = shape(node.inputs[0]), &dy = shape(node.inputs[1]);
    const Shape &dw = shape(node.outputs[0]);
    const int64_t group = node.attrs.i("group");
    split_depth(body, k, group, dw[0] / group, dw[1] * dw[2] * dw[3], x[0] * dy[2] * dy[3]);
  } else if (node.op == OpKind::Gemm) {
    const Shape &a = shape(node.inputs[0]), &y = shape(node.outputs[0]);
    split_depth(body, k, 1, y[0], y[1], a[node.attrs.i("transA") != 0 ? 0 : 1]);
  }
  int64_t work = 1;
  for (const auto *values : {&node.inputs, &node.outputs})
    for (ValueId v : *values)
      work = std::max(work, graph.type(v).numel());
  // The node is not named in the source: equal nodes (the halves of a
  // grouped layer) share one source, hence one compiled kernel.
  k.source = "#include \"anet/cuda.h\"\n" + body;
  // One thread per element of the largest operand, up to 65536 blocks
  // (beyond that the grid-stride loops take over).
  const int64_t blocks = (work + kBlockThreads - 1) / kBlockThreads;
  k.grid = static_cast<unsigned>(std::clamp<int64_t>(blocks, 1, 65536));
  return k;
}

Expected<anet_cuda_args> launch_args(std::span<const float *const> inputs,
                                     std::span<float *const> outputs, void *scratch,
                                     const std::string &where) {
  if (inputs.size() > ANET_CUDA_MAX_OPERANDS || outputs.size() > ANET_CUDA_MAX_OPERANDS)
    return make_error(ExitCode::Runtime, where, ": more than ", ANET_CUDA_MAX_OPERANDS,
                      " inputs or outputs");
  anet_cuda_args args{};
  std::copy(inputs.begin(), inputs.end(), args.in);
  std::copy(outputs.begin(), outputs.end(), args.out);
  args.scratch = scratch;
  return args;
}

} // namespace anet::cuda
