// The IR verifier: every invariant a pass may rely on, checked in one place.
// Runs after import, before and after every pass in tests and debug builds,
// and on every plan that is loaded.

#include <vector>

#include "ir/graph.h"

namespace anet {

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
    std::string where = "node '" + node.name + "' (" + std::string(op_name(node.op)) + ")";
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
