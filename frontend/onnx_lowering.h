#pragma once
/// Lowering ONNX nodes into IR nodes. GraphBuilder walks a (checked) ONNX
/// graph in order and keeps track of where every ONNX tensor comes from;
/// NodeLowering is what one op's lowering function sees of it: operands as
/// graph values or as constant data, attributes (each read is recorded so an
/// attribute no lowering understands is an error, never silently ignored),
/// and emission of IR nodes whose types come from the op table's shape rules.
///
/// Internal to the frontend.

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <onnx/onnx_pb.h>

#include "frontend/onnx_import.h"
#include "ir/graph.h"

namespace anet::frontend {

/// Largest rank of any tensor the importer accepts: keeps malformed models
/// from making shape rules walk absurdly long shapes.
inline constexpr int64_t kMaxRank = 64;

/// Data of a constant operand: an initializer, a Constant node's output or a
/// bound graph input.
struct ConstTensor {
  Shape shape;
  int32_t onnx_type = onnx::TensorProto::FLOAT; ///< element type as the model declares it
  std::vector<float> floats;                    ///< every element, as float
  std::optional<std::vector<int64_t>> ints;     ///< the elements exactly, for integer data
};

class GraphBuilder;

/// One ONNX node being lowered. Errors it builds name the node and its op.
class NodeLowering {
public:
  NodeLowering(GraphBuilder &builder, onnx::NodeProto &node, std::string name, int64_t opset);

  /// The node's name in the IR (its ONNX name, or "<op_type>_<index>").
  const std::string &name() const { return name_; }
  const std::string &op_type() const { return node_.op_type(); }
  /// The model's default-domain opset.
  int64_t opset() const { return opset_; }
  /// "node 'NAME' (OP)".
  std::string where() const;
  /// An InvalidModel error: where(), then `parts`.
  template <class... Parts> Error fail(const Parts &...parts) const {
    return make_error(ExitCode::InvalidModel, where(), ": ", parts...);
  }

  /// Number of inputs the node lists, omitted optional ones included.
  int num_inputs() const { return node_.input_size(); }
  /// True if input `i` is listed with a non-empty name.
  bool has_input(int i) const;
  const std::string &input_name(int i) const { return node_.input(i); }
  /// Input `i` as a float graph value; an error if it is missing.
  Expected<ValueId> input(int i);
  /// Input `i` as constant data; an error if it is missing or not constant.
  Expected<const ConstTensor *> constant(int i);
  /// Input `i` as constant integers.
  Expected<std::vector<int64_t>> constant_ints(int i);
  /// Input `i` as a constant one-element float.
  Expected<float> constant_scalar(int i);
  const TensorType &type(ValueId v) const;

  int num_outputs() const { return node_.output_size(); }
  /// True if output `i` is listed with a non-empty name.
  bool has_output(int i) const;
  const std::string &output_name(int i) const { return node_.output(i); }
  /// Marks output `i` as optional: it may stay undefined as long as nothing
  /// reads it.
  void allow_unused_output(int i) { optional_outputs_.insert(i); }

  bool has_attr(const std::string &name) const { return find_attr(name) != nullptr; }
  Expected<int64_t> attr_int(const std::string &name, int64_t fallback);
  Expected<std::optional<int64_t>> attr_int_opt(const std::string &name);
  Expected<float> attr_float(const std::string &name, float fallback);
  Expected<std::string> attr_string(const std::string &name, const std::string &fallback);
  Expected<std::optional<std::vector<int64_t>>> attr_ints(const std::string &name);
  Expected<std::optional<std::vector<float>>> attr_floats(const std::string &name);
  /// The attribute itself (any type), or nullptr; marks it read.
  onnx::AttributeProto *attr_proto(const std::string &name);
  /// Marks an attribute as understood without using it (e.g. a random seed).
  void ignore_attr(const std::string &name) { read_attrs_.insert(name); }

  /// Adds an IR node named `node_name` writing fresh or ONNX-named outputs
  /// `outputs`; types come from the op's shape rule.
  Expected<std::vector<ValueId>> emit(OpKind op, std::vector<ValueId> inputs, Attrs attrs,
                                      std::vector<std::string> outputs,
                                      const std::string &node_name);
  /// Adds one IR node named name() writing the node's first `n_outputs`
  /// outputs.
  Status emit_node(OpKind op, std::vector<ValueId> inputs, Attrs attrs, int n_outputs = 1);
  /// Defines output `i` as constant data (Constant nodes).
  Status define_constant(int i, ConstTensor data);
  /// An error unless `elements` elements of constant data fit the memory
  /// budget.
  Status fits_budget(int64_t elements) const;
  /// A value name not used by the model or the graph, built from `stem`.
  std::string fresh_name(const std::string &stem);

  /// After the lowering function: every attribute and input was understood,
  /// and every output is defined (or optional and unused).
  Status finish() const;

private:
  const onnx::AttributeProto *find_attr(const std::string &name) const;
  Expected<const onnx::AttributeProto *> typed_attr(const std::string &name, int type);

  GraphBuilder &builder_;
  onnx::NodeProto &node_;
  std::string name_;
  int64_t opset_;
  std::set<std::string> read_attrs_;
  std::set<int> read_inputs_;
  std::set<int> optional_outputs_;
};

/// Builds the IR graph of an ONNX model whose versions and ops were checked.
class GraphBuilder {
public:
  GraphBuilder(onnx::ModelProto &model, const ImportOptions &opts, int64_t opset);

  /// Lowers the whole graph; afterwards graph() and weights() hold it.
  Status build();
  Graph &graph() { return graph_; }
  WeightStore &weights() { return weights_; }

  /// The tensor `name` read by `user` as a float graph value.
  Expected<ValueId> data_operand(const std::string &name, const std::string &user);
  /// The tensor `name`, operand of `user`, as constant data.
  Expected<const ConstTensor *> const_operand(const std::string &name, const std::string &user);
  /// Adds `node` (its outputs left empty) and values named `outputs` for what
  /// it writes.
  Expected<std::vector<ValueId>> add_node(Node node, const std::vector<std::string> &outputs);
  /// Makes `name` stand for constant data.
  void define_constant(const std::string &name, ConstTensor data);
  bool is_defined(const std::string &name) const { return sources_.count(name) != 0; }
  /// True if a node or the graph's outputs read the tensor `name`.
  bool is_used(const std::string &name) const { return used_.count(name) != 0; }
  std::string fresh_name(const std::string &stem) const;
  /// An error unless decoding a tensor `name` of `elements` elements keeps
  /// within the memory budget (constant data is decoded before it is a value).
  Status fits_budget(const std::string &name, int64_t elements) const;

private:
  // Where an ONNX tensor comes from.
  struct Source {
    ValueId value = -1;                       // the graph value, once made
    onnx::TensorProto *initializer = nullptr; // decoded on first use
    std::shared_ptr<ConstTensor> constant;    // constant data, once known
    std::string input_problem; // why a graph input cannot be a value (e.g. not float)
  };

  Status add_graph_inputs();
  Status add_graph_outputs();
  Status check_unused_inputs() const;
  Status lower_node(onnx::NodeProto &node, int index);
  Expected<ValueId> new_value(const std::string &name, TensorType type, ValueKind kind);
  Error undefined(const std::string &name, const std::string &user) const;

  onnx::ModelProto &model_;
  const ImportOptions &opts_;
  int64_t opset_;
  Graph graph_;
  WeightStore weights_;
  std::unordered_map<std::string, Source> sources_;
  std::unordered_set<std::string> model_names_; // every tensor name the model mentions
  std::unordered_set<std::string> node_outputs_;
  std::unordered_set<std::string> used_;
  int64_t bytes_ = 0;
};

/// Lowers one ONNX node; the function may read the node through `node`.
using LowerFn = Status (*)(NodeLowering &node);

/// The lowering of the default-domain op `op_type`, or nullptr when anet
/// does not support it.
LowerFn find_lowering(std::string_view op_type);

} // namespace anet::frontend
