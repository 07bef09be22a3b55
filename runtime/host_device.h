#pragma once
/// Devices whose memory is the host's: 64-byte aligned allocations, copies
/// as memcpy, nothing to wait for. The reference device and the cpu device
/// differ only in their kernels.

#include "runtime/device.h"

namespace anet {

/// `numel` floats (at least one) of 64-byte aligned host memory, or null when
/// out of memory; give back with std::free.
float *allocate_host(int64_t numel);

/// Memory, copies and synchronisation of a device that computes on the host.
class HostDevice : public Device {
public:
  Expected<Buffer> allocate(int64_t numel) override;
  Status copy_in(const Buffer &dst, std::span<const float> src) override;
  Status copy_out(const Buffer &src, std::span<float> dst) override;
  Status synchronize() override { return {}; }

protected:
  void release(float *data, int64_t numel) noexcept override;
};

} // namespace anet
