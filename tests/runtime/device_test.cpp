// The device registry and the devices' memory: names, unknown names, buffer
// ownership and host transfers, on the reference device and (built with
// LLVM) the cpu device.

#include "runtime/device.h"

#include <gtest/gtest.h>

namespace anet {
namespace {

TEST(Device, MakesTheReferenceDeviceByName) {
  auto device = make_device("cpu-ref");
  ASSERT_TRUE(device.ok()) << device.error().message;
  EXPECT_EQ((*device)->name(), "cpu-ref");
  EXPECT_EQ(make_reference_device()->name(), "cpu-ref");
}

TEST(Device, UnknownNameListsTheKnownOnes) {
  auto device = make_device("tpu");
  ASSERT_FALSE(device.ok());
  EXPECT_EQ(device.error().code, ExitCode::Usage);
  EXPECT_NE(device.error().message.find("unknown device 'tpu'"), std::string::npos)
      << device.error().message;
  for (const std::string &name : device_names())
    EXPECT_NE(device.error().message.find(name), std::string::npos) << device.error().message;
}

TEST(Device, CopiesInAndOut) {
  auto device = make_reference_device();
  auto buffer = device->allocate(3);
  ASSERT_TRUE(buffer.ok()) << buffer.error().message;
  EXPECT_EQ(buffer->numel(), 3);
  std::vector<float> in = {1, 2, 3}, out(3);
  ASSERT_TRUE(device->copy_in(*buffer, in).ok());
  ASSERT_TRUE(device->synchronize().ok());
  ASSERT_TRUE(device->copy_out(*buffer, out).ok());
  EXPECT_EQ(out, in);
}

TEST(Device, BufferMovesOwnership) {
  auto device = make_reference_device();
  auto allocated = device->allocate(4);
  ASSERT_TRUE(allocated.ok());
  Buffer a = std::move(*allocated);
  float *data = a.data();
  Buffer b(std::move(a));
  EXPECT_EQ(b.data(), data);
  EXPECT_EQ(b.numel(), 4);
  EXPECT_EQ(a.data(), nullptr);
  EXPECT_EQ(a.numel(), 0);
  Buffer c;
  c = std::move(b);
  EXPECT_EQ(c.data(), data);
  EXPECT_EQ(b.data(), nullptr);
}

TEST(Device, EmptyBuffer) {
  auto device = make_reference_device();
  auto buffer = device->allocate(0);
  ASSERT_TRUE(buffer.ok());
  EXPECT_EQ(buffer->numel(), 0);
  EXPECT_TRUE(device->copy_in(*buffer, {}).ok());
}

#ifdef ANET_WITH_LLVM
TEST(CpuDevice, IsTheDefaultAndAlignsItsMemory) {
  EXPECT_EQ(device_names().front(), "cpu");
  DeviceOptions options;
  options.threads = 3;
  options.kernel_cache = "none";
  auto device = make_device("cpu", options);
  ASSERT_TRUE(device.ok()) << device.error().message;
  EXPECT_EQ((*device)->name(), "cpu");
  for (int64_t n : {0, 1, 17, 1000}) {
    auto buffer = (*device)->allocate(n);
    ASSERT_TRUE(buffer.ok()) << buffer.error().message;
    EXPECT_EQ(reinterpret_cast<uintptr_t>(buffer->data()) % 64, 0u);
    std::vector<float> in(static_cast<size_t>(n), 2.5f), out(static_cast<size_t>(n));
    ASSERT_TRUE((*device)->copy_in(*buffer, in).ok());
    ASSERT_TRUE((*device)->copy_out(*buffer, out).ok());
    EXPECT_EQ(out, in);
  }
}

TEST(CpuDevice, NegativeThreadCountIsAUsageError) {
  DeviceOptions options;
  options.threads = -1;
  auto device = make_device("cpu", options);
  ASSERT_FALSE(device.ok());
  EXPECT_EQ(device.error().code, ExitCode::Usage);
  EXPECT_NE(device.error().message.find("threads"), std::string::npos) << device.error().message;
}

TEST(EmuDevice, CopiesInAndOutOfEmulatedDeviceMemory) {
  DeviceOptions options;
  options.threads = 1;
  auto device = make_device("emu", options);
  ASSERT_TRUE(device.ok()) << device.error().message;
  EXPECT_EQ((*device)->name(), "emu");
  auto buffer = (*device)->allocate(37);
  ASSERT_TRUE(buffer.ok()) << buffer.error().message;
  EXPECT_EQ(reinterpret_cast<uintptr_t>(buffer->data()) % 256, 0u); // as cudaMalloc
  std::vector<float> in(37, -1.5f), out(37);
  ASSERT_TRUE((*device)->copy_in(*buffer, in).ok());
  ASSERT_TRUE((*device)->synchronize().ok());
  ASSERT_TRUE((*device)->copy_out(*buffer, out).ok());
  EXPECT_EQ(out, in);
}
#else
TEST(Device, WithoutLlvmTheReferenceDeviceIsTheDefault) {
  EXPECT_EQ(device_names().front(), "cpu-ref");
}
#endif

#ifdef ANET_WITH_CUDA
// Runs everywhere: on a machine with a GPU the device works; without one it
// is a runtime error that says there is no driver or GPU.
TEST(CudaDevice, WorksOrSaysThereIsNoGpu) {
  auto device = make_device("cuda");
  if (!device.ok()) {
    EXPECT_EQ(device.error().code, ExitCode::Runtime);
    const std::string &m = device.error().message;
    EXPECT_TRUE(m.find("no NVIDIA driver") != std::string::npos ||
                m.find("no GPU") != std::string::npos)
        << m;
    EXPECT_NE(m.find("--device cpu"), std::string::npos) << m;
    return;
  }
  EXPECT_EQ((*device)->name(), "cuda");
  auto buffer = (*device)->allocate(1000);
  ASSERT_TRUE(buffer.ok()) << buffer.error().message;
  std::vector<float> in(1000, 3.f), out(1000);
  ASSERT_TRUE((*device)->copy_in(*buffer, in).ok());
  ASSERT_TRUE((*device)->copy_out(*buffer, out).ok());
  EXPECT_EQ(out, in);
}
#endif

} // namespace
} // namespace anet
