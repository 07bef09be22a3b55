// The host JIT: compiles a kernel body in process, shares equal bodies,
// caches objects on disk and checks them, carries objects between JITs, and
// reports compiler errors with the request's name and Clang's diagnostics.
// Every count includes the CPU language's shared translation unit (the GEMM
// instances), compiled, cached and carried like one more kernel.

#include "codegen/cpu/jit.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace anet::cpu {
namespace {

namespace fs = std::filesystem;

// y[i] = 2 * x[i] + 1 over n elements, in slices on the pool.
std::string axpb_body(long n) {
  return "struct P { static constexpr long n = " + std::to_string(n) +
         "; };\n"
         "template <class Q> void run(const float *const *in, float *const *out,\n"
         "                            const anet_cpu_rt *rt) {\n"
         "  ak::parallel_for(rt, Q::n, 16, [&](long b, long e, int) {\n"
         "    for (long i = b; i < e; ++i) out[0][i] = 2.f * in[0][i] + 1.f;\n"
         "  });\n"
         "}\n"
         "constexpr anet_kernel_info kernel = ak::kernel_info<&run<P>>(7);\n";
}

void serial_for(void *, long n, long, anet_task_fn fn, void *ctx) { fn(ctx, 0, n, 0); }

std::vector<float> run(const anet_kernel_info &info, const std::vector<float> &x) {
  std::vector<float> y(x.size());
  const float *in[] = {x.data()};
  float *out[] = {y.data()};
  float *scratch[] = {nullptr};
  anet_cpu_rt rt{&serial_for, nullptr, 1, scratch, nullptr, 0};
  info.run(in, out, &rt);
  return y;
}

class JitTest : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("anet-jit-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::unique_ptr<Jit> make(const std::string &cache) {
    auto jit = Jit::create(JitOptions{cache, 2});
    EXPECT_TRUE(jit.ok()) << jit.error().message;
    return jit.ok() ? std::move(*jit) : nullptr;
  }
  fs::path dir_;
};

TEST_F(JitTest, CompilesAndRunsAKernel) {
  auto jit = make("");
  std::vector<KernelRequest> r = {{axpb_body(40), "node 'a' (Test)"}};
  auto infos = jit->load(r);
  ASSERT_TRUE(infos.ok()) << infos.error().message;
  EXPECT_EQ((*infos)[0]->scratch_per_worker, 7);
  std::vector<float> x(40);
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = static_cast<float>(i) - 3;
  std::vector<float> y = run(*(*infos)[0], x);
  for (size_t i = 0; i < x.size(); ++i)
    ASSERT_EQ(y[i], 2 * x[i] + 1);
  EXPECT_EQ(jit->stats().compiled, 2); // the kernel and the shared unit
  EXPECT_NE(jit->target().find("clang 19"), std::string::npos) << jit->target();
}

TEST_F(JitTest, EqualBodiesCompileOnce) {
  auto jit = make("");
  std::vector<KernelRequest> r = {{axpb_body(8), "a"}, {axpb_body(9), "b"}, {axpb_body(8), "c"}};
  auto infos = jit->load(r);
  ASSERT_TRUE(infos.ok()) << infos.error().message;
  EXPECT_EQ((*infos)[0], (*infos)[2]);
  EXPECT_NE((*infos)[0], (*infos)[1]);
  auto again = jit->load(r);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(jit->stats().compiled, 3);
  EXPECT_EQ(jit->stats().from_memory, 4);
}

TEST_F(JitTest, ASecondJitReadsTheDiskCache) {
  std::vector<KernelRequest> r = {{axpb_body(5), "a"}};
  ASSERT_TRUE(make(dir_.string())->load(r).ok());
  auto second = make(dir_.string());
  auto infos = second->load(r);
  ASSERT_TRUE(infos.ok()) << infos.error().message;
  EXPECT_EQ(second->stats().compiled, 0);
  EXPECT_EQ(second->stats().from_cache, 2);
  EXPECT_EQ(run(*(*infos)[0], {1, 2, 3, 4, 5}), (std::vector<float>{3, 5, 7, 9, 11}));
}

TEST_F(JitTest, ACorruptCacheFileIsRecompiled) {
  std::vector<KernelRequest> r = {{axpb_body(5), "a"}};
  ASSERT_TRUE(make(dir_.string())->load(r).ok());
  int files = 0;
  for (const auto &entry : fs::directory_iterator(dir_)) {
    std::fstream f(entry.path(), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(200);
    f.write("garbage", 7);
    ++files;
  }
  ASSERT_EQ(files, 2);
  auto second = make(dir_.string());
  auto infos = second->load(r);
  ASSERT_TRUE(infos.ok()) << infos.error().message;
  EXPECT_EQ(second->stats().compiled, 2);
  EXPECT_EQ(run(*(*infos)[0], {1, 2, 3, 4, 5}), (std::vector<float>{3, 5, 7, 9, 11}));
  EXPECT_EQ(make(dir_.string())->load(r).ok(), true);
}

TEST_F(JitTest, ObjectsTravelToAnotherJit) {
  std::vector<KernelRequest> r = {{axpb_body(5), "a"}};
  auto first = make("");
  ASSERT_TRUE(first->load(r).ok());
  KernelObjects objects = first->objects();
  ASSERT_EQ(objects.size(), 2u);
  auto second = make("");
  second->add_objects(objects);
  auto infos = second->load(r);
  ASSERT_TRUE(infos.ok()) << infos.error().message;
  EXPECT_EQ(second->stats().compiled, 0);
  EXPECT_EQ(second->stats().from_objects, 2);
  EXPECT_EQ(run(*(*infos)[0], {0, 0, 0, 0, 1}), (std::vector<float>{1, 1, 1, 1, 3}));
}

TEST_F(JitTest, ACompilerErrorNamesTheNodeWithClangsDiagnostics) {
  auto jit = make("");
  std::vector<KernelRequest> r = {{"int broken = ;\n", "node 'conv9' (Conv)"}};
  auto infos = jit->load(r);
  ASSERT_FALSE(infos.ok());
  EXPECT_EQ(infos.error().code, ExitCode::Runtime);
  EXPECT_NE(infos.error().message.find("node 'conv9' (Conv)"), std::string::npos);
  EXPECT_NE(infos.error().message.find("expected expression"), std::string::npos)
      << infos.error().message;
}

TEST_F(JitTest, NoTemporaryFolderForThePrecompiledLibraryIsAnIOError) {
  const char *old = std::getenv("TMPDIR");
  const std::string saved = old ? old : "";
  ::setenv("TMPDIR", (dir_ / "missing").c_str(), 1);
  auto jit = make("");
  std::vector<KernelRequest> r = {{axpb_body(3), "a"}};
  auto infos = jit->load(r);
  old ? ::setenv("TMPDIR", saved.c_str(), 1) : ::unsetenv("TMPDIR");
  ASSERT_FALSE(infos.ok());
  EXPECT_EQ(infos.error().code, ExitCode::IO);
  EXPECT_NE(infos.error().message.find("precompiled header"), std::string::npos)
      << infos.error().message;
}

TEST_F(JitTest, KernelsLinkToTheSharedInstances) {
  // Packs 3 lanes x 2 depth steps of x (lanes contiguous) into one MR-wide
  // panel: pack_panels<MR> comes from the shared unit, not the kernel.
  const std::string body = "template <class> void run(const float *const *in, float *const *out,\n"
                           "                          const anet_cpu_rt *) {\n"
                           "  ak::sgemm::pack_panels<ak::sgemm::MR>(out[0], in[0], 3, 1, 3, 2);\n"
                           "}\n"
                           "constexpr anet_kernel_info kernel = ak::kernel_info<&run<void>>(0);\n";
  for (int pass = 0; pass < 2; ++pass) { // compiled, then from the disk cache
    auto jit = make(dir_.string());
    std::vector<KernelRequest> r = {{body, "node 'pack' (Test)"}};
    auto infos = jit->load(r);
    ASSERT_TRUE(infos.ok()) << infos.error().message;
    std::vector<float> x = {1, 2, 3, 4, 5, 6}, y(24, -1.f);
    const float *in[] = {x.data()};
    float *out[] = {y.data()};
    (*infos)[0]->run(in, out, nullptr);
    std::vector<float> expected(24, 0.f);
    for (int k = 0; k < 2; ++k)
      for (int l = 0; l < 3; ++l)
        expected[static_cast<size_t>(k * 12 + l)] = x[static_cast<size_t>(k * 3 + l)];
    EXPECT_EQ(y, expected) << "pass " << pass;
    EXPECT_EQ(jit->stats().compiled, pass == 0 ? 2 : 0);
  }
}

TEST_F(JitTest, AnUnwritableCacheOnlyCostsARecompile) {
  fs::create_directories(dir_);
  std::ofstream(dir_ / "file") << "x";
  std::vector<KernelRequest> r = {{axpb_body(3), "a"}};
  auto jit = make((dir_ / "file" / "sub").string());
  auto infos = jit->load(r);
  ASSERT_TRUE(infos.ok()) << infos.error().message;
  EXPECT_EQ(run(*(*infos)[0], {0, 1, 2}), (std::vector<float>{1, 3, 5}));
}

} // namespace
} // namespace anet::cpu
