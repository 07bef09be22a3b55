// canonicalise: one form for each idea, so later passes (fusion, autodiff,
// partitioning, codegen) match a single pattern instead of many:
//  - a node whose inputs are all constants is computed now, by its
//    reference kernel, and becomes a constant (up to kMaxFoldedElements);
//  - Identity nodes, and Dropout in inference programs, disappear: their
//    readers read the input (or the producer writes the output directly,
//    keeping a graph output's name);
//  - Flatten, Squeeze and Unsqueeze become Reshape; a Reshape of a Reshape
//    reads the original; a Reshape to the same shape disappears;
//  - MatMul(A, B) + Add(bias) with 2-D A and a bias along the columns
//    becomes Gemm(A, B, bias), the form fusion and codegen know;
//  - a Gemm with beta = 0 loses its C.
// Nodes left without readers are removed by the dead-code pass after it.

#include <algorithm>

#include "ir/reference/reference.h"
#include "passes/passes.h"

namespace anet {
namespace {

/// Larger results stay computed at run time rather than bloat the plan.
constexpr int64_t kMaxFoldedElements = int64_t{1} << 20;

class Canonicalise final : public Pass {
public:
  std::string_view name() const override { return "canonicalise"; }

  Expected<bool> run(Graph &g, const PassContext &ctx) override {
    bool changed = false;
    for (size_t i = 0; i < g.nodes.size(); ++i) {
      Node &n = g.nodes[i];
      switch (n.op) {
      case OpKind::Flatten:
      case OpKind::Squeeze:
      case OpKind::Unsqueeze:
        n.op = OpKind::Reshape;
        n.attrs = Attrs();
        n.attrs.set("shape", g.type(n.outputs[0]).shape);
        changed = true;
        break;
      case OpKind::Gemm:
        if (n.inputs.size() == 3 && n.attrs.f("beta") == 0.f) {
          n.inputs.pop_back();
          changed = true;
        }
        break;
      default:
        break;
      }
    }
    ANET_ASSIGN_OR_RETURN(bool folded, fold_constants(g));
    changed |= folded;
    changed |= fold_reshape_chains(g);
    changed |= matmul_add_to_gemm(g);
    changed |= remove_pass_through(g, ctx);
    if (changed)
      g.compact(); // values of bypassed nodes
    return changed;
  }

private:
  // Nodes of constants only become constants.
  static Expected<bool> fold_constants(Graph &g) {
    std::vector<bool> folded(g.nodes.size(), false);
    for (size_t i = 0; i < g.nodes.size(); ++i) {
      const Node &n = g.nodes[i];
      bool all_constant = !n.inputs.empty() && n.op != OpKind::Transfer;
      std::vector<Tensor> inputs;
      for (ValueId v : n.inputs) {
        all_constant = all_constant && g.value(v).kind == ValueKind::Constant;
        if (!all_constant)
          break;
        inputs.emplace_back(g.type(v), g.constants.at(v));
      }
      int64_t size = 0;
      for (ValueId v : n.outputs)
        size += g.type(v).numel();
      if (!all_constant || size > kMaxFoldedElements)
        continue;
      ANET_ASSIGN_OR_RETURN(std::vector<Tensor> outputs, run_reference(n, inputs));
      for (size_t k = 0; k < n.outputs.size(); ++k) {
        g.value(n.outputs[k]).kind = ValueKind::Constant;
        g.constants[n.outputs[k]] = std::move(outputs[k].data);
      }
      folded[i] = true;
    }
    size_t i = 0;
    std::erase_if(g.nodes, [&](const Node &) { return folded[i++]; });
    return std::find(folded.begin(), folded.end(), true) != folded.end();
  }

  // Reshape(Reshape(x)) reads x directly.
  static bool fold_reshape_chains(Graph &g) {
    bool changed = false;
    std::vector<NodeId> producer = g.producers();
    for (Node &n : g.nodes) {
      if (n.op != OpKind::Reshape)
        continue;
      NodeId p = producer[static_cast<size_t>(n.inputs[0])];
      while (p >= 0 && g.nodes[static_cast<size_t>(p)].op == OpKind::Reshape) {
        n.inputs[0] = g.nodes[static_cast<size_t>(p)].inputs[0];
        p = producer[static_cast<size_t>(n.inputs[0])];
        changed = true;
      }
    }
    return changed;
  }

  // MatMul(A[M,K], B[K,N]) feeding only Add(., bias[N] or [1,N]).
  static bool matmul_add_to_gemm(Graph &g) {
    bool changed = false;
    std::vector<NodeId> producer = g.producers();
    auto consumers = g.consumers();
    for (Node &add : g.nodes) {
      if (add.op != OpKind::Add)
        continue;
      for (int side = 0; side < 2; ++side) {
        ValueId mm_out = add.inputs[static_cast<size_t>(side)];
        ValueId bias = add.inputs[static_cast<size_t>(1 - side)];
        NodeId p = producer[static_cast<size_t>(mm_out)];
        if (p < 0 || consumers[static_cast<size_t>(mm_out)].size() != 1 ||
            std::count(g.outputs.begin(), g.outputs.end(), mm_out))
          continue;
        Node &mm = g.nodes[static_cast<size_t>(p)];
        if (mm.op != OpKind::MatMul || mm.attrs.has("activation") ||
            g.type(mm.inputs[0]).rank() != 2 || g.type(mm.inputs[1]).rank() != 2)
          continue;
        int64_t cols = g.type(mm_out).shape[1];
        const Shape &bs = g.type(bias).shape;
        if (bs != Shape{cols} && bs != Shape{1, cols})
          continue;
        // The Gemm takes the Add's place (the bias may be defined between
        // the two nodes) and writes the Add's output.
        Node gemm;
        gemm.op = OpKind::Gemm;
        gemm.name = mm.name;
        gemm.inputs = {mm.inputs[0], mm.inputs[1], bias};
        gemm.outputs = add.outputs;
        gemm.device = add.device;
        gemm.attrs.set("alpha", 1.f);
        gemm.attrs.set("beta", 1.f);
        gemm.attrs.set("transA", int64_t{0});
        gemm.attrs.set("transB", int64_t{0});
        mm.outputs.clear();
        mm.inputs.clear();
        add = std::move(gemm);
        changed = true;
        break;
      }
    }
    if (changed)
      std::erase_if(g.nodes, [](const Node &n) { return n.outputs.empty(); });
    return changed;
  }

  static bool is_pass_through(const Graph &g, const Node &n, bool training) {
    if (n.op == OpKind::Identity)
      return true;
    if (n.op == OpKind::Dropout)
      return !training;
    return n.op == OpKind::Reshape && g.type(n.inputs[0]) == g.type(n.outputs[0]);
  }

  // Removes nodes that compute y = x. Readers of y read x; when y is a
  // graph output and x is a node's output that is not, the producer writes
  // y directly so the program keeps its output names.
  static bool remove_pass_through(Graph &g, const PassContext &ctx) {
    bool changed = false;
    std::vector<bool> removed(g.nodes.size(), false);
    for (size_t i = 0; i < g.nodes.size(); ++i) {
      Node &n = g.nodes[i];
      if (!is_pass_through(g, n, ctx.training))
        continue;
      ValueId x = n.inputs[0], y = n.outputs[0];
      bool y_is_output = std::count(g.outputs.begin(), g.outputs.end(), y) > 0;
      if (!y_is_output) {
        g.replace_uses(y, x);
      } else {
        bool x_is_output = std::count(g.outputs.begin(), g.outputs.end(), x) > 0;
        NodeId p = g.producers()[static_cast<size_t>(x)];
        if (p < 0 || x_is_output)
          continue; // y = x must stay a copy: keep the node
        for (ValueId &out : g.nodes[static_cast<size_t>(p)].outputs)
          if (out == x)
            out = y;
        // Readers of x between the producer and here now read y.
        g.replace_uses(x, y);
      }
      removed[i] = true;
      changed = true;
    }
    size_t i = 0;
    std::erase_if(g.nodes, [&](const Node &) { return removed[i++]; });
    return changed;
  }
};

} // namespace

std::unique_ptr<Pass> make_canonicalise_pass() { return std::make_unique<Canonicalise>(); }

} // namespace anet
