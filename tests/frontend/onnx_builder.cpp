// The test-side ONNX model builder (see onnx_builder.h).

#include "onnx_builder.h"

#include <cstring>
#include <fstream>

namespace anet::test {
namespace {

void set_type(onnx::ValueInfoProto *vi, const std::vector<int64_t> &dims, int32_t elem_type) {
  auto *tt = vi->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(elem_type);
  auto *shape = tt->mutable_shape();
  for (int64_t d : dims) {
    auto *dim = shape->add_dim();
    if (d == kSymbolic)
      dim->set_dim_param("N");
    else
      dim->set_dim_value(d);
  }
}

} // namespace

onnx::TensorProto float_tensor(const std::string &name, const std::vector<int64_t> &dims,
                               const std::vector<float> &data) {
  onnx::TensorProto t;
  t.set_name(name);
  t.set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t d : dims)
    t.add_dims(d);
  std::string raw(data.size() * sizeof(float), '\0');
  if (!data.empty())
    std::memcpy(raw.data(), data.data(), raw.size());
  t.set_raw_data(raw);
  return t;
}

onnx::TensorProto int_tensor(const std::string &name, const std::vector<int64_t> &dims,
                             const std::vector<int64_t> &data) {
  onnx::TensorProto t;
  t.set_name(name);
  t.set_data_type(onnx::TensorProto::INT64);
  for (int64_t d : dims)
    t.add_dims(d);
  for (int64_t v : data)
    t.add_int64_data(v);
  return t;
}

onnx::AttributeProto *NodeRef::add(const std::string &name,
                                   onnx::AttributeProto::AttributeType type) {
  onnx::AttributeProto *a = node_->add_attribute();
  a->set_name(name);
  a->set_type(type);
  return a;
}

NodeRef &NodeRef::i(const std::string &name, int64_t v) {
  add(name, onnx::AttributeProto::INT)->set_i(v);
  return *this;
}

NodeRef &NodeRef::f(const std::string &name, float v) {
  add(name, onnx::AttributeProto::FLOAT)->set_f(v);
  return *this;
}

NodeRef &NodeRef::s(const std::string &name, const std::string &v) {
  add(name, onnx::AttributeProto::STRING)->set_s(v);
  return *this;
}

NodeRef &NodeRef::ints(const std::string &name, const std::vector<int64_t> &v) {
  auto *a = add(name, onnx::AttributeProto::INTS);
  for (int64_t x : v)
    a->add_ints(x);
  return *this;
}

NodeRef &NodeRef::floats(const std::string &name, const std::vector<float> &v) {
  auto *a = add(name, onnx::AttributeProto::FLOATS);
  for (float x : v)
    a->add_floats(x);
  return *this;
}

NodeRef &NodeRef::t(const std::string &name, const onnx::TensorProto &v) {
  *add(name, onnx::AttributeProto::TENSOR)->mutable_t() = v;
  return *this;
}

ModelBuilder::ModelBuilder(int64_t opset, int64_t ir_version) {
  model_.set_ir_version(ir_version);
  model_.set_producer_name("anet-tests");
  auto *import = model_.add_opset_import();
  import->set_domain("");
  import->set_version(opset);
  model_.mutable_graph()->set_name("test_graph");
}

ModelBuilder &ModelBuilder::input(const std::string &name, const std::vector<int64_t> &dims,
                                  int32_t elem_type) {
  auto *vi = model_.mutable_graph()->add_input();
  vi->set_name(name);
  set_type(vi, dims, elem_type);
  return *this;
}

ModelBuilder &ModelBuilder::output(const std::string &name, const std::vector<int64_t> &dims,
                                   int32_t elem_type) {
  auto *vi = model_.mutable_graph()->add_output();
  vi->set_name(name);
  set_type(vi, dims, elem_type);
  return *this;
}

ModelBuilder &ModelBuilder::output(const std::string &name) {
  auto *vi = model_.mutable_graph()->add_output();
  vi->set_name(name);
  vi->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
  return *this;
}

ModelBuilder &ModelBuilder::initializer(const onnx::TensorProto &t) {
  *model_.mutable_graph()->add_initializer() = t;
  return *this;
}

ModelBuilder &ModelBuilder::initializer(const std::string &name, const std::vector<int64_t> &dims,
                                        const std::vector<float> &data) {
  return initializer(float_tensor(name, dims, data));
}

ModelBuilder &ModelBuilder::int_initializer(const std::string &name,
                                            const std::vector<int64_t> &dims,
                                            const std::vector<int64_t> &data) {
  return initializer(int_tensor(name, dims, data));
}

NodeRef ModelBuilder::node(const std::string &op, const std::vector<std::string> &inputs,
                           const std::vector<std::string> &outputs, const std::string &name,
                           const std::string &domain) {
  onnx::NodeProto *n = model_.mutable_graph()->add_node();
  n->set_op_type(op);
  n->set_name(name);
  if (!domain.empty())
    n->set_domain(domain);
  for (const auto &in : inputs)
    n->add_input(in);
  for (const auto &out : outputs)
    n->add_output(out);
  return NodeRef(n);
}

std::string ModelBuilder::bytes() const { return model_.SerializeAsString(); }

void ModelBuilder::write(const std::string &path) const {
  std::ofstream out(path, std::ios::binary);
  out << bytes();
}

Expected<ImportedModel> ModelBuilder::import(const ImportOptions &opts) const {
  return import_onnx_bytes(bytes(), "", "test.onnx", opts);
}

} // namespace anet::test
