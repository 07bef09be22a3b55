// NVRTC on the CUDA kernels, without a GPU: every kernel of AlexNet's
// training programs (batch 128) and ten-crop inference programs (ten crops),
// on 1 and 2 logical devices, compiles for sm_90 with no register spills;
// so do every op's kernel and non-finite constants; a compile error shows
// NVRTC's log with the generated source's line.

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>

#include <unistd.h>

#include "codegen/cuda/emit.h"
#include "codegen/cuda/nvrtc.h"
#include "tests/models/built_program.h"
#include "tests/runtime/op_samples.h"

namespace anet {
namespace {

namespace fs = std::filesystem;

/// The program of `model` at `batch` after the training or inference
/// pipeline over `devices` logical devices.
Graph program(const std::string &model, int64_t batch, bool training, int devices) {
  PassContext ctx;
  ctx.training = training;
  ctx.devices = devices;
  return test::built_program(model, {}, batch, ctx).graph;
}

TEST(Nvrtc, EveryAlexNetKernelCompilesForSm90WithoutSpills) {
  if (!cuda::nvrtc_available())
    GTEST_SKIP() << "built without NVRTC (no CUDA toolkit)";
  // Distinct sources only: equal layers (the halves of a grouped layer)
  // share a kernel, as they do in a plan.
  std::map<std::string, std::string> sources; // source -> node, for messages
  size_t nodes = 0;
  // AlexNet's (alexnet-mini's kernels are the same templates at other
  // shapes, and would double the test's time).
  for (const char *model : {"alexnet"})
    for (int devices : {1, 2})
      for (bool training : {true, false}) {
        const Graph g = program(model, training ? 128 : 10, training, devices);
        for (NodeId id = 0; id < static_cast<NodeId>(g.nodes.size()); ++id, ++nodes) {
          auto k = cuda::emit_kernel(g, id);
          ASSERT_TRUE(k.ok()) << k.error().message;
          sources.emplace(k->source,
                          std::string(model) + ": " + node_label(g.nodes[static_cast<size_t>(id)]));
        }
      }
  std::vector<cuda::CompileJob> jobs;
  for (const auto &[source, where] : sources)
    jobs.push_back({source, "sm_90", where});
  const auto start = std::chrono::steady_clock::now();
  const std::vector<Expected<cuda::CompiledKernel>> results = cuda::nvrtc_compile_all(jobs);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  int max_registers = 0;
  for (size_t i = 0; i < jobs.size(); ++i) {
    ASSERT_TRUE(results[i].ok()) << results[i].error().message;
    const cuda::CompiledKernel &k = *results[i];
    EXPECT_FALSE(k.image.empty()) << jobs[i].where;
    EXPECT_EQ(k.spill_stores + k.spill_loads, 0) << jobs[i].where << " spills:\n" << k.log;
    EXPECT_GT(k.registers, 0) << jobs[i].where << ": ptxas reported no registers:\n" << k.log;
    max_registers = std::max(max_registers, k.registers);
  }
  std::printf("NVRTC %s: %zu nodes, %zu distinct kernels compiled for sm_90 in %.1f s; at most "
              "%d registers, no spills\n",
              cuda::nvrtc_version().c_str(), nodes, jobs.size(), seconds, max_registers);
}

// Every op's kernel (ir/ops.def, one sample each), and constants that are
// not finite numbers (Clip's open bounds): NVRTC takes what the emu
// device's Clang takes.
TEST(Nvrtc, EveryOpsKernelAndNonFiniteConstantsCompile) {
  if (!cuda::nvrtc_available())
    GTEST_SKIP() << "built without NVRTC (no CUDA toolkit)";
  std::vector<cuda::CompileJob> jobs;
  auto add = [&](const Node &node, const std::vector<Tensor> &inputs) {
    const Graph g = test::one_node_program(node, inputs);
    auto k = cuda::emit_kernel(g, 0);
    ASSERT_TRUE(k.ok()) << k.error().message;
    jobs.push_back({k->source, "sm_90", node_label(g.nodes[0])});
  };
  for (int i = 0; i < kNumOps; ++i)
    if (std::optional<test::OpSample> sample = test::op_sample(static_cast<OpKind>(i)))
      add(sample->node, sample->inputs);
  const float inf = std::numeric_limits<float>::infinity();
  Node grad = test::make_node(OpKind::ActivationGrad);
  grad.attrs.set("activation", std::string("Clip"));
  grad.attrs.set("activation_min", -inf);
  grad.attrs.set("activation_max", inf);
  add(grad, {test::varied({3, 5}), test::varied({3, 5})});
  const std::vector<Expected<cuda::CompiledKernel>> results = cuda::nvrtc_compile_all(jobs);
  for (size_t i = 0; i < jobs.size(); ++i)
    EXPECT_TRUE(results[i].ok()) << results[i].error().message;
}

// The disk cache: a second compile of the same kernels reads them back, the
// same bytes and the same ptxas figures; a damaged file is compiled again
// and replaced; a folder that cannot be written costs only the cache.
TEST(Nvrtc, TheDiskCacheServesWhatWasCompiledAndSurvivesDamage) {
  if (!cuda::nvrtc_available())
    GTEST_SKIP() << "built without NVRTC (no CUDA toolkit)";
  const fs::path dir =
      fs::temp_directory_path() / ("anet_nvrtc_cache_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  std::vector<cuda::CompileJob> jobs;
  for (OpKind op : {OpKind::Relu, OpKind::Conv})
    for (const char *arch : {"sm_90", "compute_90"}) {
      std::optional<test::OpSample> sample = test::op_sample(op);
      const Graph g = test::one_node_program(sample->node, sample->inputs);
      auto k = cuda::emit_kernel(g, 0);
      ASSERT_TRUE(k.ok()) << k.error().message;
      jobs.push_back({k->source, arch, node_label(g.nodes[0])});
    }
  cuda::CompileCounts first, second, third;
  auto cold = cuda::nvrtc_compile_all(jobs, dir.string(), &first);
  EXPECT_EQ(first.compiled, jobs.size());
  EXPECT_EQ(first.from_cache, 0u);
  auto warm = cuda::nvrtc_compile_all(jobs, dir.string(), &second);
  EXPECT_EQ(second.compiled, 0u);
  EXPECT_EQ(second.from_cache, jobs.size());
  for (size_t i = 0; i < jobs.size(); ++i) {
    ASSERT_TRUE(cold[i].ok() && warm[i].ok());
    EXPECT_EQ(cold[i]->image, warm[i]->image) << jobs[i].arch;
    EXPECT_EQ(cold[i]->registers, warm[i]->registers);
    EXPECT_EQ(cold[i]->shared_bytes, warm[i]->shared_bytes);
    EXPECT_EQ(cold[i]->log, warm[i]->log);
  }
  // One file cut short, one with a flipped byte: both compiled again.
  std::vector<fs::path> files;
  for (const auto &entry : fs::directory_iterator(dir))
    files.push_back(entry.path());
  ASSERT_EQ(files.size(), jobs.size());
  fs::resize_file(files[0], fs::file_size(files[0]) / 2);
  {
    std::fstream f(files[1], std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(fs::file_size(files[1]) - 10));
    f.put('\x5a');
  }
  auto repaired = cuda::nvrtc_compile_all(jobs, dir.string(), &third);
  EXPECT_EQ(third.compiled, 2u);
  EXPECT_EQ(third.from_cache, jobs.size() - 2);
  for (size_t i = 0; i < jobs.size(); ++i) {
    ASSERT_TRUE(repaired[i].ok());
    EXPECT_EQ(repaired[i]->image, cold[i]->image);
  }
  cuda::CompileCounts after;
  cuda::nvrtc_compile_all(jobs, dir.string(), &after);
  EXPECT_EQ(after.from_cache, jobs.size()) << "the damaged files were not replaced";
  // A cache folder under a regular file cannot be made: compiling still works.
  const fs::path blocked = dir / files[0].filename() / "cache";
  cuda::CompileCounts unwritable;
  auto results = cuda::nvrtc_compile_all(std::span(jobs).first(1), blocked.string(), &unwritable);
  EXPECT_TRUE(results[0].ok());
  EXPECT_EQ(unwritable.compiled, 1u);
  fs::remove_all(dir);
}

TEST(Nvrtc, CompileErrorsShowTheLogAndTheSourceLine) {
  if (!cuda::nvrtc_available())
    GTEST_SKIP() << "built without NVRTC (no CUDA toolkit)";
  auto k = cuda::nvrtc_compile("#include \"anet/cuda.h\"\n\nextern \"C\" __global__ void f() {\n"
                               "  undefined_name = 1;\n}\n",
                               "sm_90", "node 'conv1' (Conv)");
  ASSERT_FALSE(k.ok());
  EXPECT_EQ(k.error().code, ExitCode::Runtime);
  const std::string &m = k.error().message;
  EXPECT_NE(m.find("node 'conv1' (Conv): the CUDA kernel failed to compile for sm_90"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("kernel.cu(4)"), std::string::npos) << m;
  EXPECT_NE(m.find("undefined_name"), std::string::npos) << m;
}

TEST(Nvrtc, UnknownArchitectureIsAnError) {
  if (!cuda::nvrtc_available())
    GTEST_SKIP() << "built without NVRTC (no CUDA toolkit)";
  auto k = cuda::nvrtc_compile("extern \"C\" __global__ void f() {}\n", "sm_1", "node 'x' (Relu)");
  ASSERT_FALSE(k.ok());
  EXPECT_NE(k.error().message.find("node 'x' (Relu)"), std::string::npos) << k.error().message;
}

} // namespace
} // namespace anet
