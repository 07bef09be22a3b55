// Host memory for the devices that compute on the host (host_device.h).

#include "runtime/host_device.h"

#include <algorithm>
#include <cassert>
#include <cstdlib>
#include <cstring>

namespace anet {

float *allocate_host(int64_t numel) {
  const size_t bytes = (static_cast<size_t>(std::max<int64_t>(numel, 1)) * 4 + 63) / 64 * 64;
  return static_cast<float *>(std::aligned_alloc(64, bytes));
}

Expected<Buffer> HostDevice::allocate(int64_t numel) {
  assert(numel >= 0);
  float *data = allocate_host(numel);
  if (!data)
    return make_error(ExitCode::Runtime, name(), ": out of host memory allocating ", numel,
                      " floats");
  return Buffer(*this, data, numel);
}

Status HostDevice::copy_in(const Buffer &dst, std::span<const float> src) {
  assert(static_cast<int64_t>(src.size()) == dst.numel() && "copy_in size mismatch");
  if (!src.empty())
    std::memcpy(dst.data(), src.data(), src.size_bytes());
  return {};
}

Status HostDevice::copy_out(const Buffer &src, std::span<float> dst) {
  assert(static_cast<int64_t>(dst.size()) == src.numel() && "copy_out size mismatch");
  if (!dst.empty())
    std::memcpy(dst.data(), src.data(), dst.size_bytes());
  return {};
}

void HostDevice::release(float *data, int64_t) noexcept { std::free(data); }

} // namespace anet
