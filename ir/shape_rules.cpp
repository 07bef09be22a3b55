// Shape rules: one function per op of ir/ops.def, each beside the list of
// attributes it reads. Attributes are in canonical form (see ops.def): the
// importer has applied ONNX's defaults and resolved negative axes, auto_pad
// and constant operands, so a rule only validates and computes.

#include <algorithm>
#include <numeric>

#include "ir/activation.h"
#include "ir/graph.h"
#include "ir/ops.h"

namespace anet {
namespace {

using Types = std::vector<TensorType>;
using Result = Expected<Types>;

Error bad(const std::string &what) { return make_error(ExitCode::InvalidModel, what); }

Result one(Shape s) {
  if (checked_numel(s) < 0)
    return bad("output shape " + shape_string(s) + " is negative or too large");
  return Types{TensorType{DType::F32, std::move(s)}};
}

// Every attribute `names` must be present with type T.
template <class T> Status need(const Node &n, std::initializer_list<const char *> names) {
  for (const char *name : names)
    if (!n.attrs.get_if<T>(name))
      return bad(std::string("attribute '") + name + "' is missing or has the wrong type");
  return {};
}

Status need_rank(const TensorType &t, int64_t rank, const char *what) {
  if (t.rank() != rank)
    return bad(std::string(what) + " must have rank " + std::to_string(rank) + ", has shape " +
               shape_string(t.shape));
  return {};
}

Status need_len(const Node &n, const char *attr, size_t len) {
  if (n.attrs.ints(attr).size() != len)
    return bad(std::string("attribute '") + attr + "' must have " + std::to_string(len) +
               " values");
  return {};
}

// Numpy-style multidirectional broadcasting.
Expected<Shape> broadcast(const Shape &a, const Shape &b) {
  Shape out(std::max(a.size(), b.size()));
  for (size_t i = 0; i < out.size(); ++i) {
    int64_t da = i < out.size() - a.size() ? 1 : a[i - (out.size() - a.size())];
    int64_t db = i < out.size() - b.size() ? 1 : b[i - (out.size() - b.size())];
    if (da != db && da != 1 && db != 1)
      return bad("shapes " + shape_string(a) + " and " + shape_string(b) +
                 " cannot be broadcast together");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

// Output length of a sliding window (convolution, pooling).
Expected<int64_t> window_out(int64_t in, int64_t k, int64_t stride, int64_t dilation,
                             int64_t pad_begin, int64_t pad_end, bool ceil_mode) {
  if (k < 1 || stride < 1 || dilation < 1)
    return bad("kernel size, stride and dilation must be positive (kernel " + std::to_string(k) +
               ", stride " + std::to_string(stride) + ", dilation " + std::to_string(dilation) +
               ")");
  if (pad_begin < 0 || pad_end < 0)
    return bad("pads must not be negative");
  int64_t span = (k - 1) * dilation + 1;
  int64_t padded = in + pad_begin + pad_end;
  if (span > padded)
    return bad("kernel extent " + std::to_string(span) + " is larger than the padded input " +
               std::to_string(padded));
  int64_t out = (padded - span) / stride + 1;
  if (ceil_mode && (padded - span) % stride != 0) {
    // The extra window must start inside the input or its leading padding.
    if (out * stride < in + pad_begin)
      ++out;
  }
  return out;
}

// The spatial part shared by Conv and the pools: kernel_shape, strides,
// pads (begins then ends), dilations over the dimensions after N and C.
Expected<Shape> windowed(const Node &n, const TensorType &x, bool ceil_mode) {
  ANET_RETURN_IF_ERR(
      need<std::vector<int64_t>>(n, {"kernel_shape", "strides", "pads", "dilations"}));
  if (x.rank() != 4)
    return bad("input must be 4-D NCHW (only 2-D spatial windows are supported), has shape " +
               shape_string(x.shape));
  ANET_RETURN_IF_ERR(need_len(n, "kernel_shape", 2));
  ANET_RETURN_IF_ERR(need_len(n, "strides", 2));
  ANET_RETURN_IF_ERR(need_len(n, "pads", 4));
  ANET_RETURN_IF_ERR(need_len(n, "dilations", 2));
  const auto &k = n.attrs.ints("kernel_shape"), &s = n.attrs.ints("strides"),
             &p = n.attrs.ints("pads"), &d = n.attrs.ints("dilations");
  Shape out = {x.shape[0], x.shape[1], 0, 0};
  for (int i = 0; i < 2; ++i) {
    ANET_ASSIGN_OR_RETURN(out[2 + i],
                          window_out(x.shape[2 + i], k[i], s[i], d[i], p[i], p[2 + i], ceil_mode));
  }
  return out;
}

} // namespace

Status check_fused_activation(const Node &n) {
  const AttrValue *v = n.attrs.find("activation");
  if (!v)
    return {};
  const std::string *name = std::get_if<std::string>(v);
  std::optional<OpKind> op = name ? op_from_name(*name) : std::nullopt;
  if (!op || !is_activation_op(*op))
    return bad("attribute 'activation' must name Relu, Sigmoid, Tanh or Clip");
  if (*op == OpKind::Clip)
    return need<float>(n, {"activation_min", "activation_max"});
  return {};
}

// Conv, Gemm and MatMul may carry a fused epilogue: `activation` (Relu,
// Sigmoid, Tanh or Clip) with `activation_min`/`activation_max` for Clip.

// Conv: kernel_shape[2], strides[2], pads[4], dilations[2], group.
// Inputs X[N,C,H,W], W[M,C/group,kH,kW], optional B[M].
Result shape_Conv(const Node &n, const Types &in) {
  ANET_RETURN_IF_ERR(check_fused_activation(n));
  ANET_RETURN_IF_ERR(need<int64_t>(n, {"group"}));
  const TensorType &x = in[0], &w = in[1];
  ANET_RETURN_IF_ERR(need_rank(w, 4, "weight"));
  int64_t group = n.attrs.i("group");
  if (group < 1)
    return bad("group must be positive, is " + std::to_string(group));
  ANET_ASSIGN_OR_RETURN(Shape out, windowed(n, x, false));
  if (x.shape[1] != w.shape[1] * group)
    return bad("input has " + std::to_string(x.shape[1]) + " channels but weight " +
               shape_string(w.shape) + " with group " + std::to_string(group) + " expects " +
               std::to_string(w.shape[1] * group));
  if (w.shape[0] % group != 0)
    return bad("output channels " + std::to_string(w.shape[0]) + " are not divisible by group " +
               std::to_string(group));
  const auto &k = n.attrs.ints("kernel_shape");
  if (w.shape[2] != k[0] || w.shape[3] != k[1])
    return bad("weight " + shape_string(w.shape) + " disagrees with kernel_shape " +
               shape_string(k));
  if (in.size() == 3 && in[2].shape != Shape{w.shape[0]})
    return bad("bias " + shape_string(in[2].shape) + " must be [" + std::to_string(w.shape[0]) +
               "]");
  out[1] = w.shape[0];
  return one(out);
}

// Gemm: alpha, beta, transA, transB. Y = alpha*op(A)*op(B) + beta*C, with C
// unidirectionally broadcastable to [M,N].
Result shape_Gemm(const Node &n, const Types &in) {
  ANET_RETURN_IF_ERR(check_fused_activation(n));
  ANET_RETURN_IF_ERR(need<float>(n, {"alpha", "beta"}));
  ANET_RETURN_IF_ERR(need<int64_t>(n, {"transA", "transB"}));
  ANET_RETURN_IF_ERR(need_rank(in[0], 2, "A"));
  ANET_RETURN_IF_ERR(need_rank(in[1], 2, "B"));
  bool ta = n.attrs.i("transA"), tb = n.attrs.i("transB");
  int64_t m = in[0].shape[ta ? 1 : 0], k = in[0].shape[ta ? 0 : 1];
  int64_t kb = in[1].shape[tb ? 1 : 0], nn = in[1].shape[tb ? 0 : 1];
  if (k != kb)
    return bad("inner dimensions differ: A " + shape_string(in[0].shape) + " and B " +
               shape_string(in[1].shape) + " (transA=" + std::to_string(ta) +
               ", transB=" + std::to_string(tb) + ")");
  if (in.size() == 3) {
    ANET_ASSIGN_OR_RETURN(Shape c, broadcast(in[2].shape, {m, nn}));
    if (c != Shape{m, nn})
      return bad("C " + shape_string(in[2].shape) + " does not broadcast to [" + std::to_string(m) +
                 "," + std::to_string(nn) + "]");
  }
  return one({m, nn});
}

// MatMul: no attributes; numpy matmul semantics with batch broadcasting.
Result shape_MatMul(const Node &n, const Types &in) {
  ANET_RETURN_IF_ERR(check_fused_activation(n));
  Shape a = in[0].shape, b = in[1].shape;
  if (a.empty() || b.empty())
    return bad("MatMul operands must have rank >= 1");
  bool a_vec = a.size() == 1, b_vec = b.size() == 1;
  if (a_vec)
    a.insert(a.begin(), 1);
  if (b_vec)
    b.push_back(1);
  if (a.back() != b[b.size() - 2])
    return bad("inner dimensions differ: " + shape_string(in[0].shape) + " and " +
               shape_string(in[1].shape));
  ANET_ASSIGN_OR_RETURN(Shape batch,
                        broadcast(Shape(a.begin(), a.end() - 2), Shape(b.begin(), b.end() - 2)));
  Shape out = batch;
  if (!a_vec)
    out.push_back(a[a.size() - 2]);
  if (!b_vec)
    out.push_back(b.back());
  return one(out);
}

static Result same_as_input(const Node &, const Types &in) { return Types{in[0]}; }

// Relu, Sigmoid, Tanh, Identity: no attributes.
Result shape_Relu(const Node &n, const Types &in) { return same_as_input(n, in); }
Result shape_Sigmoid(const Node &n, const Types &in) { return same_as_input(n, in); }
Result shape_Tanh(const Node &n, const Types &in) { return same_as_input(n, in); }
Result shape_Identity(const Node &n, const Types &in) { return same_as_input(n, in); }

// Clip: min, max (floats; -inf/inf when unbounded).
Result shape_Clip(const Node &n, const Types &in) {
  ANET_RETURN_IF_ERR(need<float>(n, {"min", "max"}));
  return same_as_input(n, in);
}

// Dropout: ratio in [0, 1). Inference programs pass values through.
Result shape_Dropout(const Node &n, const Types &in) {
  ANET_RETURN_IF_ERR(need<float>(n, {"ratio"}));
  float r = n.attrs.f("ratio");
  if (!(r >= 0.f && r < 1.f))
    return bad("ratio must be in [0, 1), is " + std::to_string(r));
  return same_as_input(n, in);
}

static Result binary(const Node &, const Types &in) {
  ANET_ASSIGN_OR_RETURN(Shape s, broadcast(in[0].shape, in[1].shape));
  return one(s);
}

// Add, Sub, Mul, Div: no attributes; numpy broadcasting.
Result shape_Add(const Node &n, const Types &in) { return binary(n, in); }
Result shape_Sub(const Node &n, const Types &in) { return binary(n, in); }
Result shape_Mul(const Node &n, const Types &in) { return binary(n, in); }
Result shape_Div(const Node &n, const Types &in) { return binary(n, in); }

// BatchNormalization (inference): epsilon. Inputs X[N,C,...], scale, B,
// mean, var, each [C].
Result shape_BatchNormalization(const Node &n, const Types &in) {
  ANET_RETURN_IF_ERR(need<float>(n, {"epsilon"}));
  if (in[0].rank() < 2)
    return bad("input must have rank >= 2, has shape " + shape_string(in[0].shape));
  int64_t c = in[0].shape[1];
  for (size_t i = 1; i < 5; ++i)
    if (in[i].shape != Shape{c})
      return bad("input " + std::to_string(i) + " has shape " + shape_string(in[i].shape) +
                 ", expected [" + std::to_string(c) + "]");
  return same_as_input(n, in);
}

// LRN: alpha, beta, bias, size (ONNX convention: alpha is divided by size).
Result shape_LRN(const Node &n, const Types &in) {
  ANET_RETURN_IF_ERR(need<float>(n, {"alpha", "beta", "bias"}));
  ANET_RETURN_IF_ERR(need<int64_t>(n, {"size"}));
  if (n.attrs.i("size") < 1)
    return bad("size must be positive");
  if (in[0].rank() < 3)
    return bad("input must have rank >= 3, has shape " + shape_string(in[0].shape));
  return same_as_input(n, in);
}

// MaxPool: kernel_shape[2], strides[2], pads[4], dilations[2], ceil_mode.
Result shape_MaxPool(const Node &n, const Types &in) {
  ANET_RETURN_IF_ERR(need<int64_t>(n, {"ceil_mode"}));
  ANET_ASSIGN_OR_RETURN(Shape s, windowed(n, in[0], n.attrs.i("ceil_mode") != 0));
  return one(s);
}

// AveragePool: as MaxPool plus count_include_pad.
Result shape_AveragePool(const Node &n, const Types &in) {
  ANET_RETURN_IF_ERR(need<int64_t>(n, {"ceil_mode", "count_include_pad"}));
  ANET_ASSIGN_OR_RETURN(Shape s, windowed(n, in[0], n.attrs.i("ceil_mode") != 0));
  return one(s);
}

// GlobalAveragePool: no attributes. [N,C,d...] -> [N,C,1...].
Result shape_GlobalAveragePool(const Node &, const Types &in) {
  if (in[0].rank() < 3)
    return bad("input must have rank >= 3, has shape " + shape_string(in[0].shape));
  Shape s = in[0].shape;
  std::fill(s.begin() + 2, s.end(), 1);
  return one(s);
}

static Result along_axis(const Node &n, const Types &in) {
  ANET_RETURN_IF_ERR(need<int64_t>(n, {"axis"}));
  int64_t axis = n.attrs.i("axis");
  if (axis < 0 || axis >= std::max<int64_t>(in[0].rank(), 1))
    return bad("axis " + std::to_string(axis) + " is out of range for shape " +
               shape_string(in[0].shape));
  return Types{in[0]};
}

// Softmax, LogSoftmax: axis (one axis, non-negative).
Result shape_Softmax(const Node &n, const Types &in) { return along_axis(n, in); }
Result shape_LogSoftmax(const Node &n, const Types &in) { return along_axis(n, in); }

// Flatten: axis in [0, rank]. -> [prod(dims before axis), prod(rest)].
Result shape_Flatten(const Node &n, const Types &in) {
  ANET_RETURN_IF_ERR(need<int64_t>(n, {"axis"}));
  int64_t axis = n.attrs.i("axis");
  const Shape &s = in[0].shape;
  if (axis < 0 || axis > in[0].rank())
    return bad("axis " + std::to_string(axis) + " is out of range for shape " + shape_string(s));
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < in[0].rank(); ++i)
    (i < axis ? outer : inner) *= s[static_cast<size_t>(i)];
  return one({outer, inner});
}

// Reshape: shape (the resolved target, every dimension >= 0).
Result shape_Reshape(const Node &n, const Types &in) {
  ANET_RETURN_IF_ERR(need<std::vector<int64_t>>(n, {"shape"}));
  const Shape &target = n.attrs.ints("shape");
  int64_t count = checked_numel(target);
  if (count < 0)
    return bad("target shape " + shape_string(target) + " is negative or too large");
  if (count != in[0].numel())
    return bad("cannot reshape " + shape_string(in[0].shape) + " (" +
               std::to_string(in[0].numel()) + " elements) to " + shape_string(target));
  return one(target);
}

// Squeeze: axes (sorted, non-negative, each of size 1).
Result shape_Squeeze(const Node &n, const Types &in) {
  ANET_RETURN_IF_ERR(need<std::vector<int64_t>>(n, {"axes"}));
  const auto &axes = n.attrs.ints("axes");
  Shape out;
  for (int64_t i = 0; i < in[0].rank(); ++i) {
    if (std::find(axes.begin(), axes.end(), i) == axes.end()) {
      out.push_back(in[0].shape[static_cast<size_t>(i)]);
      continue;
    }
    if (in[0].shape[static_cast<size_t>(i)] != 1)
      return bad("cannot squeeze axis " + std::to_string(i) + " of shape " +
                 shape_string(in[0].shape) + ": its size is not 1");
  }
  for (int64_t a : axes)
    if (a < 0 || a >= in[0].rank())
      return bad("axis " + std::to_string(a) + " is out of range");
  return one(out);
}

// Unsqueeze: axes (sorted, non-negative positions in the output).
Result shape_Unsqueeze(const Node &n, const Types &in) {
  ANET_RETURN_IF_ERR(need<std::vector<int64_t>>(n, {"axes"}));
  const auto &axes = n.attrs.ints("axes");
  int64_t rank = in[0].rank() + static_cast<int64_t>(axes.size());
  Shape out;
  size_t next = 0;
  for (int64_t i = 0; i < rank; ++i) {
    if (std::find(axes.begin(), axes.end(), i) != axes.end())
      out.push_back(1);
    else if (next < in[0].shape.size())
      out.push_back(in[0].shape[next++]);
  }
  if (static_cast<int64_t>(out.size()) != rank || next != in[0].shape.size())
    return bad("axes " + shape_string(axes) + " are out of range or repeated");
  return one(out);
}

// Transpose: perm (a permutation of 0..rank-1).
Result shape_Transpose(const Node &n, const Types &in) {
  ANET_RETURN_IF_ERR(need<std::vector<int64_t>>(n, {"perm"}));
  const auto &perm = n.attrs.ints("perm");
  std::vector<int64_t> sorted = perm;
  std::sort(sorted.begin(), sorted.end());
  std::vector<int64_t> iota(static_cast<size_t>(in[0].rank()));
  std::iota(iota.begin(), iota.end(), 0);
  if (sorted != iota)
    return bad("perm " + shape_string(perm) + " is not a permutation of the input's " +
               std::to_string(in[0].rank()) + " axes");
  Shape out;
  for (int64_t p : perm)
    out.push_back(in[0].shape[static_cast<size_t>(p)]);
  return one(out);
}

// Concat: axis (non-negative). All inputs agree except along axis.
Result shape_Concat(const Node &n, const Types &in) {
  ANET_RETURN_IF_ERR(need<int64_t>(n, {"axis"}));
  int64_t axis = n.attrs.i("axis");
  Shape out = in[0].shape;
  if (axis < 0 || axis >= in[0].rank())
    return bad("axis " + std::to_string(axis) + " is out of range for shape " + shape_string(out));
  auto ax = static_cast<size_t>(axis);
  for (size_t i = 1; i < in.size(); ++i) {
    const Shape &s = in[i].shape;
    bool same = s.size() == out.size();
    for (size_t d = 0; same && d < s.size(); ++d)
      same = d == ax || s[d] == out[d];
    if (!same)
      return bad("input " + std::to_string(i) + " " + shape_string(s) + " does not match input 0 " +
                 shape_string(in[0].shape) + " outside axis " + std::to_string(axis));
    out[ax] += s[ax];
  }
  return one(out);
}

// Split: axis (non-negative), split (the size of each output; they sum to
// the input's size along axis).
Result shape_Split(const Node &n, const Types &in) {
  ANET_RETURN_IF_ERR(need<int64_t>(n, {"axis"}));
  ANET_RETURN_IF_ERR(need<std::vector<int64_t>>(n, {"split"}));
  int64_t axis = n.attrs.i("axis");
  const auto &split = n.attrs.ints("split");
  if (axis < 0 || axis >= in[0].rank())
    return bad("axis " + std::to_string(axis) + " is out of range for shape " +
               shape_string(in[0].shape));
  if (split.size() != n.outputs.size())
    return bad("split has " + std::to_string(split.size()) + " sizes for " +
               std::to_string(n.outputs.size()) + " outputs");
  int64_t total = 0;
  Types out;
  for (int64_t s : split) {
    if (s < 0)
      return bad("split sizes must not be negative");
    total += s;
    Shape shape = in[0].shape;
    shape[static_cast<size_t>(axis)] = s;
    out.push_back(TensorType{DType::F32, shape});
  }
  if (total != in[0].shape[static_cast<size_t>(axis)])
    return bad("split sizes " + shape_string(split) + " do not add up to " +
               std::to_string(in[0].shape[static_cast<size_t>(axis)]));
  return out;
}

// Slice: starts, ends, steps, each with one entry per input dimension,
// already clamped as ONNX specifies (for step > 0: 0 <= start, end <= dim;
// for step < 0: -1 <= start, end <= dim - 1).
Result shape_Slice(const Node &n, const Types &in) {
  ANET_RETURN_IF_ERR(need<std::vector<int64_t>>(n, {"starts", "ends", "steps"}));
  size_t rank = in[0].shape.size();
  for (const char *a : {"starts", "ends", "steps"})
    ANET_RETURN_IF_ERR(need_len(n, a, rank));
  const auto &st = n.attrs.ints("starts"), &en = n.attrs.ints("ends"), &sp = n.attrs.ints("steps");
  Shape out(rank);
  for (size_t d = 0; d < rank; ++d) {
    int64_t dim = in[0].shape[d];
    if (sp[d] == 0)
      return bad("step must not be 0 (axis " + std::to_string(d) + ")");
    bool in_range = sp[d] > 0 ? (st[d] >= 0 && st[d] <= dim && en[d] >= 0 && en[d] <= dim)
                              : (st[d] >= -1 && st[d] < dim && en[d] >= -1 && en[d] < dim);
    if (!in_range)
      return bad("start/end of axis " + std::to_string(d) + " are not clamped to the input");
    int64_t len =
        sp[d] > 0 ? (en[d] - st[d] + sp[d] - 1) / sp[d] : (st[d] - en[d] - sp[d] - 1) / -sp[d];
    out[d] = std::max<int64_t>(0, len);
  }
  return one(out);
}

// Pad: pads (begins for every axis, then ends; negative crops), mode
// ("constant", "reflect" or "edge"), value.
Result shape_Pad(const Node &n, const Types &in) {
  ANET_RETURN_IF_ERR(need<std::vector<int64_t>>(n, {"pads"}));
  ANET_RETURN_IF_ERR(need<std::string>(n, {"mode"}));
  ANET_RETURN_IF_ERR(need<float>(n, {"value"}));
  size_t rank = in[0].shape.size();
  ANET_RETURN_IF_ERR(need_len(n, "pads", 2 * rank));
  const std::string &mode = n.attrs.s("mode");
  if (mode != "constant" && mode != "reflect" && mode != "edge")
    return bad("mode '" + mode + "' is not one of constant, reflect, edge");
  const auto &p = n.attrs.ints("pads");
  Shape out(rank);
  for (size_t d = 0; d < rank; ++d) {
    int64_t dim = in[0].shape[d];
    out[d] = dim + p[d] + p[d + rank];
    if (out[d] < 0)
      return bad("pads crop axis " + std::to_string(d) + " below zero");
    if (mode == "reflect" && (p[d] >= dim || p[d + rank] >= dim) && (p[d] > 0 || p[d + rank] > 0))
      return bad("reflect padding of axis " + std::to_string(d) +
                 " must be smaller than its size " + std::to_string(dim));
    if (mode == "edge" && dim == 0 && (p[d] > 0 || p[d + rank] > 0))
      return bad("edge padding of an empty axis");
  }
  return one(out);
}

// Transfer: no attributes other than optional `kind` (copy, gather, halo,
// scatter: for reports). Copies its input, which lives on another logical
// device, to the node's device.
Result shape_Transfer(const Node &n, const Types &in) { return same_as_input(n, in); }

// --- Training ops -----------------------------------------------------------

static Status same_shapes(const Types &in, std::initializer_list<size_t> which, const char *what) {
  for (size_t i : which)
    if (in[i].shape != in[*which.begin()].shape)
      return bad(std::string(what) + ": input " + std::to_string(i) + " has shape " +
                 shape_string(in[i].shape) + ", expected " +
                 shape_string(in[*which.begin()].shape));
  return {};
}

static Status need_scalar(const TensorType &t, const char *what) {
  if (t.rank() != 0)
    return bad(std::string(what) + " must be a scalar, has shape " + shape_string(t.shape));
  return {};
}

// SoftmaxCrossEntropy: no attributes. Inputs logits[N,K] and labels[N]
// (class indices stored as floats). Output: the mean over the batch of
// -log(softmax(logits)[label]), a scalar.
Result shape_SoftmaxCrossEntropy(const Node &, const Types &in) {
  ANET_RETURN_IF_ERR(need_rank(in[0], 2, "logits"));
  if (in[1].shape != Shape{in[0].shape[0]})
    return bad("labels " + shape_string(in[1].shape) + " must be [" +
               std::to_string(in[0].shape[0]) + "] for logits " + shape_string(in[0].shape));
  return one({});
}

// DropoutMask: shape (the mask's shape), ratio in [0, 1), seed. Input: the
// training step, a scalar. Each element is 0 with probability `ratio`, else
// 1/(1-ratio); ir/random.h defines the draw, a function of (seed, step,
// element index), so every backend and every partition draws the same mask.
Result shape_DropoutMask(const Node &n, const Types &in) {
  ANET_RETURN_IF_ERR(need<std::vector<int64_t>>(n, {"shape"}));
  ANET_RETURN_IF_ERR(need<float>(n, {"ratio"}));
  ANET_RETURN_IF_ERR(need<int64_t>(n, {"seed"}));
  ANET_RETURN_IF_ERR(need_scalar(in[0], "step"));
  float r = n.attrs.f("ratio");
  if (!(r >= 0.f && r < 1.f))
    return bad("ratio must be in [0, 1), is " + std::to_string(r));
  return one(n.attrs.ints("shape"));
}

// BatchNormTrain: epsilon, momentum. Inputs X[N,C,...], scale, B, mean, var,
// each [C]. Normalises with the batch's statistics (population variance).
// Outputs Y, the updated running mean and variance (running * momentum +
// batch * (1 - momentum), as ONNX's training mode), and the batch mean and
// 1/sqrt(var + epsilon) saved for the gradient.
Result shape_BatchNormTrain(const Node &n, const Types &in) {
  ANET_RETURN_IF_ERR(need<float>(n, {"momentum"}));
  ANET_ASSIGN_OR_RETURN(Types y, shape_BatchNormalization(n, in));
  if (in[0].numel() / std::max<int64_t>(in[0].shape[1], 1) < 2)
    return bad("training-mode batch normalisation needs at least 2 values per channel, input is " +
               shape_string(in[0].shape));
  TensorType c = in[1];
  return Types{y[0], c, c, c, c};
}

// ReduceSum: axes (sorted, distinct, non-negative), keepdims (0 or 1).
Result shape_ReduceSum(const Node &n, const Types &in) {
  ANET_RETURN_IF_ERR(need<std::vector<int64_t>>(n, {"axes"}));
  ANET_RETURN_IF_ERR(need<int64_t>(n, {"keepdims"}));
  const auto &axes = n.attrs.ints("axes");
  for (size_t i = 0; i < axes.size(); ++i)
    if (axes[i] < 0 || axes[i] >= in[0].rank() || (i > 0 && axes[i] <= axes[i - 1]))
      return bad("axes " + shape_string(axes) + " must be sorted, distinct and within rank " +
                 std::to_string(in[0].rank()));
  Shape out;
  for (int64_t d = 0; d < in[0].rank(); ++d) {
    bool reduced = std::find(axes.begin(), axes.end(), d) != axes.end();
    if (!reduced)
      out.push_back(in[0].shape[static_cast<size_t>(d)]);
    else if (n.attrs.i("keepdims"))
      out.push_back(1);
  }
  return one(out);
}

// ActivationGrad: activation (Relu, Sigmoid, Tanh or Clip, with
// activation_min/activation_max for Clip). Inputs dY and the activation's
// output Y; dX = dY * f'(x), written in terms of Y.
Result shape_ActivationGrad(const Node &n, const Types &in) {
  if (!n.attrs.has("activation"))
    return bad("attribute 'activation' is missing");
  ANET_RETURN_IF_ERR(check_fused_activation(n));
  ANET_RETURN_IF_ERR(same_shapes(in, {0, 1}, "dY and Y differ"));
  return Types{in[0]};
}

// The convolution a Conv gradient belongs to, checked: X and W give dY.
static Status check_conv(const Node &n, const TensorType &x, const TensorType &w,
                         const TensorType &dy) {
  Node conv;
  conv.op = OpKind::Conv;
  conv.attrs = n.attrs;
  conv.attrs.erase("input_shape");
  conv.outputs = {0};
  ANET_ASSIGN_OR_RETURN(Types y, shape_Conv(conv, {x, w}));
  if (y[0].shape != dy.shape)
    return bad("dY " + shape_string(dy.shape) + " is not the shape " + shape_string(y[0].shape) +
               " of the convolution's output");
  return {};
}

// ConvGradInput: Conv's attributes plus input_shape (X's shape). Inputs dY
// and W; output dX.
Result shape_ConvGradInput(const Node &n, const Types &in) {
  ANET_RETURN_IF_ERR(need<std::vector<int64_t>>(n, {"input_shape"}));
  TensorType x{DType::F32, n.attrs.ints("input_shape")};
  if (x.rank() != 4 || checked_numel(x.shape) < 0)
    return bad("input_shape " + shape_string(x.shape) + " must be a valid 4-D shape");
  ANET_RETURN_IF_ERR(need_rank(in[1], 4, "weight"));
  ANET_RETURN_IF_ERR(check_conv(n, x, in[1], in[0]));
  return Types{x};
}

// ConvGradWeight: Conv's attributes. Inputs X and dY; output dW
// [M, C/group, kH, kW] with M dY's channels.
Result shape_ConvGradWeight(const Node &n, const Types &in) {
  ANET_RETURN_IF_ERR(need<int64_t>(n, {"group"}));
  ANET_RETURN_IF_ERR(need<std::vector<int64_t>>(n, {"kernel_shape"}));
  ANET_RETURN_IF_ERR(need_rank(in[0], 4, "X"));
  ANET_RETURN_IF_ERR(need_rank(in[1], 4, "dY"));
  ANET_RETURN_IF_ERR(need_len(n, "kernel_shape", 2));
  int64_t group = n.attrs.i("group");
  if (group < 1 || in[0].shape[1] % group != 0)
    return bad("group " + std::to_string(group) + " does not divide the input's " +
               std::to_string(in[0].shape[1]) + " channels");
  const auto &k = n.attrs.ints("kernel_shape");
  TensorType w{DType::F32, {in[1].shape[1], in[0].shape[1] / group, k[0], k[1]}};
  ANET_RETURN_IF_ERR(check_conv(n, in[0], w, in[1]));
  return Types{w};
}

// LRNGrad: LRN's attributes. Inputs X, Y (the LRN's output) and dY.
Result shape_LRNGrad(const Node &n, const Types &in) {
  ANET_RETURN_IF_ERR(shape_LRN(n, {in[0]}));
  ANET_RETURN_IF_ERR(same_shapes(in, {0, 1, 2}, "X, Y and dY differ"));
  return Types{in[0]};
}

// MaxPoolGrad: MaxPool's attributes. Inputs X and dY; each window's
// gradient goes to its first maximal element (the forward's argmax).
Result shape_MaxPoolGrad(const Node &n, const Types &in) {
  ANET_ASSIGN_OR_RETURN(Types y, shape_MaxPool(n, {in[0]}));
  if (y[0].shape != in[1].shape)
    return bad("dY " + shape_string(in[1].shape) + " is not the pool's output shape " +
               shape_string(y[0].shape));
  return Types{in[0]};
}

// AveragePoolGrad: AveragePool's attributes plus input_shape. Input dY.
Result shape_AveragePoolGrad(const Node &n, const Types &in) {
  ANET_RETURN_IF_ERR(need<std::vector<int64_t>>(n, {"input_shape"}));
  TensorType x{DType::F32, n.attrs.ints("input_shape")};
  if (checked_numel(x.shape) < 0)
    return bad("input_shape " + shape_string(x.shape) + " is negative or too large");
  ANET_ASSIGN_OR_RETURN(Types y, shape_AveragePool(n, {x}));
  if (y[0].shape != in[0].shape)
    return bad("dY " + shape_string(in[0].shape) + " is not the pool's output shape " +
               shape_string(y[0].shape));
  return Types{x};
}

// SoftmaxGrad, LogSoftmaxGrad: axis. Inputs Y (the forward output) and dY.
Result shape_SoftmaxGrad(const Node &n, const Types &in) {
  ANET_RETURN_IF_ERR(same_shapes(in, {0, 1}, "Y and dY differ"));
  return along_axis(n, in);
}
Result shape_LogSoftmaxGrad(const Node &n, const Types &in) { return shape_SoftmaxGrad(n, in); }

// SoftmaxCrossEntropyGrad: no attributes. Inputs logits, labels and the
// loss's gradient (a scalar); output dlogits = (softmax - onehot) * dL / N.
Result shape_SoftmaxCrossEntropyGrad(const Node &n, const Types &in) {
  ANET_RETURN_IF_ERR(shape_SoftmaxCrossEntropy(n, {in[0], in[1]}));
  ANET_RETURN_IF_ERR(need_scalar(in[2], "dloss"));
  return Types{in[0]};
}

// BatchNormGrad: epsilon. Inputs X, scale, saved mean, saved 1/std (from
// BatchNormTrain) and dY; outputs dX, dscale, dB.
Result shape_BatchNormGrad(const Node &n, const Types &in) {
  ANET_RETURN_IF_ERR(need<float>(n, {"epsilon"}));
  if (in[0].rank() < 2)
    return bad("input must have rank >= 2, has shape " + shape_string(in[0].shape));
  for (size_t i = 1; i < 4; ++i)
    if (in[i].shape != Shape{in[0].shape[1]})
      return bad("input " + std::to_string(i) + " has shape " + shape_string(in[i].shape) +
                 ", expected [" + std::to_string(in[0].shape[1]) + "]");
  ANET_RETURN_IF_ERR(same_shapes(in, {0, 4}, "X and dY differ"));
  return Types{in[0], in[1], in[1]};
}

// SgdUpdate: momentum, weight_decay. Inputs W, V (momentum), G and the
// learning rate (a scalar); the paper's rule:
//   V' = momentum * V - weight_decay * lr * W - lr * G;   W' = W + V'.
// Outputs W' and V', which replace W and V (Graph::updates).
Result shape_SgdUpdate(const Node &n, const Types &in) {
  ANET_RETURN_IF_ERR(need<float>(n, {"momentum", "weight_decay"}));
  ANET_RETURN_IF_ERR(same_shapes(in, {0, 1, 2}, "W, V and G differ"));
  ANET_RETURN_IF_ERR(need_scalar(in[3], "lr"));
  return Types{in[0], in[0]};
}

} // namespace anet
