// The generated CPU kernels of the layout ops (Flatten ... Pad, Transfer)
// and the training ops (SoftmaxCrossEntropy ... SgdUpdate) against the
// reference kernels: odd sizes (not multiples of 16), every axis and
// attribute variant, tensors large enough to run in parallel slices, and
// NaN/inf/tie cases where the reference's rules decide. Kernels that compute
// the reference's expressions in its order are checked bit for bit (tol 0);
// the ones that reorder sums within a tolerance from their term count.

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "tests/codegen/cpu_test_util.h"

namespace anet::test {
namespace {

using Ints = std::vector<int64_t>;

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

Tensor scalar(float v) { return tensor({}, {v}); }

int64_t numel_of(const Shape &s) {
  return std::accumulate(s.begin(), s.end(), int64_t{1}, std::multiplies<>());
}

// Every permutation of 0..rank-1.
std::vector<Ints> permutations(int64_t rank) {
  Ints p(static_cast<size_t>(rank));
  std::iota(p.begin(), p.end(), 0);
  std::vector<Ints> all;
  do
    all.push_back(p);
  while (std::next_permutation(p.begin(), p.end()));
  return all;
}

// Every sorted, distinct subset of 0..rank-1 (the empty one included).
std::vector<Ints> subsets(int64_t rank) {
  std::vector<Ints> all;
  for (int64_t mask = 0; mask < (int64_t{1} << rank); ++mask) {
    Ints s;
    for (int64_t d = 0; d < rank; ++d)
      if (mask >> d & 1)
        s.push_back(d);
    all.push_back(s);
  }
  return all;
}

// The tolerance of a sum of `terms` float products reordered (cpu_test_util.h).
double sum_tol(int64_t terms) { return 4e-6 * std::sqrt(static_cast<double>(terms)) + 1e-6; }

// --- Copies -------------------------------------------------------------------

TEST(CpuLayout, CopiesOfEveryShapeOp) {
  for (Shape s : {Shape{}, Shape{1}, Shape{7}, Shape{3, 5, 7}, Shape{2, 3, 1, 5}, Shape{100003}}) {
    for (int64_t axis = 0; axis <= static_cast<int64_t>(s.size()); ++axis) {
      Node n = make_node(OpKind::Flatten);
      n.attrs.set("axis", axis);
      expect_matches_reference(n, {random_tensor(s, 1)}, 0);
    }
    Node reshape = make_node(OpKind::Reshape);
    reshape.attrs.set("shape", Ints{numel_of(s)});
    expect_matches_reference(reshape, {random_tensor(s, 2)}, 0);
    expect_matches_reference(make_node(OpKind::Transfer), {random_tensor(s, 3)}, 0);
    Node unsqueeze = make_node(OpKind::Unsqueeze);
    unsqueeze.attrs.set("axes", Ints{0, static_cast<int64_t>(s.size()) + 1});
    expect_matches_reference(unsqueeze, {random_tensor(s, 4)}, 0);
  }
  Node squeeze = make_node(OpKind::Squeeze);
  squeeze.attrs.set("axes", Ints{0, 2});
  expect_matches_reference(squeeze, {random_tensor({1, 37, 1, 3}, 5)}, 0);
}

// --- Transpose ----------------------------------------------------------------

TEST(CpuLayout, TransposeEveryPermutationOfRanks0To4) {
  const std::vector<Shape> shapes = {{},           {19},           {17, 33},
                                     {5, 1, 7},    {3, 5, 7},      {2, 18, 33},
                                     {3, 5, 7, 2}, {2, 17, 1, 20}, {4, 3, 16, 16}};
  for (const Shape &s : shapes)
    for (const Ints &perm : permutations(static_cast<int64_t>(s.size()))) {
      Node n = make_node(OpKind::Transpose);
      n.attrs.set("perm", perm);
      expect_matches_reference(n, {random_tensor(s, 7)}, 0);
    }
}

TEST(CpuLayout, TransposeLargeTiled) {
  // NCHW -> NHWC and back, and a 2-D transpose with ragged tile edges, large
  // enough to run in parallel.
  Node to_nhwc = make_node(OpKind::Transpose);
  to_nhwc.attrs.set("perm", Ints{0, 2, 3, 1});
  expect_matches_reference(to_nhwc, {random_tensor({3, 37, 45, 50}, 8)}, 0);
  Node to_nchw = make_node(OpKind::Transpose);
  to_nchw.attrs.set("perm", Ints{0, 3, 1, 2});
  expect_matches_reference(to_nchw, {random_tensor({3, 45, 50, 37}, 9)}, 0);
  Node t2 = make_node(OpKind::Transpose);
  t2.attrs.set("perm", Ints{1, 0});
  expect_matches_reference(t2, {random_tensor({513, 1031}, 10)}, 0);
  Node t3 = make_node(OpKind::Transpose);
  t3.attrs.set("perm", Ints{2, 1, 0});
  expect_matches_reference(t3, {random_tensor({67, 5, 129}, 11)}, 0);
}

// --- Slice --------------------------------------------------------------------

// A Slice of axis d of size `dim` with `step`, over a canonical (clamped)
// start and end.
struct AxisSlice {
  int64_t start;
  int64_t end;
  int64_t step;
};

std::vector<AxisSlice> axis_slices(int64_t dim) {
  return {{0, dim, 1},      {1, dim - 1, 1},   {0, dim, 2}, {1, dim, 3}, {dim - 1, -1, -1},
          {dim - 2, 0, -2}, {dim - 1, -1, -3}, {2, 2, 1},   {0, 1, 1},   {dim - 1, dim - 2, -1}};
}

TEST(CpuLayout, SliceEveryAxisAndStep) {
  const Shape s = {5, 7, 6};
  for (size_t axis = 0; axis < s.size(); ++axis)
    for (const AxisSlice &a : axis_slices(s[axis])) {
      Ints starts(s.size(), 0), ends(s.begin(), s.end()), steps(s.size(), 1);
      starts[axis] = a.start;
      ends[axis] = a.end;
      steps[axis] = a.step;
      Node n = make_node(OpKind::Slice);
      n.attrs.set("starts", starts);
      n.attrs.set("ends", ends);
      n.attrs.set("steps", steps);
      expect_matches_reference(n, {random_tensor(s, 12)}, 0);
    }
}

TEST(CpuLayout, SliceSeveralAxesAndLarge) {
  Node n = make_node(OpKind::Slice);
  n.attrs.set("starts", Ints{3, 0, 20, 40});
  n.attrs.set("ends", Ints{-1, 5, 1, 3});
  n.attrs.set("steps", Ints{-1, 2, -3, -1});
  expect_matches_reference(n, {random_tensor({4, 6, 21, 41}, 13)}, 0);
  // A crop of the middle of a large tensor (rows of one memcpy each) and a
  // reversal of long rows.
  Node crop = make_node(OpKind::Slice);
  crop.attrs.set("starts", Ints{0, 2, 3});
  crop.attrs.set("ends", Ints{3, 190, 300});
  crop.attrs.set("steps", Ints{1, 1, 1});
  expect_matches_reference(crop, {random_tensor({3, 200, 301}, 14)}, 0);
  Node reverse = make_node(OpKind::Slice);
  reverse.attrs.set("starts", Ints{70000});
  reverse.attrs.set("ends", Ints{-1});
  reverse.attrs.set("steps", Ints{-1});
  expect_matches_reference(reverse, {random_tensor({70001}, 15)}, 0);
  Node whole = make_node(OpKind::Slice);
  whole.attrs.set("starts", Ints{0, 1});
  whole.attrs.set("ends", Ints{90000, 2});
  whole.attrs.set("steps", Ints{1, 1});
  expect_matches_reference(whole, {random_tensor({90000, 3}, 16)}, 0);
}

// --- Concat and Split ----------------------------------------------------------

TEST(CpuLayout, ConcatAndSplitOnEveryAxis) {
  const Shape base = {3, 4, 5, 6};
  const Ints sizes = {2, 0, 5, 1};
  for (int64_t axis = 0; axis < 4; ++axis) {
    std::vector<Tensor> parts;
    Ints split;
    for (size_t i = 0; i < sizes.size(); ++i) {
      Shape s = base;
      s[static_cast<size_t>(axis)] = sizes[i];
      parts.push_back(random_tensor(s, static_cast<uint32_t>(20 + i)));
      split.push_back(sizes[i]);
    }
    Node concat = make_node(OpKind::Concat);
    concat.attrs.set("axis", axis);
    expect_matches_reference(concat, parts, 0);

    Shape whole = base;
    whole[static_cast<size_t>(axis)] = std::accumulate(sizes.begin(), sizes.end(), int64_t{0});
    Node n = make_node(OpKind::Split, sizes.size());
    n.attrs.set("axis", axis);
    n.attrs.set("split", split);
    expect_matches_reference(n, {random_tensor(whole, 30)}, 0);
  }
}

TEST(CpuLayout, ConcatAndSplitLarge) {
  // Long rows (split into slices across parts) and many short ones.
  for (auto [shape_a, shape_b, axis] : {std::tuple{Shape{2, 30000}, Shape{2, 20001}, int64_t{1}},
                                        std::tuple{Shape{70001, 3}, Shape{70001, 2}, int64_t{1}},
                                        std::tuple{Shape{40000, 2}, Shape{33, 2}, int64_t{0}}}) {
    Node concat = make_node(OpKind::Concat);
    concat.attrs.set("axis", axis);
    expect_matches_reference(concat, {random_tensor(shape_a, 40), random_tensor(shape_b, 41)}, 0);
    Shape whole = shape_a;
    whole[static_cast<size_t>(axis)] += shape_b[static_cast<size_t>(axis)];
    Node split = make_node(OpKind::Split, 2);
    split.attrs.set("axis", axis);
    split.attrs.set("split",
                    Ints{shape_a[static_cast<size_t>(axis)], shape_b[static_cast<size_t>(axis)]});
    expect_matches_reference(split, {random_tensor(whole, 42)}, 0);
  }
}

// --- Pad ------------------------------------------------------------------------

TEST(CpuLayout, PadEveryModeAndAxis) {
  const Shape s = {3, 4, 5};
  const std::vector<Ints> pads = {{0, 0, 0, 0, 0, 0},   {0, 0, 2, 0, 0, 3},   {1, 0, 0, 2, 0, 0},
                                  {0, 3, 0, 0, 1, 0},   {2, 1, 4, 1, 2, 3},   {0, 0, -2, 0, 0, 1},
                                  {-1, 2, 0, 1, -2, 0}, {0, -1, 1, 0, 2, -3}, {1, 0, 0, 0, 0, 0},
                                  {0, 0, 0, 0, 0, 4}};
  for (const char *mode : {"constant", "reflect", "edge"})
    for (const Ints &p : pads) {
      Node n = make_node(OpKind::Pad);
      n.attrs.set("pads", p);
      n.attrs.set("mode", std::string(mode));
      n.attrs.set("value", 2.5f);
      expect_matches_reference(n, {random_tensor(s, 50)}, 0);
    }
}

TEST(CpuLayout, PadRanksAndLarge) {
  for (const char *mode : {"constant", "reflect", "edge"}) {
    Node n1 = make_node(OpKind::Pad);
    n1.attrs.set("pads", Ints{3, 5});
    n1.attrs.set("mode", std::string(mode));
    n1.attrs.set("value", -1.f);
    expect_matches_reference(n1, {random_tensor({17}, 51)}, 0);
    // An image batch padded in H and W, as a convolution would.
    Node n4 = make_node(OpKind::Pad);
    n4.attrs.set("pads", Ints{0, 0, 2, 1, 0, 0, 1, 2});
    n4.attrs.set("mode", std::string(mode));
    n4.attrs.set("value", 0.f);
    expect_matches_reference(n4, {random_tensor({4, 13, 55, 57}, 52)}, 0);
    Node n2 = make_node(OpKind::Pad);
    n2.attrs.set("pads", Ints{1, 0, 2, 0});
    n2.attrs.set("mode", std::string(mode));
    n2.attrs.set("value", 7.f);
    expect_matches_reference(n2, {random_tensor({5, 40000}, 53)}, 0);
  }
  // Constant padding of an empty axis fills everything.
  Node empty = make_node(OpKind::Pad);
  empty.attrs.set("pads", Ints{0, 2, 0, 1});
  empty.attrs.set("mode", std::string("constant"));
  empty.attrs.set("value", 3.f);
  expect_matches_reference(empty, {random_tensor({3, 0}, 54)}, 0);
}

// --- SoftmaxCrossEntropy and its gradient ---------------------------------------

TEST(CpuTraining, SoftmaxCrossEntropyAndGrad) {
  for (auto [rows, classes] : {std::pair{1L, 1L}, std::pair{5L, 7L}, std::pair{3L, 17L},
                               std::pair{128L, 1000L}, std::pair{9L, 1001L}}) {
    Tensor logits = random_tensor({rows, classes}, 60, -8.f, 8.f);
    Tensor labels({DType::F32, {rows}});
    for (int64_t r = 0; r < rows; ++r)
      labels.data[static_cast<size_t>(r)] = static_cast<float>((r * 7 + 3) % classes);
    expect_matches_reference(make_node(OpKind::SoftmaxCrossEntropy), {logits, labels}, 1e-6);
    expect_matches_reference(make_node(OpKind::SoftmaxCrossEntropyGrad),
                             {logits, labels, scalar(static_cast<float>(rows))}, 1e-6);
  }
}

TEST(CpuTraining, SoftmaxCrossEntropyInvalidLabelsAreNaN) {
  Tensor logits = random_tensor({5, 7}, 61);
  Tensor labels = tensor({5}, {0.f, 7.f, -1.f, 2.5f, kNaN});
  expect_matches_reference(make_node(OpKind::SoftmaxCrossEntropy), {logits, labels}, 0);
  expect_matches_reference(make_node(OpKind::SoftmaxCrossEntropyGrad),
                           {logits, labels, scalar(1.f)}, 1e-6);
}

// --- DropoutMask ----------------------------------------------------------------

TEST(CpuTraining, DropoutMaskBitExact) {
  for (float ratio : {0.f, 0.3f, 0.5f, 0.9f})
    for (float step : {0.f, 3.f, 7.5f, -2.5f, 123456.f, 2.4999998f})
      for (int64_t seed : {int64_t{0}, int64_t{7}, int64_t{-5}}) {
        Node n = make_node(OpKind::DropoutMask);
        n.attrs.set("shape", Ints{3, 1001});
        n.attrs.set("ratio", ratio);
        n.attrs.set("seed", seed);
        expect_matches_reference(n, {scalar(step)}, 0);
      }
  Node big = make_node(OpKind::DropoutMask);
  big.attrs.set("shape", Ints{128, 4096});
  big.attrs.set("ratio", 0.5f);
  big.attrs.set("seed", int64_t{42});
  expect_matches_reference(big, {scalar(17.f)}, 0);
}

// --- BatchNormTrain and BatchNormGrad ----------------------------------------------

TEST(CpuTraining, BatchNormTrainAndGrad) {
  for (Shape s :
       {Shape{4, 3, 5, 7}, Shape{2, 17, 33}, Shape{8, 19}, Shape{32, 5}, Shape{16, 64, 13, 13}}) {
    const int64_t c = s[1];
    const int64_t per_channel = numel_of(s) / c;
    Node train = make_node(OpKind::BatchNormTrain, 5);
    train.attrs.set("epsilon", 1e-5f);
    train.attrs.set("momentum", 0.9f);
    expect_matches_reference(train,
                             {random_tensor(s, 70, -2.f, 3.f), random_tensor({c}, 71),
                              random_tensor({c}, 72), random_tensor({c}, 73),
                              random_tensor({c}, 74, 0.5f, 2.f)},
                             sum_tol(per_channel));
    Node grad = make_node(OpKind::BatchNormGrad, 3);
    grad.attrs.set("epsilon", 1e-5f);
    expect_matches_reference(grad,
                             {random_tensor(s, 75, -2.f, 3.f), random_tensor({c}, 76),
                              random_tensor({c}, 77), random_tensor({c}, 78, 0.5f, 2.f),
                              random_tensor(s, 79)},
                             sum_tol(per_channel));
  }
}

// --- ReduceSum ------------------------------------------------------------------

TEST(CpuTraining, ReduceSumEveryAxisSet) {
  for (Shape s : {Shape{3, 5, 7}, Shape{4, 1, 33, 6}, Shape{2, 3, 5, 17}})
    for (const Ints &axes : subsets(static_cast<int64_t>(s.size())))
      for (int64_t keepdims : {0, 1}) {
        Node n = make_node(OpKind::ReduceSum);
        n.attrs.set("axes", axes);
        n.attrs.set("keepdims", keepdims);
        expect_matches_reference(n, {random_tensor(s, 80)}, sum_tol(numel_of(s)));
      }
}

TEST(CpuTraining, ReduceSumBiasGradientsAndEdges) {
  struct Case {
    Shape shape;
    Ints axes;
  };
  for (const Case &c : {Case{{128, 4096}, {0}}, Case{{32, 96, 55, 55}, {0, 2, 3}},
                        Case{{128, 1000}, {0}}, Case{{7, 300001}, {1}}, Case{{}, {}},
                        Case{{100003}, {0}}, Case{{3, 0, 2}, {1}}, Case{{5, 1, 1}, {1, 2}}}) {
    Node n = make_node(OpKind::ReduceSum);
    n.attrs.set("axes", c.axes);
    n.attrs.set("keepdims", int64_t{0});
    expect_matches_reference(n, {random_tensor(c.shape, 81)}, sum_tol(numel_of(c.shape)));
  }
}

// --- ActivationGrad -------------------------------------------------------------

TEST(CpuTraining, ActivationGradEveryActivationBitExact) {
  struct Case {
    const char *name;
    float min, max, lo, hi;
  };
  for (const Case &c : {Case{"Relu", 0, 0, -1.f, 1.f}, Case{"Sigmoid", 0, 0, 0.f, 1.f},
                        Case{"Tanh", 0, 0, -1.f, 1.f}, Case{"Clip", -0.5f, 0.5f, -0.5f, 0.5f},
                        Case{"Clip", 0.f, kInf, 0.f, 3.f}, Case{"Clip", -kInf, 6.f, -2.f, 6.f}}) {
    Node n = make_node(OpKind::ActivationGrad);
    n.attrs.set("activation", std::string(c.name));
    if (std::string(c.name) == "Clip") {
      n.attrs.set("activation_min", c.min);
      n.attrs.set("activation_max", c.max);
    }
    Tensor y = random_tensor({5, 7, 331}, 90, c.lo, c.hi);
    // The kinks: exactly 0, and Clip's bounds.
    for (size_t i = 0; i < y.data.size(); i += 11)
      y.data[i] = i % 2 ? c.lo : (i % 3 ? c.hi : 0.f);
    expect_matches_reference(n, {random_tensor({5, 7, 331}, 91), y}, 0);
  }
}

// --- LRNGrad --------------------------------------------------------------------

TEST(CpuTraining, LRNGradSizesAndBetas) {
  for (int64_t size : {1, 2, 3, 4, 5, 7})
    for (float beta : {0.75f, 0.5f, 1.3f})
      for (Shape s : {Shape{2, 5, 7, 3}, Shape{1, 3, 37}, Shape{2, 9, 17, 5}}) {
        Node n = make_node(OpKind::LRNGrad);
        set_lrn(n, size, 0.1f, beta, 1.5f);
        expect_matches_reference(
            n, {random_tensor(s, 100, -2.f, 2.f), random_tensor(s, 101), random_tensor(s, 102)},
            1e-5);
      }
}

TEST(CpuTraining, LRNGradAlexNetLayer) {
  Node n = make_node(OpKind::LRNGrad);
  set_lrn(n, 5, 1e-4f, 0.75f, 1.f);
  const Shape s = {2, 96, 55, 55};
  expect_matches_reference(
      n, {random_tensor(s, 103, -3.f, 3.f), random_tensor(s, 104), random_tensor(s, 105)}, 1e-5);
}

// --- MaxPoolGrad and AveragePoolGrad ----------------------------------------------

struct PoolCase {
  Shape x;
  Ints kernel, strides, pads, dilations;
  int64_t ceil_mode;
};

std::vector<PoolCase> pool_cases() {
  return {
      {{2, 3, 13, 13}, {3, 3}, {2, 2}, {0, 0, 0, 0}, {1, 1}, 0},
      {{2, 3, 13, 13}, {3, 3}, {2, 2}, {0, 0, 0, 0}, {1, 1}, 1},
      {{1, 2, 12, 15}, {2, 2}, {2, 2}, {0, 0, 0, 0}, {1, 1}, 0},
      {{1, 2, 11, 17}, {3, 3}, {1, 1}, {1, 1, 1, 1}, {1, 1}, 0},
      {{2, 2, 10, 19}, {3, 2}, {2, 3}, {1, 0, 2, 1}, {1, 1}, 1},
      {{1, 3, 9, 21}, {2, 3}, {1, 2}, {0, 1, 1, 0}, {2, 2}, 0},
      {{1, 1, 5, 5}, {5, 5}, {1, 1}, {2, 2, 2, 2}, {1, 1}, 0},
      {{1, 2, 33, 35}, {3, 3}, {3, 3}, {1, 2, 1, 2}, {1, 1}, 1},
      {{1, 1, 7, 40}, {1, 4}, {1, 3}, {0, 2, 0, 1}, {1, 1}, 0},
      {{1, 2, 9, 70}, {2, 3}, {1, 2}, {0, 1, 1, 0}, {1, 1}, 1},
      {{1, 2, 6, 75}, {3, 5}, {2, 1}, {1, 2, 0, 1}, {1, 1}, 0},
  };
}

TEST(CpuTraining, MaxPoolGradWindowsBitExact) {
  for (const PoolCase &c : pool_cases()) {
    Node n = make_node(OpKind::MaxPoolGrad);
    set_window(n, c.kernel, c.strides, c.pads, c.dilations);
    n.attrs.set("ceil_mode", c.ceil_mode);
    Node pool = make_node(OpKind::MaxPool);
    pool.attrs = n.attrs;
    Shape ys = run1(pool, {random_tensor(c.x, 1)}).type.shape;
    // Values on a coarse grid, so windows hold ties; some -inf and NaN.
    Tensor x = random_tensor(c.x, 110, -3.f, 3.f);
    for (size_t i = 0; i < x.data.size(); ++i) {
      x.data[i] = std::round(x.data[i]);
      if (i % 17 == 5)
        x.data[i] = -kInf;
      if (i % 29 == 11)
        x.data[i] = kNaN;
    }
    expect_matches_reference(n, {x, random_tensor(ys, 111)}, 0);
  }
}

TEST(CpuTraining, AveragePoolGradWindowsBitExact) {
  for (const PoolCase &c : pool_cases())
    for (int64_t include_pad : {0, 1}) {
      Node n = make_node(OpKind::AveragePoolGrad);
      set_window(n, c.kernel, c.strides, c.pads, c.dilations);
      n.attrs.set("ceil_mode", c.ceil_mode);
      n.attrs.set("count_include_pad", include_pad);
      n.attrs.set("input_shape", c.x);
      Node pool = make_node(OpKind::AveragePool);
      pool.attrs = n.attrs;
      pool.attrs.erase("input_shape");
      Shape ys = run1(pool, {random_tensor(c.x, 1)}).type.shape;
      expect_matches_reference(n, {random_tensor(ys, 120)}, 0);
    }
}

TEST(CpuTraining, PoolGradsAlexNetLayer) {
  // conv1's pool: [N, 96, 55, 55], 3x3 windows, stride 2.
  const Shape x = {4, 96, 55, 55}, y = {4, 96, 27, 27};
  Node max = make_node(OpKind::MaxPoolGrad);
  set_window(max, {3, 3}, {2, 2}, {0, 0, 0, 0});
  max.attrs.set("ceil_mode", int64_t{0});
  expect_matches_reference(max, {random_tensor(x, 130), random_tensor(y, 131)}, 0);
  Node avg = make_node(OpKind::AveragePoolGrad);
  set_window(avg, {3, 3}, {2, 2}, {0, 0, 0, 0});
  avg.attrs.set("ceil_mode", int64_t{0});
  avg.attrs.set("count_include_pad", int64_t{0});
  avg.attrs.set("input_shape", x);
  expect_matches_reference(avg, {random_tensor(y, 132)}, 0);
}

// --- SoftmaxGrad and LogSoftmaxGrad -------------------------------------------------

TEST(CpuTraining, SoftmaxGradsEveryAxis) {
  for (OpKind op : {OpKind::SoftmaxGrad, OpKind::LogSoftmaxGrad})
    for (Shape s : {Shape{3, 5, 17}, Shape{2, 33, 7}, Shape{128, 1000}, Shape{9}}) {
      for (int64_t axis = 0; axis < static_cast<int64_t>(s.size()); ++axis) {
        Node n = make_node(op);
        n.attrs.set("axis", axis);
        // Y as a (log-)softmax produces it: positive below 1, or negative.
        Tensor y = op == OpKind::SoftmaxGrad ? random_tensor(s, 140, 0.f, 1.f)
                                             : random_tensor(s, 140, -6.f, 0.f);
        expect_matches_reference(n, {y, random_tensor(s, 141)},
                                 sum_tol(s[static_cast<size_t>(axis)]));
      }
    }
}

// --- Empty tensors -------------------------------------------------------------

TEST(CpuTraining, EmptyTensors) {
  Tensor labels = tensor({2}, {0.f, 1.f});
  expect_matches_reference(make_node(OpKind::SoftmaxCrossEntropy),
                           {random_tensor({2, 0}, 160), labels}, 0);
  expect_matches_reference(make_node(OpKind::SoftmaxCrossEntropyGrad),
                           {random_tensor({2, 0}, 160), labels, scalar(1.f)}, 0);
  for (OpKind op : {OpKind::SoftmaxGrad, OpKind::LogSoftmaxGrad}) {
    Node n = make_node(op);
    n.attrs.set("axis", int64_t{1});
    expect_matches_reference(n, {random_tensor({4, 0}, 161), random_tensor({4, 0}, 162)}, 0);
  }
  Node grad = make_node(OpKind::BatchNormGrad, 3);
  grad.attrs.set("epsilon", 1e-5f);
  expect_matches_reference(grad,
                           {random_tensor({0, 3, 2}, 163), random_tensor({3}, 164),
                            random_tensor({3}, 165), random_tensor({3}, 166),
                            random_tensor({0, 3, 2}, 167)},
                           0);
  Node lrn = make_node(OpKind::LRNGrad);
  set_lrn(lrn, 3, 1e-4f, 0.75f, 1.f);
  const Shape s = {2, 3, 0};
  expect_matches_reference(
      lrn, {random_tensor(s, 168), random_tensor(s, 169), random_tensor(s, 170)}, 0);
}

// --- SgdUpdate ------------------------------------------------------------------

TEST(CpuTraining, SgdUpdateBitExact) {
  for (int64_t n : {1, 15, 16, 17, 1000, 100003, 4096 * 1024 + 5}) {
    Node node = make_node(OpKind::SgdUpdate, 2);
    node.attrs.set("momentum", 0.9f);
    node.attrs.set("weight_decay", 5e-4f);
    expect_matches_reference(node,
                             {random_tensor({n}, 150), random_tensor({n}, 151, -0.1f, 0.1f),
                              random_tensor({n}, 152), scalar(0.01f)},
                             0);
  }
  Node node = make_node(OpKind::SgdUpdate, 2);
  node.attrs.set("momentum", 0.f);
  node.attrs.set("weight_decay", 0.f);
  expect_matches_reference(node,
                           {random_tensor({3, 5, 7}, 153), random_tensor({3, 5, 7}, 154),
                            random_tensor({3, 5, 7}, 155), scalar(0.1f)},
                           0);
}

} // namespace
} // namespace anet::test
