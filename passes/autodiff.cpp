// autodiff: appends the backward graph of the scalar loss to a training
// program.
//
// Design note. Reverse-mode differentiation on the SSA graph, with one
// gradient rule per op in one table (`grad_<Op>`, built from ir/ops.def, so
// an op without a rule fails the build; after tinygrad's gradient.py):
//  1. mark the values that need a gradient: params, and node outputs that
//     depend on one through a differentiable input;
//  2. seed d(loss)/d(loss) = 1 and walk the forward nodes backwards; each
//     node whose outputs received gradients emits, through its rule, the
//     nodes computing its inputs' gradients, on the node's own device;
//  3. contributions to one value are summed where they meet (Add chains).
// Because every node reads values on its own device once transfers are
// explicit, every contribution lands on the device of the value it
// belongs to: a Transfer's rule is the reverse Transfer. The gradient of
// param `p` is the value named "grad/p", which the optimizer pass reads.
// Rules express gradients with table ops (ConvGradInput, ReduceSum, Slice,
// ...) so every backend runs the backward graph with the same kernels.

#include <algorithm>
#include <numeric>

#include "passes/passes.h"

namespace anet {
namespace {

class Backward;
using GradRule = Status (*)(Backward &b, const Node &n, const std::vector<ValueId> &dy);

// The state of one backward construction: the graph being extended, the
// gradient contributions collected so far, and helpers that emit nodes on
// the current node's device.
class Backward {
public:
  explicit Backward(Graph &g) : g_(g), contributions_(g.values.size()) {}

  Graph &graph() { return g_; }
  const TensorType &type(ValueId v) const { return g_.type(v); }
  const Shape &shape(ValueId v) const { return g_.type(v).shape; }

  // Whether input `v` wants a gradient.
  bool wants(ValueId v) const {
    return static_cast<size_t>(v) < needs_.size() && needs_[static_cast<size_t>(v)];
  }

  // Adds `dx` to the gradient of `x`.
  void add(ValueId x, ValueId dx) {
    if (wants(x))
      contributions_[static_cast<size_t>(x)].push_back(dx);
  }

  // Emits one node on the current device and returns its outputs.
  Expected<std::vector<ValueId>> emit_n(OpKind op, const std::string &stem,
                                        std::vector<ValueId> inputs, Attrs attrs = {},
                                        int outputs = 1) {
    Node n;
    n.op = op;
    n.name = unique_node_name(where_ + "/grad/" + stem);
    n.inputs = std::move(inputs);
    n.attrs = std::move(attrs);
    n.device = device_;
    n.outputs.assign(static_cast<size_t>(outputs), -1);
    std::vector<TensorType> in_types;
    for (ValueId v : n.inputs)
      in_types.push_back(g_.type(v));
    auto types = infer_shapes(n, in_types);
    if (!types)
      return with_context(std::move(types).take_error(), "gradient of '" + where_ + "'");
    for (size_t i = 0; i < types->size(); ++i)
      n.outputs[i] = g_.add_value(g_.unique_value_name(n.name + (i ? "." + std::to_string(i) : "")),
                                  (*types)[i], ValueKind::Activation);
    std::vector<ValueId> out = n.outputs;
    g_.add_node(std::move(n));
    return out;
  }
  Expected<ValueId> emit(OpKind op, const std::string &stem, std::vector<ValueId> inputs,
                         Attrs attrs = {}) {
    ANET_ASSIGN_OR_RETURN(std::vector<ValueId> out,
                          emit_n(op, stem, std::move(inputs), std::move(attrs)));
    return out[0];
  }

  // A constant filled with `value`.
  ValueId constant(const Shape &shape, float value, const std::string &stem) {
    TensorType t{DType::F32, shape};
    ValueId c =
        g_.add_value(g_.unique_value_name(where_ + "/grad/" + stem), t, ValueKind::Constant);
    g_.constants[c] = std::vector<float>(static_cast<size_t>(t.numel()), value);
    return c;
  }

  // `dy` summed over the axes along which `target` was broadcast to it.
  Expected<ValueId> reduce_to(ValueId dy, const Shape &target) {
    const Shape &s = shape(dy);
    if (s == target)
      return dy;
    Attrs a;
    std::vector<int64_t> axes;
    size_t lead = s.size() - target.size();
    for (size_t i = 0; i < s.size(); ++i)
      if (i < lead || (target[i - lead] == 1 && s[i] != 1))
        axes.push_back(static_cast<int64_t>(i));
    a.set("axes", axes);
    a.set("keepdims", int64_t{1});
    ANET_ASSIGN_OR_RETURN(ValueId sum, emit(OpKind::ReduceSum, "sum", {dy}, a));
    return reshape(sum, target);
  }

  Expected<ValueId> reshape(ValueId v, const Shape &target) {
    if (shape(v) == target)
      return v;
    Attrs a;
    a.set("shape", target);
    return emit(OpKind::Reshape, "reshape", {v}, a);
  }

  Expected<ValueId> scale(ValueId v, float factor) {
    if (factor == 1.f)
      return v;
    return emit(OpKind::Mul, "scale", {v, constant({}, factor, "factor")});
  }

  // Where a rule's error points (rules run with current_ set).
  Error unsupported(const std::string &why) const {
    return make_error(ExitCode::InvalidModel, "node '", current_->name, "' (",
                      op_name(current_->op), "): cannot differentiate: ", why);
  }

  Expected<std::map<ValueId, ValueId>> run(ValueId loss);

private:
  std::string unique_node_name(const std::string &stem) {
    std::string name = stem;
    for (int i = 1; !node_names_.insert(name).second; ++i)
      name = stem + "." + std::to_string(i);
    return name;
  }

  Expected<ValueId> total(ValueId v);

  Graph &g_;
  std::vector<std::vector<ValueId>> contributions_;
  std::vector<bool> needs_;
  std::set<std::string> node_names_;
  const Node *current_ = nullptr; // the forward node whose rule runs
  std::string where_;             // what emitted nodes are named after
  int device_ = 0;
};

// --- Gradient rules ---------------------------------------------------------
// Each reads the node, its output gradients `dy` (-1 where an output got
// none) and adds its inputs' gradients with b.add().

Attrs without_activation(Attrs a) {
  a.erase("activation");
  a.erase("activation_min");
  a.erase("activation_max");
  return a;
}

// The gradient before a fused epilogue activation (or dy if there is none).
Expected<ValueId> through_activation(Backward &b, const Node &n, ValueId dy) {
  if (!n.attrs.has("activation"))
    return dy;
  Attrs a;
  for (const char *key : {"activation", "activation_min", "activation_max"})
    if (const AttrValue *v = n.attrs.find(key))
      a.set(key, *v);
  return b.emit(OpKind::ActivationGrad, "activation", {dy, n.outputs[0]}, a);
}

Status no_rule(Backward &b, const Node &, const std::vector<ValueId> &) {
  return b.unsupported("the op has no gradient rule (it is not part of a trainable forward graph)");
}

Status grad_Conv(Backward &b, const Node &n, const std::vector<ValueId> &dy) {
  ANET_ASSIGN_OR_RETURN(ValueId dz, through_activation(b, n, dy[0]));
  Attrs conv = without_activation(n.attrs);
  ValueId x = n.inputs[0], w = n.inputs[1];
  if (b.wants(x)) {
    Attrs a = conv;
    a.set("input_shape", b.shape(x));
    ANET_ASSIGN_OR_RETURN(ValueId dx, b.emit(OpKind::ConvGradInput, "input", {dz, w}, a));
    b.add(x, dx);
  }
  if (b.wants(w)) {
    ANET_ASSIGN_OR_RETURN(ValueId dw, b.emit(OpKind::ConvGradWeight, "weight", {x, dz}, conv));
    b.add(w, dw);
  }
  if (n.inputs.size() == 3 && b.wants(n.inputs[2])) {
    Attrs a;
    a.set("axes", std::vector<int64_t>{0, 2, 3});
    a.set("keepdims", int64_t{0});
    ANET_ASSIGN_OR_RETURN(ValueId db, b.emit(OpKind::ReduceSum, "bias", {dz}, a));
    b.add(n.inputs[2], db);
  }
  return {};
}

// Y = alpha op(A) op(B) + beta C, op() transposing when transA/transB is set.
Status grad_Gemm(Backward &b, const Node &n, const std::vector<ValueId> &dy) {
  ANET_ASSIGN_OR_RETURN(ValueId dz, through_activation(b, n, dy[0]));
  ValueId a = n.inputs[0], bm = n.inputs[1];
  int64_t ta = n.attrs.i("transA"), tb = n.attrs.i("transB");
  auto gemm = [&](const char *stem, ValueId p, ValueId q, int64_t tp, int64_t tq) {
    Attrs at;
    at.set("alpha", n.attrs.f("alpha"));
    at.set("beta", 1.f);
    at.set("transA", tp);
    at.set("transB", tq);
    return b.emit(OpKind::Gemm, stem, {p, q}, at);
  };
  if (b.wants(a)) {
    // dop(A) = alpha dZ op(B)^T; dA is that or its transpose.
    auto da = ta ? gemm("A", bm, dz, tb, 1) : gemm("A", dz, bm, 0, tb ? 0 : 1);
    if (!da)
      return std::move(da).take_error();
    b.add(a, *da);
  }
  if (b.wants(bm)) {
    // dop(B) = alpha op(A)^T dZ; dB is that or its transpose.
    auto db = tb ? gemm("B", dz, a, 1, ta) : gemm("B", a, dz, ta ? 0 : 1, 0);
    if (!db)
      return std::move(db).take_error();
    b.add(bm, *db);
  }
  if (n.inputs.size() == 3 && b.wants(n.inputs[2])) {
    ANET_ASSIGN_OR_RETURN(ValueId dc, b.reduce_to(dz, b.shape(n.inputs[2])));
    ANET_ASSIGN_OR_RETURN(dc, b.scale(dc, n.attrs.f("beta")));
    b.add(n.inputs[2], dc);
  }
  return {};
}

// Swaps the last two axes.
Expected<ValueId> transpose_last2(Backward &b, ValueId v) {
  std::vector<int64_t> perm(b.shape(v).size());
  std::iota(perm.begin(), perm.end(), 0);
  std::swap(perm[perm.size() - 1], perm[perm.size() - 2]);
  Attrs a;
  a.set("perm", perm);
  return b.emit(OpKind::Transpose, "transpose", {v}, a);
}

Status grad_MatMul(Backward &b, const Node &n, const std::vector<ValueId> &dy) {
  ValueId a = n.inputs[0], bm = n.inputs[1];
  if (b.shape(a).size() < 2 || b.shape(bm).size() < 2)
    return b.unsupported("MatMul with a 1-D operand");
  ANET_ASSIGN_OR_RETURN(ValueId dz, through_activation(b, n, dy[0]));
  if (b.wants(a)) {
    ANET_ASSIGN_OR_RETURN(ValueId bt, transpose_last2(b, bm));
    ANET_ASSIGN_OR_RETURN(ValueId da, b.emit(OpKind::MatMul, "A", {dz, bt}));
    ANET_ASSIGN_OR_RETURN(da, b.reduce_to(da, b.shape(a)));
    b.add(a, da);
  }
  if (b.wants(bm)) {
    ANET_ASSIGN_OR_RETURN(ValueId at, transpose_last2(b, a));
    ANET_ASSIGN_OR_RETURN(ValueId db, b.emit(OpKind::MatMul, "B", {at, dz}));
    ANET_ASSIGN_OR_RETURN(db, b.reduce_to(db, b.shape(bm)));
    b.add(bm, db);
  }
  return {};
}

// Relu, Sigmoid, Tanh, Clip: the derivative written in terms of the output.
Status grad_activation(Backward &b, const Node &n, const std::vector<ValueId> &dy) {
  Attrs a;
  a.set("activation", std::string(op_name(n.op)));
  if (n.op == OpKind::Clip) {
    a.set("activation_min", n.attrs.f("min"));
    a.set("activation_max", n.attrs.f("max"));
  }
  ANET_ASSIGN_OR_RETURN(ValueId dx,
                        b.emit(OpKind::ActivationGrad, "activation", {dy[0], n.outputs[0]}, a));
  b.add(n.inputs[0], dx);
  return {};
}
// Ops that share a rule.
#define ANET_GRAD_AS(name, rule)                                                                   \
  Status grad_##name(Backward &b, const Node &n, const std::vector<ValueId> &dy) {                 \
    return rule(b, n, dy);                                                                         \
  }
ANET_GRAD_AS(Relu, grad_activation)
ANET_GRAD_AS(Sigmoid, grad_activation)
ANET_GRAD_AS(Tanh, grad_activation)
ANET_GRAD_AS(Clip, grad_activation)

// Identity, and Dropout as inference programs run it: the gradient passes.
Status grad_Identity(Backward &b, const Node &n, const std::vector<ValueId> &dy) {
  b.add(n.inputs[0], dy[0]);
  return {};
}
ANET_GRAD_AS(Dropout, grad_Identity)

Status grad_Add(Backward &b, const Node &n, const std::vector<ValueId> &dy) {
  for (ValueId x : n.inputs) {
    if (!b.wants(x))
      continue;
    ANET_ASSIGN_OR_RETURN(ValueId dx, b.reduce_to(dy[0], b.shape(x)));
    b.add(x, dx);
  }
  return {};
}

Status grad_Sub(Backward &b, const Node &n, const std::vector<ValueId> &dy) {
  for (size_t i = 0; i < 2; ++i) {
    ValueId x = n.inputs[i];
    if (!b.wants(x))
      continue;
    ANET_ASSIGN_OR_RETURN(ValueId dx, b.reduce_to(dy[0], b.shape(x)));
    if (i == 1) {
      ANET_ASSIGN_OR_RETURN(dx, b.scale(dx, -1.f));
    }
    b.add(x, dx);
  }
  return {};
}

Status grad_Mul(Backward &b, const Node &n, const std::vector<ValueId> &dy) {
  for (size_t i = 0; i < 2; ++i) {
    ValueId x = n.inputs[i], other = n.inputs[1 - i];
    if (!b.wants(x))
      continue;
    ANET_ASSIGN_OR_RETURN(ValueId prod, b.emit(OpKind::Mul, "product", {dy[0], other}));
    ANET_ASSIGN_OR_RETURN(ValueId dx, b.reduce_to(prod, b.shape(x)));
    b.add(x, dx);
  }
  return {};
}

// Y = A / B: dA = dY / B, dB = -dY * Y / B.
Status grad_Div(Backward &b, const Node &n, const std::vector<ValueId> &dy) {
  ValueId a = n.inputs[0], bd = n.inputs[1];
  if (b.wants(a)) {
    ANET_ASSIGN_OR_RETURN(ValueId q, b.emit(OpKind::Div, "A", {dy[0], bd}));
    ANET_ASSIGN_OR_RETURN(ValueId da, b.reduce_to(q, b.shape(a)));
    b.add(a, da);
  }
  if (b.wants(bd)) {
    ANET_ASSIGN_OR_RETURN(ValueId p, b.emit(OpKind::Mul, "B", {dy[0], n.outputs[0]}));
    ANET_ASSIGN_OR_RETURN(ValueId q, b.emit(OpKind::Div, "B", {p, bd}));
    ANET_ASSIGN_OR_RETURN(ValueId db, b.reduce_to(q, b.shape(bd)));
    ANET_ASSIGN_OR_RETURN(db, b.scale(db, -1.f));
    b.add(bd, db);
  }
  return {};
}

Status grad_BatchNormalization(Backward &b, const Node &, const std::vector<ValueId> &) {
  return b.unsupported("inference-mode batch normalisation; training programs use "
                       "BatchNormTrain (the training-mode pass rewrites it)");
}

Status grad_BatchNormTrain(Backward &b, const Node &n, const std::vector<ValueId> &dy) {
  if (dy[0] < 0)
    return {}; // only the statistics are read: no gradient flows
  for (size_t i = 1; i < dy.size(); ++i)
    if (dy[i] >= 0)
      return b.unsupported("a gradient reaches the batch statistics outputs");
  Attrs a;
  a.set("epsilon", n.attrs.f("epsilon"));
  ANET_ASSIGN_OR_RETURN(std::vector<ValueId> d,
                        b.emit_n(OpKind::BatchNormGrad, "batchnorm",
                                 {n.inputs[0], n.inputs[1], n.outputs[3], n.outputs[4], dy[0]}, a,
                                 3));
  for (size_t i = 0; i < 3; ++i)
    b.add(n.inputs[i], d[i]);
  return {};
}

Status grad_LRN(Backward &b, const Node &n, const std::vector<ValueId> &dy) {
  ANET_ASSIGN_OR_RETURN(
      ValueId dx, b.emit(OpKind::LRNGrad, "lrn", {n.inputs[0], n.outputs[0], dy[0]}, n.attrs));
  b.add(n.inputs[0], dx);
  return {};
}

Status grad_MaxPool(Backward &b, const Node &n, const std::vector<ValueId> &dy) {
  ANET_ASSIGN_OR_RETURN(ValueId dx,
                        b.emit(OpKind::MaxPoolGrad, "maxpool", {n.inputs[0], dy[0]}, n.attrs));
  b.add(n.inputs[0], dx);
  return {};
}

Status grad_AveragePool(Backward &b, const Node &n, const std::vector<ValueId> &dy) {
  Attrs a = n.attrs;
  a.set("input_shape", b.shape(n.inputs[0]));
  ANET_ASSIGN_OR_RETURN(ValueId dx, b.emit(OpKind::AveragePoolGrad, "avgpool", {dy[0]}, a));
  b.add(n.inputs[0], dx);
  return {};
}

// The mean over each whole plane: an average pool whose window is the plane.
Status grad_GlobalAveragePool(Backward &b, const Node &n, const std::vector<ValueId> &dy) {
  const Shape &x = b.shape(n.inputs[0]);
  if (x.size() != 4)
    return b.unsupported("GlobalAveragePool over other than two spatial axes");
  Attrs a;
  a.set("kernel_shape", std::vector<int64_t>{x[2], x[3]});
  a.set("strides", std::vector<int64_t>{1, 1});
  a.set("pads", std::vector<int64_t>{0, 0, 0, 0});
  a.set("dilations", std::vector<int64_t>{1, 1});
  a.set("ceil_mode", int64_t{0});
  a.set("count_include_pad", int64_t{0});
  a.set("input_shape", x);
  ANET_ASSIGN_OR_RETURN(ValueId dx, b.emit(OpKind::AveragePoolGrad, "avgpool", {dy[0]}, a));
  b.add(n.inputs[0], dx);
  return {};
}

Status grad_Softmax(Backward &b, const Node &n, const std::vector<ValueId> &dy) {
  ANET_ASSIGN_OR_RETURN(ValueId dx,
                        b.emit(OpKind::SoftmaxGrad, "softmax", {n.outputs[0], dy[0]}, n.attrs));
  b.add(n.inputs[0], dx);
  return {};
}

Status grad_LogSoftmax(Backward &b, const Node &n, const std::vector<ValueId> &dy) {
  ANET_ASSIGN_OR_RETURN(
      ValueId dx, b.emit(OpKind::LogSoftmaxGrad, "logsoftmax", {n.outputs[0], dy[0]}, n.attrs));
  b.add(n.inputs[0], dx);
  return {};
}

// Flatten, Reshape, Squeeze, Unsqueeze: the gradient takes the input's shape.
Status grad_reshape(Backward &b, const Node &n, const std::vector<ValueId> &dy) {
  ANET_ASSIGN_OR_RETURN(ValueId dx, b.reshape(dy[0], b.shape(n.inputs[0])));
  b.add(n.inputs[0], dx);
  return {};
}
ANET_GRAD_AS(Flatten, grad_reshape)
ANET_GRAD_AS(Reshape, grad_reshape)
ANET_GRAD_AS(Squeeze, grad_reshape)
ANET_GRAD_AS(Unsqueeze, grad_reshape)

Status grad_Transpose(Backward &b, const Node &n, const std::vector<ValueId> &dy) {
  const std::vector<int64_t> &perm = n.attrs.ints("perm");
  std::vector<int64_t> inverse(perm.size());
  for (size_t i = 0; i < perm.size(); ++i)
    inverse[static_cast<size_t>(perm[i])] = static_cast<int64_t>(i);
  Attrs a;
  a.set("perm", inverse);
  ANET_ASSIGN_OR_RETURN(ValueId dx, b.emit(OpKind::Transpose, "transpose", {dy[0]}, a));
  b.add(n.inputs[0], dx);
  return {};
}

// The part [begin, end) of `v` along `axis`.
Expected<ValueId> slice_axis(Backward &b, ValueId v, int64_t axis, int64_t begin, int64_t end) {
  const Shape &s = b.shape(v);
  std::vector<int64_t> starts(s.size(), 0), ends(s.begin(), s.end()), steps(s.size(), 1);
  starts[static_cast<size_t>(axis)] = begin;
  ends[static_cast<size_t>(axis)] = end;
  Attrs a;
  a.set("starts", starts);
  a.set("ends", ends);
  a.set("steps", steps);
  return b.emit(OpKind::Slice, "slice", {v}, a);
}

Status grad_Concat(Backward &b, const Node &n, const std::vector<ValueId> &dy) {
  int64_t axis = n.attrs.i("axis"), offset = 0;
  for (ValueId x : n.inputs) {
    int64_t len = b.shape(x)[static_cast<size_t>(axis)];
    if (b.wants(x)) {
      ANET_ASSIGN_OR_RETURN(ValueId dx, slice_axis(b, dy[0], axis, offset, offset + len));
      b.add(x, dx);
    }
    offset += len;
  }
  return {};
}

Status grad_Split(Backward &b, const Node &n, const std::vector<ValueId> &dy) {
  std::vector<ValueId> parts;
  for (size_t i = 0; i < n.outputs.size(); ++i)
    parts.push_back(dy[i] >= 0 ? dy[i] : b.constant(b.shape(n.outputs[i]), 0.f, "zeros"));
  Attrs a;
  a.set("axis", n.attrs.i("axis"));
  ANET_ASSIGN_OR_RETURN(ValueId dx, b.emit(OpKind::Concat, "concat", parts, a));
  b.add(n.inputs[0], dx);
  return {};
}

// A unit-step slice's gradient is dY padded with zeros back to the input.
Status grad_Slice(Backward &b, const Node &n, const std::vector<ValueId> &dy) {
  const auto &starts = n.attrs.ints("starts"), &steps = n.attrs.ints("steps");
  const Shape &x = b.shape(n.inputs[0]), &y = b.shape(n.outputs[0]);
  std::vector<int64_t> pads(2 * x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    if (steps[i] != 1)
      return b.unsupported("Slice with a step other than 1");
    pads[i] = starts[i];
    pads[x.size() + i] = x[i] - starts[i] - y[i];
  }
  Attrs a;
  a.set("pads", pads);
  a.set("mode", std::string("constant"));
  a.set("value", 0.f);
  ANET_ASSIGN_OR_RETURN(ValueId dx, b.emit(OpKind::Pad, "pad", {dy[0]}, a));
  b.add(n.inputs[0], dx);
  return {};
}

// Constant padding's gradient is the unpadded part of dY.
Status grad_Pad(Backward &b, const Node &n, const std::vector<ValueId> &dy) {
  if (n.attrs.s("mode") != "constant")
    return b.unsupported("Pad in mode '" + n.attrs.s("mode") + "'");
  const auto &pads = n.attrs.ints("pads");
  const Shape &x = b.shape(n.inputs[0]);
  std::vector<int64_t> starts(x.size()), ends(x.size()), steps(x.size(), 1);
  for (size_t i = 0; i < x.size(); ++i) {
    if (pads[i] < 0 || pads[x.size() + i] < 0)
      return b.unsupported("Pad with negative pads (cropping)");
    starts[i] = pads[i];
    ends[i] = pads[i] + x[i];
  }
  Attrs a;
  a.set("starts", starts);
  a.set("ends", ends);
  a.set("steps", steps);
  ANET_ASSIGN_OR_RETURN(ValueId dx, b.emit(OpKind::Slice, "slice", {dy[0]}, a));
  b.add(n.inputs[0], dx);
  return {};
}

Status grad_SoftmaxCrossEntropy(Backward &b, const Node &n, const std::vector<ValueId> &dy) {
  ANET_ASSIGN_OR_RETURN(ValueId dx, b.emit(OpKind::SoftmaxCrossEntropyGrad, "loss",
                                           {n.inputs[0], n.inputs[1], dy[0]}));
  b.add(n.inputs[0], dx);
  return {};
}

// The mask depends on the step only: nothing to differentiate.
Status grad_DropoutMask(Backward &, const Node &, const std::vector<ValueId> &) { return {}; }

// The ops that only training programs' backward and update steps contain.
#define ANET_NO_GRADIENT(name) ANET_GRAD_AS(name, no_rule)
ANET_NO_GRADIENT(ReduceSum)
ANET_NO_GRADIENT(ActivationGrad)
ANET_NO_GRADIENT(ConvGradInput)
ANET_NO_GRADIENT(ConvGradWeight)
ANET_NO_GRADIENT(LRNGrad)
ANET_NO_GRADIENT(MaxPoolGrad)
ANET_NO_GRADIENT(AveragePoolGrad)
ANET_NO_GRADIENT(SoftmaxGrad)
ANET_NO_GRADIENT(LogSoftmaxGrad)
ANET_NO_GRADIENT(SoftmaxCrossEntropyGrad)
ANET_NO_GRADIENT(BatchNormGrad)
ANET_NO_GRADIENT(SgdUpdate)
#undef ANET_NO_GRADIENT
#undef ANET_GRAD_AS

// A transfer's gradient travels back: the reverse transfer, emitted on the
// device the forward transfer read from (the walk sets it).
Status grad_Transfer(Backward &b, const Node &n, const std::vector<ValueId> &dy) {
  Attrs a;
  if (n.attrs.has("kind"))
    a.set("kind", n.attrs.s("kind"));
  ANET_ASSIGN_OR_RETURN(ValueId dx, b.emit(OpKind::Transfer, "transfer", {dy[0]}, a));
  b.add(n.inputs[0], dx);
  return {};
}

constexpr GradRule kGradRules[] = {
#define ANET_OP(name, min_in, max_in, outs, fusion) &grad_##name,
#include "ir/ops.def"
#undef ANET_OP
};
static_assert(std::size(kGradRules) == kNumOps, "every op of ir/ops.def needs a gradient rule");

// --- The walk ---------------------------------------------------------------

// Which values need a gradient: params, and what depends on one.
std::vector<bool> needs_gradient(const Graph &g) {
  std::vector<bool> needs(g.values.size(), false);
  for (ValueId p : g.params())
    needs[static_cast<size_t>(p)] = true;
  for (const Node &n : g.nodes) {
    if (n.op == OpKind::DropoutMask)
      continue;
    bool any = std::any_of(n.inputs.begin(), n.inputs.end(),
                           [&](ValueId v) { return needs[static_cast<size_t>(v)]; });
    for (ValueId v : n.outputs)
      needs[static_cast<size_t>(v)] = any;
  }
  return needs;
}

int device_of_value(const Graph &g, const std::vector<NodeId> &producer, ValueId v) {
  NodeId p = static_cast<size_t>(v) < producer.size() ? producer[static_cast<size_t>(v)] : -1;
  return p >= 0 ? g.nodes[static_cast<size_t>(p)].device : 0;
}

Expected<ValueId> Backward::total(ValueId v) {
  std::vector<ValueId> &parts = contributions_[static_cast<size_t>(v)];
  if (parts.empty())
    return -1;
  ValueId sum = parts[0];
  for (size_t i = 1; i < parts.size(); ++i) {
    ANET_ASSIGN_OR_RETURN(sum, emit(OpKind::Add, "sum", {sum, parts[i]}));
  }
  parts = {sum};
  return sum;
}

Expected<std::map<ValueId, ValueId>> Backward::run(ValueId loss) {
  if (g_.type(loss).rank() != 0)
    return make_error(ExitCode::InvalidModel, "the loss '", g_.value(loss).name,
                      "' must be a scalar, is ", to_string(g_.type(loss)));
  for (const Node &n : g_.nodes)
    node_names_.insert(n.name);
  needs_ = needs_gradient(g_);
  if (!needs_[static_cast<size_t>(loss)])
    return make_error(ExitCode::InvalidModel, "the loss '", g_.value(loss).name,
                      "' does not depend on any parameter");
  std::vector<NodeId> producer = g_.producers();
  size_t forward_nodes = g_.nodes.size();
  std::vector<Node> forward(g_.nodes.begin(), g_.nodes.end());

  // The seed: d(loss)/d(loss) = 1.
  where_ = g_.value(loss).name;
  device_ = device_of_value(g_, producer, loss);
  contributions_[static_cast<size_t>(loss)].push_back(constant({}, 1.f, "seed"));

  for (size_t i = forward_nodes; i-- > 0;) {
    const Node &n = forward[i];
    current_ = &n;
    where_ = n.name;
    device_ = n.device;
    std::vector<ValueId> dy;
    bool any = false;
    for (ValueId v : n.outputs) {
      ANET_ASSIGN_OR_RETURN(ValueId d, total(v));
      dy.push_back(d);
      any = any || d >= 0;
    }
    if (!any)
      continue;
    if (n.op == OpKind::Transfer)
      device_ = device_of_value(g_, producer, n.inputs[0]);
    Status s = kGradRules[static_cast<size_t>(n.op)](*this, n, dy);
    if (!s)
      return std::move(s).take_error();
  }

  std::map<ValueId, ValueId> grads;
  producer = g_.producers();
  for (ValueId p : g_.params()) {
    std::vector<ValueId> &parts = contributions_[static_cast<size_t>(p)];
    if (parts.empty())
      continue;
    // Every contribution sits on the device of the node that read the param.
    int d = -1;
    for (ValueId c : parts) {
      int dc = device_of_value(g_, producer, c);
      if (d >= 0 && dc != d)
        return make_error(ExitCode::InvalidModel, "param '", g_.value(p).name,
                          "' is read on devices ", d, " and ", dc,
                          ": training needs each parameter on one device (partition it, or "
                          "use --partition model)");
      d = dc;
    }
    where_ = g_.value(p).name;
    device_ = d;
    ANET_ASSIGN_OR_RETURN(ValueId total_grad, total(p));
    std::string name = "grad/" + g_.value(p).name;
    if (g_.find_value(name) && *g_.find_value(name) != total_grad)
      return make_error(ExitCode::InvalidModel, "the model already has a value named '", name,
                        "', the name of a gradient");
    if (g_.value(total_grad).name != name) {
      // Name the gradient for the optimizer (a copy when it is shared).
      bool shared = std::any_of(grads.begin(), grads.end(),
                                [&](auto &kv) { return kv.second == total_grad; });
      if (shared || g_.value(total_grad).kind != ValueKind::Activation) {
        ANET_ASSIGN_OR_RETURN(total_grad, emit(OpKind::Identity, "copy", {total_grad}));
      }
      g_.rename_value(total_grad, name);
    }
    grads[p] = total_grad;
  }
  return grads;
}

class Autodiff final : public Pass {
public:
  std::string_view name() const override { return "autodiff"; }

  Expected<bool> run(Graph &g, const PassContext &) override {
    std::optional<ValueId> loss = g.find_value(kLossName);
    if (!loss)
      return make_error(ExitCode::InvalidModel, "graph '", g.name, "' has no value '", kLossName,
                        "' to differentiate (the add-loss pass makes it)");
    ANET_ASSIGN_OR_RETURN(auto grads, build_backward(g, *loss));
    return !grads.empty();
  }
};

} // namespace

Expected<std::map<ValueId, ValueId>> build_backward(Graph &g, ValueId loss) {
  Backward b(g);
  return b.run(loss);
}

std::unique_ptr<Pass> make_autodiff_pass() { return std::make_unique<Autodiff>(); }

} // namespace anet
