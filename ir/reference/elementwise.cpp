// Reference kernels of the elementwise ops (Relu, Sigmoid, Tanh, Clip,
// Identity, Dropout) and the broadcasting binary ops (Add, Sub, Mul, Div).

#include <cmath>

#include "ir/activation.h"
#include "ir/reference/indexing.h"
#include "ir/reference/reference.h"

namespace anet {
namespace {

// out[0][i] = f(in[0][i]) for every element.
template <class F> void unary(const InViews &in, const OutViews &out, F f) {
  int64_t n = ref::numel(out[0].shape);
  for (int64_t i = 0; i < n; ++i)
    out[0].data[i] = f(in[0].data[i]);
}

// out[0] = f(in[0], in[1]) with numpy broadcasting of both inputs.
template <class F> void binary(const InViews &in, const OutViews &out, F f) {
  const Shape &shape = out[0].shape;
  std::vector<int64_t> sa = ref::broadcast_strides(in[0].shape, shape);
  std::vector<int64_t> sb = ref::broadcast_strides(in[1].shape, shape);
  int64_t i = 0;
  ref::for_each_index(shape, [&](const ref::Index &index) {
    out[0].data[i++] =
        f(in[0].data[ref::offset_of(index, sa)], in[1].data[ref::offset_of(index, sb)]);
  });
}

} // namespace

// The activations use the one definition that fused epilogues share
// (ir/activation.h).
void ref_Relu(const Attrs &attrs, const InViews &in, const OutViews &out) {
  unary(in, out, activation_of_op(OpKind::Relu, attrs));
}

void ref_Sigmoid(const Attrs &attrs, const InViews &in, const OutViews &out) {
  unary(in, out, activation_of_op(OpKind::Sigmoid, attrs));
}

void ref_Tanh(const Attrs &attrs, const InViews &in, const OutViews &out) {
  unary(in, out, activation_of_op(OpKind::Tanh, attrs));
}

void ref_Clip(const Attrs &attrs, const InViews &in, const OutViews &out) {
  unary(in, out, activation_of_op(OpKind::Clip, attrs));
}

void ref_Identity(const Attrs &, const InViews &in, const OutViews &out) {
  unary(in, out, [](float x) { return x; });
}

// Inference: ONNX's Dropout is the identity outside training mode.
void ref_Dropout(const Attrs &, const InViews &in, const OutViews &out) {
  unary(in, out, [](float x) { return x; });
}

void ref_Add(const Attrs &, const InViews &in, const OutViews &out) {
  binary(in, out, [](float a, float b) { return a + b; });
}

void ref_Sub(const Attrs &, const InViews &in, const OutViews &out) {
  binary(in, out, [](float a, float b) { return a - b; });
}

void ref_Mul(const Attrs &, const InViews &in, const OutViews &out) {
  binary(in, out, [](float a, float b) { return a * b; });
}

void ref_Div(const Attrs &, const InViews &in, const OutViews &out) {
  binary(in, out, [](float a, float b) { return a / b; });
}

} // namespace anet
