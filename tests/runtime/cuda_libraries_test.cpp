// The libraries the cuda device loads at run time, checked without a GPU:
// every CUDA driver function it calls exists in the toolkit's driver stub
// under the name it looks up, its NCCL declarations match nccl.h, and NCCL
// loads (or says why not). The device's option checks that come before any
// driver call are tested here too.

#include <dlfcn.h>

#include <gtest/gtest.h>

#include <string>
#include <type_traits>

#if __has_include(<nccl.h>)
#include <nccl.h>
#endif

#include "runtime/device.h"
#include "runtime/nccl.h"

namespace anet {
namespace {

TEST(CudaDriver, EveryFunctionTheDeviceCallsIsExportedByTheDriver) {
  void *stub = ::dlopen(ANET_CUDA_DRIVER_STUB, RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(stub, nullptr) << ::dlerror();
  int functions = 0;
#define ANET_CU(name, symbol)                                                                      \
  ++functions;                                                                                     \
  EXPECT_NE(::dlsym(stub, #symbol), nullptr) << #symbol " (for " #name ")";
#include "runtime/cuda_driver_functions.def"
#undef ANET_CU
  EXPECT_GT(functions, 30);
  ::dlclose(stub);
}

#if __has_include(<nccl.h>)
TEST(Nccl, DeclarationsMatchNcclH) {
  static_assert(std::is_same_v<nccl::Comm, ncclComm_t>);
  static_assert(std::is_same_v<nccl::Stream, cudaStream_t>);
  static_assert(sizeof(ncclResult_t) == sizeof(nccl::Result));
  static_assert(sizeof(ncclDataType_t) == sizeof(int));
  static_assert(ncclFloat32 == nccl::kFloat32);
  static_assert(ncclSuccess == 0);
  SUCCEED();
}
#endif

TEST(Nccl, LoadsOrSaysWhyNot) {
  auto lib = nccl::library();
  if (!lib.ok()) {
    EXPECT_EQ(lib.error().code, ExitCode::Runtime);
    EXPECT_NE(lib.error().message.find("libnccl.so.2"), std::string::npos) << lib.error().message;
    GTEST_SKIP() << "no NCCL here: " << lib.error().message;
  }
  EXPECT_GE((*lib)->version, 2700) << nccl::version_string((*lib)->version);
  EXPECT_EQ((*lib)->check(0, "ncclSend", "x").ok(), true);
  Status failed = (*lib)->check(4, "ncclSend", "node 'transfer:fc6@1' (Transfer)"); // invalid arg
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code, ExitCode::Runtime);
  EXPECT_NE(failed.error().message.find("node 'transfer:fc6@1' (Transfer): ncclSend failed: "),
            std::string::npos)
      << failed.error().message;
}

TEST(Nccl, VersionStringsOfBothCodes) {
  EXPECT_EQ(nccl::version_string(22803), "2.28.3");
  EXPECT_EQ(nccl::version_string(2804), "2.8.4");
  EXPECT_EQ(nccl::version_string(21903), "2.19.3");
}

TEST(CudaDevice, RefusesAGpuNamedTwice) {
  DeviceOptions options;
  options.gpus = {1, 0, 1};
  auto device = make_device("cuda", options);
  ASSERT_FALSE(device.ok());
  EXPECT_EQ(device.error().code, ExitCode::Usage);
  EXPECT_NE(device.error().message.find("GPU 1 is named twice"), std::string::npos)
      << device.error().message;
}

TEST(CudaDevice, RefusesANegativeGpu) {
  DeviceOptions options;
  options.gpus = {0, -1};
  auto device = make_device("cuda", options);
  ASSERT_FALSE(device.ok());
  EXPECT_EQ(device.error().code, ExitCode::Usage);
  EXPECT_NE(device.error().message.find("GPU -1 does not exist"), std::string::npos)
      << device.error().message;
}

} // namespace
} // namespace anet
