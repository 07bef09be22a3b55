// Tests of the deterministic random numbers behind weight initialisation:
// reference values (so the same seed gives the same weights on every
// platform), the distribution's moments and tail fractions, and the
// independence of per-tensor streams.

#include "models/normal_generator.h"

#include <cmath>
#include <vector>

#include <gtest/gtest.h>

namespace anet::models {
namespace {

TEST(NormalGenerator, Splitmix64MatchesTheReference) {
  // First output of Vigna's splitmix64.c from state 0.
  uint64_t state = 0;
  EXPECT_EQ(splitmix64_next(state), 0xE220A8397B1DCDAFull);
  EXPECT_EQ(state, 0x9E3779B97F4A7C15ull);
}

TEST(NormalGenerator, OutputsArePinned) {
  // Pinned outputs: a change here changes every model's weights.
  NormalGenerator g(0);
  EXPECT_EQ(g.next_u64(), 0x99EC5F36CB75F2B4ull);
  EXPECT_EQ(g.next_u64(), 0xBF6E1F784956452Aull);
  EXPECT_EQ(g.next_u64(), 0x1A5F849D4933E6E0ull);
  NormalGenerator h(0);
  EXPECT_NEAR(h.next_normal(), 0.5981026483626094, 1e-15);
  EXPECT_NEAR(h.next_normal(), 1.4634599192204392, 1e-15);
  EXPECT_NEAR(h.next_normal(), -0.89505255323799138, 1e-15);
  EXPECT_NEAR(h.next_normal(), -0.1880627660388742, 1e-15);
  EXPECT_EQ(tensor_seed(0, "conv1.weight"), 0x8B8A08A85128A1B0ull);
}

TEST(NormalGenerator, SameSeedSameStream) {
  NormalGenerator a(42), b(42), c(43);
  bool differs = false;
  for (int i = 0; i < 1000; ++i) {
    const double x = a.next_normal();
    ASSERT_EQ(x, b.next_normal());
    differs |= x != c.next_normal();
  }
  EXPECT_TRUE(differs);
}

TEST(NormalGenerator, UniformIsInUnitInterval) {
  NormalGenerator g(7);
  double sum = 0, lo = 1, hi = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    const double u = g.next_uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
    lo = std::min(lo, u);
    hi = std::max(hi, u);
  }
  EXPECT_NEAR(sum / n, 0.5, 5 * std::sqrt(1.0 / 12 / n));
  EXPECT_LT(lo, 1e-4);
  EXPECT_GT(hi, 1 - 1e-4);
}

TEST(NormalGenerator, NormalHasStandardMomentsAndTails) {
  NormalGenerator g(12345);
  const int n = 1000000;
  double s1 = 0, s2 = 0, s4 = 0;
  int within1 = 0, within2 = 0;
  for (int i = 0; i < n; ++i) {
    const double x = g.next_normal();
    s1 += x;
    s2 += x * x;
    s4 += x * x * x * x;
    within1 += std::abs(x) < 1;
    within2 += std::abs(x) < 2;
  }
  // Five standard errors for each estimate.
  EXPECT_NEAR(s1 / n, 0.0, 5 / std::sqrt(n));
  EXPECT_NEAR(s2 / n, 1.0, 5 * std::sqrt(2.0 / n));
  EXPECT_NEAR(s4 / n, 3.0, 5 * std::sqrt(96.0 / n));
  EXPECT_NEAR(static_cast<double>(within1) / n, 0.682689, 5 * std::sqrt(0.2166 / n));
  EXPECT_NEAR(static_cast<double>(within2) / n, 0.954500, 5 * std::sqrt(0.0434 / n));
}

TEST(NormalGenerator, TensorSeedsDependOnSeedAndName) {
  EXPECT_EQ(tensor_seed(1, "fc6.weight"), tensor_seed(1, "fc6.weight"));
  EXPECT_NE(tensor_seed(1, "fc6.weight"), tensor_seed(2, "fc6.weight"));
  EXPECT_NE(tensor_seed(1, "fc6.weight"), tensor_seed(1, "fc7.weight"));
  EXPECT_NE(tensor_seed(0, ""), tensor_seed(1, ""));
}

} // namespace
} // namespace anet::models
