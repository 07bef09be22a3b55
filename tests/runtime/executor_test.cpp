// The executor on the reference device: binding of weights and constants,
// input checking, multi-output nodes, repeated runs and moves; and its
// ordered, recording path (the one cuda and emu take) on the reference
// device behind a recording wrapper.

#include "runtime/executor.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>

#include "ir/parser.h"
#include "tests/runtime/op_test_util.h"

namespace anet::test {
namespace {

TensorType f32(Shape s) { return TensorType{DType::F32, std::move(s)}; }

// y = relu(x W^T + b): x an input [2,3], W a param [2,3], b a constant [2].
Graph dense_program() {
  Graph g;
  g.name = "dense";
  ValueId x = g.add_value("x", f32({2, 3}), ValueKind::Input);
  ValueId w = g.add_value("W", f32({2, 3}), ValueKind::Param);
  ValueId b = g.add_value("b", f32({2}), ValueKind::Constant);
  g.constants[b] = {0.5f, -100.f};
  ValueId z = g.add_value("z", f32({2, 2}), ValueKind::Activation);
  ValueId y = g.add_value("y", f32({2, 2}), ValueKind::Activation);
  Node gemm = make_node(OpKind::Gemm);
  gemm.name = "fc";
  gemm.inputs = {x, w, b};
  gemm.outputs = {z};
  gemm.attrs.set("alpha", 1.f);
  gemm.attrs.set("beta", 1.f);
  gemm.attrs.set("transA", int64_t{0});
  gemm.attrs.set("transB", int64_t{1});
  g.add_node(gemm);
  Node relu = make_node(OpKind::Relu);
  relu.name = "relu";
  relu.inputs = {z};
  relu.outputs = {y};
  g.add_node(relu);
  g.outputs = {y};
  return g;
}

const WeightStore kDenseWeights = {{"W", {1, 0, 0, 0, 1, 0}}};

TEST(Executor, RunsAProgramWithParamsAndConstants) {
  auto device = make_reference_device();
  auto ex = Executor::create(dense_program(), kDenseWeights, *device);
  ASSERT_TRUE(ex.ok()) << ex.error().message;
  auto out = ex->run({tensor({2, 3}, {1, 2, 3, 4, 5, 6})});
  ASSERT_TRUE(out.ok()) << out.error().message;
  ASSERT_EQ(out->size(), 1u);
  // Column 0 = x[:,0] + 0.5; column 1 = relu(x[:,1] - 100) = 0.
  expect_tensor((*out)[0], {2, 2}, {1.5f, 0, 4.5f, 0});
}

TEST(Executor, RunningTwiceGivesTheSameResult) {
  auto device = make_reference_device();
  auto ex = Executor::create(dense_program(), kDenseWeights, *device);
  ASSERT_TRUE(ex.ok()) << ex.error().message;
  Tensor x = tensor({2, 3}, {1, 2, 3, 4, 5, 6});
  auto first = ex->run({x});
  auto other = ex->run({tensor({2, 3}, {9, 9, 9, 9, 9, 9})});
  auto second = ex->run({x});
  ASSERT_TRUE(first.ok() && other.ok() && second.ok());
  EXPECT_EQ((*first)[0].data, (*second)[0].data);
  EXPECT_NE((*first)[0].data, (*other)[0].data);
}

TEST(Executor, IsMovable) {
  auto device = make_reference_device();
  auto created = Executor::create(dense_program(), kDenseWeights, *device);
  ASSERT_TRUE(created.ok()) << created.error().message;
  Executor ex = std::move(*created);
  Executor moved(std::move(ex));
  auto out = moved.run({tensor({2, 3}, {1, 2, 3, 4, 5, 6})});
  ASSERT_TRUE(out.ok()) << out.error().message;
  expect_tensor((*out)[0], {2, 2}, {1.5f, 0, 4.5f, 0});
}

TEST(Executor, RejectsAnInputOfTheWrongShape) {
  auto device = make_reference_device();
  auto ex = Executor::create(dense_program(), kDenseWeights, *device);
  ASSERT_TRUE(ex.ok()) << ex.error().message;
  auto out = ex->run({tensor({2, 4}, std::vector<float>(8, 1.f))});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, ExitCode::Usage);
  const std::string &msg = out.error().message;
  EXPECT_NE(msg.find("input 'x'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("f32[2,3]"), std::string::npos) << msg;
  EXPECT_NE(msg.find("f32[2,4]"), std::string::npos) << msg;
}

TEST(Executor, RejectsTheWrongNumberOfInputs) {
  auto device = make_reference_device();
  auto ex = Executor::create(dense_program(), kDenseWeights, *device);
  ASSERT_TRUE(ex.ok()) << ex.error().message;
  auto out = ex->run({});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, ExitCode::Usage);
  EXPECT_NE(out.error().message.find("takes 1 inputs, got 0"), std::string::npos)
      << out.error().message;
}

TEST(Executor, RejectsAMissingWeight) {
  auto device = make_reference_device();
  auto ex = Executor::create(dense_program(), {}, *device);
  ASSERT_FALSE(ex.ok());
  EXPECT_EQ(ex.error().code, ExitCode::IncompatiblePlan);
  EXPECT_NE(ex.error().message.find("weight 'W'"), std::string::npos) << ex.error().message;
  EXPECT_NE(ex.error().message.find("missing"), std::string::npos) << ex.error().message;
}

TEST(Executor, RejectsAWronglySizedWeight) {
  auto device = make_reference_device();
  auto ex = Executor::create(dense_program(), {{"W", {1, 2, 3}}}, *device);
  ASSERT_FALSE(ex.ok());
  EXPECT_EQ(ex.error().code, ExitCode::IncompatiblePlan);
  EXPECT_NE(ex.error().message.find("weight 'W' has 3 elements"), std::string::npos)
      << ex.error().message;
}

TEST(Executor, RejectsAnInvalidProgram) {
  Graph g = dense_program();
  g.nodes[0].attrs.erase("alpha");
  auto device = make_reference_device();
  auto ex = Executor::create(g, kDenseWeights, *device);
  ASSERT_FALSE(ex.ok());
  EXPECT_EQ(ex.error().code, ExitCode::InvalidModel);
  EXPECT_NE(ex.error().message.find("node 'fc' (Gemm)"), std::string::npos) << ex.error().message;
}

TEST(Executor, SplitWithSeveralOutputs) {
  // x [2,4] -> split [1,3] along axis 1 -> (a, b); c = relu(b).
  // Outputs in the order (c, a, b).
  Graph g;
  g.name = "split";
  ValueId x = g.add_value("x", f32({2, 4}), ValueKind::Input);
  ValueId a = g.add_value("a", f32({2, 1}), ValueKind::Activation);
  ValueId b = g.add_value("b", f32({2, 3}), ValueKind::Activation);
  ValueId c = g.add_value("c", f32({2, 3}), ValueKind::Activation);
  Node split = make_node(OpKind::Split, 2);
  split.name = "split";
  split.inputs = {x};
  split.outputs = {a, b};
  split.attrs.set("axis", int64_t{1});
  split.attrs.set("split", std::vector<int64_t>{1, 3});
  g.add_node(split);
  Node relu = make_node(OpKind::Relu);
  relu.name = "relu";
  relu.inputs = {b};
  relu.outputs = {c};
  g.add_node(relu);
  g.outputs = {c, a, b};

  auto device = make_reference_device();
  auto ex = Executor::create(g, {}, *device);
  ASSERT_TRUE(ex.ok()) << ex.error().message;
  auto out = ex->run({tensor({2, 4}, {1, -2, 3, -4, 5, 6, -7, 8})});
  ASSERT_TRUE(out.ok()) << out.error().message;
  ASSERT_EQ(out->size(), 3u);
  expect_tensor((*out)[0], {2, 3}, {0, 3, 0, 6, 0, 8});
  expect_tensor((*out)[1], {2, 1}, {1, 5});
  expect_tensor((*out)[2], {2, 3}, {-2, 3, -4, 6, -7, 8});
}

TEST(Executor, OutputMayBeAnInputOrAParam) {
  Graph g;
  g.name = "passthrough";
  ValueId x = g.add_value("x", f32({2}), ValueKind::Input);
  ValueId w = g.add_value("w", f32({2}), ValueKind::Param);
  g.outputs = {w, x};
  auto device = make_reference_device();
  auto ex = Executor::create(g, {{"w", {7, 8}}}, *device);
  ASSERT_TRUE(ex.ok()) << ex.error().message;
  auto out = ex->run({tensor({2}, {1, 2})});
  ASSERT_TRUE(out.ok()) << out.error().message;
  expect_tensor((*out)[0], {2}, {7, 8});
  expect_tensor((*out)[1], {2}, {1, 2});
}

} // namespace
} // namespace anet::test

namespace anet::test {
namespace {

// An SGD step on a param sliced from a stored weight, with zero-initialised
// momentum: w' = w - lr (g + wd w) from v = 0, written over w in place.
Graph sgd_program() {
  auto g = parse_graph(R"(graph sgd {
  input %g: f32[2]
  input %lr: f32[]
  param %w@1: f32[2] from "w" [4] axis 0 offset 2
  param %w@1.momentum: f32[2] from "w.momentum" [4] axis 0 offset 2
  %w2: f32[2], %v2: f32[2] = SgdUpdate(%w@1, %w@1.momentum, %g, %lr) {momentum=0.9, weight_decay=0.5}
  %out: f32[2] = Identity(%w2)
  state "w.momentum"
  update %w@1 = %w2
  update %w@1.momentum = %v2
  output %out
})");
  EXPECT_TRUE(g.ok()) << g.error().message;
  return *g;
}

TEST(Executor, UpdatesParamsInPlaceAndReadsThemBackWhole) {
  auto device = make_reference_device();
  WeightStore weights{{"w", {1, 2, 3, 4}}};
  auto exec = Executor::create(sgd_program(), weights, *device);
  ASSERT_TRUE(exec.ok()) << exec.error().message;
  Tensor g(f32({2}), {1, 1}), lr(f32({}), {0.1f});
  ASSERT_TRUE(exec->run({g, lr}).ok());
  WeightStore after = weights;
  ASSERT_TRUE(exec->read_weights(after).ok());
  // v = -0.5*0.1*w - 0.1*1; w' = w + v, for the slice [3, 4] only.
  EXPECT_EQ(after.at("w"), (std::vector<float>{1, 2, 3 - 0.15f - 0.1f, 4 - 0.2f - 0.1f}));
  EXPECT_EQ(after.at("w.momentum"), (std::vector<float>{0, 0, -0.25f, -0.3f}));
  // A second run continues from the updated state.
  auto second = exec->run({g, lr});
  ASSERT_TRUE(second.ok());
  EXPECT_NEAR((*second)[0].data[0], 2.75f + (0.9f * -0.25f - 0.05f * 2.75f - 0.1f), 1e-6);
}

TEST(Executor, LoadWeightsReplacesTheState) {
  auto device = make_reference_device();
  auto exec = Executor::create(sgd_program(), {{"w", {1, 2, 3, 4}}}, *device);
  ASSERT_TRUE(exec.ok()) << exec.error().message;
  ASSERT_TRUE(exec->load_weights({{"w", {0, 0, 10, 20}}, {"w.momentum", {0, 0, 1, 1}}}).ok());
  WeightStore after;
  ASSERT_TRUE(exec->read_weights(after).ok());
  EXPECT_EQ(after.at("w"), (std::vector<float>{0, 0, 10, 20}));
  EXPECT_EQ(after.at("w.momentum"), (std::vector<float>{0, 0, 1, 1}));
}

TEST(Executor, LoadWeightsRefusesAMissingOrWronglySizedWeight) {
  auto device = make_reference_device();
  auto exec = Executor::create(sgd_program(), {{"w", {1, 2, 3, 4}}}, *device);
  ASSERT_TRUE(exec.ok());
  Status missing = exec->load_weights({{"w.momentum", {0, 0, 0, 0}}});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ExitCode::IncompatiblePlan);
  EXPECT_NE(missing.error().message.find("weight 'w'"), std::string::npos)
      << missing.error().message;
  Status wrong = exec->load_weights({{"w", {1, 2, 3}}});
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code, ExitCode::IncompatiblePlan);
}

/// The reference device, driven as a device that orders its lanes and
/// records launches: kernel runs between begin_recording and end_recording
/// are kept, not run, and a replay runs them. Counts what the executor asks.
class RecordingDevice final : public Device {
public:
  std::string name() const override { return "recording"; }
  Expected<std::unique_ptr<Kernel>> compile(const Graph &graph, NodeId node) override {
    ANET_ASSIGN_OR_RETURN(std::unique_ptr<Kernel> k, ref_->compile(graph, node));
    return std::unique_ptr<Kernel>(std::make_unique<Recorded>(*this, std::move(k)));
  }
  Expected<Buffer> allocate(int64_t numel) override { return ref_->allocate(numel); }
  Expected<Buffer> allocate_on(int lane, int64_t numel) override {
    ANET_ASSIGN_OR_RETURN(Buffer b, ref_->allocate(numel));
    lane_of[b.data()] = lane;
    return b;
  }
  Status copy_in(const Buffer &dst, std::span<const float> src) override {
    return ref_->copy_in(dst, src);
  }
  Status copy_out(const Buffer &src, std::span<float> dst) override {
    return ref_->copy_out(src, dst);
  }
  Status synchronize() override { return {}; }
  bool orders_lanes() const override { return true; }
  bool records() const override { return true; }
  Status begin_recording() override {
    ++recordings;
    recording_ = true;
    return {};
  }
  Expected<std::unique_ptr<Recording>> end_recording() override {
    recording_ = false;
    if (fail_end)
      return make_error(ExitCode::Runtime, "recording: out of graph memory");
    return std::unique_ptr<Recording>(std::make_unique<Replay>(*this, std::move(launches_)));
  }

  bool fail_end = false;
  int recordings = 0;
  int replays = 0;
  int launches = 0;                     ///< kernels run outside a replay
  std::map<const float *, int> lane_of; ///< allocate_on's lane, per buffer

protected:
  void release(float *, int64_t) noexcept override {} // buffers belong to ref_

private:
  struct Recorded final : Kernel {
    Recorded(RecordingDevice &d, std::unique_ptr<Kernel> k) : device(d), kernel(std::move(k)) {}
    Status run(std::span<const float *const> in, std::span<float *const> out) override {
      if (!device.recording_) {
        ++device.launches;
        return kernel->run(in, out);
      }
      device.launches_.push_back(
          [k = kernel.get(), in = std::vector<const float *>(in.begin(), in.end()),
           out = std::vector<float *>(out.begin(), out.end())] { return k->run(in, out); });
      return {};
    }
    RecordingDevice &device;
    std::unique_ptr<Kernel> kernel;
  };
  struct Replay final : Recording {
    Replay(RecordingDevice &d, std::vector<std::function<Status()>> l)
        : device(d), launches(std::move(l)) {}
    Status replay() override {
      ++device.replays;
      for (auto &launch : launches)
        ANET_RETURN_IF_ERR(launch());
      return {};
    }
    RecordingDevice &device;
    std::vector<std::function<Status()>> launches;
  };

  std::unique_ptr<Device> ref_ = make_reference_device();
  bool recording_ = false;
  std::vector<std::function<Status()>> launches_;
};

TEST(Executor, RecordsTheFirstRunAndReplaysItOnEveryRun) {
  RecordingDevice device;
  auto reference = make_reference_device();
  auto ex = Executor::create(dense_program(), kDenseWeights, device);
  auto oracle = Executor::create(dense_program(), kDenseWeights, *reference);
  ASSERT_TRUE(ex.ok() && oracle.ok());
  for (float scale : {1.f, 200.f, -3.f}) {
    Tensor x = tensor({2, 3}, {1, 2, 3, 4, 5, 6});
    for (float &e : x.data)
      e *= scale;
    auto out = ex->run({x});
    auto expected = oracle->run({x});
    ASSERT_TRUE(out.ok()) << out.error().message;
    EXPECT_EQ((*out)[0].data, (*expected)[0].data) << "scale " << scale;
  }
  EXPECT_EQ(device.recordings, 1);
  EXPECT_EQ(device.replays, 3);
  EXPECT_EQ(device.launches, 0);
}

TEST(Executor, ProfilingLaunchesEveryKernelAndTimesIt) {
  RecordingDevice device;
  auto ex = Executor::create(dense_program(), kDenseWeights, device);
  ASSERT_TRUE(ex.ok());
  ex->set_profiling(true);
  ASSERT_TRUE(ex->run({tensor({2, 3}, {1, 2, 3, 4, 5, 6})}).ok());
  EXPECT_EQ(device.recordings, 0);
  EXPECT_EQ(device.launches, 2);
  EXPECT_EQ(ex->node_seconds().size(), 2u);
}

TEST(Executor, AFailedRecordingIsAnErrorNamingTheProgram) {
  RecordingDevice device;
  device.fail_end = true;
  auto ex = Executor::create(dense_program(), kDenseWeights, device);
  ASSERT_TRUE(ex.ok());
  auto out = ex->run({tensor({2, 3}, {1, 2, 3, 4, 5, 6})});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, ExitCode::Runtime);
  EXPECT_NE(out.error().message.find("recording program 'dense'"), std::string::npos)
      << out.error().message;
  EXPECT_NE(out.error().message.find("out of graph memory"), std::string::npos)
      << out.error().message;
}

// Logical device 1 reads x from device 0 and scales it by its own copy of
// the param s.
Graph two_lane_program() {
  auto g = parse_graph(R"(graph two_lanes {
  input %x: f32[4]
  param %s: f32[4]
  %x@dev1: f32[4] = Transfer(%x) {kind="copy"} name="transfer:x@1" device=1
  %y: f32[4] = Mul(%x@dev1, %s) device=1
  %y@dev0: f32[4] = Transfer(%y) {kind="copy"} name="transfer:y@0"
  output %y@dev0
})");
  EXPECT_TRUE(g.ok()) << g.error().message;
  g->explicit_transfers = true;
  return *g;
}

// A device spanning GPUs (cuda with --gpus) needs each lane's arena and the
// params its kernels read in that lane's memory.
TEST(Executor, AllocatesEachLogicalDevicesMemoryOnIt) {
  RecordingDevice device;
  auto ex = Executor::create(two_lane_program(), {{"s", {1, 2, 3, 4}}}, device);
  ASSERT_TRUE(ex.ok()) << ex.error().message;
  std::vector<int> lanes;
  for (auto [buffer, lane] : device.lane_of)
    lanes.push_back(lane);
  std::sort(lanes.begin(), lanes.end());
  EXPECT_EQ(lanes, (std::vector<int>{0, 1, 1})); // two arenas and s on lane 1
  auto out = ex->run({tensor({4}, {1, 1, 2, 2})});
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ((*out)[0].data, (std::vector<float>{1, 2, 6, 8}));
}

// The trainer's overlap: the next run's input staged from `meanwhile`,
// after this run's kernels, and left empty in the next run's inputs.
TEST(Executor, AnInputStagedMeanwhileFeedsTheNextRun) {
  for (bool ordered : {false, true}) {
    RecordingDevice recording;
    auto reference = make_reference_device();
    Device &device = ordered ? static_cast<Device &>(recording) : *reference;
    auto ex = Executor::create(dense_program(), kDenseWeights, device);
    ASSERT_TRUE(ex.ok()) << ex.error().message;
    const Tensor first = tensor({2, 3}, {1, 2, 3, 4, 5, 6});
    const Tensor second = tensor({2, 3}, {-1, 7, 0, 2, 9, 1});
    int called = 0;
    auto out = ex->run({first}, [&]() -> Status {
      ++called;
      return ex->stage(0, second);
    });
    ASSERT_TRUE(out.ok()) << out.error().message;
    EXPECT_EQ(called, 1);
    EXPECT_EQ((*out)[0].data, (std::vector<float>{1.5f, 0, 4.5f, 0})) << "staging too early";
    auto next = ex->run({Tensor()});
    ASSERT_TRUE(next.ok()) << next.error().message;
    EXPECT_EQ((*next)[0].data, (std::vector<float>{0, 0, 2.5f, 0}));
    // Staged inputs serve one run: the one after needs its own.
    auto again = ex->run({Tensor()});
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.error().code, ExitCode::Usage);
    EXPECT_NE(again.error().message.find("input 'x' expects f32[2,3]"), std::string::npos)
        << again.error().message;
  }
}

TEST(Executor, StagingChecksTheInput) {
  auto device = make_reference_device();
  auto ex = Executor::create(dense_program(), kDenseWeights, *device);
  ASSERT_TRUE(ex.ok());
  Status wrong = ex->stage(0, tensor({3, 2}, {1, 2, 3, 4, 5, 6}));
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code, ExitCode::Usage);
  Status missing = ex->stage(1, tensor({2, 3}, {1, 2, 3, 4, 5, 6}));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("has no input 1"), std::string::npos)
      << missing.error().message;
}

TEST(Executor, AFailureMeanwhileIsTheRunsError) {
  auto device = make_reference_device();
  auto ex = Executor::create(dense_program(), kDenseWeights, *device);
  ASSERT_TRUE(ex.ok());
  auto out = ex->run({tensor({2, 3}, {1, 2, 3, 4, 5, 6})}, [] {
    return Status(make_error(ExitCode::Dataset, "train/x.png: truncated"));
  });
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, ExitCode::Dataset);
}

// The memory plan puts y where x was (x is dead once b is made): staging the
// next x meanwhile must not clobber this run's y before it is copied out.
TEST(Executor, StagingMeanwhileLeavesThisRunsOutputsAlone) {
  auto g = parse_graph(R"(graph chain {
  input %x: f32[4]
  %a: f32[4] = Add(%x, %x)
  %b: f32[4] = Add(%a, %a)
  %c: f32[4] = Add(%b, %b)
  %y: f32[4] = Add(%c, %c)
  output %y
})");
  ASSERT_TRUE(g.ok()) << g.error().message;
  for (bool ordered : {false, true}) {
    RecordingDevice recording;
    auto reference = make_reference_device();
    Device &device = ordered ? static_cast<Device &>(recording) : *reference;
    auto ex = Executor::create(*g, {}, device);
    ASSERT_TRUE(ex.ok()) << ex.error().message;
    const MemoryPlan &plan = ex->memory_plan();
    ASSERT_EQ(plan.offset[0], plan.offset[4]) << "x and y no longer share memory";
    auto out = ex->run({tensor({4}, {1, 2, 3, 4})}, [&] {
      return ex->stage(0, tensor({4}, {9, 9, 9, 9}));
    });
    ASSERT_TRUE(out.ok()) << out.error().message;
    EXPECT_EQ((*out)[0].data, (std::vector<float>{16, 32, 48, 64}));
  }
}

} // namespace
} // namespace anet::test
