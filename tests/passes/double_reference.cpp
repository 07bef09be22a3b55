// The double-precision oracle of the gradient checks: each op evaluated from
// its ONNX definition with plain index arithmetic (no code shared with
// ir/reference/), plus the kink margin that tells the checks whether a
// finite difference may straddle a Relu, Clip or MaxPool switch.

#include "tests/passes/double_reference.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "ir/ops.h"

namespace anet::testing {
namespace {

using Index = std::vector<int64_t>;

constexpr double kInfinity = std::numeric_limits<double>::infinity();

int64_t count(const Shape &s) {
  int64_t n = 1;
  for (int64_t d : s)
    n *= d;
  return n;
}

// Calls f(index) for every index of `s`, in row-major order.
template <class F> void for_each_index(const Shape &s, F f) {
  if (count(s) == 0)
    return;
  Index index(s.size(), 0);
  while (true) {
    f(index);
    size_t d = s.size();
    while (d > 0 && ++index[d - 1] == s[d - 1])
      index[--d] = 0;
    if (d == 0)
      return;
  }
}

// The row-major offset of `index` in a tensor of shape `s`.
int64_t offset(const Shape &s, const Index &index) {
  int64_t o = 0;
  for (size_t d = 0; d < s.size(); ++d)
    o = o * s[d] + index[d];
  return o;
}

// The offset of the element of a tensor of shape `s` that numpy
// broadcasting pairs with `out_index` (s aligned to the right; size-1 axes
// repeat).
int64_t broadcast_offset(const Shape &s, const Index &out_index) {
  size_t lead = out_index.size() - s.size();
  int64_t o = 0;
  for (size_t d = 0; d < s.size(); ++d)
    o = o * s[d] + (s[d] == 1 ? 0 : out_index[lead + d]);
  return o;
}

class Evaluator {
public:
  Evaluator(const Graph &g, DoubleEvaluation &result) : g_(g), r_(result) {}

  Status node(const Node &n) {
    switch (n.op) {
    case OpKind::Conv:
      return conv(n);
    case OpKind::Gemm:
      return gemm(n);
    case OpKind::MatMul:
      return matmul(n);
    case OpKind::Relu:
    case OpKind::Sigmoid:
    case OpKind::Tanh:
    case OpKind::Clip:
      return activation(n);
    case OpKind::Identity:
    case OpKind::Dropout: // inference Dropout passes its input on
    case OpKind::Transfer:
    case OpKind::Flatten:
    case OpKind::Reshape:
    case OpKind::Squeeze:
    case OpKind::Unsqueeze:
      out(n, 0) = in(n, 0); // same elements in the same row-major order
      return {};
    case OpKind::Add:
    case OpKind::Sub:
    case OpKind::Mul:
    case OpKind::Div:
      return binary(n);
    case OpKind::LRN:
      return lrn(n);
    case OpKind::MaxPool:
    case OpKind::AveragePool:
      return pool(n);
    case OpKind::GlobalAveragePool:
      return global_average_pool(n);
    case OpKind::Softmax:
    case OpKind::LogSoftmax:
      return softmax(n);
    case OpKind::Transpose:
      return transpose(n);
    case OpKind::Concat:
      return concat(n);
    case OpKind::Split:
      return split(n);
    case OpKind::Slice:
      return slice(n);
    case OpKind::Pad:
      return pad(n);
    case OpKind::SoftmaxCrossEntropy:
      return softmax_cross_entropy(n);
    case OpKind::BatchNormTrain:
      return batch_norm_train(n);
    case OpKind::DropoutMask:
      return unsupported(n, "its mask is anet's random draw: pin the value");
    default:
      return unsupported(n, "the double oracle does not implement the op");
    }
  }

private:
  const Shape &shape(ValueId v) const { return g_.type(v).shape; }
  const Shape &in_shape(const Node &n, size_t i) const { return shape(n.inputs[i]); }
  const Shape &out_shape(const Node &n, size_t i) const { return shape(n.outputs[i]); }
  const std::vector<double> &in(const Node &n, size_t i) { return r_.values.at(n.inputs[i]); }
  // Output i of `n`, allocated (zeroed) on first use.
  std::vector<double> &out(const Node &n, size_t i) {
    std::vector<double> &v = r_.values[n.outputs[i]];
    v.assign(static_cast<size_t>(count(out_shape(n, i))), 0.0);
    return v;
  }

  static Error unsupported(const Node &n, const std::string &why) {
    return make_error(ExitCode::InvalidModel, "node '", n.name, "' (", op_name(n.op), "): ", why);
  }

  void near_kink(double distance) { r_.kink_margin = std::min(r_.kink_margin, distance); }

  // Relu, Sigmoid, Tanh, or Clip to [lo, hi], at z.
  double activate(OpKind op, double z, double lo, double hi) {
    switch (op) {
    case OpKind::Relu:
      near_kink(std::fabs(z));
      return z > 0 ? z : 0;
    case OpKind::Sigmoid:
      return 1 / (1 + std::exp(-z));
    case OpKind::Tanh:
      return std::tanh(z);
    case OpKind::Clip:
      near_kink(std::min(std::fabs(z - lo), std::fabs(z - hi)));
      return std::min(std::max(z, lo), hi);
    default:
      return z;
    }
  }

  // A fused epilogue (`activation`, `activation_min`, `activation_max`) over v.
  void epilogue(const Node &n, std::vector<double> &v) {
    const std::string *name = n.attrs.get_if<std::string>("activation");
    if (!name)
      return;
    OpKind op = *op_from_name(*name);
    double lo = op == OpKind::Clip ? n.attrs.f("activation_min") : 0;
    double hi = op == OpKind::Clip ? n.attrs.f("activation_max") : 0;
    for (double &z : v)
      z = activate(op, z, lo, hi);
  }

  Status activation(const Node &n) {
    const std::vector<double> &x = in(n, 0);
    std::vector<double> &y = out(n, 0);
    double lo = n.op == OpKind::Clip ? n.attrs.f("min") : 0;
    double hi = n.op == OpKind::Clip ? n.attrs.f("max") : 0;
    for (size_t i = 0; i < x.size(); ++i)
      y[i] = activate(n.op, x[i], lo, hi);
    return {};
  }

  // ONNX Conv: y[n,m,oh,ow] = B[m] + sum over the group's channels c and
  // taps (kh,kw) of X[n, g*C/group + c, oh*sh - pad_top + kh*dh, ...] *
  // W[m,c,kh,kw], with zeros outside the input.
  Status conv(const Node &n) {
    const std::vector<double> &x = in(n, 0), &w = in(n, 1);
    const Shape &xs = in_shape(n, 0), &ws = in_shape(n, 1), &ys = out_shape(n, 0);
    const auto &st = n.attrs.ints("strides"), &p = n.attrs.ints("pads"),
               &dl = n.attrs.ints("dilations");
    int64_t group = n.attrs.i("group"), cg = ws[1], mg = ws[0] / group;
    std::vector<double> &y = out(n, 0);
    for_each_index(ys, [&](const Index &o) {
      int64_t m = o[1], g = m / mg;
      double sum = n.inputs.size() == 3 ? in(n, 2)[static_cast<size_t>(m)] : 0;
      for (int64_t c = 0; c < cg; ++c)
        for (int64_t kh = 0; kh < ws[2]; ++kh)
          for (int64_t kw = 0; kw < ws[3]; ++kw) {
            int64_t ih = o[2] * st[0] - p[0] + kh * dl[0];
            int64_t iw = o[3] * st[1] - p[1] + kw * dl[1];
            if (ih < 0 || ih >= xs[2] || iw < 0 || iw >= xs[3])
              continue;
            sum += x[static_cast<size_t>(offset(xs, {o[0], g * cg + c, ih, iw}))] *
                   w[static_cast<size_t>(offset(ws, {m, c, kh, kw}))];
          }
      y[static_cast<size_t>(offset(ys, o))] = sum;
    });
    epilogue(n, y);
    return {};
  }

  // ONNX Gemm: Y = alpha * A' * B' + beta * C, A' = transA ? A^T : A (and B'),
  // C broadcast to Y's shape.
  Status gemm(const Node &n) {
    const std::vector<double> &a = in(n, 0), &b = in(n, 1);
    const Shape &as = in_shape(n, 0), &bs = in_shape(n, 1), &ys = out_shape(n, 0);
    bool ta = n.attrs.i("transA") != 0, tb = n.attrs.i("transB") != 0;
    double alpha = n.attrs.f("alpha"), beta = n.attrs.f("beta");
    int64_t k_len = ta ? as[0] : as[1];
    std::vector<double> &y = out(n, 0);
    for_each_index(ys, [&](const Index &o) {
      double sum = 0;
      for (int64_t k = 0; k < k_len; ++k) {
        double av = a[static_cast<size_t>(ta ? offset(as, {k, o[0]}) : offset(as, {o[0], k}))];
        double bv = b[static_cast<size_t>(tb ? offset(bs, {o[1], k}) : offset(bs, {k, o[1]}))];
        sum += av * bv;
      }
      double c = n.inputs.size() == 3
                     ? in(n, 2)[static_cast<size_t>(broadcast_offset(in_shape(n, 2), o))]
                     : 0;
      y[static_cast<size_t>(offset(ys, o))] = alpha * sum + beta * c;
    });
    epilogue(n, y);
    return {};
  }

  // numpy matmul: 1-D operands gain a size-1 axis (dropped again from the
  // result, which leaves the row-major order unchanged); the batch axes
  // broadcast.
  Status matmul(const Node &n) {
    Shape as = in_shape(n, 0), bs = in_shape(n, 1);
    if (as.size() == 1)
      as.insert(as.begin(), 1);
    if (bs.size() == 1)
      bs.push_back(1);
    Shape a_batch(as.begin(), as.end() - 2), b_batch(bs.begin(), bs.end() - 2);
    Shape batch(std::max(a_batch.size(), b_batch.size()), 1);
    for (size_t d = 0; d < batch.size(); ++d) {
      size_t from_end = batch.size() - d;
      int64_t da = from_end <= a_batch.size() ? a_batch[a_batch.size() - from_end] : 1;
      int64_t db = from_end <= b_batch.size() ? b_batch[b_batch.size() - from_end] : 1;
      batch[d] = std::max(da, db);
    }
    int64_t m = as[as.size() - 2], k_len = as.back(), cols = bs.back();
    const std::vector<double> &a = in(n, 0), &b = in(n, 1);
    std::vector<double> &y = out(n, 0);
    int64_t block = 0;
    for_each_index(batch, [&](const Index &bi) {
      int64_t a0 = broadcast_offset(a_batch, bi) * m * k_len;
      int64_t b0 = broadcast_offset(b_batch, bi) * k_len * cols;
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < cols; ++j) {
          double sum = 0;
          for (int64_t k = 0; k < k_len; ++k)
            sum += a[static_cast<size_t>(a0 + i * k_len + k)] *
                   b[static_cast<size_t>(b0 + k * cols + j)];
          y[static_cast<size_t>((block * m + i) * cols + j)] = sum;
        }
      ++block;
    });
    epilogue(n, y);
    return {};
  }

  Status binary(const Node &n) {
    const std::vector<double> &a = in(n, 0), &b = in(n, 1);
    const Shape &as = in_shape(n, 0), &bs = in_shape(n, 1), &ys = out_shape(n, 0);
    std::vector<double> &y = out(n, 0);
    for_each_index(ys, [&](const Index &o) {
      double u = a[static_cast<size_t>(broadcast_offset(as, o))];
      double v = b[static_cast<size_t>(broadcast_offset(bs, o))];
      double r = n.op == OpKind::Add   ? u + v
                 : n.op == OpKind::Sub ? u - v
                 : n.op == OpKind::Mul ? u * v
                                       : u / v;
      y[static_cast<size_t>(offset(ys, o))] = r;
    });
    return {};
  }

  // ONNX LRN: y = x / (bias + alpha / size * square_sum)^beta, square_sum
  // over channels [c - floor((size-1)/2), c + ceil((size-1)/2)] that exist.
  Status lrn(const Node &n) {
    const std::vector<double> &x = in(n, 0);
    const Shape &xs = in_shape(n, 0);
    double alpha = n.attrs.f("alpha"), beta = n.attrs.f("beta"), bias = n.attrs.f("bias");
    int64_t size = n.attrs.i("size"), channels = xs[1];
    int64_t inner = count(xs) / (xs[0] * channels);
    int64_t below = (size - 1) / 2, above = size / 2; // floor and ceil of (size-1)/2
    std::vector<double> &y = out(n, 0);
    for (int64_t b = 0; b < xs[0]; ++b)
      for (int64_t c = 0; c < channels; ++c)
        for (int64_t i = 0; i < inner; ++i) {
          double squares = 0;
          for (int64_t j = std::max<int64_t>(0, c - below); j <= std::min(channels - 1, c + above);
               ++j) {
            double v = x[static_cast<size_t>((b * channels + j) * inner + i)];
            squares += v * v;
          }
          auto at = static_cast<size_t>((b * channels + c) * inner + i);
          y[at] = x[at] / std::pow(bias + alpha / static_cast<double>(size) * squares, beta);
        }
    return {};
  }

  // ONNX MaxPool and AveragePool over 2-D windows. Taps outside the input
  // are ignored by the max; the average divides by the taps inside the input
  // (count_include_pad=0) or by the whole kernel (=1), padding counting as
  // zeros even where a ceil_mode window runs past the padded input: ONNX's
  // own test of that case (test_averagepool_3d_dilations_large_
  // count_include_pad_is_1_ceil_mode_is_True, onnx 1.16) expects the kernel
  // size there, where PyTorch would count only the taps inside the padding.
  Status pool(const Node &n) {
    const std::vector<double> &x = in(n, 0);
    const Shape &xs = in_shape(n, 0), &ys = out_shape(n, 0);
    const auto &k = n.attrs.ints("kernel_shape"), &st = n.attrs.ints("strides"),
               &p = n.attrs.ints("pads"), &dl = n.attrs.ints("dilations");
    bool max = n.op == OpKind::MaxPool;
    bool include_pad = !max && n.attrs.i("count_include_pad") != 0;
    std::vector<double> &y = out(n, 0);
    for_each_index(ys, [&](const Index &o) {
      double best = -kInfinity, runner_up = -kInfinity, sum = 0;
      int64_t inside = 0;
      for (int64_t kh = 0; kh < k[0]; ++kh)
        for (int64_t kw = 0; kw < k[1]; ++kw) {
          int64_t ih = o[2] * st[0] - p[0] + kh * dl[0];
          int64_t iw = o[3] * st[1] - p[1] + kw * dl[1];
          if (ih < 0 || ih >= xs[2] || iw < 0 || iw >= xs[3])
            continue;
          double v = x[static_cast<size_t>(offset(xs, {o[0], o[1], ih, iw}))];
          ++inside;
          sum += v;
          if (v > best) {
            runner_up = best;
            best = v;
          } else if (v > runner_up) {
            runner_up = v;
          }
        }
      if (max && inside > 1)
        near_kink(best - runner_up);
      y[static_cast<size_t>(offset(ys, o))] =
          max ? best : sum / static_cast<double>(include_pad ? k[0] * k[1] : inside);
    });
    return {};
  }

  Status global_average_pool(const Node &n) {
    const std::vector<double> &x = in(n, 0);
    const Shape &xs = in_shape(n, 0);
    int64_t planes = xs[0] * xs[1], plane = count(xs) / planes;
    std::vector<double> &y = out(n, 0);
    for (int64_t i = 0; i < planes; ++i) {
      double sum = 0;
      for (int64_t j = 0; j < plane; ++j)
        sum += x[static_cast<size_t>(i * plane + j)];
      y[static_cast<size_t>(i)] = sum / static_cast<double>(plane);
    }
    return {};
  }

  // Softmax and LogSoftmax along one axis.
  Status softmax(const Node &n) {
    const std::vector<double> &x = in(n, 0);
    const Shape &xs = in_shape(n, 0);
    auto axis = static_cast<size_t>(n.attrs.i("axis"));
    int64_t outer = 1, inner = 1, len = xs[axis];
    for (size_t d = 0; d < xs.size(); ++d) {
      if (d < axis)
        outer *= xs[d];
      if (d > axis)
        inner *= xs[d];
    }
    std::vector<double> &y = out(n, 0);
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = 0; i < inner; ++i) {
        auto at = [&](int64_t j) { return static_cast<size_t>((o * len + j) * inner + i); };
        double top = -kInfinity, sum = 0;
        for (int64_t j = 0; j < len; ++j)
          top = std::max(top, x[at(j)]);
        for (int64_t j = 0; j < len; ++j)
          sum += std::exp(x[at(j)] - top);
        for (int64_t j = 0; j < len; ++j)
          y[at(j)] = n.op == OpKind::Softmax ? std::exp(x[at(j)] - top) / sum
                                             : x[at(j)] - top - std::log(sum);
      }
    return {};
  }

  // Output axis d is input axis perm[d].
  Status transpose(const Node &n) {
    const std::vector<double> &x = in(n, 0);
    const Shape &xs = in_shape(n, 0), &ys = out_shape(n, 0);
    const auto &perm = n.attrs.ints("perm");
    std::vector<double> &y = out(n, 0);
    Index from(xs.size());
    for_each_index(ys, [&](const Index &o) {
      for (size_t d = 0; d < perm.size(); ++d)
        from[static_cast<size_t>(perm[d])] = o[d];
      y[static_cast<size_t>(offset(ys, o))] = x[static_cast<size_t>(offset(xs, from))];
    });
    return {};
  }

  Status concat(const Node &n) {
    const Shape &ys = out_shape(n, 0);
    auto axis = static_cast<size_t>(n.attrs.i("axis"));
    std::vector<double> &y = out(n, 0);
    int64_t start = 0;
    for (size_t i = 0; i < n.inputs.size(); ++i) {
      const std::vector<double> &x = in(n, i);
      const Shape &xs = in_shape(n, i);
      for_each_index(xs, [&](const Index &ix) {
        Index o = ix;
        o[axis] += start;
        y[static_cast<size_t>(offset(ys, o))] = x[static_cast<size_t>(offset(xs, ix))];
      });
      start += xs[axis];
    }
    return {};
  }

  Status split(const Node &n) {
    const std::vector<double> &x = in(n, 0);
    const Shape &xs = in_shape(n, 0);
    auto axis = static_cast<size_t>(n.attrs.i("axis"));
    int64_t start = 0;
    for (size_t i = 0; i < n.outputs.size(); ++i) {
      const Shape &ys = out_shape(n, i);
      std::vector<double> &y = out(n, i);
      for_each_index(ys, [&](const Index &o) {
        Index ix = o;
        ix[axis] += start;
        y[static_cast<size_t>(offset(ys, o))] = x[static_cast<size_t>(offset(xs, ix))];
      });
      start += ys[axis];
    }
    return {};
  }

  // Output index i along axis d reads input index starts[d] + i * steps[d].
  Status slice(const Node &n) {
    const std::vector<double> &x = in(n, 0);
    const Shape &xs = in_shape(n, 0), &ys = out_shape(n, 0);
    const auto &starts = n.attrs.ints("starts"), &steps = n.attrs.ints("steps");
    std::vector<double> &y = out(n, 0);
    Index from(xs.size());
    for_each_index(ys, [&](const Index &o) {
      for (size_t d = 0; d < xs.size(); ++d)
        from[d] = starts[d] + o[d] * steps[d];
      y[static_cast<size_t>(offset(ys, o))] = x[static_cast<size_t>(offset(xs, from))];
    });
    return {};
  }

  // Constant padding: output index i along axis d reads input index
  // i - pads[d] (negative pads crop); outside the input it is `value`.
  Status pad(const Node &n) {
    if (n.attrs.s("mode") != "constant")
      return unsupported(n, "the double oracle implements constant padding only");
    const std::vector<double> &x = in(n, 0);
    const Shape &xs = in_shape(n, 0), &ys = out_shape(n, 0);
    const auto &pads = n.attrs.ints("pads");
    double value = n.attrs.f("value");
    std::vector<double> &y = out(n, 0);
    Index from(xs.size());
    for_each_index(ys, [&](const Index &o) {
      bool inside = true;
      for (size_t d = 0; d < xs.size(); ++d) {
        from[d] = o[d] - pads[d];
        inside = inside && from[d] >= 0 && from[d] < xs[d];
      }
      y[static_cast<size_t>(offset(ys, o))] =
          inside ? x[static_cast<size_t>(offset(xs, from))] : value;
    });
    return {};
  }

  // The batch mean of log(sum_k exp(x[n,k])) - x[n, label[n]].
  Status softmax_cross_entropy(const Node &n) {
    const std::vector<double> &x = in(n, 0), &labels = in(n, 1);
    int64_t rows = in_shape(n, 0)[0], classes = in_shape(n, 0)[1];
    double total = 0;
    for (int64_t r = 0; r < rows; ++r) {
      double label = labels[static_cast<size_t>(r)];
      if (!(label >= 0 && label < static_cast<double>(classes) && label == std::floor(label)))
        return unsupported(n, "label " + std::to_string(label) + " is not a class index");
      const double *row = x.data() + r * classes;
      double top = *std::max_element(row, row + classes), sum = 0;
      for (int64_t k = 0; k < classes; ++k)
        sum += std::exp(row[k] - top);
      total += top + std::log(sum) - row[static_cast<int64_t>(label)];
    }
    out(n, 0)[0] = total / static_cast<double>(rows);
    return {};
  }

  // Batch statistics per channel (population variance); outputs Y, the
  // running statistics moved towards the batch's by (1 - momentum), the
  // batch mean and 1/sqrt(var + epsilon).
  Status batch_norm_train(const Node &n) {
    const std::vector<double> &x = in(n, 0), &scale = in(n, 1), &shift = in(n, 2),
                              &running_mean = in(n, 3), &running_var = in(n, 4);
    const Shape &xs = in_shape(n, 0);
    double epsilon = n.attrs.f("epsilon"), momentum = n.attrs.f("momentum");
    int64_t channels = xs[1], inner = count(xs) / (xs[0] * channels);
    auto per_channel = static_cast<double>(xs[0] * inner);
    std::vector<double> &y = out(n, 0), &new_mean = out(n, 1), &new_var = out(n, 2),
                        &saved_mean = out(n, 3), &saved_invstd = out(n, 4);
    for (int64_t c = 0; c < channels; ++c) {
      auto at = [&](int64_t b, int64_t i) {
        return static_cast<size_t>((b * channels + c) * inner + i);
      };
      double sum = 0, squares = 0;
      for (int64_t b = 0; b < xs[0]; ++b)
        for (int64_t i = 0; i < inner; ++i)
          sum += x[at(b, i)];
      double mean = sum / per_channel;
      for (int64_t b = 0; b < xs[0]; ++b)
        for (int64_t i = 0; i < inner; ++i)
          squares += (x[at(b, i)] - mean) * (x[at(b, i)] - mean);
      double var = squares / per_channel, invstd = 1 / std::sqrt(var + epsilon);
      auto ch = static_cast<size_t>(c);
      for (int64_t b = 0; b < xs[0]; ++b)
        for (int64_t i = 0; i < inner; ++i)
          y[at(b, i)] = scale[ch] * (x[at(b, i)] - mean) * invstd + shift[ch];
      new_mean[ch] = running_mean[ch] * momentum + mean * (1 - momentum);
      new_var[ch] = running_var[ch] * momentum + var * (1 - momentum);
      saved_mean[ch] = mean;
      saved_invstd[ch] = invstd;
    }
    return {};
  }

  const Graph &g_;
  DoubleEvaluation &r_;
};

} // namespace

Expected<DoubleEvaluation> evaluate_double(const Graph &g, const DoubleValues &given) {
  DoubleEvaluation result;
  result.kink_margin = kInfinity;
  result.values = given;
  for (ValueId v = 0; v < static_cast<ValueId>(g.values.size()); ++v) {
    const Value &value = g.value(v);
    if (value.kind == ValueKind::Constant) {
      const std::vector<float> &data = g.constants.at(v);
      result.values[v].assign(data.begin(), data.end());
    } else if (value.kind != ValueKind::Activation && !given.count(v)) {
      return make_error(ExitCode::InvalidModel, "no value given for ", value_kind_name(value.kind),
                        " '", value.name, "'");
    }
  }
  Evaluator evaluator(g, result);
  for (const Node &n : g.nodes) {
    bool pinned = std::all_of(n.outputs.begin(), n.outputs.end(),
                              [&](ValueId v) { return given.count(v) != 0; });
    if (!pinned)
      ANET_RETURN_IF_ERR(evaluator.node(n));
  }
  return result;
}

} // namespace anet::testing
