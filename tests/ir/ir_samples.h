#pragma once
// Graphs for the IR tests, built through the Graph API (not the parser, so
// printer and parser bugs cannot cancel out), and a field-by-field graph
// comparison that treats all NaNs as equal and tells -0.0 from 0.0.

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "ir/plan.h"

namespace anet::testing {

/// Adds values and nodes, inferring each node's output types.
struct GraphBuilder {
  Graph g;

  ValueId input(const std::string &name, Shape shape) {
    return g.add_value(name, {DType::F32, std::move(shape)}, ValueKind::Input);
  }
  ValueId param(const std::string &name, Shape shape) {
    return g.add_value(name, {DType::F32, std::move(shape)}, ValueKind::Param);
  }
  ValueId constant(const std::string &name, Shape shape, std::vector<float> data) {
    ValueId id = g.add_value(name, {DType::F32, std::move(shape)}, ValueKind::Constant);
    g.constants[id] = std::move(data);
    return id;
  }
  /// Adds a node whose outputs are named `outputs`; the node is named
  /// `node_name`, or after its first output when that is empty.
  std::vector<ValueId> node(OpKind op, std::vector<ValueId> inputs, Attrs attrs,
                            std::vector<std::string> outputs, std::string node_name = "",
                            int device = 0) {
    Node n;
    n.op = op;
    n.name = node_name.empty() ? outputs.at(0) : node_name;
    n.inputs = std::move(inputs);
    n.attrs = std::move(attrs);
    n.device = device;
    n.outputs.assign(outputs.size(), 0);
    std::vector<TensorType> in_types;
    for (ValueId v : n.inputs)
      in_types.push_back(g.type(v));
    auto types = infer_shapes(n, in_types);
    EXPECT_TRUE(types.ok()) << types.error().message;
    if (!types.ok())
      return {};
    n.outputs.clear();
    for (size_t i = 0; i < outputs.size(); ++i)
      n.outputs.push_back(g.add_value(outputs[i], (*types)[i], ValueKind::Activation));
    g.add_node(n);
    return n.outputs;
  }
  ValueId node1(OpKind op, std::vector<ValueId> inputs, Attrs attrs, const std::string &output) {
    return node(op, std::move(inputs), std::move(attrs), {output}).at(0);
  }
};

inline Attrs attrs(std::initializer_list<std::pair<const char *, AttrValue>> items) {
  Attrs a;
  for (const auto &[k, v] : items)
    a.set(k, v);
  return a;
}

inline std::vector<int64_t> ints(std::initializer_list<int64_t> v) { return v; }

inline Attrs window(int64_t k, int64_t stride, int64_t pad) {
  return attrs({{"kernel_shape", ints({k, k})},
                {"strides", ints({stride, stride})},
                {"pads", ints({pad, pad, pad, pad})},
                {"dilations", ints({1, 1})}});
}

/// A graph with every op of the table, every attribute type, multi-output
/// nodes, constants with inf, nan, -0 and subnormal values, names that need
/// quoting, a node on device 1 and a node whose name differs from its output.
inline Graph all_ops_graph() {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  GraphBuilder b;
  b.g.name = "all ops";
  ValueId x = b.input("data", {1, 4, 8, 8});
  ValueId w = b.param("conv1/w:0", {6, 2, 3, 3});
  ValueId bias = b.param("conv.b", {6});
  ValueId k = b.constant("k", {6, 1, 1}, {0.1f, -0.0f, inf, -inf, 1e-45f, 3.4028235e38f});

  Attrs conv = window(3, 1, 1);
  conv.set("group", int64_t{2});
  ValueId c = b.node(OpKind::Conv, {x, w, bias}, conv, {"conv1"}, "", 1).at(0);
  ValueId r = b.node1(OpKind::Relu, {c}, {}, "relu");
  ValueId sg = b.node1(OpKind::Sigmoid, {c}, {}, "sig");
  ValueId th = b.node1(OpKind::Tanh, {c}, {}, "tanh");
  ValueId cl = b.node1(OpKind::Clip, {th}, attrs({{"min", -inf}, {"max", 6.0f}}), "clip");
  ValueId id = b.node1(OpKind::Identity, {cl}, {}, "id");
  ValueId dr = b.node1(OpKind::Dropout, {id}, attrs({{"ratio", 0.5f}}), "drop");
  ValueId add = b.node1(OpKind::Add, {r, sg}, {}, "add");
  ValueId sub = b.node1(OpKind::Sub, {add, dr}, {}, "sub");
  ValueId mul = b.node1(OpKind::Mul, {sub, k}, {}, "mul");
  ValueId dv = b.node1(OpKind::Div, {mul, add}, {}, "div");
  ValueId s = b.param("bn.scale", {6}), bb = b.param("bn.bias", {6}), m = b.param("bn.mean", {6}),
          v = b.param("bn.var", {6});
  ValueId bn =
      b.node1(OpKind::BatchNormalization, {dv, s, bb, m, v}, attrs({{"epsilon", 1e-5f}}), "bn");
  ValueId lrn = b.node1(
      OpKind::LRN, {bn},
      attrs({{"alpha", 1e-4f}, {"beta", 0.75f}, {"bias", 2.0f}, {"size", int64_t{5}}}), "lrn");
  Attrs mp = window(3, 2, 0);
  mp.set("ceil_mode", int64_t{0});
  ValueId pool = b.node1(OpKind::MaxPool, {lrn}, mp, "pool");
  Attrs ap = window(2, 1, 0);
  ap.set("ceil_mode", int64_t{1});
  ap.set("count_include_pad", int64_t{0});
  ValueId avg = b.node1(OpKind::AveragePool, {pool}, ap, "avg");
  ValueId gap = b.node1(OpKind::GlobalAveragePool, {avg}, {}, "gap");
  ValueId flat = b.node1(OpKind::Flatten, {gap}, attrs({{"axis", int64_t{1}}}), "flat");
  ValueId fw = b.param("gemm.w@0", {3, 6}), fb = b.param("gemm.b", {3}),
          mw = b.param("mm.w", {6, 3});
  b.g.param_slices[fw] = ParamSlice{"gemm.w", {6, 6}, 0, 3};
  Attrs gemm_attrs =
      attrs({{"alpha", 1.0f}, {"beta", 0.25f}, {"transA", int64_t{0}}, {"transB", int64_t{1}}});
  gemm_attrs.set("activation", std::string("Clip"));
  gemm_attrs.set("activation_min", 0.0f);
  gemm_attrs.set("activation_max", 6.0f);
  ValueId gemm = b.node1(OpKind::Gemm, {flat, fw, fb}, gemm_attrs, "gemm");
  ValueId mm = b.node1(OpKind::MatMul, {flat, mw}, {}, "mm");
  ValueId sm = b.node1(OpKind::Softmax, {gemm}, attrs({{"axis", int64_t{1}}}), "prob");
  ValueId lsm = b.node1(OpKind::LogSoftmax, {mm}, attrs({{"axis", int64_t{1}}}), "logprob");
  ValueId rs = b.node1(OpKind::Reshape, {sm}, attrs({{"shape", ints({3, 1})}}), "reshape");
  ValueId sq = b.node1(OpKind::Squeeze, {rs}, attrs({{"axes", ints({1})}}), "squeeze");
  ValueId us = b.node1(OpKind::Unsqueeze, {sq}, attrs({{"axes", ints({0})}}), "unsqueeze");
  ValueId tr = b.node1(OpKind::Transpose, {us}, attrs({{"perm", ints({1, 0})}}), "transpose");
  ValueId back = b.node1(OpKind::Transpose, {tr}, attrs({{"perm", ints({1, 0})}}), "back");
  ValueId cat = b.node1(OpKind::Concat, {back, lsm}, attrs({{"axis", int64_t{1}}}), "cat");
  Attrs split = attrs({{"axis", int64_t{1}}, {"split", ints({2, 4})}});
  split.set("note", std::string("tab\there \"quoted\" back\\slash \x01 line\nend"));
  split.set("weird key", std::vector<float>{0.5f, -inf, nan, 1e-38f});
  split.set("empty_ints", std::vector<int64_t>{});
  split.set("empty_floats", std::vector<float>{});
  auto halves = b.node(OpKind::Split, {cat}, split, {"half a", "half.b"}, "split0");
  ValueId sl =
      b.node1(OpKind::Slice, {halves[1]},
              attrs({{"starts", ints({0, 3})}, {"ends", ints({1, -1})}, {"steps", ints({1, -2})}}),
              "slice");
  ValueId pad = b.node1(
      OpKind::Pad, {halves[0]},
      attrs({{"pads", ints({0, 1, 0, 1})}, {"mode", std::string("reflect")}, {"value", 0.0f}}),
      "pad");
  ValueId moved = b.node1(OpKind::Transfer, {pad}, attrs({{"kind", std::string("copy")}}), "to1");
  b.g.nodes.back().device = 1;

  // The training ops: loss, training-mode forms, gradients, the update.
  ValueId labels = b.input("labels", {1});
  ValueId step = b.input("step", {});
  ValueId lr = b.input("lr", {});
  ValueId loss = b.node1(OpKind::SoftmaxCrossEntropy, {gemm, labels}, {}, "loss");
  b.node1(OpKind::DropoutMask, {step},
          attrs({{"shape", ints({1, 6})}, {"ratio", 0.5f}, {"seed", int64_t{3}}}), "mask");
  auto bnt = b.node(OpKind::BatchNormTrain, {c, s, bb, m, v},
                    attrs({{"epsilon", 1e-5f}, {"momentum", 0.9f}}),
                    {"bnt", "bnt.mean", "bnt.var", "bnt.saved_mean", "bnt.saved_invstd"});
  b.node1(OpKind::ReduceSum, {c}, attrs({{"axes", ints({0, 2, 3})}, {"keepdims", int64_t{0}}}),
          "bias_grad");
  b.node1(OpKind::ActivationGrad, {c, r}, attrs({{"activation", std::string("Relu")}}),
          "relu_grad");
  Attrs conv_grad = conv;
  conv_grad.set("input_shape", ints({1, 4, 8, 8}));
  b.node1(OpKind::ConvGradInput, {c, w}, conv_grad, "conv_dx");
  b.node1(OpKind::ConvGradWeight, {x, c}, conv, "conv_dw");
  b.node1(OpKind::LRNGrad, {bn, lrn, lrn},
          attrs({{"alpha", 1e-4f}, {"beta", 0.75f}, {"bias", 2.0f}, {"size", int64_t{5}}}),
          "lrn_grad");
  b.node1(OpKind::MaxPoolGrad, {lrn, pool}, mp, "pool_grad");
  Attrs ap_grad = ap;
  ap_grad.set("input_shape", ints({1, 6, 3, 3}));
  b.node1(OpKind::AveragePoolGrad, {avg}, ap_grad, "avg_grad");
  b.node1(OpKind::SoftmaxGrad, {sm, sm}, attrs({{"axis", int64_t{1}}}), "prob_grad");
  b.node1(OpKind::LogSoftmaxGrad, {lsm, lsm}, attrs({{"axis", int64_t{1}}}), "logprob_grad");
  b.node1(OpKind::SoftmaxCrossEntropyGrad, {gemm, labels, loss}, {}, "loss_grad");
  b.node(OpKind::BatchNormGrad, {c, s, bnt[3], bnt[4], c}, attrs({{"epsilon", 1e-5f}}),
         {"bn_dx", "bn_dscale", "bn_dbias"});
  ValueId momentum = b.param("conv.b.momentum", {6});
  auto sgd = b.node(OpKind::SgdUpdate, {bias, momentum, bias, lr},
                    attrs({{"momentum", 0.9f}, {"weight_decay", 0.0005f}}),
                    {"conv.b/new", "conv.b.momentum/new"});
  b.g.nodes.back().device = 1;
  b.g.updates = {{m, bnt[1]}, {v, bnt[2]}, {bias, sgd[0]}, {momentum, sgd[1]}};
  b.g.zero_init = {"conv.b.momentum"};
  b.g.outputs = {sm, moved, sl, loss};
  return b.g;
}

/// AlexNet's first layers at a small size: what a real plan's program
/// looks like, with parameters that the plan tests give weights.
inline Graph small_net_graph() {
  GraphBuilder b;
  b.g.name = "small";
  ValueId x = b.input("data", {2, 3, 11, 11});
  ValueId w = b.param("conv1.w", {4, 3, 3, 3});
  ValueId bias = b.param("conv1.b", {4});
  Attrs conv = window(3, 2, 0);
  conv.set("group", int64_t{1});
  ValueId c = b.node1(OpKind::Conv, {x, w, bias}, conv, "conv1");
  ValueId r = b.node1(OpKind::Relu, {c}, {}, "relu1");
  ValueId flat = b.node1(OpKind::Flatten, {r}, attrs({{"axis", int64_t{1}}}), "flat");
  ValueId fw = b.param("fc.w", {5, 100});
  ValueId fb = b.param("fc.b", {5});
  ValueId fc = b.node1(
      OpKind::Gemm, {flat, fw, fb},
      attrs({{"alpha", 1.0f}, {"beta", 1.0f}, {"transA", int64_t{0}}, {"transB", int64_t{1}}}),
      "fc");
  b.g.outputs = {b.node1(OpKind::Softmax, {fc}, attrs({{"axis", int64_t{1}}}), "prob")};
  return b.g;
}

/// Deterministic weights of the right size for every parameter of `g` (for
/// a param that slices a stored weight, the whole stored weight).
inline void add_weights(const Graph &g, WeightStore &weights) {
  for (ValueId id : g.params()) {
    auto slice = g.param_slices.find(id);
    TensorType type = slice == g.param_slices.end()
                          ? g.type(id)
                          : TensorType{DType::F32, slice->second.source_shape};
    std::vector<float> data(static_cast<size_t>(type.numel()));
    for (size_t i = 0; i < data.size(); ++i)
      data[i] = static_cast<float>(i % 17) * 0.125f - 1.0f + static_cast<float>(id);
    weights[slice == g.param_slices.end() ? g.value(id).name : slice->second.source] =
        std::move(data);
  }
}

/// A plan with two programs, weights, preprocessing, class names and ONNX bytes.
inline Plan sample_plan() {
  Plan p;
  p.producer_version = "0.1.0-test";
  p.source_name = "small net.onnx";
  p.programs["infer"] = small_net_graph();
  p.programs["all_ops"] = all_ops_graph();
  for (const auto &[name, g] : p.programs)
    add_weights(g, p.weights);
  p.weights["unused.momentum"] = {1.0f, 2.0f, 3.0f};
  p.preprocess.resize = 256;
  p.preprocess.mean = {123.68f, 116.78f, 103.94f};
  p.preprocess.mean_image = std::vector<float>(3 * 4 * 4, 120.5f);
  p.preprocess.scale = 0.017f;
  p.class_names = {"tench", "goldfish", "great white shark", "\xc3\xa9l\xc3\xa9phant", ""};
  p.onnx_model = std::string("\x08\x07\x12\x00onnx bytes", 15);
  return p;
}

inline bool same_float(float a, float b) {
  return (std::isnan(a) && std::isnan(b)) ||
         std::bit_cast<uint32_t>(a) == std::bit_cast<uint32_t>(b);
}

inline bool same_floats(const std::vector<float> &a, const std::vector<float> &b) {
  if (a.size() != b.size())
    return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (!same_float(a[i], b[i]))
      return false;
  return true;
}

inline bool same_attr(const AttrValue &a, const AttrValue &b) {
  if (a.index() != b.index())
    return false;
  if (const auto *f = std::get_if<float>(&a))
    return same_float(*f, std::get<float>(b));
  if (const auto *fs = std::get_if<std::vector<float>>(&a))
    return same_floats(*fs, std::get<std::vector<float>>(b));
  return a == b;
}

/// Every field of two graphs, value ids included.
inline void expect_same_graph(const Graph &a, const Graph &b) {
  EXPECT_EQ(a.name, b.name);
  ASSERT_EQ(a.values.size(), b.values.size());
  for (size_t i = 0; i < a.values.size(); ++i) {
    EXPECT_EQ(a.values[i].name, b.values[i].name) << "value " << i;
    EXPECT_EQ(a.values[i].type, b.values[i].type) << "value " << i;
    EXPECT_EQ(a.values[i].kind, b.values[i].kind) << "value " << i;
    EXPECT_EQ(b.find_value(b.values[i].name), static_cast<ValueId>(i));
  }
  ASSERT_EQ(a.nodes.size(), b.nodes.size());
  for (size_t i = 0; i < a.nodes.size(); ++i) {
    const Node &x = a.nodes[i], &y = b.nodes[i];
    EXPECT_EQ(x.op, y.op) << "node " << i;
    EXPECT_EQ(x.name, y.name) << "node " << i;
    EXPECT_EQ(x.inputs, y.inputs) << "node " << i;
    EXPECT_EQ(x.outputs, y.outputs) << "node " << i;
    EXPECT_EQ(x.device, y.device) << "node " << i;
    ASSERT_EQ(x.attrs.items().size(), y.attrs.items().size()) << "node " << i;
    for (size_t j = 0; j < x.attrs.items().size(); ++j) {
      EXPECT_EQ(x.attrs.items()[j].first, y.attrs.items()[j].first);
      EXPECT_TRUE(same_attr(x.attrs.items()[j].second, y.attrs.items()[j].second))
          << "node " << x.name << " attribute " << x.attrs.items()[j].first;
    }
  }
  EXPECT_EQ(a.inputs, b.inputs);
  EXPECT_EQ(a.outputs, b.outputs);
  EXPECT_EQ(a.updates, b.updates);
  EXPECT_EQ(a.zero_init, b.zero_init);
  ASSERT_EQ(a.constants.size(), b.constants.size());
  for (const auto &[id, data] : a.constants) {
    auto it = b.constants.find(id);
    ASSERT_NE(it, b.constants.end()) << "constant " << id;
    EXPECT_TRUE(same_floats(data, it->second)) << "constant " << a.value(id).name;
  }
}

/// Every field of two plans.
inline void expect_same_plan(const Plan &a, const Plan &b) {
  EXPECT_EQ(a.producer_version, b.producer_version);
  EXPECT_EQ(a.source_name, b.source_name);
  ASSERT_EQ(a.programs.size(), b.programs.size());
  for (const auto &[name, g] : a.programs) {
    auto it = b.programs.find(name);
    ASSERT_NE(it, b.programs.end()) << "program " << name;
    expect_same_graph(g, it->second);
  }
  ASSERT_EQ(a.weights.size(), b.weights.size());
  for (const auto &[name, data] : a.weights) {
    auto it = b.weights.find(name);
    ASSERT_NE(it, b.weights.end()) << "weight " << name;
    EXPECT_TRUE(same_floats(data, it->second)) << "weight " << name;
  }
  EXPECT_EQ(a.preprocess.resize, b.preprocess.resize);
  EXPECT_EQ(a.preprocess.pad, b.preprocess.pad);
  EXPECT_TRUE(same_floats(a.preprocess.mean, b.preprocess.mean));
  EXPECT_TRUE(same_floats(a.preprocess.mean_image, b.preprocess.mean_image));
  EXPECT_TRUE(same_float(a.preprocess.scale, b.preprocess.scale));
  EXPECT_EQ(a.class_names, b.class_names);
  EXPECT_EQ(a.onnx_model, b.onnx_model);
  EXPECT_EQ(a.cuda_kernels, b.cuda_kernels);
}

} // namespace anet::testing
