// GraphBuilder and NodeLowering: the bookkeeping shared by every op's
// lowering. ONNX tensors become IR values lazily, on first use, because how
// a tensor is used decides what it becomes: a float initializer read by a
// computation is a Param (its data moves into the WeightStore once), an
// int64 initializer read as a Reshape's shape is never a value at all, and a
// Constant node's output is a Constant value only if something computes on
// it.

#include <cmath>
#include <limits>
#include <set>

#include "frontend/onnx_lowering.h"
#include "frontend/onnx_tensor.h"

namespace anet::frontend {
namespace {

Error bad(const auto &...parts) { return make_error(ExitCode::InvalidModel, parts...); }

std::string attr_type_name(int type) {
  if (onnx::AttributeProto_AttributeType_IsValid(type))
    return onnx::AttributeProto_AttributeType_Name(
        static_cast<onnx::AttributeProto::AttributeType>(type));
  return "type " + std::to_string(type);
}

// The attribute's type; models written before types were mandatory leave it
// unset, so it is then read off the field that holds a value.
int attr_type(const onnx::AttributeProto &a) {
  if (a.type() != onnx::AttributeProto::UNDEFINED)
    return a.type();
  if (a.has_i())
    return onnx::AttributeProto::INT;
  if (a.has_f())
    return onnx::AttributeProto::FLOAT;
  if (a.has_s())
    return onnx::AttributeProto::STRING;
  if (a.has_t())
    return onnx::AttributeProto::TENSOR;
  if (a.ints_size() > 0)
    return onnx::AttributeProto::INTS;
  if (a.floats_size() > 0)
    return onnx::AttributeProto::FLOATS;
  return onnx::AttributeProto::UNDEFINED;
}

// A float that must hold an integer (a bound input standing for an int64
// operand); float's range ends are clamped to int64's.
std::optional<int64_t> float_to_int(float f) {
  constexpr float kLimit = 9.2233720368547758e18f; // 2^63
  if (std::isnan(f))
    return std::nullopt;
  if (f >= kLimit)
    return std::numeric_limits<int64_t>::max();
  if (f <= -kLimit)
    return std::numeric_limits<int64_t>::min();
  if (std::trunc(f) != f)
    return std::nullopt;
  return static_cast<int64_t>(f);
}

// The type of a graph input: float, with static dimensions except a
// symbolic batch dimension 0, which takes `batch`.
Expected<TensorType> input_type(const onnx::ValueInfoProto &vi, int64_t batch) {
  const std::string &name = vi.name();
  if (!vi.type().has_tensor_type())
    return bad("graph input '", name,
               "' is not a tensor (sequence, map, optional and sparse inputs are not supported)");
  const auto &tt = vi.type().tensor_type();
  if (tt.elem_type() != onnx::TensorProto::FLOAT)
    return bad("graph input '", name, "' has element type ", onnx_type_name(tt.elem_type()),
               "; only FLOAT inputs are supported");
  if (!tt.has_shape())
    return bad("graph input '", name, "' has no shape (unknown rank); static shapes are required");
  TensorType t{DType::F32, {}};
  for (int i = 0; i < tt.shape().dim_size(); ++i) {
    const auto &d = tt.shape().dim(i);
    if (d.has_dim_value()) {
      if (d.dim_value() < 0)
        return bad("graph input '", name, "' has a negative dimension ", d.dim_value());
      t.shape.push_back(d.dim_value());
      continue;
    }
    if (i != 0)
      return bad("graph input '", name, "' has an unknown dimension ", i,
                 d.has_dim_param() ? " ('" + d.dim_param() + "')" : std::string(),
                 "; only dimension 0 (the batch) may be symbolic");
    t.shape.push_back(batch);
  }
  if (checked_numel(t.shape) < 0)
    return bad("graph input '", name, "' has a too large shape ", shape_string(t.shape));
  return t;
}

// Checks a graph output's declared element type and static dimensions
// against what the graph computes.
Status check_declared_output(const onnx::ValueInfoProto &vi, const TensorType &computed) {
  if (!vi.has_type())
    return {};
  if (!vi.type().has_tensor_type())
    return bad("graph output '", vi.name(), "' is not a tensor");
  const auto &tt = vi.type().tensor_type();
  if (tt.elem_type() != onnx::TensorProto::UNDEFINED && tt.elem_type() != onnx::TensorProto::FLOAT)
    return bad("graph output '", vi.name(), "' is declared ", onnx_type_name(tt.elem_type()),
               "; only FLOAT outputs are supported");
  if (!tt.has_shape())
    return {};
  bool same = tt.shape().dim_size() == computed.rank();
  for (int i = 0; same && i < tt.shape().dim_size(); ++i)
    same = !tt.shape().dim(i).has_dim_value() ||
           tt.shape().dim(i).dim_value() == computed.shape[static_cast<size_t>(i)];
  if (!same) {
    std::string declared = "[";
    for (int i = 0; i < tt.shape().dim_size(); ++i) {
      const auto &d = tt.shape().dim(i);
      declared += (i ? "," : "") + (d.has_dim_value() ? std::to_string(d.dim_value()) : "?");
    }
    return bad("graph output '", vi.name(), "' is declared with shape ", declared,
               "] but the model computes ", shape_string(computed.shape));
  }
  return {};
}

// An initializer that is also listed as a graph input must match the input's
// declared element type and static dimensions.
Status check_initializer_declaration(const onnx::ValueInfoProto &vi, const onnx::TensorProto &t) {
  if (!vi.type().has_tensor_type())
    return bad("graph input '", vi.name(), "' has an initializer but is not declared a tensor");
  const auto &tt = vi.type().tensor_type();
  if (tt.elem_type() != onnx::TensorProto::UNDEFINED && tt.elem_type() != t.data_type())
    return bad("graph input '", vi.name(), "' is declared ", onnx_type_name(tt.elem_type()),
               " but its initializer is ", onnx_type_name(t.data_type()));
  if (!tt.has_shape())
    return {};
  bool same = tt.shape().dim_size() == t.dims_size();
  for (int i = 0; same && i < t.dims_size(); ++i)
    same = !tt.shape().dim(i).has_dim_value() || tt.shape().dim(i).dim_value() == t.dims(i);
  if (!same)
    return bad("graph input '", vi.name(),
               "' is declared with another shape than its "
               "initializer ",
               shape_string(Shape(t.dims().begin(), t.dims().end())));
  return {};
}

} // namespace

// ---------------------------------------------------------------- NodeLowering

NodeLowering::NodeLowering(GraphBuilder &builder, onnx::NodeProto &node, std::string name,
                           int64_t opset)
    : builder_(builder), node_(node), name_(std::move(name)), opset_(opset) {}

std::string NodeLowering::where() const { return "node '" + name_ + "' (" + node_.op_type() + ")"; }

bool NodeLowering::has_input(int i) const {
  return i >= 0 && i < node_.input_size() && !node_.input(i).empty();
}

bool NodeLowering::has_output(int i) const {
  return i >= 0 && i < node_.output_size() && !node_.output(i).empty();
}

Expected<ValueId> NodeLowering::input(int i) {
  if (!has_input(i))
    return fail("required input #", i, " is missing");
  read_inputs_.insert(i);
  return builder_.data_operand(node_.input(i), where());
}

Expected<const ConstTensor *> NodeLowering::constant(int i) {
  if (!has_input(i))
    return fail("required input #", i, " is missing");
  read_inputs_.insert(i);
  return builder_.const_operand(node_.input(i), where());
}

Expected<std::vector<int64_t>> NodeLowering::constant_ints(int i) {
  ANET_ASSIGN_OR_RETURN(const ConstTensor *c, constant(i));
  if (!c->ints)
    return fail("operand '", node_.input(i), "' must hold integers (it holds ",
                onnx_type_name(c->onnx_type), " data)");
  return *c->ints;
}

Expected<float> NodeLowering::constant_scalar(int i) {
  ANET_ASSIGN_OR_RETURN(const ConstTensor *c, constant(i));
  if (c->floats.size() != 1)
    return fail("operand '", node_.input(i), "' must be a scalar, has shape ",
                shape_string(c->shape));
  return c->floats[0];
}

const TensorType &NodeLowering::type(ValueId v) const { return builder_.graph().type(v); }

const onnx::AttributeProto *NodeLowering::find_attr(const std::string &name) const {
  for (const auto &a : node_.attribute())
    if (a.name() == name)
      return &a;
  return nullptr;
}

Expected<const onnx::AttributeProto *> NodeLowering::typed_attr(const std::string &name, int type) {
  const onnx::AttributeProto *a = find_attr(name);
  if (!a)
    return a;
  read_attrs_.insert(name);
  if (!a->ref_attr_name().empty())
    return fail("attribute '", name, "' refers to a function attribute, which is not supported");
  if (attr_type(*a) != type)
    return fail("attribute '", name, "' must be of type ", attr_type_name(type), ", is ",
                attr_type_name(attr_type(*a)));
  return a;
}

Expected<int64_t> NodeLowering::attr_int(const std::string &name, int64_t fallback) {
  ANET_ASSIGN_OR_RETURN(auto a, typed_attr(name, onnx::AttributeProto::INT));
  return a ? a->i() : fallback;
}

Expected<std::optional<int64_t>> NodeLowering::attr_int_opt(const std::string &name) {
  ANET_ASSIGN_OR_RETURN(auto a, typed_attr(name, onnx::AttributeProto::INT));
  return a ? std::optional<int64_t>(a->i()) : std::nullopt;
}

Expected<float> NodeLowering::attr_float(const std::string &name, float fallback) {
  ANET_ASSIGN_OR_RETURN(auto a, typed_attr(name, onnx::AttributeProto::FLOAT));
  return a ? a->f() : fallback;
}

Expected<std::string> NodeLowering::attr_string(const std::string &name,
                                                const std::string &fallback) {
  ANET_ASSIGN_OR_RETURN(auto a, typed_attr(name, onnx::AttributeProto::STRING));
  return a ? a->s() : fallback;
}

Expected<std::optional<std::vector<int64_t>>> NodeLowering::attr_ints(const std::string &name) {
  ANET_ASSIGN_OR_RETURN(auto a, typed_attr(name, onnx::AttributeProto::INTS));
  if (!a)
    return std::optional<std::vector<int64_t>>();
  return std::optional<std::vector<int64_t>>(std::in_place, a->ints().begin(), a->ints().end());
}

Expected<std::optional<std::vector<float>>> NodeLowering::attr_floats(const std::string &name) {
  ANET_ASSIGN_OR_RETURN(auto a, typed_attr(name, onnx::AttributeProto::FLOATS));
  if (!a)
    return std::optional<std::vector<float>>();
  return std::optional<std::vector<float>>(std::in_place, a->floats().begin(), a->floats().end());
}

onnx::AttributeProto *NodeLowering::attr_proto(const std::string &name) {
  for (auto &a : *node_.mutable_attribute())
    if (a.name() == name) {
      read_attrs_.insert(name);
      return &a;
    }
  return nullptr;
}

Expected<std::vector<ValueId>> NodeLowering::emit(OpKind op, std::vector<ValueId> inputs,
                                                  Attrs attrs, std::vector<std::string> outputs,
                                                  const std::string &node_name) {
  Node node;
  node.op = op;
  node.name = node_name;
  node.inputs = std::move(inputs);
  node.attrs = std::move(attrs);
  return builder_.add_node(std::move(node), outputs);
}

Status NodeLowering::emit_node(OpKind op, std::vector<ValueId> inputs, Attrs attrs, int n_outputs) {
  std::vector<std::string> outputs;
  for (int i = 0; i < n_outputs; ++i) {
    if (!has_output(i))
      return fail("output #", i, " has no name");
    outputs.push_back(node_.output(i));
  }
  ANET_RETURN_IF_ERR(emit(op, std::move(inputs), std::move(attrs), std::move(outputs), name_));
  return {};
}

Status NodeLowering::define_constant(int i, ConstTensor data) {
  if (!has_output(i))
    return fail("output #", i, " has no name");
  builder_.define_constant(node_.output(i), std::move(data));
  return {};
}

Status NodeLowering::fits_budget(int64_t elements) const {
  return builder_.fits_budget(has_output(0) ? node_.output(0) : name_, elements);
}

std::string NodeLowering::fresh_name(const std::string &stem) { return builder_.fresh_name(stem); }

Status NodeLowering::finish() const {
  for (const auto &a : node_.attribute())
    if (!read_attrs_.count(a.name()))
      return fail("attribute '", a.name(), "' is not supported (default-domain opset ", opset_,
                  ")");
  for (int i = 0; i < node_.input_size(); ++i)
    if (has_input(i) && !read_inputs_.count(i))
      return fail("has an unexpected input #", i, " '", node_.input(i), "' (opset ", opset_, ")");
  for (int i = 0; i < node_.output_size(); ++i) {
    if (!has_output(i) || builder_.is_defined(node_.output(i)))
      continue;
    if (!optional_outputs_.count(i))
      return fail("has an unexpected output #", i, " '", node_.output(i), "'");
    if (builder_.is_used(node_.output(i)))
      return fail("output #", i, " '", node_.output(i),
                  "' is read by the model, but only the op's inference outputs are supported");
  }
  return {};
}

// ---------------------------------------------------------------- GraphBuilder

GraphBuilder::GraphBuilder(onnx::ModelProto &model, const ImportOptions &opts, int64_t opset)
    : model_(model), opts_(opts), opset_(opset) {}

Status GraphBuilder::build() {
  onnx::GraphProto &g = *model_.mutable_graph();
  graph_.name = g.name().empty() ? "main" : g.name();
  for (const auto &vi : g.input())
    model_names_.insert(vi.name());
  for (const auto &vi : g.output()) {
    model_names_.insert(vi.name());
    used_.insert(vi.name());
  }
  for (const auto &t : g.initializer())
    model_names_.insert(t.name());
  for (const auto &node : g.node()) {
    for (const auto &in : node.input()) {
      model_names_.insert(in);
      used_.insert(in);
    }
    for (const auto &out : node.output()) {
      model_names_.insert(out);
      node_outputs_.insert(out);
    }
  }

  if (g.sparse_initializer_size() > 0)
    return bad("sparse initializers are not supported ('", g.sparse_initializer(0).values().name(),
               "')");
  for (auto &t : *g.mutable_initializer()) {
    if (t.name().empty())
      return bad("an initializer has no name");
    if (sources_.count(t.name()))
      return bad("initializer '", t.name(), "' is defined twice");
    sources_[t.name()].initializer = &t;
  }
  ANET_RETURN_IF_ERR(add_graph_inputs());
  for (int i = 0; i < g.node_size(); ++i)
    ANET_RETURN_IF_ERR(lower_node(*g.mutable_node(i), i));
  ANET_RETURN_IF_ERR(add_graph_outputs());
  return check_unused_inputs();
}

Status GraphBuilder::add_graph_inputs() {
  const onnx::GraphProto &g = model_.graph();
  std::set<std::string> seen;
  for (const auto &vi : g.input()) {
    const std::string &name = vi.name();
    if (name.empty())
      return bad("a graph input has no name");
    if (!seen.insert(name).second)
      return bad("graph input '", name, "' is listed twice");
    if (auto bound = opts_.bind_inputs.find(name); bound != opts_.bind_inputs.end()) {
      const Tensor &value = bound->second;
      if (static_cast<int64_t>(value.data.size()) != checked_numel(value.type.shape))
        return make_error(ExitCode::Usage, "bound input '", name, "' has ", value.data.size(),
                          " values, its shape ", shape_string(value.type.shape), " needs ",
                          checked_numel(value.type.shape));
      ConstTensor c;
      c.shape = value.type.shape;
      c.floats = value.data;
      const auto &tt = vi.type().tensor_type();
      c.onnx_type = tt.elem_type() == onnx::TensorProto::UNDEFINED ? onnx::TensorProto::FLOAT
                                                                   : tt.elem_type();
      if (tt.has_shape()) {
        bool same = tt.shape().dim_size() == static_cast<int>(c.shape.size());
        for (int i = 0; same && i < tt.shape().dim_size(); ++i)
          same = !tt.shape().dim(i).has_dim_value() ||
                 tt.shape().dim(i).dim_value() == c.shape[static_cast<size_t>(i)];
        if (!same)
          return make_error(ExitCode::Usage, "bound input '", name, "' has shape ",
                            shape_string(c.shape), ", which the model's declaration disallows");
      }
      if (is_integer_type(c.onnx_type)) {
        c.ints.emplace();
        for (float f : c.floats) {
          auto v = float_to_int(f);
          if (!v)
            return make_error(ExitCode::Usage, "bound input '", name, "' is declared ",
                              onnx_type_name(c.onnx_type), " but holds the non-integer ", f);
          c.ints->push_back(*v);
        }
      }
      Source source; // a bound input overrides an initializer of the same name
      source.constant = std::make_shared<ConstTensor>(std::move(c));
      sources_[name] = std::move(source);
      continue;
    }
    if (auto it = sources_.find(name); it != sources_.end()) {
      // An initializer listed as an input too (IR version < 4 style): a
      // weight, whose declaration must agree with it.
      ANET_RETURN_IF_ERR(check_initializer_declaration(vi, *it->second.initializer));
      continue;
    }
    auto type = input_type(vi, opts_.batch.value_or(1));
    if (!type) {
      // Only an error once something reads it as data (or nothing reads it):
      // read as a constant operand, the better message is that it must be one.
      sources_[name].input_problem = type.error().message;
      continue;
    }
    ANET_ASSIGN_OR_RETURN(sources_[name].value, new_value(name, *type, ValueKind::Input));
  }
  for (const auto &[name, value] : opts_.bind_inputs)
    if (!seen.count(name))
      return make_error(ExitCode::Usage, "bind_inputs names '", name,
                        "', which is not an input of the graph");
  return {};
}

Status GraphBuilder::check_unused_inputs() const {
  for (const auto &vi : model_.graph().input())
    if (auto it = sources_.find(vi.name());
        it != sources_.end() && !it->second.input_problem.empty())
      return bad(it->second.input_problem);
  return {};
}

Status GraphBuilder::lower_node(onnx::NodeProto &node, int index) {
  std::string name =
      node.name().empty() ? node.op_type() + "_" + std::to_string(index) : node.name();
  NodeLowering lowering(*this, node, name, opset_);
  std::set<std::string> own;
  for (const auto &out : node.output()) {
    if (out.empty())
      continue;
    if (sources_.count(out) || !own.insert(out).second)
      return lowering.fail("writes '", out, "', which is already defined (duplicate tensor name)");
  }
  LowerFn lower = find_lowering(node.op_type());
  assert(lower && "unsupported ops are refused before lowering");
  ANET_RETURN_IF_ERR(lower(lowering));
  return lowering.finish();
}

Status GraphBuilder::add_graph_outputs() {
  const onnx::GraphProto &g = model_.graph();
  if (g.output_size() == 0)
    return bad("the graph has no outputs");
  for (const auto &vi : g.output()) {
    if (vi.name().empty())
      return bad("a graph output has no name");
    if (!sources_.count(vi.name()))
      return bad("graph output '", vi.name(),
                 "' is not produced by any node, graph input or initializer");
    ANET_ASSIGN_OR_RETURN(ValueId id, data_operand(vi.name(), "graph output '" + vi.name() + "'"));
    ANET_RETURN_IF_ERR(check_declared_output(vi, graph_.type(id)));
    graph_.outputs.push_back(id);
  }
  return {};
}

Error GraphBuilder::undefined(const std::string &name, const std::string &user) const {
  if (node_outputs_.count(name))
    return bad(user, " reads '", name,
               "', which a later node produces (a cycle, or nodes not in topological order)");
  return bad(user, " reads '", name,
             "', which no node, graph input or initializer defines (a dangling input)");
}

Expected<ValueId> GraphBuilder::new_value(const std::string &name, TensorType type,
                                          ValueKind kind) {
  if (type.rank() > kMaxRank)
    return bad("tensor '", name, "' has rank ", type.rank(), "; at most ", kMaxRank,
               " is supported");
  for (int64_t d : type.shape)
    if (d > kMaxTensorElements)
      return bad("tensor '", name, "' has the too large dimension ", d, " in ",
                 shape_string(type.shape));
  int64_t bytes = type.bytes();
  if (bytes > opts_.memory_budget_bytes - bytes_)
    return bad("the model's tensors need more than the memory budget of ",
               opts_.memory_budget_bytes, " bytes (", bytes_, " bytes before '", name, "' ",
               to_string(type), ", which needs ", bytes, ")");
  bytes_ += bytes;
  return graph_.add_value(name, std::move(type), kind);
}

Expected<ValueId> GraphBuilder::data_operand(const std::string &name, const std::string &user) {
  auto it = sources_.find(name);
  if (it == sources_.end())
    return undefined(name, user);
  Source &s = it->second;
  if (s.value >= 0)
    return s.value;
  if (!s.input_problem.empty())
    return bad(s.input_problem);
  if (s.initializer) {
    onnx::TensorProto &t = *s.initializer;
    if (t.data_type() != onnx::TensorProto::FLOAT)
      return bad(user, " computes on '", name, "', a ", onnx_type_name(t.data_type()),
                 " initializer; only FLOAT tensors are supported");
    ANET_ASSIGN_OR_RETURN(Shape shape, tensor_shape(t));
    ANET_ASSIGN_OR_RETURN(ValueId id,
                          new_value(name, TensorType{DType::F32, shape}, ValueKind::Param));
    ANET_ASSIGN_OR_RETURN(weights_[name], tensor_floats(t, /*release=*/true));
    s.value = id;
    return id;
  }
  assert(s.constant && "a source is a value, an initializer or constant data");
  if (s.constant->onnx_type != onnx::TensorProto::FLOAT)
    return bad(user, " computes on '", name, "', which holds ",
               onnx_type_name(s.constant->onnx_type), " data; only FLOAT tensors are supported");
  ANET_ASSIGN_OR_RETURN(
      ValueId id, new_value(name, TensorType{DType::F32, s.constant->shape}, ValueKind::Constant));
  graph_.constants[id] = s.constant->floats;
  s.value = id;
  return id;
}

Expected<const ConstTensor *> GraphBuilder::const_operand(const std::string &name,
                                                          const std::string &user) {
  auto it = sources_.find(name);
  if (it == sources_.end())
    return undefined(name, user);
  Source &s = it->second;
  if (s.constant)
    return s.constant.get();
  if (!s.initializer)
    return bad("operand '", name, "' of ", user,
               " must be a constant (an initializer, a Constant node's output, or an input given "
               "in bind_inputs)");
  onnx::TensorProto &t = *s.initializer;
  auto c = std::make_shared<ConstTensor>();
  ANET_ASSIGN_OR_RETURN(c->shape, tensor_shape(t));
  ANET_RETURN_IF_ERR(fits_budget(name, checked_numel(c->shape)));
  c->onnx_type = t.data_type();
  if (s.value >= 0) {
    c->floats = weights_.at(name); // already a weight; its proto data was released
  } else if (is_integer_type(t.data_type())) {
    ANET_ASSIGN_OR_RETURN(c->ints, tensor_ints(t));
    c->floats.assign(c->ints->begin(), c->ints->end());
  } else {
    ANET_ASSIGN_OR_RETURN(c->floats, tensor_floats(t, /*release=*/false));
  }
  s.constant = c;
  return c.get();
}

Expected<std::vector<ValueId>> GraphBuilder::add_node(Node node,
                                                      const std::vector<std::string> &outputs) {
  std::vector<TensorType> in_types;
  for (ValueId v : node.inputs)
    in_types.push_back(graph_.type(v));
  node.outputs.assign(outputs.size(), -1);
  ANET_ASSIGN_OR_RETURN(auto types, infer_shapes(node, in_types));
  for (size_t i = 0; i < outputs.size(); ++i) {
    ANET_ASSIGN_OR_RETURN(node.outputs[i],
                          new_value(outputs[i], std::move(types[i]), ValueKind::Activation));
    sources_[outputs[i]].value = node.outputs[i];
  }
  std::vector<ValueId> ids = node.outputs;
  graph_.add_node(std::move(node));
  return ids;
}

void GraphBuilder::define_constant(const std::string &name, ConstTensor data) {
  sources_[name].constant = std::make_shared<ConstTensor>(std::move(data));
}

Status GraphBuilder::fits_budget(const std::string &name, int64_t elements) const {
  // Decoded constants hold each element as a float and possibly an int64.
  constexpr int64_t kBytesPerElement = sizeof(float) + sizeof(int64_t);
  if (elements > (opts_.memory_budget_bytes - bytes_) / kBytesPerElement)
    return bad("constant '", name, "' of ", elements,
               " elements does not fit the memory budget of ", opts_.memory_budget_bytes, " bytes");
  return {};
}

std::string GraphBuilder::fresh_name(const std::string &stem) const {
  for (int i = 0;; ++i) {
    std::string candidate = i == 0 ? stem : stem + "." + std::to_string(i);
    if (!model_names_.count(candidate) && !graph_.find_value(candidate))
      return candidate;
  }
}

} // namespace anet::frontend
