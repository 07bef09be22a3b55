// The main of the conformance table's binaries for devices other than cpu
// (codegen_emu_tests, codegen_gpu_tests): sets the device under test from
// the build's ANET_TEST_DEVICE, ANET_TEST_MIN_TOL and
// ANET_TEST_SKIP_WITHOUT_DEVICE, then runs the shared tests.

#include <gtest/gtest.h>

#include "tests/codegen/cpu_test_util.h"

int main(int argc, char **argv) {
  anet::test::TestDeviceConfig &config = anet::test::test_device_config();
  config.name = ANET_TEST_DEVICE;
  config.min_tol = ANET_TEST_MIN_TOL;
#ifdef ANET_TEST_SKIP_WITHOUT_DEVICE
  config.skip_without_device = true;
#endif
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
