// The emu device: every node's CUDA kernel (codegen/cuda/emit.h), compiled
// for the host and run by the CUDA emulator (runtime/emu/emulator.h) on
// device memory from the emulator, so the GPU kernels' numerics are tested
// without a GPU. Slow: for tests and debugging. With
// DeviceOptions::emu_checking, out-of-bounds accesses, barrier misuse and
// shared-memory races are reported with the node's kernel, block, thread and
// line.

#include <algorithm>
#include <cstring>

#include "codegen/cuda/emit.h"
#include "codegen/cuda/kernels/args.h"
#include "runtime/device.h"
#include "runtime/emu/emulator.h"

namespace anet {
namespace {

class EmuKernel final : public Kernel {
public:
  EmuKernel(emu::Emulator &emu, const anet_emu_kernel &kernel, void *scratch,
            cuda::KernelSource launch, std::string where)
      : emu_(emu), kernel_(kernel), scratch_(scratch), grid_(launch.grid), block_(launch.block),
        where_(std::move(where)) {}
  ~EmuKernel() override { emu_.free(scratch_); }

  Status run(std::span<const float *const> inputs, std::span<float *const> outputs) override {
    ANET_ASSIGN_OR_RETURN(anet_cuda_args args,
                          cuda::launch_args(inputs, outputs, scratch_, where_));
    void *params[] = {&args};
    Status s = emu_.launch(kernel_, {grid_, 1, 1}, {block_, 1, 1}, 0, params);
    if (!s.ok())
      return make_error(s.error().code, where_, ": ", s.error().message);
    return {};
  }

private:
  emu::Emulator &emu_;
  const anet_emu_kernel &kernel_;
  void *scratch_; ///< the kernel's own (cuda::KernelSource::scratch_bytes), or null
  unsigned grid_, block_;
  std::string where_;
};

class EmuDevice final : public Device {
public:
  explicit EmuDevice(std::unique_ptr<emu::Emulator> emu) : emu_(std::move(emu)) {}

  std::string name() const override { return "emu"; }

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
        std::make_unique<EmuKernel>(*emu_, *kernels[0], scratch, std::move(k), r.where));
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
};

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
  return std::unique_ptr<Device>(std::make_unique<EmuDevice>(std::move(e)));
}

} // namespace anet
