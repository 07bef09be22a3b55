#include "ir/graph.h"

#include <algorithm>
#include <cassert>

namespace anet {

const char *value_kind_name(ValueKind k) {
  switch (k) {
  case ValueKind::Input:
    return "input";
  case ValueKind::Param:
    return "param";
  case ValueKind::Constant:
    return "const";
  case ValueKind::Activation:
    return "value";
  }
  return "?";
}

ValueId Graph::add_value(std::string value_name, TensorType type, ValueKind kind) {
  auto id = static_cast<ValueId>(values.size());
  [[maybe_unused]] bool inserted = by_name_.emplace(value_name, id).second;
  assert(inserted && "value names must be unique");
  values.push_back(Value{std::move(value_name), std::move(type), kind});
  if (kind == ValueKind::Input)
    inputs.push_back(id);
  return id;
}

NodeId Graph::add_node(Node node) {
  nodes.push_back(std::move(node));
  return static_cast<NodeId>(nodes.size() - 1);
}

std::optional<ValueId> Graph::find_value(const std::string &value_name) const {
  auto it = by_name_.find(value_name);
  if (it == by_name_.end())
    return std::nullopt;
  return it->second;
}

std::vector<ValueId> Graph::params() const {
  std::vector<ValueId> out;
  for (size_t i = 0; i < values.size(); ++i)
    if (values[i].kind == ValueKind::Param)
      out.push_back(static_cast<ValueId>(i));
  return out;
}

std::vector<NodeId> Graph::producers() const {
  std::vector<NodeId> p(values.size(), -1);
  for (size_t n = 0; n < nodes.size(); ++n)
    for (ValueId v : nodes[n].outputs)
      p[static_cast<size_t>(v)] = static_cast<NodeId>(n);
  return p;
}

std::vector<std::vector<NodeId>> Graph::consumers() const {
  std::vector<std::vector<NodeId>> c(values.size());
  for (size_t n = 0; n < nodes.size(); ++n)
    for (ValueId v : nodes[n].inputs)
      c[static_cast<size_t>(v)].push_back(static_cast<NodeId>(n));
  return c;
}

std::string Graph::unique_value_name(const std::string &stem) const {
  if (!by_name_.count(stem))
    return stem;
  for (int i = 1;; ++i) {
    std::string candidate = stem + "." + std::to_string(i);
    if (!by_name_.count(candidate))
      return candidate;
  }
}

void Graph::rename_value(ValueId id, std::string new_name) {
  [[maybe_unused]] bool inserted = by_name_.emplace(new_name, id).second;
  assert(inserted && "value names must be unique");
  by_name_.erase(value(id).name);
  value(id).name = std::move(new_name);
}

void Graph::replace_uses(ValueId from, ValueId to) {
  for (Node &n : nodes)
    for (ValueId &v : n.inputs)
      if (v == from)
        v = to;
  for (ValueId &v : outputs)
    if (v == from)
      v = to;
  for (auto &[param, update] : updates)
    if (update == from)
      update = to;
}

void Graph::compact() {
  std::vector<bool> used(values.size(), false);
  auto mark = [&](ValueId v) { used[static_cast<size_t>(v)] = true; };
  for (const Node &n : nodes) {
    std::for_each(n.inputs.begin(), n.inputs.end(), mark);
    std::for_each(n.outputs.begin(), n.outputs.end(), mark);
  }
  std::for_each(inputs.begin(), inputs.end(), mark);
  std::for_each(outputs.begin(), outputs.end(), mark);
  for (auto &[param, update] : updates) {
    mark(param);
    mark(update);
  }

  std::vector<ValueId> remap(values.size(), -1);
  std::vector<Value> kept;
  std::map<ValueId, std::vector<float>> kept_constants;
  std::map<ValueId, ParamSlice> kept_slices;
  by_name_.clear();
  for (size_t i = 0; i < values.size(); ++i) {
    if (!used[i])
      continue;
    auto id = static_cast<ValueId>(kept.size());
    remap[i] = id;
    by_name_.emplace(values[i].name, id);
    if (auto it = constants.find(static_cast<ValueId>(i)); it != constants.end())
      kept_constants.emplace(id, std::move(it->second));
    if (auto it = param_slices.find(static_cast<ValueId>(i)); it != param_slices.end())
      kept_slices.emplace(id, std::move(it->second));
    kept.push_back(std::move(values[i]));
  }
  auto renumber = [&](ValueId &v) { v = remap[static_cast<size_t>(v)]; };
  for (Node &n : nodes) {
    std::for_each(n.inputs.begin(), n.inputs.end(), renumber);
    std::for_each(n.outputs.begin(), n.outputs.end(), renumber);
  }
  std::for_each(inputs.begin(), inputs.end(), renumber);
  std::for_each(outputs.begin(), outputs.end(), renumber);
  for (auto &[param, update] : updates) {
    renumber(param);
    renumber(update);
  }
  values = std::move(kept);
  constants = std::move(kept_constants);
  param_slices = std::move(kept_slices);
}

} // namespace anet
