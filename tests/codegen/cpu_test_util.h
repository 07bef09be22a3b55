#pragma once
// The conformance check of the generated kernels: a node runs as a one-node
// program on the device under test and on the reference device, and every
// output element must agree. The device under test is test_device_config():
// "cpu" (JIT-compiled kernels; codegen_tests), "emu" (the CUDA kernels,
// emulated; codegen_emu_tests) or "cuda" (codegen_gpu_tests). The three
// binaries link the same compiled test files (codegen_conformance); the
// latter two set the device in their main (device_main.cpp).
//
// Tolerance: |cpu - ref| <= tol * (1 + |ref|). Kernels that only reorder a
// float sum (GEMM, convolution, reductions) differ from the reference's
// plain loop order by rounding: pass tol = 1e-6 * sqrt(terms summed) * 4 or
// so (the expected random-walk growth of the rounding error); kernels that
// compute the same expression in the same order pass tol = 0.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <set>
#include <string>

#include "runtime/device.h"
#include "runtime/executor.h"
#include "tests/runtime/op_test_util.h"

namespace anet::test {

/// A tensor of `shape` with uniform values in [lo, hi), from `seed`.
inline Tensor random_tensor(Shape shape, uint32_t seed, float lo = -1.f, float hi = 1.f) {
  Tensor t(TensorType{DType::F32, std::move(shape)});
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  for (float &v : t.data)
    v = dist(gen);
  return t;
}

/// The device under test and how it is judged.
struct TestDeviceConfig {
  std::string name = "cpu";
  /// The least tolerance of every comparison: 0 where the device computes
  /// what the reference does (cpu, emu); a GPU's expf, powf and fused
  /// multiply-adds differ from the host's in the last bits (1e-5).
  double min_tol = 0.0;
  /// Skip, visibly, where the device cannot be made (no GPU), instead of
  /// failing.
  bool skip_without_device = false;
};

/// The process's configuration (set by main before the tests run).
inline TestDeviceConfig &test_device_config() {
  static TestDeviceConfig config;
  return config;
}

/// The device under test, created once per test process (its thread pool
/// and JIT are shared by every test); null if it cannot be made, with the
/// reason in *why.
inline Device *test_device(std::string *why) {
  static std::string reason;
  static std::unique_ptr<Device> device = [] {
    auto d = make_device(test_device_config().name);
    if (!d.ok()) {
      reason = d.error().message;
      return std::unique_ptr<Device>();
    }
    return std::move(*d);
  }();
  *why = reason;
  return device.get();
}

/// Runs a one-node program of `node` over `inputs` on `device`, `runs`
/// times on one executor (each run's outputs must equal the first's, bit
/// for bit); returns the first run's outputs.
inline std::vector<Tensor> run_on(Device &device, const Node &node,
                                  const std::vector<Tensor> &inputs, int runs = 1) {
  Graph program = one_node_program(node, inputs);
  auto ex = Executor::create(program, {}, device);
  if (!ex.ok()) {
    ADD_FAILURE() << device.name() << ": " << ex.error().message;
    return {};
  }
  std::vector<Tensor> first;
  for (int run = 0; run < runs; ++run) {
    auto outputs = ex->run(inputs);
    if (!outputs.ok()) {
      ADD_FAILURE() << device.name() << ": " << outputs.error().message;
      return {};
    }
    if (run == 0)
      first = std::move(*outputs);
    else
      for (size_t k = 0; k < first.size(); ++k)
        EXPECT_EQ(0, std::memcmp(first[k].data.data(), (*outputs)[k].data.data(),
                                 first[k].data.size() * sizeof(float)))
            << device.name() << ": run " << run + 1 << " differs from run 1 in output " << k;
  }
  return first;
}

/// Every output of `got` within `tol` of `want` (see the file comment).
inline void expect_close(const Node &node, const std::vector<Tensor> &got,
                         const std::vector<Tensor> &want, double tol) {
  const TestDeviceConfig &config = test_device_config();
  ASSERT_EQ(got.size(), want.size());
  for (size_t k = 0; k < want.size(); ++k) {
    ASSERT_EQ(got[k].type, want[k].type) << "output " << k;
    int reported = 0;
    for (size_t i = 0; i < want[k].data.size(); ++i) {
      const double w = want[k].data[i], g = got[k].data[i];
      const bool same =
          std::isnan(w) ? std::isnan(g) : g == w || std::abs(g - w) <= tol * (1 + std::abs(w));
      if (!same && reported++ < 5)
        ADD_FAILURE() << op_name(node.op) << " output " << k << " element " << i << " of "
                      << shape_string(want[k].type.shape) << ": " << config.name << " " << g
                      << ", reference " << w;
    }
    EXPECT_EQ(reported, 0) << reported << " elements differ";
  }
}

/// The device under test, or a skip or failure saying why there is none.
#define ANET_TEST_DEVICE_OR_RETURN(device)                                                         \
  std::string why;                                                                                 \
  Device *device = test_device(&why);                                                              \
  if (!device && test_device_config().skip_without_device)                                         \
    GTEST_SKIP() << "no " << test_device_config().name << " device: " << why;                      \
  ASSERT_NE(device, nullptr) << why

/// Checks that the generated kernel of `node` computes what its reference
/// kernel does on `inputs`, within `tol` (see the file comment).
inline void expect_matches_reference(const Node &node, const std::vector<Tensor> &inputs,
                                     double tol, int runs = 1) {
  ANET_TEST_DEVICE_OR_RETURN(device);
  tol = std::max(tol, test_device_config().min_tol);
  std::unique_ptr<Device> ref = make_reference_device();
  expect_close(node, run_on(*device, node, inputs, runs), run_on(*ref, node, inputs), tol);
}

/// As expect_matches_reference, with the inputs at `params` as the
/// program's weights, which a kernel may prepare once and keep (cpu:
/// constant weights packed into the node's state): two runs must agree bit
/// for bit, and after `next` weights are loaded between runs
/// (Executor::load_weights), a run must match the reference on them.
inline void expect_matches_reference_with_weights(const Node &node,
                                                  const std::vector<Tensor> &inputs,
                                                  const std::vector<Tensor> &next,
                                                  const std::set<size_t> &params, double tol) {
  ANET_TEST_DEVICE_OR_RETURN(device);
  tol = std::max(tol, test_device_config().min_tol);
  const Graph program = one_node_program(node, inputs, params);
  std::vector<Tensor> feed;
  WeightStore weights, next_weights;
  for (size_t i = 0; i < inputs.size(); ++i)
    if (params.count(i)) {
      weights["x" + std::to_string(i)] = inputs[i].data;
      next_weights["x" + std::to_string(i)] = next[i].data;
    } else {
      feed.push_back(inputs[i]);
    }
  auto ex = Executor::create(program, weights, *device);
  ASSERT_TRUE(ex.ok()) << ex.error().message;
  auto first = ex->run(feed), second = ex->run(feed);
  ASSERT_TRUE(first.ok() && second.ok());
  for (size_t k = 0; k < first->size(); ++k)
    EXPECT_EQ(0, std::memcmp((*first)[k].data.data(), (*second)[k].data.data(),
                             (*first)[k].data.size() * sizeof(float)))
        << "run 2 differs from run 1 in output " << k;
  std::unique_ptr<Device> ref = make_reference_device();
  expect_close(node, *first, run_on(*ref, node, inputs), tol);
  ASSERT_TRUE(ex->load_weights(next_weights).ok());
  auto third = ex->run(feed);
  ASSERT_TRUE(third.ok()) << third.error().message;
  std::vector<Tensor> next_inputs = inputs;
  for (size_t i : params)
    next_inputs[i] = next[i];
  expect_close(node, *third, run_on(*ref, node, next_inputs), tol);
}

} // namespace anet::test
