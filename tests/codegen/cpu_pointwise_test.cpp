// The generated CPU kernels of the pointwise family against the reference
// kernels: the unary activations and copies, the broadcasting binary ops in
// every broadcasting pattern, BatchNormalization, LRN, the pools and
// Softmax / LogSoftmax, on odd sizes (not multiples of 16) and every
// attribute variant, plus AlexNet's sizes.
//
// Every kernel but LRN with beta = 0.75 evaluates the reference's
// expression in the reference's order, so it must match exactly (tol 0).
// That LRN replaces powf(s, 0.75) by square roots: at most about 6 roundings
// of 2^-24 apart from the reference's powf and division (see
// codegen/cpu/kernels/normalization.h), hence kLrnRootTol.

#include "tests/codegen/cpu_test_util.h"

#include <limits>

namespace anet::test {
namespace {

using Ints = std::vector<int64_t>;

// Same expression, same order: bit-identical.
constexpr double kExact = 0;
// LRN at beta = 0.75 (relative): 6.2 * 2^-24 rounded up.
constexpr double kLrnRootTol = 4e-7;

const float kInf = std::numeric_limits<float>::infinity();

// Shapes with odd sizes around the vector width.
const std::vector<Shape> kOddShapes = {{1},  {7},        {16},           {17},
                                       {33}, {3, 5, 17}, {2, 3, 11, 13}, {5000}};

uint32_t seed_of(size_t i) { return static_cast<uint32_t>(1000 + i); }

Node clip(float lo, float hi) {
  Node n = make_node(OpKind::Clip);
  n.attrs.set("min", lo);
  n.attrs.set("max", hi);
  return n;
}

Node dropout(float ratio) {
  Node n = make_node(OpKind::Dropout);
  n.attrs.set("ratio", ratio);
  return n;
}

TEST(CpuPointwise, Activations) {
  size_t i = 0;
  for (OpKind op : {OpKind::Relu, OpKind::Sigmoid, OpKind::Tanh, OpKind::Identity})
    for (const Shape &s : kOddShapes) {
      SCOPED_TRACE(std::string(op_name(op)) + " " + shape_string(s));
      expect_matches_reference(make_node(op), {random_tensor(s, seed_of(i++), -6.f, 6.f)}, kExact);
    }
}

TEST(CpuPointwise, DropoutIsIdentityAtInference) {
  for (float ratio : {0.f, 0.5f, 0.9f})
    expect_matches_reference(dropout(ratio), {random_tensor({3, 37}, 7)}, kExact);
}

TEST(CpuPointwise, ClipBounds) {
  struct Bounds {
    float lo, hi;
  };
  // Unbounded sides, an empty range and min > max (every value becomes max).
  const Bounds cases[] = {{-0.5f, 0.5f}, {-kInf, 0.25f}, {0.f, kInf}, {-kInf, kInf},
                          {0.3f, 0.3f},  {1.f, -1.f},    {2.f, 3.f}};
  size_t i = 0;
  for (const Bounds &b : cases)
    for (const Shape &s : {Shape{37}, Shape{2, 3, 7, 5}}) {
      SCOPED_TRACE(std::to_string(b.lo) + ".." + std::to_string(b.hi));
      expect_matches_reference(clip(b.lo, b.hi), {random_tensor(s, seed_of(i++), -2.f, 2.f)},
                               kExact);
    }
}

// Replaces every 5th element by NaN, -0 or a huge value (no outputs become
// infinite: the comparison cannot tell equal infinities apart).
Tensor with_specials(Tensor t) {
  const float specials[] = {std::numeric_limits<float>::quiet_NaN(), -0.f, 1e30f, -1e30f};
  for (size_t i = 0; i < t.data.size(); i += 5)
    t.data[i] = specials[i / 5 % 4];
  return t;
}

TEST(CpuPointwise, SpecialValues) {
  const Tensor x = with_specials(random_tensor({2, 3, 9, 11}, 5));
  for (OpKind op : {OpKind::Relu, OpKind::Identity})
    expect_matches_reference(make_node(op), {x}, kExact);
  expect_matches_reference(clip(-1.f, 1.f), {x}, kExact);
  Node pool = make_node(OpKind::MaxPool);
  set_window(pool, {3, 3}, {2, 2}, {1, 1, 1, 1});
  pool.attrs.set("ceil_mode", int64_t{0});
  expect_matches_reference(pool, {x}, kExact);
  expect_matches_reference(make_node(OpKind::Add), {x, random_tensor({11}, 6)}, kExact);
}

// ---- Broadcasting binary ops ----------------------------------------------

struct BroadcastCase {
  const char *name;
  Shape a, b;
};

const BroadcastCase kBroadcastCases[] = {
    {"same shape", {2, 3, 37}, {2, 3, 37}},
    {"same shape, long row", {2, 5000}, {2, 5000}},
    {"scalar right", {5, 19}, {}},
    {"scalar left", {}, {5, 19}},
    {"one-element right", {3, 7, 9}, {1}},
    {"row", {7, 33}, {33}},
    {"row, long", {3, 4500}, {4500}},
    {"row, left", {33}, {7, 33}},
    {"column", {7, 33}, {7, 1}},
    {"column, left", {7, 1}, {7, 33}},
    {"middle axis", {3, 5, 17}, {1, 5, 1}},
    {"channel bias", {2, 96, 5, 7}, {96, 1, 1}},
    {"channel bias, left", {96, 1, 1}, {2, 96, 5, 7}},
    {"both sides", {5, 1}, {1, 7}},
    {"both sides, 3-D", {4, 1, 19}, {1, 6, 1}},
    {"both sides, 4-D", {1, 3, 1, 18}, {2, 1, 5, 1}},
    {"leading ones", {1, 1, 40}, {40}},
    {"inner ones", {6, 1, 1}, {6, 1, 1}},
    {"outer broadcast, inner contiguous", {3, 1, 20}, {1, 4, 20}},
    {"single element", {1, 1}, {1}},
    {"scalars", {}, {}},
};

// Every pattern with Add and Div; Sub and Mul share the code, so a few.
TEST(CpuPointwise, BinaryBroadcasting) {
  size_t i = 0;
  for (OpKind op : {OpKind::Add, OpKind::Sub, OpKind::Mul, OpKind::Div})
    for (const BroadcastCase &c : kBroadcastCases) {
      i += 2;
      if ((op == OpKind::Sub || op == OpKind::Mul) && i % 5 != 0)
        continue;
      SCOPED_TRACE(std::string(op_name(op)) + ", " + c.name);
      // Divisors stay away from zero.
      expect_matches_reference(make_node(op),
                               {random_tensor(c.a, seed_of(i), -3.f, 3.f),
                                random_tensor(c.b, seed_of(i + 1), 0.5f, 2.f)},
                               kExact);
    }
}

TEST(CpuPointwise, BinarySameBufferTwice) {
  const Tensor x = random_tensor({3, 41}, 11);
  expect_matches_reference(make_node(OpKind::Mul), {x, x}, kExact);
}

// ---- BatchNormalization ---------------------------------------------------

Node batch_norm(float epsilon) {
  Node n = make_node(OpKind::BatchNormalization);
  n.attrs.set("epsilon", epsilon);
  return n;
}

TEST(CpuPointwise, BatchNormalization) {
  const std::vector<Shape> shapes = {{2, 3, 7, 9}, {5, 20},          {3, 17, 1, 1},
                                     {2, 4, 5},    {1, 35, 2, 3, 3}, {2, 96, 55, 55}};
  size_t i = 0;
  for (float epsilon : {1e-5f, 1e-3f})
    for (const Shape &s : shapes) {
      SCOPED_TRACE(shape_string(s));
      const Shape c = {s[1]};
      expect_matches_reference(batch_norm(epsilon),
                               {random_tensor(s, seed_of(i)), random_tensor(c, seed_of(i + 1)),
                                random_tensor(c, seed_of(i + 2)), random_tensor(c, seed_of(i + 3)),
                                random_tensor(c, seed_of(i + 4), 0.1f, 2.f)},
                               kExact);
      i += 5;
    }
}

// ---- LRN ------------------------------------------------------------------

Node lrn(int64_t size, float alpha, float beta, float bias) {
  Node n = make_node(OpKind::LRN);
  set_lrn(n, size, alpha, beta, bias);
  return n;
}

TEST(CpuPointwise, LrnSizesAndExponents) {
  // Fewer channels than the window, a window of one, even and odd sizes,
  // rank 3 and rank 5, spatial sizes around the vector width; each size and
  // beta meets two of the shapes. Beta 0.5 and 1 are exponents Clang would
  // rewrite if it saw them.
  const std::vector<Shape> shapes = {{2, 7, 5, 5},   {1, 2, 9, 9},    {1, 3, 33}, {1, 16, 17, 3},
                                     {2, 11, 1, 16}, {1, 6, 2, 3, 5}, {1, 9, 40}};
  size_t i = 0;
  for (int64_t size : {1, 2, 3, 4, 5, 7})
    for (float beta : {0.75f, 0.5f, 1.f, 0.3f})
      for (int k = 0; k < 2; ++k) {
        const Shape &s = shapes[i % shapes.size()];
        SCOPED_TRACE("size " + std::to_string(size) + ", beta " + std::to_string(beta) + ", " +
                     shape_string(s));
        // Alternately a large alpha, so that the window's squares dominate.
        const float alpha = i % 2 ? 1e-4f : 0.5f, bias = i % 3 ? 1.f : 2.f;
        expect_matches_reference(lrn(size, alpha, beta, bias),
                                 {random_tensor(s, seed_of(i++), -3.f, 3.f)},
                                 beta == 0.75f ? kLrnRootTol : kExact);
      }
}

TEST(CpuPointwise, LrnRootsAcrossMagnitudes) {
  // s = bias + alpha/size * sum spans many binades: the square-root form of
  // s^-0.75 against powf.
  for (float bias : {1e-3f, 1.f, 1e3f})
    expect_matches_reference(lrn(5, 1.f, 0.75f, bias), {random_tensor({2, 9, 40}, 13, -1e3f, 1e3f)},
                             kLrnRootTol);
}

TEST(CpuPointwise, LrnAlexNet) {
  const Tensor x = random_tensor({2, 96, 55, 55}, 17, -4.f, 4.f);
  // AlexNet's paper (k = 2) and the ONNX model zoo's (bias 1).
  expect_matches_reference(lrn(5, 1e-4f, 0.75f, 2.f), {x}, kLrnRootTol);
  expect_matches_reference(lrn(5, 1e-4f, 0.75f, 1.f), {random_tensor({2, 256, 27, 27}, 18)},
                           kLrnRootTol);
}

// ---- MaxPool and AveragePool ----------------------------------------------

struct PoolCase {
  const char *name;
  Shape x;
  Ints kernel, strides, pads, dilations;
  int64_t ceil_mode;
};

const PoolCase kPoolCases[] = {
    {"3x3 s2 (AlexNet)", {1, 3, 13, 17}, {3, 3}, {2, 2}, {0, 0, 0, 0}, {1, 1}, 0},
    {"3x3 s2 ceil", {1, 3, 14, 18}, {3, 3}, {2, 2}, {0, 0, 0, 0}, {1, 1}, 1},
    {"2x2 s2", {2, 2, 10, 11}, {2, 2}, {2, 2}, {0, 0, 0, 0}, {1, 1}, 0},
    {"3x3 s1 p1", {1, 2, 9, 37}, {3, 3}, {1, 1}, {1, 1, 1, 1}, {1, 1}, 0},
    {"5x3 s(2,3) asymmetric pads", {2, 3, 19, 23}, {5, 3}, {2, 3}, {2, 1, 0, 2}, {1, 1}, 0},
    {"asymmetric pads ceil", {1, 2, 11, 20}, {4, 4}, {3, 3}, {1, 2, 3, 0}, {1, 1}, 1},
    {"3x3 s2 dilation 2", {1, 2, 17, 21}, {3, 3}, {2, 2}, {1, 1, 1, 1}, {2, 2}, 0},
    {"2x3 dilations (3,2) ceil", {1, 2, 16, 25}, {2, 3}, {1, 2}, {0, 1, 1, 0}, {3, 2}, 1},
    {"1x1", {1, 3, 5, 7}, {1, 1}, {1, 1}, {0, 0, 0, 0}, {1, 1}, 0},
    {"stride larger than the kernel", {1, 2, 14, 17}, {2, 2}, {3, 3}, {0, 0, 0, 0}, {1, 1}, 1},
    {"kernel larger than the input", {1, 2, 5, 5}, {7, 7}, {1, 1}, {1, 1, 1, 1}, {1, 1}, 0},
    {"wide rows", {1, 2, 5, 70}, {3, 2}, {1, 1}, {1, 0, 1, 1}, {1, 1}, 0},
    {"32 outputs a row", {1, 1, 4, 32}, {1, 1}, {1, 1}, {0, 0, 0, 0}, {1, 1}, 0},
    {"stride 4", {1, 2, 23, 75}, {3, 5}, {4, 4}, {1, 2, 1, 2}, {1, 1}, 1},
    {"one row", {3, 2, 1, 40}, {1, 3}, {1, 2}, {0, 1, 0, 1}, {1, 1}, 1},
};

Node pool_node(OpKind op, const PoolCase &c) {
  Node n = make_node(op);
  set_window(n, c.kernel, c.strides, c.pads, c.dilations);
  n.attrs.set("ceil_mode", c.ceil_mode);
  return n;
}

TEST(CpuPointwise, MaxPool) {
  size_t i = 0;
  for (const PoolCase &c : kPoolCases) {
    SCOPED_TRACE(c.name);
    // All negative too: a padding read as 0 would show.
    expect_matches_reference(pool_node(OpKind::MaxPool, c), {random_tensor(c.x, seed_of(i++))},
                             kExact);
    expect_matches_reference(pool_node(OpKind::MaxPool, c),
                             {random_tensor(c.x, seed_of(i++), -2.f, -1.f)}, kExact);
  }
}

TEST(CpuPointwise, AveragePool) {
  // Windows that hold only padding: 0 / 0 without count_include_pad. (Max
  // pooling them gives -inf, which the comparison cannot check.)
  std::vector<PoolCase> cases(std::begin(kPoolCases), std::end(kPoolCases));
  cases.push_back(
      {"windows only in padding", {1, 2, 3, 3}, {1, 1}, {1, 1}, {2, 2, 2, 2}, {1, 1}, 0});
  size_t i = 0;
  for (const PoolCase &c : cases)
    for (int64_t include_pad : {0, 1}) {
      SCOPED_TRACE(std::string(c.name) + ", count_include_pad " + std::to_string(include_pad));
      Node n = pool_node(OpKind::AveragePool, c);
      n.attrs.set("count_include_pad", include_pad);
      expect_matches_reference(n, {random_tensor(c.x, seed_of(i++))}, kExact);
    }
}

TEST(CpuPointwise, PoolsAlexNet) {
  // AlexNet's three max pools (3x3, stride 2).
  for (const Shape &s : {Shape{2, 96, 55, 55}, Shape{2, 256, 27, 27}, Shape{2, 256, 13, 13}}) {
    SCOPED_TRACE(shape_string(s));
    const PoolCase c = {"AlexNet", s, {3, 3}, {2, 2}, {0, 0, 0, 0}, {1, 1}, 0};
    expect_matches_reference(pool_node(OpKind::MaxPool, c), {random_tensor(s, 19)}, kExact);
  }
}

TEST(CpuPointwise, GlobalAveragePool) {
  // Fewer than 16 planes, whole blocks of 16 plus a rest, rank 3 and 5.
  const std::vector<Shape> shapes = {{2, 3, 7, 7},    {2, 40, 7, 7},   {1, 17, 5},
                                     {2, 8, 3, 4, 5}, {1, 16, 1, 1},   {1, 20, 56, 56},
                                     {4, 512, 3, 3},  {1, 33, 1, 1, 1}};
  size_t i = 0;
  for (const Shape &s : shapes) {
    SCOPED_TRACE(shape_string(s));
    expect_matches_reference(make_node(OpKind::GlobalAveragePool), {random_tensor(s, seed_of(i++))},
                             kExact);
  }
}

// ---- Softmax and LogSoftmax -----------------------------------------------

TEST(CpuPointwise, SoftmaxAxes) {
  struct AxisCase {
    Shape x;
    int64_t axis;
  };
  // Rows of classes, a middle axis (16 lines a vector, plus a rest), the
  // first axis, a single element, rank 1 and a scalar.
  const AxisCase cases[] = {{{4, 1000}, 1}, {{3, 17}, 1},   {{2, 5, 33}, 1}, {{7, 20}, 0},
                            {{3, 4, 5}, 0}, {{3, 4, 5}, 1}, {{3, 4, 5}, 2},  {{1, 1}, 1},
                            {{1000}, 0},    {{}, 0},        {{2, 3, 16}, 1}, {{1, 10, 1, 1}, 1}};
  size_t i = 0;
  for (OpKind op : {OpKind::Softmax, OpKind::LogSoftmax})
    for (const AxisCase &c : cases) {
      SCOPED_TRACE(std::string(op_name(op)) + " " + shape_string(c.x) + " axis " +
                   std::to_string(c.axis));
      Node n = make_node(op);
      n.attrs.set("axis", c.axis);
      // Wide logits: exp underflows for some, the maximum matters.
      expect_matches_reference(n, {random_tensor(c.x, seed_of(i++), -60.f, 60.f)}, kExact);
    }
}

} // namespace
} // namespace anet::test
