// The emu device: every node's CUDA kernel (codegen/cuda/emit.h), compiled
// for the host and run by the CUDA emulator (runtime/emu/emulator.h) on
// device memory from the emulator, so the GPU kernels' numerics are tested
// without a GPU. Slow: for tests and debugging. With
// DeviceOptions::emu_checking, out-of-bounds accesses, barrier misuse and
// shared-memory races are reported with the node's kernel, block, thread and
// line.
//
// Launches return when the kernel is done, so the device trivially orders
// its logical devices' work (orders_lanes) when one thread launches it all.
// It records launches as the cuda device records CUDA graphs (each kernel's
// arguments copied at the launch, nothing run until a replay), so the
// executor's recording path is tested without a GPU.

#include <algorithm>
#include <cstring>
#include <utility>

#include "codegen/cuda/emit.h"
#include "codegen/cuda/kernels/args.h"
#include "runtime/device.h"
#include "runtime/emu/emulator.h"

namespace anet {
namespace {

/// One kernel launch: what it runs and its arguments, by value.
struct EmuLaunch {
  const anet_emu_kernel *kernel;
  unsigned grid, block;
  anet_cuda_args args;
  const std::string *where;
};

Status run_launch(emu::Emulator &emu, EmuLaunch &l) {
  void *params[] = {&l.args};
  Status s = emu.launch(*l.kernel, {l.grid, 1, 1}, {l.block, 1, 1}, 0, params);
  if (!s.ok())
    return make_error(s.error().code, *l.where, ": ", s.error().message);
  return {};
}

class EmuRecording final : public Recording {
public:
  EmuRecording(emu::Emulator &emu, std::vector<EmuLaunch> launches)
      : emu_(emu), launches_(std::move(launches)) {}

  Status replay() override {
    for (EmuLaunch &l : launches_)
      ANET_RETURN_IF_ERR(run_launch(emu_, l));
    return {};
  }

private:
  emu::Emulator &emu_;
  std::vector<EmuLaunch> launches_;
};

class EmuDevice;

class EmuKernel final : public Kernel {
public:
  EmuKernel(EmuDevice &device, const anet_emu_kernel &kernel, void *scratch,
            cuda::KernelSource launch, std::string where)
      : device_(device), kernel_(kernel), scratch_(scratch), grid_(launch.grid),
        block_(launch.block), where_(std::move(where)) {}
  ~EmuKernel() override;

  Status run(std::span<const float *const> inputs, std::span<float *const> outputs) override;

private:
  EmuDevice &device_;
  const anet_emu_kernel &kernel_;
  void *scratch_; ///< the kernel's own (cuda::KernelSource::scratch_bytes), or null
  unsigned grid_, block_;
  std::string where_;
};

class EmuDevice final : public Device {
public:
  EmuDevice(std::unique_ptr<emu::Emulator> emu, bool graphs)
      : emu_(std::move(emu)), graphs_(graphs) {}

  std::string name() const override { return "emu"; }

  bool orders_lanes() const override { return true; }
  bool records() const override { return graphs_; }

  Status begin_recording() override {
    recording_ = true;
    recorded_.clear();
    return {};
  }

  Expected<std::unique_ptr<Recording>> end_recording() override {
    recording_ = false;
    return std::unique_ptr<Recording>(
        std::make_unique<EmuRecording>(*emu_, std::exchange(recorded_, {})));
  }

  /// Runs `l`, or records it between begin_recording and end_recording.
  Status launch(EmuLaunch l) {
    if (recording_) {
      recorded_.push_back(l);
      return {};
    }
    return run_launch(*emu_, l);
  }

  emu::Emulator &emulator() { return *emu_; }

  Status prepare(const Graph &graph, std::span<const NodeId> nodes) override {
    std::vector<cpu::KernelRequest> requests;
    for (NodeId id : nodes) {
      ANET_ASSIGN_OR_RETURN(cuda::KernelSource k, cuda::emit_kernel(graph, id));
      requests.push_back(request(graph, id, k));
    }
    ANET_RETURN_IF_ERR(emu_->load(requests));
    return {};
  }

  Expected<std::unique_ptr<Kernel>> compile(const Graph &graph, NodeId id) override {
    ANET_ASSIGN_OR_RETURN(cuda::KernelSource k, cuda::emit_kernel(graph, id));
    cpu::KernelRequest r = request(graph, id, k);
    ANET_ASSIGN_OR_RETURN(auto kernels, emu_->load(std::span<const cpu::KernelRequest>(&r, 1)));
    void *scratch = nullptr;
    if (k.scratch_bytes > 0) {
      if (!(scratch = emu_->allocate(k.scratch_bytes)))
        return make_error(ExitCode::Runtime, r.where, ": emu: out of memory allocating ",
                          k.scratch_bytes, " bytes of scratch");
      std::memset(scratch, 0, k.scratch_bytes);
    }
    return std::unique_ptr<Kernel>(
        std::make_unique<EmuKernel>(*this, *kernels[0], scratch, std::move(k), r.where));
  }

  Expected<Buffer> allocate(int64_t numel) override {
    void *p = emu_->allocate(static_cast<size_t>(std::max<int64_t>(numel, 1)) * sizeof(float));
    if (!p)
      return make_error(ExitCode::Runtime, "emu: out of memory allocating ", numel, " floats");
    return Buffer(*this, static_cast<float *>(p), numel);
  }

  Status copy_in(const Buffer &dst, std::span<const float> src) override {
    std::memcpy(dst.data(), src.data(), src.size_bytes());
    return {};
  }

  Status copy_out(const Buffer &src, std::span<float> dst) override {
    std::memcpy(dst.data(), src.data(), dst.size_bytes());
    return {};
  }

  Status synchronize() override { return {}; } // launches return when done

protected:
  void release(float *data, int64_t) noexcept override { emu_->free(data); }

private:
  static cpu::KernelRequest request(const Graph &graph, NodeId id, const cuda::KernelSource &k) {
    return {k.source, node_label(graph.nodes[static_cast<size_t>(id)]), k.entry};
  }

  std::unique_ptr<emu::Emulator> emu_;
  bool graphs_;
  bool recording_ = false;
  std::vector<EmuLaunch> recorded_;
};

EmuKernel::~EmuKernel() { device_.emulator().free(scratch_); }

Status EmuKernel::run(std::span<const float *const> inputs, std::span<float *const> outputs) {
  ANET_ASSIGN_OR_RETURN(anet_cuda_args args, cuda::launch_args(inputs, outputs, scratch_, where_));
  return device_.launch({&kernel_, grid_, block_, args, &where_});
}

} // namespace

Expected<std::unique_ptr<Device>> make_emu_device(const DeviceOptions &options) {
  emu::EmuOptions o;
  o.threads = options.threads;
  o.checking = options.emu_checking;
  if (options.kernel_cache == "none")
    o.cache_dir.clear();
  else if (!options.kernel_cache.empty())
    o.cache_dir = options.kernel_cache;
  ANET_ASSIGN_OR_RETURN(std::unique_ptr<emu::Emulator> e, emu::Emulator::create(o));
  return std::unique_ptr<Device>(std::make_unique<EmuDevice>(std::move(e), options.graphs));
}

} // namespace anet
