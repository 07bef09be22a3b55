// The paper's initialisation (see paper_init.h).

#include "models/paper_init.h"

#include <algorithm>

#include "models/normal_generator.h"

namespace anet::models {

Status paper_init(const Graph &forward, WeightStore &weights, uint64_t seed) {
  // Layers in order, each named by its stored weight: a partitioned
  // program holds one node per device for a layer, all slicing that weight.
  auto stored_name = [&](ValueId v) {
    auto slice = forward.param_slices.find(v);
    return slice == forward.param_slices.end() ? forward.value(v).name : slice->second.source;
  };
  std::vector<std::vector<std::string>> convs, gemms; // per layer: its stored params
  for (const Node &n : forward.nodes) {
    if (n.op != OpKind::Conv && n.op != OpKind::Gemm && n.op != OpKind::MatMul)
      continue;
    std::vector<std::string> params;
    for (ValueId v : n.inputs)
      if (forward.value(v).kind == ValueKind::Param)
        params.push_back(stored_name(v));
    auto &layers = n.op == OpKind::Conv ? convs : gemms;
    if (!params.empty() && std::find(layers.begin(), layers.end(), params) == layers.end())
      layers.push_back(params);
  }
  auto init_layer = [&](const std::vector<std::string> &params, float bias) -> Status {
    for (const std::string &name : params) {
      auto it = weights.find(name);
      if (it == weights.end())
        return make_error(ExitCode::InvalidModel, "--init paper: '", name,
                          "' is not a stored weight (the model computes it)");
      std::vector<float> &data = it->second;
      auto slice = std::find_if(forward.param_slices.begin(), forward.param_slices.end(),
                                [&](const auto &kv) { return kv.second.source == name; });
      const size_t rank = slice != forward.param_slices.end()
                              ? slice->second.source_shape.size()
                              : static_cast<size_t>(forward.type(*forward.find_value(name)).rank());
      if (rank >= 2) {
        NormalGenerator gen(tensor_seed(seed, name));
        for (float &x : data)
          x = static_cast<float>(gen.next_normal() * 0.01);
      } else {
        std::fill(data.begin(), data.end(), bias);
      }
    }
    return {};
  };
  for (size_t i = 0; i < convs.size(); ++i)
    ANET_RETURN_IF_ERR(init_layer(convs[i], i == 1 || i == 3 || i == 4 ? 1.f : 0.f));
  for (size_t i = 0; i < gemms.size(); ++i)
    ANET_RETURN_IF_ERR(init_layer(gemms[i], i + 1 < gemms.size() ? 1.f : 0.f));
  return {};
}

} // namespace anet::models
