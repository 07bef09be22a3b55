// training-mode: rewrites the ops that behave differently while training.
//  - Dropout(x) becomes Mul(x, DropoutMask(step)): a fresh mask every step,
//    drawn from the new scalar input `step` (ir/random.h), kept in the graph
//    as a value so the backward pass multiplies by the same mask.
//  - BatchNormalization becomes BatchNormTrain, which normalises with the
//    batch's statistics and also outputs the updated running statistics
//    (the optimizer pass writes them back) and what its gradient needs.

#include "passes/passes.h"

namespace anet {
namespace {

class TrainingMode final : public Pass {
public:
  std::string_view name() const override { return "training-mode"; }

  Expected<bool> run(Graph &g, const PassContext &) override {
    std::vector<Node> nodes;
    int64_t masks = 0;
    std::optional<ValueId> step;
    bool changed = false;
    for (Node &n : g.nodes) {
      if (n.op == OpKind::Dropout && n.attrs.f("ratio") > 0.f) {
        if (!step) {
          if (g.find_value(kStepName))
            return make_error(ExitCode::InvalidModel, "graph '", g.name,
                              "' already has a value named '", kStepName,
                              "', the name of the training step input");
          step = g.add_value(kStepName, TensorType{DType::F32, {}}, ValueKind::Input);
        }
        Node mask;
        mask.op = OpKind::DropoutMask;
        mask.name = n.name + "/mask";
        mask.inputs = {*step};
        mask.attrs.set("shape", g.type(n.inputs[0]).shape);
        mask.attrs.set("ratio", n.attrs.f("ratio"));
        mask.attrs.set("seed", ++masks);
        mask.device = n.device;
        mask.outputs = {g.add_value(g.unique_value_name(mask.name), g.type(n.inputs[0]),
                                    ValueKind::Activation)};
        n.op = OpKind::Mul;
        n.inputs.push_back(mask.outputs[0]);
        n.attrs = {};
        nodes.push_back(std::move(mask));
        changed = true;
      } else if (n.op == OpKind::BatchNormalization) {
        n.op = OpKind::BatchNormTrain;
        n.attrs.set("momentum", 0.9f);
        const TensorType &c = g.type(n.inputs[1]);
        for (const char *part : {"running_mean", "running_var", "saved_mean", "saved_invstd"})
          n.outputs.push_back(
              g.add_value(g.unique_value_name(n.name + "/" + part), c, ValueKind::Activation));
        changed = true;
      }
      nodes.push_back(std::move(n));
    }
    g.nodes = std::move(nodes);
    return changed;
  }
};

} // namespace

std::unique_ptr<Pass> make_training_mode_pass() { return std::make_unique<TrainingMode>(); }

} // namespace anet
