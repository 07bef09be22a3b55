// optimizer: the paper's update rule (section 5), for every param with a
// gradient:
//     v <- momentum * v - weight_decay * lr * w - lr * grad/w
//     w <- w + v
// one SgdUpdate node each, on the device that holds the param. Momentum
// buffers are params of their own, named "<weight>.momentum", slicing a
// whole stored buffer like their weight does, and zero-initialised state
// (Graph::zero_init) so plans need not carry them. The learning rate is the
// scalar input `lr` (so schedules need no recompiling), transferred to every
// other device that updates. The new values replace the old ones after each
// run (Graph::updates), and so do BatchNormTrain's running statistics.

#include "passes/passes.h"

namespace anet {
namespace {

class Optimizer final : public Pass {
public:
  std::string_view name() const override { return "optimizer"; }

  Expected<bool> run(Graph &g, const PassContext &ctx) override {
    if (g.find_value(kLearningRateName))
      return make_error(ExitCode::InvalidModel, "graph '", g.name, "' already has a value named '",
                        kLearningRateName, "'");
    ValueId lr = g.add_value(kLearningRateName, TensorType{DType::F32, {}}, ValueKind::Input);
    std::map<int, ValueId> lr_on{{0, lr}};
    std::vector<NodeId> producer = g.producers();
    bool changed = false;
    for (ValueId p : g.params()) {
      std::optional<ValueId> grad = g.find_value("grad/" + g.value(p).name);
      if (!grad)
        continue;
      NodeId gp = producer[static_cast<size_t>(*grad)];
      int device = gp >= 0 ? g.nodes[static_cast<size_t>(gp)].device : 0;
      if (!lr_on.count(device))
        lr_on[device] = transfer(g, lr, device);
      ValueId v = momentum_of(g, p);
      Node update;
      update.op = OpKind::SgdUpdate;
      update.name = g.value(p).name + "/sgd";
      update.inputs = {p, v, *grad, lr_on[device]};
      update.attrs.set("momentum", ctx.momentum);
      update.attrs.set("weight_decay", ctx.weight_decay);
      update.device = device;
      for (ValueId old : {p, v})
        update.outputs.push_back(g.add_value(g.unique_value_name(g.value(old).name + "/new"),
                                             g.type(old), ValueKind::Activation));
      g.updates.emplace_back(p, update.outputs[0]);
      g.updates.emplace_back(v, update.outputs[1]);
      g.add_node(std::move(update));
      changed = true;
    }
    for (const Node &n : g.nodes)
      if (n.op == OpKind::BatchNormTrain)
        for (size_t i : {3, 4}) // running mean and variance, from outputs 1 and 2
          if (g.value(n.inputs[i]).kind == ValueKind::Param)
            g.updates.emplace_back(n.inputs[i], n.outputs[i - 2]);
    return changed;
  }

private:
  // The momentum buffer of param `p`: a zero-initialised param shaped and
  // sliced like it.
  static ValueId momentum_of(Graph &g, ValueId p) {
    ValueId v = g.add_value(g.unique_value_name(g.value(p).name + ".momentum"), g.type(p),
                            ValueKind::Param);
    if (auto slice = g.param_slices.find(p); slice != g.param_slices.end()) {
      ParamSlice s = slice->second;
      s.source += ".momentum";
      g.zero_init.insert(s.source);
      g.param_slices[v] = s;
    } else {
      g.zero_init.insert(g.value(v).name);
    }
    return v;
  }

  static ValueId transfer(Graph &g, ValueId v, int device) {
    Node t;
    t.op = OpKind::Transfer;
    t.name = g.value(v).name + "@" + std::to_string(device);
    t.inputs = {v};
    t.attrs.set("kind", std::string("copy"));
    t.device = device;
    t.outputs = {g.add_value(g.unique_value_name(t.name), g.type(v), ValueKind::Activation)};
    ValueId out = t.outputs[0];
    g.add_node(std::move(t));
    return out;
  }
};

} // namespace

std::unique_ptr<Pass> make_optimizer_pass() { return std::make_unique<Optimizer>(); }

} // namespace anet
