// The paper's initialisation (see paper_init.h).

#include "models/paper_init.h"

#include "models/normal_generator.h"

namespace anet::models {

Status paper_init(const Graph &forward, WeightStore &weights, uint64_t seed) {
  std::vector<const Node *> convs, gemms;
  for (const Node &n : forward.nodes) {
    if (n.op == OpKind::Conv)
      convs.push_back(&n);
    if (n.op == OpKind::Gemm || n.op == OpKind::MatMul)
      gemms.push_back(&n);
  }
  auto stored = [&](ValueId v) -> Expected<std::vector<float> *> {
    const Value &val = forward.value(v);
    auto it = weights.find(val.name);
    if (val.kind != ValueKind::Param || it == weights.end())
      return make_error(ExitCode::InvalidModel, "--init paper: '", val.name,
                        "' is not a stored weight (the model computes it)");
    return &it->second;
  };
  auto init_layer = [&](const Node &n, float bias) -> Status {
    for (size_t i = 0; i < n.inputs.size(); ++i) {
      if (forward.value(n.inputs[i]).kind != ValueKind::Param)
        continue;
      ANET_ASSIGN_OR_RETURN(std::vector<float> * data, stored(n.inputs[i]));
      if (forward.type(n.inputs[i]).rank() >= 2) {
        NormalGenerator gen(tensor_seed(seed, forward.value(n.inputs[i]).name));
        for (float &x : *data)
          x = static_cast<float>(gen.next_normal() * 0.01);
      } else {
        std::fill(data->begin(), data->end(), bias);
      }
    }
    return {};
  };
  for (size_t i = 0; i < convs.size(); ++i)
    ANET_RETURN_IF_ERR(init_layer(*convs[i], i == 1 || i == 3 || i == 4 ? 1.f : 0.f));
  for (size_t i = 0; i < gemms.size(); ++i)
    ANET_RETURN_IF_ERR(init_layer(*gemms[i], i + 1 < gemms.size() ? 1.f : 0.f));
  return {};
}

} // namespace anet::models
