// add-loss: gives a classifier its training objective. The logits are the
// input of the Softmax (or LogSoftmax) that produces a graph output, or the
// graph's only output when it is a [N, K] matrix. The pass adds the input
// `labels` (f32[N], class indices) and the scalar `loss`, the batch mean of
// the softmax cross-entropy, as the program's first output; the model's
// outputs stay, so a training step also reports its predictions.

#include "passes/passes.h"

namespace anet {
namespace {

class AddLoss final : public Pass {
public:
  std::string_view name() const override { return "add-loss"; }

  Expected<bool> run(Graph &g, const PassContext &) override {
    for (const char *name : {kLossName, kLabelsName})
      if (g.find_value(name))
        return make_error(ExitCode::InvalidModel, "graph '", g.name,
                          "' already has a value named '", name, "', a name training programs use");
    ANET_ASSIGN_OR_RETURN(ValueId logits, find_logits(g));
    const Shape &s = g.type(logits).shape;
    ValueId labels = g.add_value(kLabelsName, TensorType{DType::F32, {s[0]}}, ValueKind::Input);
    Node loss;
    loss.op = OpKind::SoftmaxCrossEntropy;
    loss.name = kLossName;
    loss.inputs = {logits, labels};
    loss.outputs = {g.add_value(kLossName, TensorType{DType::F32, {}}, ValueKind::Activation)};
    g.outputs.insert(g.outputs.begin(), loss.outputs[0]);
    g.add_node(std::move(loss));
    return true;
  }

private:
  static Expected<ValueId> find_logits(const Graph &g) {
    std::vector<NodeId> producer = g.producers();
    for (ValueId out : g.outputs) {
      NodeId p = producer[static_cast<size_t>(out)];
      if (p < 0)
        continue;
      const Node &n = g.nodes[static_cast<size_t>(p)];
      bool classifier = (n.op == OpKind::Softmax || n.op == OpKind::LogSoftmax) &&
                        g.type(out).rank() == 2 && n.attrs.i("axis") == 1;
      if (classifier)
        return n.inputs[0];
    }
    if (g.outputs.size() == 1 && g.type(g.outputs[0]).rank() == 2)
      return g.outputs[0];
    return make_error(ExitCode::InvalidModel, "graph '", g.name,
                      "': cannot find the classifier's logits to train: no output is a "
                      "Softmax/LogSoftmax over axis 1 of a [N, K] matrix, and there is not "
                      "exactly one [N, K] output");
  }
};

} // namespace

std::unique_ptr<Pass> make_add_loss_pass() { return std::make_unique<AddLoss>(); }

} // namespace anet
