// The reference kernel table, built from ir/ops.def: an op without a
// `ref_<Name>` definition fails the link, and a table out of step with the op
// list fails the static_assert. Also the host-tensor entry point used by
// tests and by other backends' conformance checks.

#include <cassert>
#include <iterator>

#include "ir/reference/reference.h"

namespace anet {
namespace {

constexpr RefKernel kRefKernels[] = {
#define ANET_OP(name, min_in, max_in, outs, fusion) &ref_##name,
#include "ir/ops.def"
#undef ANET_OP
};
static_assert(std::size(kRefKernels) == kNumOps, "every op of ir/ops.def needs a reference kernel");

} // namespace

RefKernel ref_kernel(OpKind op) { return kRefKernels[static_cast<size_t>(op)]; }

Expected<std::vector<Tensor>> run_reference(const Node &node, const std::vector<Tensor> &inputs) {
  std::vector<TensorType> in_types;
  InViews in;
  for (const Tensor &t : inputs) {
    assert(static_cast<int64_t>(t.data.size()) == t.type.numel() &&
           "tensor data and type disagree");
    in_types.push_back(t.type);
    in.push_back(InView{t.data.data(), t.type.shape});
  }
  ANET_ASSIGN_OR_RETURN(std::vector<TensorType> out_types, infer_shapes(node, in_types));
  std::vector<Tensor> outputs;
  for (const TensorType &t : out_types)
    outputs.emplace_back(t);
  OutViews out;
  for (Tensor &t : outputs)
    out.push_back(OutView{t.data.data(), t.type.shape});
  ref_kernel(node.op)(node.attrs, in, out);
  return outputs;
}

} // namespace anet
