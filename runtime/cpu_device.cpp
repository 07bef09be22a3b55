// The cpu device: host memory (host_device.h), kernels generated per node
// by codegen/cpu/emit.h and compiled by the host JIT (codegen/cpu/jit.h),
// and a thread pool their parallel loops run on.
//
// Kernels run one at a time: the executor's lanes (logical devices) share
// the pool and the per-worker scratch, so a kernel holds the device's run
// lock from start to end. On a CPU the two halves of a partitioned layer
// gain nothing from overlapping; each kernel already uses every core.

#include <algorithm>
#include <cstdlib>
#include <mutex>

#include "codegen/cpu/emit.h"
#include "codegen/cpu/jit.h"
#include "runtime/host_device.h"
#include "runtime/thread_pool.h"

namespace anet {
namespace {

struct FreeDeleter {
  void operator()(float *p) const { std::free(p); }
};
using HostMemory = std::unique_ptr<float[], FreeDeleter>;

class CpuDevice;

/// One node's kernel, with the state it keeps between runs (constant
/// weights packed once) and the generation that tags it.
class CpuKernel final : public Kernel {
public:
  CpuKernel(CpuDevice &device, const anet_kernel_info &info, HostMemory state)
      : device_(device), info_(info), state_(std::move(state)) {}
  Status run(std::span<const float *const> inputs, std::span<float *const> outputs) override;
  void weights_changed() override { ++generation_; }

private:
  CpuDevice &device_;
  const anet_kernel_info &info_;
  HostMemory state_;
  long generation_ = 0;
};

class CpuDevice final : public HostDevice {
public:
  CpuDevice(std::unique_ptr<cpu::Jit> jit, int threads) : jit_(std::move(jit)), pool_(threads) {
    scratch_.resize(static_cast<size_t>(pool_.workers()));
    scratch_ptrs_.resize(scratch_.size(), nullptr);
  }

  std::string name() const override { return "cpu"; }

  Status prepare(const Graph &graph, std::span<const NodeId> nodes) override {
    std::vector<cpu::KernelRequest> requests;
    for (NodeId id : nodes) {
      ANET_ASSIGN_OR_RETURN(cpu::KernelRequest r, request(graph, id));
      requests.push_back(std::move(r));
    }
    ANET_ASSIGN_OR_RETURN(auto infos, jit_->load(requests));
    for (const anet_kernel_info *info : infos)
      reserve_scratch(info->scratch_per_worker);
    return {};
  }

  Expected<std::unique_ptr<Kernel>> compile(const Graph &graph, NodeId id) override {
    ANET_ASSIGN_OR_RETURN(cpu::KernelRequest r, request(graph, id));
    ANET_ASSIGN_OR_RETURN(auto infos, jit_->load(std::span<const cpu::KernelRequest>(&r, 1)));
    const anet_kernel_info &info = *infos[0];
    reserve_scratch(info.scratch_per_worker);
    HostMemory state;
    if (info.state_floats > 0) {
      state.reset(allocate_host(info.state_floats));
      if (!state)
        return make_error(ExitCode::Runtime, "cpu: out of host memory for the ", info.state_floats,
                          " floats node '", graph.nodes[static_cast<size_t>(id)].name,
                          "' keeps between runs");
      // Zeros: a header no packing has written, so the first run packs.
      std::fill_n(state.get(), info.state_floats, 0.f);
    }
    return std::unique_ptr<Kernel>(std::make_unique<CpuKernel>(*this, info, std::move(state)));
  }

  /// Runs one kernel with the pool, the scratch and the node's state (see
  /// the file comment).
  void run_kernel(const anet_kernel_info &info, const float *const *in, float *const *out,
                  float *state, long generation) {
    std::lock_guard lock(run_mutex_);
    anet_cpu_rt rt{&ThreadPool::run_for, &pool_, pool_.workers(),
                   scratch_ptrs_.data(), state,  generation};
    info.run(in, out, &rt);
  }

private:
  static Expected<cpu::KernelRequest> request(const Graph &graph, NodeId id) {
    const Node &node = graph.nodes[static_cast<size_t>(id)];
    ANET_ASSIGN_OR_RETURN(std::string body, cpu::emit_kernel(graph, id));
    return cpu::KernelRequest{std::move(body), node_label(node)};
  }

  void reserve_scratch(long floats) {
    std::lock_guard lock(run_mutex_);
    if (floats <= scratch_floats_)
      return;
    for (size_t w = 0; w < scratch_.size(); ++w) {
      scratch_[w].reset(allocate_host(floats));
      scratch_ptrs_[w] = scratch_[w].get();
    }
    scratch_floats_ = floats;
  }

  std::unique_ptr<cpu::Jit> jit_;
  ThreadPool pool_;
  std::mutex run_mutex_; ///< one kernel at a time; guards the scratch
  std::vector<HostMemory> scratch_;
  std::vector<float *> scratch_ptrs_;
  long scratch_floats_ = 0;
};

Status CpuKernel::run(std::span<const float *const> inputs, std::span<float *const> outputs) {
  device_.run_kernel(info_, inputs.data(), outputs.data(), state_.get(), generation_);
  return {};
}

} // namespace

Expected<std::unique_ptr<Device>> make_cpu_device(const DeviceOptions &options) {
  if (options.threads < 0)
    return make_error(ExitCode::Usage, "cpu: --threads must be at least 1, got ", options.threads);
  const int threads = options.threads > 0
                          ? options.threads
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  cpu::JitOptions jit_options;
  if (options.kernel_cache == "none")
    jit_options.cache_dir.clear();
  else if (!options.kernel_cache.empty())
    jit_options.cache_dir = options.kernel_cache;
  jit_options.parallel = threads;
  ANET_ASSIGN_OR_RETURN(std::unique_ptr<cpu::Jit> jit, cpu::Jit::create(jit_options));
  if (options.kernel_objects)
    jit->add_objects(*options.kernel_objects);
  return std::unique_ptr<Device>(std::make_unique<CpuDevice>(std::move(jit), threads));
}

} // namespace anet
