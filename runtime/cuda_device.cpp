// The cuda device: every node's CUDA kernel (codegen/cuda/emit.h) compiled
// by NVRTC for the GPU's architecture and launched through the CUDA driver
// API on device memory.
//
// The driver is loaded at run time (dlopen of libcuda.so.1), never linked:
// the same binaries run on machines without a GPU or driver, where
// make_device("cuda") says so. Every driver call is checked, and an error
// carries the driver's name and text for it and the node it ran for.
//
// Today: one GPU (the first, or $ANET_CUDA_DEVICE), the primary context,
// the default stream, synchronous copies. Logical devices run in turn on
// it. Streams per logical device, events, NCCL between GPUs, pinned staging
// and CUDA graphs come next (docs/emu.md, issue 7).

#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <cuda.h>

#include "codegen/cuda/emit.h"
#include "codegen/cuda/kernels/args.h"
#include "codegen/cuda/nvrtc.h"
#include "ir/cache_dir.h"
#include "runtime/device.h"

namespace anet {
namespace {

/// The driver functions anet calls, looked up in libcuda.so.1 by their
/// versioned names (cuda.h maps cuMemAlloc to cuMemAlloc_v2 and so on).
struct Driver {
  void *library = nullptr;
#define ANET_CU(name, symbol) decltype(&::name) name = nullptr;
#include "runtime/cuda_driver_functions.def"
#undef ANET_CU

  /// "CUDA_ERROR_OUT_OF_MEMORY: out of memory".
  std::string describe(CUresult r) const {
    const char *name = nullptr, *text = nullptr;
    if (cuGetErrorName)
      cuGetErrorName(r, &name);
    if (cuGetErrorString)
      cuGetErrorString(r, &text);
    return std::string(name ? name : "CUDA error " + std::to_string(static_cast<int>(r))) + ": " +
           (text ? text : "(no description)");
  }

  Status check(CUresult r, const char *call, const std::string &what) const {
    if (r == CUDA_SUCCESS)
      return {};
    return make_error(ExitCode::Runtime, what, ": ", call, " failed: ", describe(r));
  }
};

/// The driver, loaded once per process; an error says why there is none.
Expected<const Driver *> driver() {
  static const Expected<Driver> loaded = []() -> Expected<Driver> {
    Driver d;
    d.library = ::dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!d.library)
      return make_error(ExitCode::Runtime,
                        "cuda: no NVIDIA driver on this machine (libcuda.so.1 cannot be loaded: ",
                        ::dlerror(), "); use --device cpu");
#define ANET_CU(name, symbol)                                                                      \
  d.name = reinterpret_cast<decltype(d.name)>(::dlsym(d.library, #symbol));                        \
  if (!d.name)                                                                                     \
    return make_error(ExitCode::Runtime,                                                           \
                      "cuda: the NVIDIA driver lacks " #symbol "; it is older than CUDA 12");
#include "runtime/cuda_driver_functions.def"
#undef ANET_CU
    if (CUresult r = d.cuInit(0); r != CUDA_SUCCESS)
      return make_error(ExitCode::Runtime, "cuda: the NVIDIA driver failed to start (",
                        d.describe(r), "); no usable GPU");
    return d;
  }();
  if (!loaded.ok())
    return loaded.error();
  return &*loaded;
}

class CudaDevice;

class CudaKernel final : public Kernel {
public:
  CudaKernel(CudaDevice &device, CUmodule module, CUfunction function, CUdeviceptr scratch,
             cuda::KernelSource launch, std::string where)
      : device_(device), module_(module), function_(function), scratch_(scratch),
        grid_(launch.grid), block_(launch.block), where_(std::move(where)) {}
  ~CudaKernel() override;

  Status run(std::span<const float *const> inputs, std::span<float *const> outputs) override;

private:
  CudaDevice &device_;
  CUmodule module_;
  CUfunction function_;
  CUdeviceptr scratch_; ///< the kernel's own (cuda::KernelSource::scratch_bytes), or 0
  unsigned grid_, block_;
  std::string where_;
};

class CudaDevice final : public Device {
public:
  CudaDevice(const Driver &d, CUdevice device, CUcontext context, std::string arch, std::string gpu,
             const DeviceOptions &options)
      : d_(d), device_(device), context_(context), arch_(std::move(arch)), gpu_(std::move(gpu)),
        cache_(options.kernel_cache == "none" ? ""
               : options.kernel_cache.empty() ? default_kernel_cache_dir()
                                              : options.kernel_cache),
        carried_(options.cuda_kernels) {}

  ~CudaDevice() override { d_.cuDevicePrimaryCtxRelease(device_); }

  std::string name() const override { return "cuda"; }

  /// NVRTC on every distinct kernel of `nodes` at once, one compile per
  /// core; compile() then finds the cubins.
  Status prepare(const Graph &graph, std::span<const NodeId> nodes) override {
    std::vector<cuda::CompileJob> jobs;
    {
      std::lock_guard lock(cubins_mutex_);
      std::set<std::string> seen;
      for (NodeId id : nodes) {
        ANET_ASSIGN_OR_RETURN(cuda::KernelSource k, cuda::emit_kernel(graph, id));
        if (cubins_.count(k.source) || !seen.insert(k.source).second)
          continue;
        if (const CudaBinary *b = from_plan(k.source))
          cubins_[k.source] = b->image;
        else
          jobs.push_back({k.source, arch_, node_label(graph.nodes[static_cast<size_t>(id)])});
      }
    }
    std::vector<Expected<cuda::CompiledKernel>> results = cuda::nvrtc_compile_all(jobs, cache_);
    std::lock_guard lock(cubins_mutex_);
    for (size_t i = 0; i < jobs.size(); ++i) {
      if (!results[i])
        return std::move(results[i]).take_error();
      cubins_[jobs[i].source] = std::move(results[i]->image);
    }
    return {};
  }

  Expected<std::unique_ptr<Kernel>> compile(const Graph &graph, NodeId id) override {
    const std::string where = node_label(graph.nodes[static_cast<size_t>(id)]);
    ANET_ASSIGN_OR_RETURN(cuda::KernelSource k, cuda::emit_kernel(graph, id));
    std::string cubin;
    {
      std::lock_guard lock(cubins_mutex_);
      if (auto it = cubins_.find(k.source); it != cubins_.end())
        cubin = it->second;
    }
    if (cubin.empty())
      if (const CudaBinary *b = from_plan(k.source))
        cubin = b->image;
    if (cubin.empty()) {
      const cuda::CompileJob job{k.source, arch_, where};
      Expected<cuda::CompiledKernel> compiled =
          std::move(cuda::nvrtc_compile_all(std::span(&job, 1), cache_)[0]);
      if (!compiled)
        return std::move(compiled).take_error();
      cubin = std::move(compiled->image);
    }
    ANET_RETURN_IF_ERR(current(where));
    CUmodule module = nullptr;
    ANET_RETURN_IF_ERR(
        d_.check(d_.cuModuleLoadData(&module, cubin.data()), "cuModuleLoadData", where));
    CUfunction function = nullptr;
    CUdeviceptr scratch = 0;
    Status s = d_.check(d_.cuModuleGetFunction(&function, module, k.entry.c_str()),
                        "cuModuleGetFunction", where);
    if (s.ok() && k.scratch_bytes > 0) {
      s = d_.check(d_.cuMemAlloc(&scratch, k.scratch_bytes), "cuMemAlloc",
                   where + ": its " + std::to_string(k.scratch_bytes) + " bytes of scratch");
      if (s.ok())
        s = d_.check(d_.cuMemsetD8(scratch, 0, k.scratch_bytes), "cuMemsetD8", where);
    }
    if (!s.ok()) {
      if (scratch)
        d_.cuMemFree(scratch);
      d_.cuModuleUnload(module);
      return s.error();
    }
    return std::unique_ptr<Kernel>(
        std::make_unique<CudaKernel>(*this, module, function, scratch, std::move(k), where));
  }

  Expected<Buffer> allocate(int64_t numel) override {
    ANET_RETURN_IF_ERR(current("cuda"));
    CUdeviceptr p = 0;
    const size_t bytes = static_cast<size_t>(std::max<int64_t>(numel, 1)) * sizeof(float);
    ANET_RETURN_IF_ERR(d_.check(d_.cuMemAlloc(&p, bytes), "cuMemAlloc",
                                "cuda: allocating " + std::to_string(bytes) + " bytes on " + gpu_));
    return Buffer(*this, reinterpret_cast<float *>(p), numel);
  }

  Status copy_in(const Buffer &dst, std::span<const float> src) override {
    ANET_RETURN_IF_ERR(current("cuda"));
    return d_.check(
        d_.cuMemcpyHtoD(reinterpret_cast<CUdeviceptr>(dst.data()), src.data(), src.size_bytes()),
        "cuMemcpyHtoD", "cuda: copying to the GPU");
  }

  Status copy_out(const Buffer &src, std::span<float> dst) override {
    ANET_RETURN_IF_ERR(current("cuda"));
    return d_.check(
        d_.cuMemcpyDtoH(dst.data(), reinterpret_cast<CUdeviceptr>(src.data()), dst.size_bytes()),
        "cuMemcpyDtoH", "cuda: copying from the GPU");
  }

  Status synchronize() override {
    ANET_RETURN_IF_ERR(current("cuda"));
    return d_.check(d_.cuCtxSynchronize(), "cuCtxSynchronize", "cuda");
  }

  /// Launches `function` on the default stream. Launches are asynchronous:
  /// a fault in the kernel shows at the next synchronising call.
  Status launch(CUfunction function, unsigned grid, unsigned block, anet_cuda_args &args,
                const std::string &where) {
    ANET_RETURN_IF_ERR(current(where));
    void *params[] = {&args};
    std::lock_guard lock(launch_mutex_); // the executor's lanes share the stream
    return d_.check(
        d_.cuLaunchKernel(function, grid, 1, 1, block, 1, 1, 0, nullptr, params, nullptr),
        "cuLaunchKernel", where);
  }

  const Driver &driver() const { return d_; }

protected:
  void release(float *data, int64_t) noexcept override {
    if (current("cuda").ok())
      d_.cuMemFree(reinterpret_cast<CUdeviceptr>(data));
  }

private:
  /// The plan's kernel of `source` for this GPU: its cubin, else the PTX of
  /// the newest architecture the GPU runs (the driver compiles it).
  const CudaBinary *from_plan(const std::string &source) const {
    if (!carried_ || carried_->empty())
      return nullptr;
    if (auto it = carried_->find(cuda::kernel_key(source, arch_)); it != carried_->end())
      return &it->second;
    const int mine = std::stoi(arch_.substr(3));
    for (int ptx = mine; ptx >= 50; --ptx)
      if (auto it = carried_->find(cuda::kernel_key(source, "compute_" + std::to_string(ptx)));
          it != carried_->end())
        return &it->second;
    return nullptr;
  }

  /// Makes the GPU's context current on the calling thread (the executor
  /// runs each logical device on a thread of its own).
  Status current(const std::string &where) const {
    return d_.check(d_.cuCtxSetCurrent(context_), "cuCtxSetCurrent", where);
  }

  const Driver &d_;
  CUdevice device_;
  CUcontext context_;
  std::string arch_;  ///< "sm_90"
  std::string gpu_;   ///< "NVIDIA H100 80GB HBM3 (sm_90)"
  std::string cache_; ///< NVRTC's disk cache ("": none)
  std::mutex launch_mutex_;
  std::mutex cubins_mutex_;
  std::map<std::string, std::string> cubins_;        ///< by kernel source, for arch_
  const std::map<std::string, CudaBinary> *carried_; ///< the plan's (or null)
};

CudaKernel::~CudaKernel() {
  if (scratch_)
    device_.driver().cuMemFree(scratch_);
  device_.driver().cuModuleUnload(module_);
}

Status CudaKernel::run(std::span<const float *const> inputs, std::span<float *const> outputs) {
  ANET_ASSIGN_OR_RETURN(
      anet_cuda_args args,
      cuda::launch_args(inputs, outputs, reinterpret_cast<void *>(scratch_), where_));
  return device_.launch(function_, grid_, block_, args, where_);
}

} // namespace

Expected<std::unique_ptr<Device>> make_cuda_device(const DeviceOptions &options) {
  if (!cuda::nvrtc_available())
    return make_error(ExitCode::Runtime, "cuda: this anet was built without NVRTC");
  ANET_ASSIGN_OR_RETURN(const Driver *d, driver());
  int count = 0;
  ANET_RETURN_IF_ERR(d->check(d->cuDeviceGetCount(&count), "cuDeviceGetCount", "cuda"));
  if (count == 0)
    return make_error(ExitCode::Runtime,
                      "cuda: no GPU found (the driver sees none); use --device cpu");
  int ordinal = 0;
  if (const char *env = std::getenv("ANET_CUDA_DEVICE"); env && *env) {
    ordinal = std::atoi(env);
    if (ordinal < 0 || ordinal >= count)
      return make_error(ExitCode::Usage, "cuda: ANET_CUDA_DEVICE=", env, " but there are ", count,
                        " GPUs");
  }
  CUdevice device = 0;
  ANET_RETURN_IF_ERR(d->check(d->cuDeviceGet(&device, ordinal), "cuDeviceGet", "cuda"));
  char name[256] = {};
  ANET_RETURN_IF_ERR(
      d->check(d->cuDeviceGetName(name, sizeof name, device), "cuDeviceGetName", "cuda"));
  int major = 0, minor = 0;
  ANET_RETURN_IF_ERR(d->check(
      d->cuDeviceGetAttribute(&major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device),
      "cuDeviceGetAttribute", "cuda"));
  ANET_RETURN_IF_ERR(d->check(
      d->cuDeviceGetAttribute(&minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device),
      "cuDeviceGetAttribute", "cuda"));
  CUcontext context = nullptr;
  ANET_RETURN_IF_ERR(
      d->check(d->cuDevicePrimaryCtxRetain(&context, device), "cuDevicePrimaryCtxRetain", "cuda"));
  const std::string arch = "sm_" + std::to_string(major) + std::to_string(minor);
  return std::unique_ptr<Device>(std::make_unique<CudaDevice>(
      *d, device, context, arch, std::string(name) + " (" + arch + ")", options));
}

} // namespace anet
