// Device-independent parts of the device interface: Buffer ownership and the
// registry that maps a device name to its factory.

#include "runtime/device.h"

#include <utility>

namespace anet {

Buffer::Buffer(Buffer &&other) noexcept
    : owner_(std::exchange(other.owner_, nullptr)), data_(std::exchange(other.data_, nullptr)),
      numel_(std::exchange(other.numel_, 0)) {}

Buffer &Buffer::operator=(Buffer &&other) noexcept {
  if (this != &other) {
    release();
    owner_ = std::exchange(other.owner_, nullptr);
    data_ = std::exchange(other.data_, nullptr);
    numel_ = std::exchange(other.numel_, 0);
  }
  return *this;
}

Buffer::~Buffer() { release(); }

void Buffer::release() {
  if (owner_)
    owner_->release(data_, numel_);
  owner_ = nullptr;
  data_ = nullptr;
  numel_ = 0;
}

Kernel::~Kernel() = default;
Device::~Device() = default;

Recording::~Recording() = default;

Expected<Buffer> Device::allocate_on(int, int64_t numel) { return allocate(numel); }

Status Device::prepare(const Graph &, std::span<const NodeId>) { return {}; }

Status Device::lane_wait(int, int) { return {}; }

Status Device::begin_recording() {
  return make_error(ExitCode::Runtime, "device '", name(), "' cannot record kernel launches");
}

Expected<std::unique_ptr<Recording>> Device::end_recording() {
  return make_error(ExitCode::Runtime, "device '", name(), "' cannot record kernel launches");
}

Status Device::stage_in(int, const Buffer &dst, std::span<const float> src) {
  return copy_in(dst, src);
}

Status Device::stage_out(int, const Buffer &src, std::span<float> dst) {
  return copy_out(src, dst);
}

namespace {

struct DeviceFactory {
  const char *name;
  Expected<std::unique_ptr<Device>> (*make)(const DeviceOptions &);
};

Expected<std::unique_ptr<Device>> reference_device(const DeviceOptions &) {
  return make_reference_device();
}

// Every device anet can run on, by name.
constexpr DeviceFactory kDevices[] = {
#ifdef ANET_WITH_LLVM
    {"cpu", &make_cpu_device},
#endif
    {"cpu-ref", &reference_device},
#ifdef ANET_WITH_LLVM
    {"emu", &make_emu_device},
#endif
#ifdef ANET_WITH_CUDA
    {"cuda", &make_cuda_device},
#endif
};

} // namespace

std::vector<std::string> device_names() {
  std::vector<std::string> names;
  for (const DeviceFactory &d : kDevices)
    names.emplace_back(d.name);
  return names;
}

Expected<std::unique_ptr<Device>> make_device(const std::string &name,
                                              const DeviceOptions &options) {
  if (!options.gpus.empty() && name != "cuda")
    return make_error(ExitCode::Usage, "GPUs were named (--gpus) for device '", name,
                      "'; only the cuda device runs on GPUs");
  for (const DeviceFactory &d : kDevices)
    if (name == d.name)
      return d.make(options);
  std::string known;
  for (const std::string &n : device_names())
    known += (known.empty() ? "" : ", ") + n;
  return make_error(ExitCode::Usage, "unknown device '", name, "'; known devices: ", known);
}

} // namespace anet
