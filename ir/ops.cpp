#include "ir/ops.h"

#include "ir/graph.h"

namespace anet {

#define ANET_OP(name, min_in, max_in, outs, fusion)                                                \
  Expected<std::vector<TensorType>> shape_##name(const Node &, const std::vector<TensorType> &);
#include "ir/ops.def"
#undef ANET_OP

namespace {
constexpr OpInfo kOpTable[] = {
#define ANET_OP(name, min_in, max_in, outs, fusion)                                                \
  {#name, min_in, max_in, outs, FusionKind::fusion, &shape_##name},
#include "ir/ops.def"
#undef ANET_OP
};
static_assert(std::size(kOpTable) == kNumOps);
} // namespace

const OpInfo &op_info(OpKind op) { return kOpTable[static_cast<size_t>(op)]; }

std::optional<OpKind> op_from_name(std::string_view name) {
  for (size_t i = 0; i < std::size(kOpTable); ++i)
    if (kOpTable[i].name == name)
      return static_cast<OpKind>(i);
  return std::nullopt;
}

Expected<std::vector<TensorType>> infer_shapes(const Node &node,
                                               const std::vector<TensorType> &inputs) {
  const OpInfo &info = op_info(node.op);
  auto n_in = static_cast<int>(inputs.size());
  if (n_in < info.min_inputs || n_in > info.max_inputs)
    return make_error(
        ExitCode::InvalidModel, node_label(node), ": has ", n_in, " inputs, expected ",
        info.min_inputs,
        info.min_inputs == info.max_inputs ? "" : " to " + std::to_string(info.max_inputs));
  auto n_out = static_cast<int>(node.outputs.size());
  bool outputs_ok = node.op == OpKind::Split ? n_out >= 1 && n_out <= info.num_outputs
                                             : n_out == info.num_outputs;
  if (!outputs_ok)
    return make_error(ExitCode::InvalidModel, node_label(node), ": has ", n_out,
                      " outputs, expected ", info.num_outputs);
  for (const TensorType &t : inputs)
    if (checked_numel(t.shape) < 0)
      return make_error(ExitCode::InvalidModel, node_label(node), ": input shape ",
                        shape_string(t.shape), " is negative or too large");
  auto result = info.shape(node, inputs);
  if (!result)
    return with_context(std::move(result).take_error(), node_label(node));
  return result;
}

} // namespace anet
