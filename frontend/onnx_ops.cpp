// One lowering function per supported ONNX op, and the table that names
// them. Each function turns an ONNX node of any supported opset (7 to 21)
// into IR nodes with the canonical, complete attributes that
// ir/shape_rules.cpp documents: ONNX's defaults applied, negative axes
// resolved, auto_pad turned into explicit pads, and constant operands
// (shapes, starts and ends, pads, bounds, axes, sizes, ratios) folded into
// attributes. Version differences are handled here, next to the op they
// concern; validation of shapes is left to the op table's shape rules.

#include <algorithm>
#include <limits>

#include "frontend/onnx_lowering.h"
#include "frontend/onnx_tensor.h"

namespace anet::frontend {
namespace {

using Ints = std::vector<int64_t>;

constexpr float kInf = std::numeric_limits<float>::infinity();
// Bound for window and padding attributes: far beyond any real model and far
// from int64 overflow in the shape arithmetic that uses them.
constexpr int64_t kMaxWindowAttr = int64_t{1} << 31;

// `axis` in [-rank, rank) resolved to [0, rank).
Expected<int64_t> resolve_axis(NodeLowering &n, int64_t axis, int64_t rank, const char *what) {
  if (axis < -rank || axis >= rank)
    return n.fail(what, " ", axis, " is out of range for rank ", rank);
  return axis < 0 ? axis + rank : axis;
}

// Resolves, checks for repeats and sorts a list of axes.
Expected<Ints> resolve_axes(NodeLowering &n, const Ints &axes, int64_t rank) {
  Ints out;
  for (int64_t a : axes) {
    ANET_ASSIGN_OR_RETURN(int64_t r, resolve_axis(n, a, rank, "axis"));
    if (std::find(out.begin(), out.end(), r) != out.end())
      return n.fail("axis ", a, " is repeated in ", shape_string(axes));
    out.push_back(r);
  }
  std::sort(out.begin(), out.end());
  return out;
}

Status check_magnitude(NodeLowering &n, const char *attr, const Ints &values, int64_t limit) {
  for (int64_t v : values)
    if (v > limit || v < -limit)
      return n.fail("attribute '", attr, "' value ", v, " is out of range");
  return {};
}

// Reads a 2-D window (kernel_shape, strides, pads, dilations, auto_pad) for
// Conv and the pools, resolving auto_pad into explicit pads. Returns the
// canonical attributes; `ceil_mode` is cleared when auto_pad fixes the output
// size by itself.
Expected<Attrs> lower_window(NodeLowering &n, ValueId x, std::optional<Ints> default_kernel,
                             int64_t *ceil_mode) {
  const TensorType &xt = n.type(x);
  if (xt.rank() != 4)
    return n.fail("only 2-D windows over 4-D NCHW inputs are supported; input '", n.input_name(0),
                  "' has shape ", shape_string(xt.shape), " (unsupported)");
  ANET_ASSIGN_OR_RETURN(auto kernel, n.attr_ints("kernel_shape"));
  if (!kernel)
    kernel = default_kernel;
  if (!kernel)
    return n.fail("attribute 'kernel_shape' is required");
  ANET_ASSIGN_OR_RETURN(auto strides, n.attr_ints("strides"));
  ANET_ASSIGN_OR_RETURN(auto dilations, n.attr_ints("dilations"));
  ANET_ASSIGN_OR_RETURN(auto pads, n.attr_ints("pads"));
  ANET_ASSIGN_OR_RETURN(std::string auto_pad, n.attr_string("auto_pad", "NOTSET"));
  Ints k = *kernel, s = strides.value_or(Ints{1, 1}), d = dilations.value_or(Ints{1, 1});
  Ints p = pads.value_or(Ints{0, 0, 0, 0});
  if (k.size() != 2 || s.size() != 2 || d.size() != 2 || p.size() != 4)
    return n.fail("kernel_shape, strides and dilations need 2 values and pads 4 for a 2-D "
                  "window; have ",
                  k.size(), ", ", s.size(), ", ", d.size(), " and ", p.size());
  ANET_RETURN_IF_ERR(check_magnitude(n, "kernel_shape", k, kMaxWindowAttr));
  ANET_RETURN_IF_ERR(check_magnitude(n, "strides", s, kMaxWindowAttr));
  ANET_RETURN_IF_ERR(check_magnitude(n, "dilations", d, kMaxWindowAttr));
  ANET_RETURN_IF_ERR(check_magnitude(n, "pads", p, kMaxWindowAttr));

  if (auto_pad != "NOTSET") {
    bool upper = auto_pad == "SAME_UPPER", lower = auto_pad == "SAME_LOWER";
    if (!upper && !lower && auto_pad != "VALID")
      return n.fail("auto_pad '", auto_pad,
                    "' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID");
    if (std::any_of(p.begin(), p.end(), [](int64_t v) { return v != 0; }))
      return n.fail("explicit pads ", shape_string(p), " cannot be combined with auto_pad '",
                    auto_pad, "'");
    *ceil_mode = 0;
    for (size_t i = 0; i < 2 && (upper || lower); ++i) {
      // With a non-positive size the shape rule reports the error.
      if (k[i] < 1 || s[i] < 1 || d[i] < 1)
        continue;
      int64_t in = xt.shape[2 + i];
      int64_t out = (in + s[i] - 1) / s[i];
      int64_t total = std::max<int64_t>(0, (out - 1) * s[i] + (k[i] - 1) * d[i] + 1 - in);
      p[i] = upper ? total / 2 : total - total / 2;
      p[2 + i] = total - p[i];
    }
  }
  Attrs a;
  a.set("kernel_shape", k);
  a.set("strides", s);
  a.set("pads", p);
  a.set("dilations", d);
  return a;
}

Status lower_unary(NodeLowering &n, OpKind op) {
  ANET_ASSIGN_OR_RETURN(ValueId x, n.input(0));
  return n.emit_node(op, {x}, {});
}

Status lower_Relu(NodeLowering &n) { return lower_unary(n, OpKind::Relu); }
Status lower_Sigmoid(NodeLowering &n) { return lower_unary(n, OpKind::Sigmoid); }
Status lower_Tanh(NodeLowering &n) { return lower_unary(n, OpKind::Tanh); }
Status lower_Identity(NodeLowering &n) { return lower_unary(n, OpKind::Identity); }
Status lower_MatMul(NodeLowering &n) {
  ANET_ASSIGN_OR_RETURN(ValueId a, n.input(0));
  ANET_ASSIGN_OR_RETURN(ValueId b, n.input(1));
  return n.emit_node(OpKind::MatMul, {a, b}, {});
}
Status lower_GlobalAveragePool(NodeLowering &n) {
  return lower_unary(n, OpKind::GlobalAveragePool);
}

// Add, Sub, Mul, Div: numpy broadcasting from opset 7 on. The `broadcast`
// and `axis` attributes of opsets 1 to 6 are refused by name.
Status lower_binary(NodeLowering &n, OpKind op) {
  for (const char *legacy : {"broadcast", "axis"})
    if (n.has_attr(legacy))
      return n.fail("attribute '", legacy,
                    "' (legacy broadcasting of opsets before 7) is not supported; re-export the "
                    "model with opset 7 or newer");
  ANET_ASSIGN_OR_RETURN(ValueId a, n.input(0));
  ANET_ASSIGN_OR_RETURN(ValueId b, n.input(1));
  return n.emit_node(op, {a, b}, {});
}

Status lower_Add(NodeLowering &n) { return lower_binary(n, OpKind::Add); }
Status lower_Sub(NodeLowering &n) { return lower_binary(n, OpKind::Sub); }
Status lower_Mul(NodeLowering &n) { return lower_binary(n, OpKind::Mul); }
Status lower_Div(NodeLowering &n) { return lower_binary(n, OpKind::Div); }

// Conv: 2-D only; kernel_shape defaults to the weight's spatial size.
Status lower_Conv(NodeLowering &n) {
  ANET_ASSIGN_OR_RETURN(ValueId x, n.input(0));
  ANET_ASSIGN_OR_RETURN(ValueId w, n.input(1));
  std::vector<ValueId> ins = {x, w};
  if (n.has_input(2)) {
    ANET_ASSIGN_OR_RETURN(ValueId b, n.input(2));
    ins.push_back(b);
  }
  const TensorType &wt = n.type(w);
  std::optional<Ints> kernel;
  if (wt.rank() == 4)
    kernel = Ints{wt.shape[2], wt.shape[3]};
  int64_t ceil_mode = 0;
  ANET_ASSIGN_OR_RETURN(Attrs a, lower_window(n, x, kernel, &ceil_mode));
  ANET_ASSIGN_OR_RETURN(int64_t group, n.attr_int("group", 1));
  if (wt.rank() == 4 && wt.shape[1] > 0 &&
      group > std::numeric_limits<int64_t>::max() / wt.shape[1])
    return n.fail("group ", group, " is out of range");
  a.set("group", group);
  return n.emit_node(OpKind::Conv, std::move(ins), std::move(a));
}

// MaxPool: the Indices output (opset 8+) is not supported; storage_order
// only affects Indices, so it is ignored when there are none.
Status lower_MaxPool(NodeLowering &n) {
  if (n.has_output(1))
    return n.fail("the Indices output '", n.output_name(1), "' is not supported");
  n.ignore_attr("storage_order");
  ANET_ASSIGN_OR_RETURN(ValueId x, n.input(0));
  ANET_ASSIGN_OR_RETURN(int64_t ceil_mode, n.attr_int("ceil_mode", 0));
  ANET_ASSIGN_OR_RETURN(Attrs a, lower_window(n, x, std::nullopt, &ceil_mode));
  a.set("ceil_mode", int64_t{ceil_mode != 0});
  return n.emit_node(OpKind::MaxPool, {x}, std::move(a));
}

// AveragePool: count_include_pad (opset 7+), ceil_mode (10+), dilations (19+).
Status lower_AveragePool(NodeLowering &n) {
  ANET_ASSIGN_OR_RETURN(ValueId x, n.input(0));
  ANET_ASSIGN_OR_RETURN(int64_t ceil_mode, n.attr_int("ceil_mode", 0));
  ANET_ASSIGN_OR_RETURN(int64_t include_pad, n.attr_int("count_include_pad", 0));
  ANET_ASSIGN_OR_RETURN(Attrs a, lower_window(n, x, std::nullopt, &ceil_mode));
  a.set("ceil_mode", int64_t{ceil_mode != 0});
  a.set("count_include_pad", int64_t{include_pad != 0});
  return n.emit_node(OpKind::AveragePool, {x}, std::move(a));
}

Status lower_LRN(NodeLowering &n) {
  ANET_ASSIGN_OR_RETURN(ValueId x, n.input(0));
  ANET_ASSIGN_OR_RETURN(auto size, n.attr_int_opt("size"));
  if (!size)
    return n.fail("attribute 'size' is required");
  Attrs a;
  ANET_ASSIGN_OR_RETURN(float alpha, n.attr_float("alpha", 1e-4f));
  ANET_ASSIGN_OR_RETURN(float beta, n.attr_float("beta", 0.75f));
  ANET_ASSIGN_OR_RETURN(float bias, n.attr_float("bias", 1.0f));
  a.set("alpha", alpha);
  a.set("beta", beta);
  a.set("bias", bias);
  a.set("size", *size);
  return n.emit_node(OpKind::LRN, {x}, std::move(a));
}

// Gemm: C is optional from opset 11 on.
Status lower_Gemm(NodeLowering &n) {
  ANET_ASSIGN_OR_RETURN(ValueId a, n.input(0));
  ANET_ASSIGN_OR_RETURN(ValueId b, n.input(1));
  std::vector<ValueId> ins = {a, b};
  if (n.has_input(2)) {
    ANET_ASSIGN_OR_RETURN(ValueId c, n.input(2));
    ins.push_back(c);
  }
  Attrs attrs;
  ANET_ASSIGN_OR_RETURN(float alpha, n.attr_float("alpha", 1.0f));
  ANET_ASSIGN_OR_RETURN(float beta, n.attr_float("beta", 1.0f));
  ANET_ASSIGN_OR_RETURN(int64_t trans_a, n.attr_int("transA", 0));
  ANET_ASSIGN_OR_RETURN(int64_t trans_b, n.attr_int("transB", 0));
  attrs.set("alpha", alpha);
  attrs.set("beta", beta);
  attrs.set("transA", int64_t{trans_a != 0});
  attrs.set("transB", int64_t{trans_b != 0});
  return n.emit_node(OpKind::Gemm, std::move(ins), std::move(attrs));
}

// Flatten: axis in [-rank, rank] (negative from opset 11).
Status lower_Flatten(NodeLowering &n) {
  ANET_ASSIGN_OR_RETURN(ValueId x, n.input(0));
  int64_t rank = n.type(x).rank();
  ANET_ASSIGN_OR_RETURN(int64_t axis, n.attr_int("axis", 1));
  if (axis < -rank || axis > rank)
    return n.fail("axis ", axis, " is out of range for rank ", rank);
  if (axis < 0)
    axis += rank;
  const Shape &shape = n.type(x).shape;
  if (checked_numel(Shape(shape.begin(), shape.begin() + axis)) < 0 ||
      checked_numel(Shape(shape.begin() + axis, shape.end())) < 0)
    return n.fail("input shape ", shape_string(shape), " is too large to flatten");
  Attrs a;
  a.set("axis", axis);
  return n.emit_node(OpKind::Flatten, {x}, std::move(a));
}

// Reshape: the constant target shape, where 0 copies the input's dimension
// (unless allowzero, opset 14+) and one -1 is inferred.
Status lower_Reshape(NodeLowering &n) {
  ANET_ASSIGN_OR_RETURN(ValueId x, n.input(0));
  ANET_ASSIGN_OR_RETURN(Ints target, n.constant_ints(1));
  ANET_ASSIGN_OR_RETURN(int64_t allowzero, n.attr_int("allowzero", 0));
  const Shape &in = n.type(x).shape;
  if (static_cast<int64_t>(target.size()) > kMaxRank)
    return n.fail("shape has ", target.size(), " dimensions; at most ", kMaxRank, " are supported");
  Shape out(target.size());
  std::optional<size_t> inferred;
  for (size_t i = 0; i < target.size(); ++i) {
    int64_t v = target[i];
    if (v == -1) {
      if (inferred)
        return n.fail("shape ", shape_string(target), " has more than one -1");
      inferred = i;
      out[i] = 1;
    } else if (v == 0 && !allowzero) {
      if (i >= in.size())
        return n.fail("shape ", shape_string(target), " copies dimension ", i,
                      " (a 0), but the input ", shape_string(in), " has no such dimension");
      out[i] = in[i];
    } else if (v < 0) {
      return n.fail("shape ", shape_string(target), " has the invalid dimension ", v);
    } else {
      out[i] = v;
    }
  }
  if (inferred) {
    if (allowzero && std::count(target.begin(), target.end(), 0) > 0)
      return n.fail("shape ", shape_string(target), " has both 0 and -1 with allowzero=1");
    int64_t known = checked_numel(out);
    int64_t total = n.type(x).numel();
    if (known < 0)
      return n.fail("shape ", shape_string(target), " is too large");
    if (known == 0 || total % known != 0)
      return n.fail("cannot reshape ", shape_string(in), " to ", shape_string(target),
                    ": the -1 cannot be inferred");
    out[*inferred] = total / known;
  }
  Attrs a;
  a.set("shape", out);
  return n.emit_node(OpKind::Reshape, {x}, std::move(a));
}

// Transpose: perm defaults to the reversed axes.
Status lower_Transpose(NodeLowering &n) {
  ANET_ASSIGN_OR_RETURN(ValueId x, n.input(0));
  ANET_ASSIGN_OR_RETURN(auto perm, n.attr_ints("perm"));
  if (!perm) {
    perm.emplace();
    for (int64_t i = n.type(x).rank() - 1; i >= 0; --i)
      perm->push_back(i);
  }
  Attrs a;
  a.set("perm", *perm);
  return n.emit_node(OpKind::Transpose, {x}, std::move(a));
}

Status lower_Concat(NodeLowering &n) {
  std::vector<ValueId> ins;
  for (int i = 0; i < n.num_inputs(); ++i) {
    ANET_ASSIGN_OR_RETURN(ValueId v, n.input(i));
    ins.push_back(v);
  }
  if (ins.empty())
    return n.fail("has no inputs");
  ANET_ASSIGN_OR_RETURN(auto axis, n.attr_int_opt("axis"));
  if (!axis)
    return n.fail("attribute 'axis' is required");
  ANET_ASSIGN_OR_RETURN(int64_t resolved, resolve_axis(n, *axis, n.type(ins[0]).rank(), "axis"));
  Attrs a;
  a.set("axis", resolved);
  return n.emit_node(OpKind::Concat, std::move(ins), std::move(a));
}

// Split: sizes from the `split` attribute (opset < 13) or input (13+), or
// num_outputs (18+, the last chunk smaller when uneven), else equal parts.
Status lower_Split(NodeLowering &n) {
  ANET_ASSIGN_OR_RETURN(ValueId x, n.input(0));
  const Shape &shape = n.type(x).shape;
  ANET_ASSIGN_OR_RETURN(int64_t axis_attr, n.attr_int("axis", 0));
  ANET_ASSIGN_OR_RETURN(int64_t axis, resolve_axis(n, axis_attr, n.type(x).rank(), "axis"));
  int64_t dim = shape[static_cast<size_t>(axis)];
  auto outputs = static_cast<int64_t>(n.num_outputs());
  if (outputs < 1 || outputs > op_info(OpKind::Split).num_outputs)
    return n.fail("has ", outputs, " outputs; 1 to ", op_info(OpKind::Split).num_outputs,
                  " are supported");

  std::optional<Ints> sizes;
  if (n.opset() < 13) {
    ANET_ASSIGN_OR_RETURN(sizes, n.attr_ints("split"));
  } else if (n.has_input(1)) {
    ANET_ASSIGN_OR_RETURN(sizes, n.constant_ints(1));
  }
  std::optional<int64_t> num_outputs;
  if (n.opset() >= 18) {
    ANET_ASSIGN_OR_RETURN(num_outputs, n.attr_int_opt("num_outputs"));
  }
  if (sizes && num_outputs)
    return n.fail("split sizes and num_outputs cannot both be given");
  if (num_outputs && *num_outputs != outputs)
    return n.fail("num_outputs is ", *num_outputs, " but the node has ", outputs, " outputs");
  if (sizes) {
    if (static_cast<int64_t>(sizes->size()) != outputs)
      return n.fail("split ", shape_string(*sizes), " has ", sizes->size(), " sizes for ", outputs,
                    " outputs");
    for (int64_t s : *sizes)
      if (s < 0 || s > dim)
        return n.fail("split ", shape_string(*sizes), " does not fit axis ", axis, " of size ",
                      dim);
  } else if (num_outputs) {
    int64_t chunk = (dim + outputs - 1) / outputs;
    int64_t last = dim - chunk * (outputs - 1);
    if (last < 0)
      return n.fail("axis ", axis, " of size ", dim, " cannot be split into ", outputs,
                    " chunks of ", chunk);
    sizes = Ints(static_cast<size_t>(outputs), chunk);
    sizes->back() = last;
  } else {
    if (dim % outputs != 0)
      return n.fail("axis ", axis, " of size ", dim, " cannot be split into ", outputs,
                    " equal parts");
    sizes = Ints(static_cast<size_t>(outputs), dim / outputs);
  }
  Attrs a;
  a.set("axis", axis);
  a.set("split", *sizes);
  return n.emit_node(OpKind::Split, {x}, std::move(a), static_cast<int>(outputs));
}

// Slice: starts/ends/axes as attributes (opset < 10) or constant inputs with
// steps (10+). Negative indices count from the end; everything is clamped as
// ONNX specifies and given for every axis.
Status lower_Slice(NodeLowering &n) {
  ANET_ASSIGN_OR_RETURN(ValueId x, n.input(0));
  const Shape &shape = n.type(x).shape;
  auto rank = static_cast<int64_t>(shape.size());
  Ints starts, ends;
  std::optional<Ints> axes, steps;
  if (n.opset() < 10) {
    ANET_ASSIGN_OR_RETURN(auto s, n.attr_ints("starts"));
    ANET_ASSIGN_OR_RETURN(auto e, n.attr_ints("ends"));
    if (!s || !e)
      return n.fail("attributes 'starts' and 'ends' are required");
    starts = *s;
    ends = *e;
    ANET_ASSIGN_OR_RETURN(axes, n.attr_ints("axes"));
  } else {
    ANET_ASSIGN_OR_RETURN(starts, n.constant_ints(1));
    ANET_ASSIGN_OR_RETURN(ends, n.constant_ints(2));
    if (n.has_input(3)) {
      ANET_ASSIGN_OR_RETURN(axes, n.constant_ints(3));
    }
    if (n.has_input(4)) {
      ANET_ASSIGN_OR_RETURN(steps, n.constant_ints(4));
    }
  }
  if (!axes) {
    axes.emplace();
    for (size_t i = 0; i < starts.size(); ++i)
      axes->push_back(static_cast<int64_t>(i));
  }
  if (!steps)
    steps = Ints(starts.size(), 1);
  if (ends.size() != starts.size() || axes->size() != starts.size() ||
      steps->size() != starts.size())
    return n.fail("starts, ends, axes and steps have different lengths (", starts.size(), ", ",
                  ends.size(), ", ", axes->size(), ", ", steps->size(), ")");

  Ints st(static_cast<size_t>(rank), 0), en(shape.begin(), shape.end()),
      sp(static_cast<size_t>(rank), 1);
  std::vector<bool> seen(static_cast<size_t>(rank), false);
  for (size_t j = 0; j < starts.size(); ++j) {
    ANET_ASSIGN_OR_RETURN(int64_t a, resolve_axis(n, (*axes)[j], rank, "axis"));
    auto ax = static_cast<size_t>(a);
    if (seen[ax])
      return n.fail("axis ", (*axes)[j], " is repeated");
    seen[ax] = true;
    int64_t dim = shape[ax], step = (*steps)[j], s = starts[j], e = ends[j];
    if (step == 0)
      return n.fail("step of axis ", a, " is 0");
    if (s < 0)
      s += dim;
    if (e < 0)
      e += dim;
    if (step > 0) {
      s = std::clamp<int64_t>(s, 0, dim);
      e = std::clamp<int64_t>(e, 0, dim);
      step = std::min(step, std::max<int64_t>(dim, 1));
    } else {
      s = dim == 0 ? -1 : std::clamp<int64_t>(s, 0, dim - 1);
      e = std::clamp<int64_t>(e, -1, dim - 1);
      step = std::max(step, -std::max<int64_t>(dim, 1));
    }
    st[ax] = s;
    en[ax] = e;
    sp[ax] = step;
  }
  Attrs attrs;
  attrs.set("starts", st);
  attrs.set("ends", en);
  attrs.set("steps", sp);
  return n.emit_node(OpKind::Slice, {x}, std::move(attrs));
}

// Dropout: ratio as attribute (opset < 12) or constant input (12+);
// training_mode (12+) must be a constant false. The mask output may be
// listed but not read.
Status lower_Dropout(NodeLowering &n) {
  ANET_ASSIGN_OR_RETURN(ValueId x, n.input(0));
  float ratio = 0.5f;
  if (n.opset() < 12) {
    ANET_ASSIGN_OR_RETURN(ratio, n.attr_float("ratio", 0.5f));
  } else {
    n.ignore_attr("seed");
    if (n.has_input(1)) {
      ANET_ASSIGN_OR_RETURN(ratio, n.constant_scalar(1));
    }
    if (n.has_input(2)) {
      ANET_ASSIGN_OR_RETURN(float training, n.constant_scalar(2));
      if (training != 0.0f)
        return n.fail("training_mode is true; only inference Dropout is supported (training "
                      "programs add their own)");
    }
  }
  n.allow_unused_output(1);
  Attrs a;
  a.set("ratio", ratio);
  return n.emit_node(OpKind::Dropout, {x}, std::move(a));
}

// Softmax, LogSoftmax. Before opset 13 the input is coerced to 2-D at
// `axis` (default 1) and normalised over the flattened trailing part: a
// Reshape to [outer, inner], the op over axis 1, and a Reshape back (a single
// node when axis is the last one). From opset 13: one axis, default -1.
Status lower_softmax(NodeLowering &n, OpKind op) {
  ANET_ASSIGN_OR_RETURN(ValueId x, n.input(0));
  const TensorType &xt = n.type(x);
  bool coerce = n.opset() < 13;
  ANET_ASSIGN_OR_RETURN(int64_t axis_attr, n.attr_int("axis", coerce ? 1 : -1));
  ANET_ASSIGN_OR_RETURN(int64_t axis, resolve_axis(n, axis_attr, xt.rank(), "axis"));
  Attrs a;
  if (!coerce || axis == xt.rank() - 1) {
    a.set("axis", axis);
    return n.emit_node(op, {x}, std::move(a));
  }
  if (!n.has_output(0))
    return n.fail("output #0 has no name");
  int64_t outer = checked_numel(Shape(xt.shape.begin(), xt.shape.begin() + axis));
  int64_t inner = checked_numel(Shape(xt.shape.begin() + axis, xt.shape.end()));
  if (outer < 0 || inner < 0)
    return n.fail("input shape ", shape_string(xt.shape), " is too large to coerce to 2-D");
  const std::string &out = n.output_name(0);
  Attrs to_2d, from_2d;
  to_2d.set("shape", Ints{outer, inner});
  from_2d.set("shape", xt.shape);
  a.set("axis", int64_t{1});
  ANET_ASSIGN_OR_RETURN(auto flat, n.emit(OpKind::Reshape, {x}, std::move(to_2d),
                                          {n.fresh_name(out + "/2d_in")}, n.name() + "/to_2d"));
  ANET_ASSIGN_OR_RETURN(auto normed,
                        n.emit(op, flat, std::move(a), {n.fresh_name(out + "/2d_out")}, n.name()));
  ANET_RETURN_IF_ERR(
      n.emit(OpKind::Reshape, normed, std::move(from_2d), {out}, n.name() + "/from_2d"));
  return {};
}

Status lower_Softmax(NodeLowering &n) { return lower_softmax(n, OpKind::Softmax); }
Status lower_LogSoftmax(NodeLowering &n) { return lower_softmax(n, OpKind::LogSoftmax); }

// BatchNormalization, inference only: `spatial` (opsets 7 and 8) must be 1,
// training_mode (14+) 0; the training outputs may be listed but not read.
Status lower_BatchNormalization(NodeLowering &n) {
  std::vector<ValueId> ins;
  for (int i = 0; i < 5; ++i) {
    ANET_ASSIGN_OR_RETURN(ValueId v, n.input(i));
    ins.push_back(v);
  }
  ANET_ASSIGN_OR_RETURN(float epsilon, n.attr_float("epsilon", 1e-5f));
  n.ignore_attr("momentum"); // only updates running statistics in training
  if (n.opset() < 9) {
    ANET_ASSIGN_OR_RETURN(int64_t spatial, n.attr_int("spatial", 1));
    if (spatial != 1)
      return n.fail("spatial=", spatial, " (per-activation statistics) is not supported");
  }
  if (n.opset() >= 14) {
    ANET_ASSIGN_OR_RETURN(int64_t training, n.attr_int("training_mode", 0));
    if (training != 0)
      return n.fail("training_mode=1 is not supported; only inference BatchNormalization is");
  }
  for (int i = 1; i < n.num_outputs(); ++i)
    n.allow_unused_output(i);
  Attrs a;
  a.set("epsilon", epsilon);
  return n.emit_node(OpKind::BatchNormalization, std::move(ins), std::move(a));
}

// Constant: its data becomes a constant operand or, once something computes
// on it, a Constant value.
Status lower_Constant(NodeLowering &n) {
  for (const char *unsupported : {"sparse_value", "value_string", "value_strings"})
    if (n.has_attr(unsupported))
      return n.fail("attribute '", unsupported, "' is not supported (only numeric constants)");
  ConstTensor c;
  int given = 0;
  if (onnx::AttributeProto *v = n.attr_proto("value")) {
    ++given;
    if (!v->has_t())
      return n.fail("attribute 'value' must be a tensor");
    onnx::TensorProto &t = *v->mutable_t();
    ANET_ASSIGN_OR_RETURN(c.shape, tensor_shape(t));
    ANET_RETURN_IF_ERR(n.fits_budget(checked_numel(c.shape)));
    c.onnx_type = t.data_type();
    if (is_integer_type(t.data_type())) {
      ANET_ASSIGN_OR_RETURN(c.ints, tensor_ints(t));
      c.floats.assign(c.ints->begin(), c.ints->end());
    } else {
      ANET_ASSIGN_OR_RETURN(c.floats, tensor_floats(t, /*release=*/false));
    }
  }
  if (n.has_attr("value_float")) {
    ++given;
    ANET_ASSIGN_OR_RETURN(float f, n.attr_float("value_float", 0.0f));
    c.floats = {f};
  }
  ANET_ASSIGN_OR_RETURN(auto floats, n.attr_floats("value_floats"));
  if (floats) {
    ++given;
    c.shape = {static_cast<int64_t>(floats->size())};
    c.floats = std::move(*floats);
  }
  if (n.has_attr("value_int")) {
    ++given;
    ANET_ASSIGN_OR_RETURN(int64_t i, n.attr_int("value_int", 0));
    c.onnx_type = onnx::TensorProto::INT64;
    c.ints = Ints{i};
  }
  ANET_ASSIGN_OR_RETURN(auto ints, n.attr_ints("value_ints"));
  if (ints) {
    ++given;
    c.onnx_type = onnx::TensorProto::INT64;
    c.shape = {static_cast<int64_t>(ints->size())};
    c.ints = std::move(ints);
  }
  if (given != 1)
    return n.fail("must have exactly one of the attributes value, value_float, value_floats, "
                  "value_int, value_ints; has ",
                  given);
  if (c.ints && c.floats.empty())
    c.floats.assign(c.ints->begin(), c.ints->end());
  return n.define_constant(0, std::move(c));
}

// Clip: bounds as attributes (opset < 11) or optional constant inputs (11+);
// a missing bound is unbounded (-inf / inf).
Status lower_Clip(NodeLowering &n) {
  ANET_ASSIGN_OR_RETURN(ValueId x, n.input(0));
  float lo = -kInf, hi = kInf;
  if (n.opset() < 11) {
    ANET_ASSIGN_OR_RETURN(lo, n.attr_float("min", -kInf));
    ANET_ASSIGN_OR_RETURN(hi, n.attr_float("max", kInf));
  } else {
    if (n.has_input(1)) {
      ANET_ASSIGN_OR_RETURN(lo, n.constant_scalar(1));
    }
    if (n.has_input(2)) {
      ANET_ASSIGN_OR_RETURN(hi, n.constant_scalar(2));
    }
  }
  Attrs a;
  a.set("min", lo);
  a.set("max", hi);
  return n.emit_node(OpKind::Clip, {x}, std::move(a));
}

// Pad: pads and value as attributes (opset < 11) or constant inputs (11+),
// axes (18+) naming the padded axes. Modes constant, reflect, edge.
Status lower_Pad(NodeLowering &n) {
  ANET_ASSIGN_OR_RETURN(ValueId x, n.input(0));
  auto rank = static_cast<size_t>(n.type(x).rank());
  ANET_ASSIGN_OR_RETURN(std::string mode, n.attr_string("mode", "constant"));
  if (mode == "wrap")
    return n.fail("mode 'wrap' is not supported");
  if (mode != "constant" && mode != "reflect" && mode != "edge")
    return n.fail("mode '", mode, "' is not one of constant, reflect, edge");
  Ints pads;
  float value = 0.0f;
  std::optional<Ints> axes;
  if (n.opset() < 11) {
    ANET_ASSIGN_OR_RETURN(auto p, n.attr_ints("pads"));
    if (!p)
      return n.fail("attribute 'pads' is required");
    pads = *p;
    ANET_ASSIGN_OR_RETURN(value, n.attr_float("value", 0.0f));
  } else {
    ANET_ASSIGN_OR_RETURN(pads, n.constant_ints(1));
    if (n.has_input(2)) {
      ANET_ASSIGN_OR_RETURN(value, n.constant_scalar(2));
    }
    if (n.has_input(3) && n.opset() >= 18) {
      ANET_ASSIGN_OR_RETURN(axes, n.constant_ints(3));
    }
  }
  ANET_RETURN_IF_ERR(check_magnitude(n, "pads", pads, kMaxTensorElements));
  Ints full(2 * rank, 0);
  if (axes) {
    if (pads.size() != 2 * axes->size())
      return n.fail("pads ", shape_string(pads), " need 2 values per axis of ",
                    shape_string(*axes));
    std::vector<bool> seen(rank, false);
    for (size_t j = 0; j < axes->size(); ++j) {
      ANET_ASSIGN_OR_RETURN(int64_t a,
                            resolve_axis(n, (*axes)[j], static_cast<int64_t>(rank), "axis"));
      auto ax = static_cast<size_t>(a);
      if (seen[ax])
        return n.fail("axis ", (*axes)[j], " is repeated");
      seen[ax] = true;
      full[ax] = pads[j];
      full[ax + rank] = pads[j + axes->size()];
    }
  } else {
    if (pads.size() != 2 * rank)
      return n.fail("pads ", shape_string(pads), " need ", 2 * rank, " values for rank ", rank);
    full = pads;
  }
  Attrs a;
  a.set("pads", full);
  a.set("mode", mode);
  a.set("value", value);
  return n.emit_node(OpKind::Pad, {x}, std::move(a));
}

// Squeeze: axes as attribute (opset < 13) or optional constant input (13+);
// without axes, every dimension of size 1.
Status lower_Squeeze(NodeLowering &n) {
  ANET_ASSIGN_OR_RETURN(ValueId x, n.input(0));
  const Shape &shape = n.type(x).shape;
  std::optional<Ints> axes;
  if (n.opset() < 13) {
    ANET_ASSIGN_OR_RETURN(axes, n.attr_ints("axes"));
  } else if (n.has_input(1)) {
    ANET_ASSIGN_OR_RETURN(axes, n.constant_ints(1));
  }
  Ints resolved;
  if (axes) {
    ANET_ASSIGN_OR_RETURN(resolved, resolve_axes(n, *axes, static_cast<int64_t>(shape.size())));
  } else {
    for (size_t i = 0; i < shape.size(); ++i)
      if (shape[i] == 1)
        resolved.push_back(static_cast<int64_t>(i));
  }
  Attrs a;
  a.set("axes", resolved);
  return n.emit_node(OpKind::Squeeze, {x}, std::move(a));
}

// Unsqueeze: axes (positions in the output) as attribute (opset < 13) or
// constant input (13+).
Status lower_Unsqueeze(NodeLowering &n) {
  ANET_ASSIGN_OR_RETURN(ValueId x, n.input(0));
  std::optional<Ints> axes;
  if (n.opset() < 13) {
    ANET_ASSIGN_OR_RETURN(axes, n.attr_ints("axes"));
    if (!axes)
      return n.fail("attribute 'axes' is required");
  } else {
    ANET_ASSIGN_OR_RETURN(axes, n.constant_ints(1));
  }
  int64_t out_rank = n.type(x).rank() + static_cast<int64_t>(axes->size());
  if (out_rank > kMaxRank)
    return n.fail("the output would have rank ", out_rank, "; at most ", kMaxRank, " is supported");
  ANET_ASSIGN_OR_RETURN(Ints resolved, resolve_axes(n, *axes, out_rank));
  Attrs a;
  a.set("axes", resolved);
  return n.emit_node(OpKind::Unsqueeze, {x}, std::move(a));
}

struct OnnxOp {
  std::string_view name;
  LowerFn lower;
};

constexpr OnnxOp kOnnxOps[] = {
    {"Add", lower_Add},
    {"AveragePool", lower_AveragePool},
    {"BatchNormalization", lower_BatchNormalization},
    {"Clip", lower_Clip},
    {"Concat", lower_Concat},
    {"Constant", lower_Constant},
    {"Conv", lower_Conv},
    {"Div", lower_Div},
    {"Dropout", lower_Dropout},
    {"Flatten", lower_Flatten},
    {"Gemm", lower_Gemm},
    {"GlobalAveragePool", lower_GlobalAveragePool},
    {"Identity", lower_Identity},
    {"LRN", lower_LRN},
    {"LogSoftmax", lower_LogSoftmax},
    {"MatMul", lower_MatMul},
    {"MaxPool", lower_MaxPool},
    {"Mul", lower_Mul},
    {"Pad", lower_Pad},
    {"Relu", lower_Relu},
    {"Reshape", lower_Reshape},
    {"Sigmoid", lower_Sigmoid},
    {"Slice", lower_Slice},
    {"Softmax", lower_Softmax},
    {"Split", lower_Split},
    {"Squeeze", lower_Squeeze},
    {"Sub", lower_Sub},
    {"Tanh", lower_Tanh},
    {"Transpose", lower_Transpose},
    {"Unsqueeze", lower_Unsqueeze},
};
} // namespace

LowerFn find_lowering(std::string_view op_type) {
  for (const OnnxOp &op : kOnnxOps)
    if (op.name == op_type)
      return op.lower;
  return nullptr;
}

} // namespace anet::frontend
