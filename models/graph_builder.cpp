// Shared building blocks of the model builders (see graph_builder.h).

#include "models/graph_builder.h"

#include <bit>
#include <cassert>
#include <cstring>

#include "anet/version.h"
#include "models/normal_generator.h"

namespace anet::models {
namespace {

// ONNX raw_data is little-endian; the tensors are written with memcpy.
static_assert(std::endian::native == std::endian::little,
              "raw_data is written by memcpy and must be little-endian");

int64_t element_count(const std::vector<int64_t> &dims) {
  int64_t n = 1;
  for (int64_t d : dims) {
    assert(d >= 0 && "tensor dimensions are never negative");
    n *= d;
  }
  return n;
}

void set_float_shape(onnx::ValueInfoProto &info, std::optional<int64_t> batch,
                     const std::vector<int64_t> &dims) {
  onnx::TypeProto_Tensor *t = info.mutable_type()->mutable_tensor_type();
  t->set_elem_type(onnx::TensorProto::FLOAT);
  onnx::TensorShapeProto *shape = t->mutable_shape();
  onnx::TensorShapeProto_Dimension *n = shape->add_dim();
  if (batch)
    n->set_dim_value(*batch);
  else
    n->set_dim_param("N");
  for (int64_t d : dims)
    shape->add_dim()->set_dim_value(d);
}

onnx::AttributeProto &new_attr(onnx::NodeProto &node, const std::string &name,
                               onnx::AttributeProto::AttributeType type) {
  onnx::AttributeProto *a = node.add_attribute();
  a->set_name(name);
  a->set_type(type);
  return *a;
}

// Clears `model` and writes its header; returns its (new, empty) graph.
// Clear() deletes the graph sub-message, so the graph is taken afterwards.
onnx::GraphProto &start_model(onnx::ModelProto &model, const ModelHeader &header, uint64_t seed) {
  model.Clear();
  model.set_ir_version(header.ir_version);
  onnx::OperatorSetIdProto *opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(header.opset);
  model.set_producer_name("anet-models");
  model.set_producer_version(kProducerVersion);
  model.set_doc_string(header.doc);
  onnx::StringStringEntryProto *seed_entry = model.add_metadata_props();
  seed_entry->set_key("anet.seed");
  seed_entry->set_value(std::to_string(seed));
  onnx::GraphProto &graph = *model.mutable_graph();
  graph.set_name(header.graph_name);
  return graph;
}

} // namespace

GraphBuilder::GraphBuilder(onnx::ModelProto &model, const ModelHeader &header, uint64_t seed)
    : graph_(start_model(model, header, seed)),
      initializers_as_inputs_(header.initializers_as_inputs), seed_(seed) {}

void GraphBuilder::add_input(const std::string &name, std::optional<int64_t> batch,
                             const std::vector<int64_t> &dims) {
  onnx::ValueInfoProto *info = graph_.add_input();
  info->set_name(name);
  set_float_shape(*info, batch, dims);
}

void GraphBuilder::add_output(const std::string &name, std::optional<int64_t> batch,
                              const std::vector<int64_t> &dims) {
  onnx::ValueInfoProto *info = graph_.add_output();
  info->set_name(name);
  set_float_shape(*info, batch, dims);
}

onnx::TensorProto &GraphBuilder::new_initializer(const std::string &name,
                                                 const std::vector<int64_t> &dims,
                                                 int32_t elem_type) {
  onnx::TensorProto *t = graph_.add_initializer();
  t->set_name(name);
  t->set_data_type(elem_type);
  for (int64_t d : dims)
    t->add_dims(d);
  if (initializers_as_inputs_) {
    onnx::ValueInfoProto *info = graph_.add_input();
    info->set_name(name);
    onnx::TypeProto_Tensor *type = info->mutable_type()->mutable_tensor_type();
    type->set_elem_type(elem_type);
    onnx::TensorShapeProto *shape = type->mutable_shape();
    for (int64_t d : dims)
      shape->add_dim()->set_dim_value(d);
  }
  return *t;
}

std::string GraphBuilder::normal_tensor(const std::string &name, const std::vector<int64_t> &dims,
                                        double stddev) {
  onnx::TensorProto &t = new_initializer(name, dims, onnx::TensorProto::FLOAT);
  const int64_t n = element_count(dims);
  std::string *raw = t.mutable_raw_data();
  raw->resize(static_cast<size_t>(n) * sizeof(float));
  NormalGenerator gen(tensor_seed(seed_, name));
  char *out = raw->data();
  for (int64_t i = 0; i < n; ++i) {
    const float v = static_cast<float>(gen.next_normal() * stddev);
    std::memcpy(out + i * sizeof(float), &v, sizeof(float));
  }
  return name;
}

std::string GraphBuilder::filled_tensor(const std::string &name, const std::vector<int64_t> &dims,
                                        float value) {
  onnx::TensorProto &t = new_initializer(name, dims, onnx::TensorProto::FLOAT);
  const int64_t n = element_count(dims);
  std::string *raw = t.mutable_raw_data();
  raw->resize(static_cast<size_t>(n) * sizeof(float));
  for (int64_t i = 0; i < n; ++i)
    std::memcpy(raw->data() + i * sizeof(float), &value, sizeof(float));
  return name;
}

std::string GraphBuilder::int64_tensor(const std::string &name, const std::vector<int64_t> &dims,
                                       const std::vector<int64_t> &values) {
  assert(element_count(dims) == static_cast<int64_t>(values.size()) &&
         "int64 initializer needs one value per element");
  onnx::TensorProto &t = new_initializer(name, dims, onnx::TensorProto::INT64);
  std::string *raw = t.mutable_raw_data();
  raw->resize(values.size() * sizeof(int64_t));
  std::memcpy(raw->data(), values.data(), raw->size());
  return name;
}

onnx::NodeProto &GraphBuilder::add_node(const std::string &op_type, const std::string &name,
                                        const std::vector<std::string> &inputs,
                                        const std::vector<std::string> &outputs) {
  onnx::NodeProto *node = graph_.add_node();
  node->set_op_type(op_type);
  if (!name.empty())
    node->set_name(name);
  for (const std::string &in : inputs)
    node->add_input(in);
  for (const std::string &out : outputs)
    node->add_output(out);
  return *node;
}

void set_int_attr(onnx::NodeProto &node, const std::string &name, int64_t value) {
  new_attr(node, name, onnx::AttributeProto::INT).set_i(value);
}

void set_float_attr(onnx::NodeProto &node, const std::string &name, float value) {
  new_attr(node, name, onnx::AttributeProto::FLOAT).set_f(value);
}

void set_ints_attr(onnx::NodeProto &node, const std::string &name,
                   const std::vector<int64_t> &values) {
  onnx::AttributeProto &a = new_attr(node, name, onnx::AttributeProto::INTS);
  for (int64_t v : values)
    a.add_ints(v);
}

int64_t window_output_size(int64_t size, int64_t kernel, int64_t stride, int64_t pad_begin,
                           int64_t pad_end) {
  const int64_t span = size + pad_begin + pad_end - kernel;
  assert(span >= 0 && stride > 0 && "a builder's window must fit its input");
  return span / stride + 1;
}

std::string add_conv(GraphBuilder &b, const std::string &input, const ConvSpec &spec) {
  assert(spec.in_channels % spec.group == 0 && spec.out_channels % spec.group == 0 &&
         "channels must divide into the groups");
  b.normal_tensor(spec.weight,
                  {spec.out_channels, spec.in_channels / spec.group, spec.kernel, spec.kernel},
                  spec.weight_std);
  b.filled_tensor(spec.bias, {spec.out_channels}, spec.bias_value);
  onnx::NodeProto &n =
      b.add_node("Conv", spec.node, {input, spec.weight, spec.bias}, {spec.output});
  set_ints_attr(n, "kernel_shape", {spec.kernel, spec.kernel});
  set_ints_attr(n, "strides", {spec.stride, spec.stride});
  set_ints_attr(n, "pads", {spec.pad, spec.pad, spec.pad, spec.pad});
  set_int_attr(n, "group", spec.group);
  return spec.output;
}

std::string add_gemm(GraphBuilder &b, const std::string &input, const GemmSpec &spec) {
  b.normal_tensor(spec.weight, {spec.out_features, spec.in_features}, spec.weight_std);
  b.filled_tensor(spec.bias, {spec.out_features}, spec.bias_value);
  onnx::NodeProto &n =
      b.add_node("Gemm", spec.node, {input, spec.weight, spec.bias}, {spec.output});
  set_int_attr(n, "transB", 1);
  return spec.output;
}

std::string add_relu(GraphBuilder &b, const std::string &node, const std::string &input,
                     const std::string &output) {
  b.add_node("Relu", node, {input}, {output});
  return output;
}

std::string add_lrn(GraphBuilder &b, const std::string &node, const std::string &input,
                    const std::string &output, const LrnSpec &spec) {
  onnx::NodeProto &n = b.add_node("LRN", node, {input}, {output});
  set_int_attr(n, "size", spec.size);
  set_float_attr(n, "alpha", spec.alpha);
  set_float_attr(n, "beta", spec.beta);
  set_float_attr(n, "bias", spec.bias);
  return output;
}

namespace {

std::string add_pool(GraphBuilder &b, const std::string &op, const std::string &node,
                     const std::string &input, const std::string &output, const PoolSpec &spec) {
  assert((spec.pads.empty() || spec.pads.size() == 4) && "2-D pooling has four pads");
  onnx::NodeProto &n = b.add_node(op, node, {input}, {output});
  set_ints_attr(n, "kernel_shape", {spec.kernel, spec.kernel});
  set_ints_attr(n, "strides", {spec.stride, spec.stride});
  if (!spec.pads.empty())
    set_ints_attr(n, "pads", spec.pads);
  return output;
}

} // namespace

std::string add_max_pool(GraphBuilder &b, const std::string &node, const std::string &input,
                         const std::string &output, const PoolSpec &spec) {
  return add_pool(b, "MaxPool", node, input, output, spec);
}

std::string add_average_pool(GraphBuilder &b, const std::string &node, const std::string &input,
                             const std::string &output, const PoolSpec &spec) {
  return add_pool(b, "AveragePool", node, input, output, spec);
}

std::string add_softmax(GraphBuilder &b, const std::string &node, const std::string &input,
                        const std::string &output, std::optional<int64_t> axis) {
  onnx::NodeProto &n = b.add_node("Softmax", node, {input}, {output});
  if (axis)
    set_int_attr(n, "axis", *axis);
  return output;
}

} // namespace anet::models
