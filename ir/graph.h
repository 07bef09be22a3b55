#pragma once
/// The one graph IR: an SSA graph of nodes over tensor values with static
/// shapes. Nodes are kept in a topological order; every value has exactly
/// one definition (a graph input, a parameter, a constant or a node output).

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "ir/attrs.h"
#include "ir/ops.h"
#include "ir/tensor_type.h"

namespace anet {

using ValueId = int32_t;
using NodeId = int32_t;

/// Where a value comes from.
enum class ValueKind : uint8_t {
  Input,      ///< fed by the caller each run (images, labels)
  Param,      ///< a weight: data lives in the plan's weight store, by name
  Constant,   ///< fixed data carried by the graph itself
  Activation, ///< produced by a node
};

const char *value_kind_name(ValueKind k);

struct Value {
  std::string name;
  TensorType type;
  ValueKind kind = ValueKind::Activation;
};

struct Node {
  OpKind op = OpKind::Identity;
  std::string name;
  std::vector<ValueId> inputs;
  std::vector<ValueId> outputs;
  Attrs attrs;
  int device = 0; ///< logical device id, set by partitioning
};

/// "node 'conv1' (Conv)": how errors and reports name a node.
inline std::string node_label(const Node &node) {
  return "node '" + node.name + "' (" + std::string(op_name(node.op)) + ")";
}

/// Parameter data by name: shared by all programs of a plan.
using WeightStore = std::map<std::string, std::vector<float>>;

/// A parameter that is a slice of a stored weight: partitioning gives each
/// device its share of a layer's weights as a param of its own, while the
/// plan and checkpoints keep the whole weight under its original name.
struct ParamSlice {
  std::string source; ///< the weight's name in the WeightStore
  Shape source_shape; ///< the whole weight's shape
  int64_t axis = 0;   ///< the sliced axis
  int64_t offset = 0; ///< first index along axis; the length is the param's dim
  bool operator==(const ParamSlice &) const = default;
};

class Graph {
public:
  std::string name;
  std::vector<Value> values;
  std::vector<Node> nodes;
  std::vector<ValueId> inputs;                     ///< kind Input, in call order
  std::vector<ValueId> outputs;                    ///< what a run returns, in order
  std::map<ValueId, std::vector<float>> constants; ///< data of kind Constant
  std::map<ValueId, ParamSlice> param_slices;      ///< params that slice a stored weight
  /// Set by insert-transfers: from then on a node reads only values on its
  /// own device (graph inputs live on device 0; params and constants are
  /// resident on every device that reads them), and Transfer nodes move the
  /// rest. The verifier checks this once it is set.
  bool explicit_transfers = false;
  /// Training state a run writes back: after a run, each param takes the
  /// value paired with it (SgdUpdate's new weight and momentum, BatchNormTrain's
  /// running statistics). The producing node must be the param's last reader
  /// in node order, so the executor may write the new value over the old in
  /// place. Pairs are (param, new value), in a stable order.
  std::vector<std::pair<ValueId, ValueId>> updates;
  /// Stored weights, by name, that start at zero when the weight store lacks
  /// them: optimizer state (momentum), which plans do not carry.
  std::set<std::string> zero_init;

  /// Adds a value; names must be unique (asserted).
  ValueId add_value(std::string name, TensorType type, ValueKind kind);
  /// Adds a node at the end of the order.
  NodeId add_node(Node node);

  std::optional<ValueId> find_value(const std::string &name) const;
  const Value &value(ValueId id) const { return values[static_cast<size_t>(id)]; }
  Value &value(ValueId id) { return values[static_cast<size_t>(id)]; }
  const TensorType &type(ValueId id) const { return value(id).type; }

  /// Values of kind Param, in value order.
  std::vector<ValueId> params() const;
  /// For each value, the node producing it (or -1).
  std::vector<NodeId> producers() const;
  /// For each value, the nodes reading it.
  std::vector<std::vector<NodeId>> consumers() const;

  /// A name not used by any value yet, built from `stem`.
  std::string unique_value_name(const std::string &stem) const;

  /// Renames a value; `new_name` must be unused (asserted).
  void rename_value(ValueId id, std::string new_name);
  /// Makes every node input and graph output that reads `from` read `to`.
  void replace_uses(ValueId from, ValueId to);
  /// Drops values that no node, graph input or graph output refers to
  /// (inputs are kept: they are the call signature) and renumbers the rest.
  void compact();

private:
  std::unordered_map<std::string, ValueId> by_name_;
};

/// Checks every invariant of the IR: value ids in range, single definition,
/// topological order, input and output counts, attribute completeness and
/// types (by re-running each shape rule and comparing), constant sizes.
/// The error names the node and op.
Status verify(const Graph &g);

/// The placement part of verify(), for graphs with explicit transfers:
/// every node reads values on its own device, except Transfer nodes, which
/// read from another; graph outputs end on device 0.
Status verify_placement(const Graph &g);

} // namespace anet
