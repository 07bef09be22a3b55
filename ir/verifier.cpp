// The IR verifier: every invariant a pass may rely on, checked in one place.
// Runs after import, before and after every pass in tests and debug builds,
// and on every plan that is loaded.

#include <vector>

#include "ir/graph.h"

namespace anet {
namespace {

// Graph::updates: each pairs a param with a node output of its type, at most
// one update per param, and the producing node is the param's last reader,
// on the one device that reads it, so the new value can overwrite it.
Status verify_updates(const Graph &g) {
  auto fail = [](auto &&...parts) { return make_error(ExitCode::InvalidModel, parts...); };
  auto n_values = static_cast<ValueId>(g.values.size());
  std::vector<NodeId> producer = g.producers();
  auto readers = g.consumers();
  std::vector<bool> updated(g.values.size(), false);
  for (auto [param, value] : g.updates) {
    if (param < 0 || param >= n_values || value < 0 || value >= n_values)
      return fail("an update refers to a value id out of range");
    const Value &p = g.value(param), &v = g.value(value);
    if (p.kind != ValueKind::Param)
      return fail("update of '", p.name, "': it is a ", value_kind_name(p.kind), ", not a param");
    if (updated[static_cast<size_t>(param)])
      return fail("param '", p.name, "' is updated twice");
    updated[static_cast<size_t>(param)] = true;
    NodeId writer = producer[static_cast<size_t>(value)];
    if (writer < 0)
      return fail("update of '", p.name, "': '", v.name, "' is not a node output");
    if (v.type != p.type)
      return fail("update of '", p.name, "' ", to_string(p.type), " by '", v.name, "' ",
                  to_string(v.type), ": the types differ");
    const Node &w = g.nodes[static_cast<size_t>(writer)];
    for (NodeId r : readers[static_cast<size_t>(param)]) {
      if (r > writer)
        return fail("param '", p.name, "' is read by node '", g.nodes[static_cast<size_t>(r)].name,
                    "' after node '", w.name, "' computes its update");
      if (g.nodes[static_cast<size_t>(r)].device != w.device)
        return fail("param '", p.name, "' is updated on device ", w.device,
                    " but also read on device ", g.nodes[static_cast<size_t>(r)].device);
    }
  }
  return {};
}

} // namespace

Status verify_placement(const Graph &g) {
  std::vector<NodeId> producer = g.producers();
  auto device_of = [&](ValueId v) -> int {
    NodeId p = producer[static_cast<size_t>(v)];
    if (p >= 0)
      return g.nodes[static_cast<size_t>(p)].device;
    return g.value(v).kind == ValueKind::Input ? 0 : -1; // -1: resident everywhere
  };
  for (const Node &node : g.nodes) {
    for (ValueId v : node.inputs) {
      int d = device_of(v);
      bool remote = d >= 0 && d != node.device;
      if (node.op == OpKind::Transfer && !remote)
        return make_error(ExitCode::InvalidModel, "node '", node.name, "' (Transfer): its input '",
                          g.value(v).name, "' is already on device ", node.device);
      if (node.op != OpKind::Transfer && remote)
        return make_error(ExitCode::InvalidModel, "node '", node.name, "' (", op_name(node.op),
                          ") on device ", node.device, " reads '", g.value(v).name,
                          "' from device ", d, " without a transfer");
    }
  }
  for (ValueId v : g.outputs)
    if (device_of(v) > 0)
      return make_error(ExitCode::InvalidModel, "graph output '", g.value(v).name,
                        "' is on device ", device_of(v), ", not device 0");
  return {};
}

Status verify(const Graph &g) {
  auto fail = [](auto &&...parts) { return make_error(ExitCode::InvalidModel, parts...); };
  auto n_values = static_cast<ValueId>(g.values.size());
  std::vector<bool> defined(g.values.size(), false);
  std::vector<std::string> names;

  for (ValueId id = 0; id < n_values; ++id) {
    const Value &v = g.value(id);
    if (v.name.empty())
      return fail("value #", id, " has no name");
    if (checked_numel(v.type.shape) < 0)
      return fail("value '", v.name, "' has a negative or too large shape ",
                  shape_string(v.type.shape));
    if (auto found = g.find_value(v.name); !found || *found != id)
      return fail("value name '", v.name, "' is not unique");
    if (v.kind == ValueKind::Param || v.kind == ValueKind::Input)
      defined[static_cast<size_t>(id)] = true;
    if (v.kind == ValueKind::Constant) {
      auto it = g.constants.find(id);
      if (it == g.constants.end())
        return fail("constant '", v.name, "' has no data");
      if (static_cast<int64_t>(it->second.size()) != v.type.numel())
        return fail("constant '", v.name, "' has ", it->second.size(), " elements, its type ",
                    to_string(v.type), " needs ", v.type.numel());
      defined[static_cast<size_t>(id)] = true;
    }
  }
  for (ValueId id : g.inputs)
    if (id < 0 || id >= n_values || g.value(id).kind != ValueKind::Input)
      return fail("graph input #", id, " is not a value of kind input");

  for (const Node &node : g.nodes) {
    std::string where = node_label(node);
    std::vector<TensorType> in_types;
    for (ValueId v : node.inputs) {
      if (v < 0 || v >= n_values)
        return fail(where, ": input id ", v, " is out of range");
      if (!defined[static_cast<size_t>(v)])
        return fail(where, ": reads '", g.value(v).name,
                    "' before it is defined (a cycle, a dangling input, or nodes out of order)");
      in_types.push_back(g.type(v));
    }
    for (ValueId v : node.outputs) {
      if (v < 0 || v >= n_values)
        return fail(where, ": output id ", v, " is out of range");
      if (g.value(v).kind != ValueKind::Activation)
        return fail(where, ": writes '", g.value(v).name, "', which is a ",
                    value_kind_name(g.value(v).kind));
      if (defined[static_cast<size_t>(v)])
        return fail(where, ": redefines '", g.value(v).name, "'");
      defined[static_cast<size_t>(v)] = true;
    }
    ANET_ASSIGN_OR_RETURN(auto out_types, infer_shapes(node, in_types));
    for (size_t i = 0; i < node.outputs.size(); ++i)
      if (out_types[i] != g.type(node.outputs[i]))
        return fail(where, ": output '", g.value(node.outputs[i]).name, "' is typed ",
                    to_string(g.type(node.outputs[i])), " but the op computes ",
                    to_string(out_types[i]));
  }
  for (const auto &[id, slice] : g.param_slices) {
    if (id < 0 || id >= n_values || g.value(id).kind != ValueKind::Param)
      return fail("param slice #", id, " is not a param");
    const Shape &s = g.type(id).shape;
    bool fits = s.size() == slice.source_shape.size() && slice.axis >= 0 &&
                slice.axis < static_cast<int64_t>(s.size()) && slice.offset >= 0;
    for (size_t d = 0; fits && d < s.size(); ++d)
      fits = static_cast<int64_t>(d) == slice.axis ? slice.offset + s[d] <= slice.source_shape[d]
                                                   : s[d] == slice.source_shape[d];
    if (!fits)
      return fail("param '", g.value(id).name, "' ", shape_string(s), " is not a slice of '",
                  slice.source, "' ", shape_string(slice.source_shape), " along axis ", slice.axis,
                  " at ", slice.offset);
  }
  if (g.explicit_transfers)
    ANET_RETURN_IF_ERR(verify_placement(g));
  ANET_RETURN_IF_ERR(verify_updates(g));
  if (g.outputs.empty())
    return fail("graph '", g.name, "' has no outputs");
  for (ValueId v : g.outputs) {
    if (v < 0 || v >= n_values)
      return fail("graph output id ", v, " is out of range");
    if (!defined[static_cast<size_t>(v)])
      return fail("graph output '", g.value(v).name, "' is never defined");
  }
  return {};
}

} // namespace anet
