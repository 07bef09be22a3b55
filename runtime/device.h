#pragma once
/// The device interface every backend implements: memory (Buffer), kernels
/// compiled per node (Kernel), transfers and synchronisation (Device). The
/// executor sees devices only through this file, so the reference device, the
/// host JIT (cpu), cuda and the GPU emulator (emu) are interchangeable.

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "ir/error.h"
#include "ir/graph.h"
#include "ir/plan.h"

namespace anet {

class Device;

/// Memory for `numel` floats owned by the device that allocated it and given
/// back to it when the Buffer is destroyed. Move-only. The address may not be
/// dereferenceable on the host (device memory); use Device::copy_in/copy_out.
class Buffer {
public:
  Buffer() = default;
  /// Wraps memory `owner` handed out; `owner` must outlive the Buffer.
  Buffer(Device &owner, float *data, int64_t numel) : owner_(&owner), data_(data), numel_(numel) {}
  Buffer(Buffer &&other) noexcept;
  Buffer &operator=(Buffer &&other) noexcept;
  Buffer(const Buffer &) = delete;
  Buffer &operator=(const Buffer &) = delete;
  ~Buffer();

  /// Device address of the first element.
  float *data() const { return data_; }
  /// Number of floats.
  int64_t numel() const { return numel_; }

  /// A non-owning view of `numel` floats from `offset` on, on the same
  /// device (a value inside an arena).
  Buffer view(int64_t offset, int64_t numel) const {
    Buffer b;
    b.data_ = data_ + offset;
    b.numel_ = numel;
    return b;
  }

private:
  void release();

  Device *owner_ = nullptr;
  float *data_ = nullptr;
  int64_t numel_ = 0;
};

/// One node compiled for one device, specialised on the node's shapes and
/// attributes. Runs asynchronously with respect to the host where the device
/// allows it; Device::synchronize waits for it.
class Kernel {
public:
  virtual ~Kernel();
  /// Launches the kernel on device memory: one address per node input and
  /// output, in the node's order. Errors carry the device's error string.
  virtual Status run(std::span<const float *const> inputs, std::span<float *const> outputs) = 0;
  /// The node's weights were rewritten between runs (Executor::load_weights):
  /// whatever the kernel derived from them and kept (cpu: packed panels) is
  /// stale.
  virtual void weights_changed() {}
};

/// Kernel launches a device recorded once (Device::begin_recording) and
/// replays as one piece of work (cuda: a CUDA graph), on the same memory.
class Recording {
public:
  virtual ~Recording();
  /// Issues the recorded launches again, after the work issued so far to
  /// logical device 0; the launches of other logical devices keep their
  /// recorded order relative to it. Asynchronous like a kernel launch.
  virtual Status replay() = 0;
};

/// A place where kernels run and memory lives.
///
/// Logical devices ("lanes": the partitioned graph's Node::device) may share
/// one Device. A device that orders their work itself (orders_lanes(): cuda
/// keeps a stream per logical device) is driven from one host thread, in
/// program order, with lane_wait() where one logical device reads another's
/// value; other devices run each logical device on a host thread of its own.
class Device {
public:
  virtual ~Device();

  /// The name make_device() knows this device by ("cpu-ref").
  virtual std::string name() const = 0;
  /// Compiles node `node` of `graph` for this device. Errors (a compiler
  /// failure with its log, an op this device lacks) name the node and op.
  virtual Expected<std::unique_ptr<Kernel>> compile(const Graph &graph, NodeId node) = 0;
  /// Allocates memory for `numel` floats (contents unspecified).
  virtual Expected<Buffer> allocate(int64_t numel) = 0;
  /// Allocates memory for `numel` floats where logical device `lane`'s
  /// kernels run (cuda over several GPUs: on that lane's GPU). Default:
  /// allocate().
  virtual Expected<Buffer> allocate_on(int lane, int64_t numel);
  /// Copies host data into `dst`; `src` has exactly dst.numel() elements.
  virtual Status copy_in(const Buffer &dst, std::span<const float> src) = 0;
  /// Copies `src` to host memory; `dst` has exactly src.numel() elements.
  /// Waits for the kernels that write `src`.
  virtual Status copy_out(const Buffer &src, std::span<float> dst) = 0;
  /// Waits until every kernel launched so far has finished.
  virtual Status synchronize() = 0;
  /// Compiles ahead, all at once, the kernels of `nodes` of `graph` that
  /// compile() will be asked for, so a device with a compiler can work on
  /// them in parallel. Optional: the default does nothing.
  virtual Status prepare(const Graph &graph, std::span<const NodeId> nodes);

  /// Whether this device keeps the order of several logical devices' work
  /// itself: kernels of logical device d run in the order they were
  /// launched, concurrently with other logical devices' except where
  /// lane_wait() orders them. Default: false (launches are synchronous).
  virtual bool orders_lanes() const { return false; }
  /// Makes the work launched to logical device `lane` from now on wait for
  /// all the work launched so far to logical device `from`. Only for a
  /// device that orders_lanes(); the default does nothing.
  virtual Status lane_wait(int lane, int from);

  /// Whether begin_recording() is available. Default: false.
  virtual bool records() const { return false; }
  /// From now until end_recording(), kernel runs on this device are recorded
  /// instead of executed (they must come from the calling thread).
  virtual Status begin_recording();
  /// The launches recorded since begin_recording(), ready to replay. Called
  /// after every begin_recording(), even when a launch failed in between.
  virtual Expected<std::unique_ptr<Recording>> end_recording();

  /// Copies host data into `dst` in logical device `lane`'s order: before
  /// the work launched to it afterwards. `src` may change once the call
  /// returns (cuda stages it in pinned memory). Default: copy_in().
  virtual Status stage_in(int lane, const Buffer &dst, std::span<const float> src);
  /// Copies `src` out after the work launched so far to logical device
  /// `lane`; `dst` holds the data once synchronize() returns. Default:
  /// copy_out().
  virtual Status stage_out(int lane, const Buffer &src, std::span<float> dst);

protected:
  friend class Buffer;
  /// Gives back memory that allocate() handed out; called by Buffer only.
  virtual void release(float *data, int64_t numel) noexcept = 0;
};

/// Settings a device may use.
struct DeviceOptions {
  /// Worker threads of the cpu device (0: one per core).
  int threads = 0;
  /// Where the cpu, emu and cuda devices cache compiled kernels ("": the
  /// default folder, see ir/cache_dir.h; "none": no disk cache).
  std::string kernel_cache;
  /// Compiled kernels a plan carries (Plan::kernel_objects), or null; the
  /// cpu device uses those made for this CPU and compiles the others.
  const std::map<std::string, std::string> *kernel_objects = nullptr;
  /// The GPUs (CUDA ordinals) of the cuda device: logical device d runs on
  /// gpus[d % gpus.size()], and Transfers between two GPUs go through NCCL.
  /// Empty: one GPU, $ANET_CUDA_DEVICE or the first.
  std::vector<int> gpus;
  /// Compiled CUDA kernels a plan carries (Plan::cuda_kernels), or null; the
  /// cuda device uses those for its GPU's architecture (or their PTX) and
  /// compiles the others.
  const std::map<std::string, CudaBinary> *cuda_kernels = nullptr;
  /// The emu device's checking mode (runtime/emu/emulator.h): bounds,
  /// barriers and shared-memory races checked, several times slower.
  bool emu_checking = false;
  /// The cuda and emu devices record a program's kernel launches on its
  /// first run and replay them on the next (cuda: a CUDA graph, one launch
  /// per run instead of one per node). false: every run launches each
  /// kernel.
  bool graphs = true;
};

/// The reference device "cpu-ref": runs every op with the plain C++
/// reference kernels of ir/reference/ on host memory. The oracle all
/// other devices are tested against.
std::unique_ptr<Device> make_reference_device();

/// The cpu device "cpu": kernels generated per node (codegen/cpu) and
/// JIT-compiled in process, run on a pool of `options.threads` workers.
/// Available when anet is built with ANET_WITH_LLVM.
Expected<std::unique_ptr<Device>> make_cpu_device(const DeviceOptions &options);

/// The emu device "emu": every node's CUDA kernel (codegen/cuda) run on the
/// host by the CUDA emulator (runtime/emu), for tests and debugging without
/// a GPU. Available when anet is built with ANET_WITH_LLVM.
Expected<std::unique_ptr<Device>> make_emu_device(const DeviceOptions &options);

/// The cuda device "cuda": every node's CUDA kernel compiled by NVRTC for the
/// GPU and run through the CUDA driver, loaded at run time. Where there is no
/// driver or GPU, an ExitCode::Runtime error saying so. Available when anet is
/// built with the CUDA toolkit (ANET_WITH_CUDA).
Expected<std::unique_ptr<Device>> make_cuda_device(const DeviceOptions &options);

/// The names make_device() accepts, in the order it lists them (the fastest
/// host device first: the default of the tools).
std::vector<std::string> device_names();

/// The device called `name`; an unknown name is an ExitCode::Usage error that
/// lists the known ones.
Expected<std::unique_ptr<Device>> make_device(const std::string &name,
                                              const DeviceOptions &options = {});

} // namespace anet
