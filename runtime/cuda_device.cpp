// The cuda device: every node's CUDA kernel (codegen/cuda/emit.h) compiled
// by NVRTC for the GPU's architecture and launched through the CUDA driver
// API on device memory.
//
// The driver is loaded at run time (dlopen of libcuda.so.1), never linked:
// the same binaries run on machines without a GPU or driver, where
// make_device("cuda") says so. Every driver call is checked, and an error
// carries the driver's name and text for it and the node it ran for.
//
// One GPU (the first, or $ANET_CUDA_DEVICE) or several (DeviceOptions::gpus:
// logical device d on gpus[d % N]), each in its primary context. Each
// logical device has a stream of its own on its GPU (non-blocking: it never
// waits for the legacy default stream), and lane_wait() orders two streams
// with an event, so the two halves of a partitioned layer run concurrently
// and a Transfer starts when the value it copies is ready. A Transfer
// between logical devices on one GPU is a device-to-device copy (the
// Transfer node's kernel); between two GPUs it is an NCCL send in the
// source's stream and receive in the destination's, as one group. A
// program's launches are recorded as a CUDA graph on its first run (stream
// capture from logical device 0's stream, the others forked from it and
// joined back) and replayed as one launch on every run. Inputs and outputs
// go through pinned host memory with asynchronous copies in their logical
// device's stream.

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
#include "runtime/nccl.h"

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
             cuda::KernelSource launch, int lane, std::string where)
      : device_(device), module_(module), function_(function), scratch_(scratch),
        grid_(launch.grid), block_(launch.block), lane_(lane), where_(std::move(where)) {}
  ~CudaKernel() override;

  Status run(std::span<const float *const> inputs, std::span<float *const> outputs) override;

private:
  CudaDevice &device_;
  CUmodule module_;
  CUfunction function_;
  CUdeviceptr scratch_; ///< the kernel's own (cuda::KernelSource::scratch_bytes), or 0
  unsigned grid_, block_;
  int lane_; ///< the logical device whose stream it runs in
  std::string where_;
};

/// A Transfer between logical devices on two GPUs: NCCL send and receive.
class NcclTransfer final : public Kernel {
public:
  NcclTransfer(CudaDevice &device, size_t count, int from, int to, std::string where)
      : device_(device), count_(count), from_(from), to_(to), where_(std::move(where)) {}
  Status run(std::span<const float *const> inputs, std::span<float *const> outputs) override;

private:
  CudaDevice &device_;
  size_t count_;
  int from_, to_; ///< logical devices
  std::string where_;
};

/// A program's launches captured as a CUDA graph, instantiated.
class CudaRecording final : public Recording {
public:
  CudaRecording(CudaDevice &device, CUgraphExec exec) : device_(device), exec_(exec) {}
  ~CudaRecording() override;
  Status replay() override;

private:
  CudaDevice &device_;
  CUgraphExec exec_;
};

/// A GPU the device runs logical devices on, in its primary context.
struct Gpu {
  int ordinal = 0;
  CUdevice device = 0;
  CUcontext context = nullptr;
  std::string arch; ///< "sm_90"
  std::string name; ///< "NVIDIA H100 80GB HBM3 (sm_90)"
};

/// The logical device whose memory a Transfer node reads (the memory plan's
/// rule: a node's output lives on its node's device, a program input on
/// device 0); a param or constant is read from the Transfer's own device.
int transfer_source(const Graph &graph, const Node &node) {
  const ValueId v = node.inputs[0];
  const NodeId producer = graph.producers()[static_cast<size_t>(v)];
  if (producer >= 0)
    return graph.nodes[static_cast<size_t>(producer)].device;
  return graph.value(v).kind == ValueKind::Input ? 0 : node.device;
}

class CudaDevice final : public Device {
public:
  CudaDevice(const Driver &d, std::vector<Gpu> gpus, const DeviceOptions &options)
      : d_(d), gpus_(std::move(gpus)),
        cache_(options.kernel_cache == "none" ? ""
               : options.kernel_cache.empty() ? default_kernel_cache_dir()
                                              : options.kernel_cache),
        carried_(options.cuda_kernels), graphs_(options.graphs) {}

  ~CudaDevice() override {
    for (const Gpu &g : gpus_)
      if (d_.cuCtxSetCurrent(g.context) == CUDA_SUCCESS)
        d_.cuCtxSynchronize();
    if (!comms_.empty())
      if (const auto nccl = nccl::library(); nccl.ok())
        for (nccl::Comm c : comms_)
          (*nccl)->ncclCommDestroy(c);
    if (pinned_)
      d_.cuMemFreeHost(pinned_);
    for (size_t l = 0; l < streams_.size(); ++l)
      if (current(gpu(static_cast<int>(l)), "cuda").ok()) {
        d_.cuEventDestroy(events_[l]);
        d_.cuStreamDestroy(streams_[l]);
      }
    for (const Gpu &g : gpus_)
      d_.cuDevicePrimaryCtxRelease(g.device);
  }

  std::string name() const override { return "cuda"; }

  bool orders_lanes() const override { return true; }
  bool records() const override { return graphs_; }

  Status lane_wait(int lane, int from) override {
    const std::string what = "cuda: logical device " + std::to_string(lane) +
                             " waiting for logical device " + std::to_string(from);
    ANET_ASSIGN_OR_RETURN(CUstream producing, stream(from));
    ANET_ASSIGN_OR_RETURN(CUstream waiting, stream(lane));
    const CUevent done = events_[static_cast<size_t>(from)];
    ANET_RETURN_IF_ERR(current(gpu(from), what));
    ANET_RETURN_IF_ERR(d_.check(d_.cuEventRecord(done, producing), "cuEventRecord", what));
    ANET_RETURN_IF_ERR(current(gpu(lane), what));
    return d_.check(d_.cuStreamWaitEvent(waiting, done, 0), "cuStreamWaitEvent", what);
  }

  /// Stream capture from logical device 0's stream; every other stream
  /// joins the capture by waiting for an event recorded in it.
  Status begin_recording() override {
    ANET_ASSIGN_OR_RETURN(CUstream origin, stream(0));
    ANET_RETURN_IF_ERR(current(gpus_[0], "cuda"));
    ANET_RETURN_IF_ERR(
        d_.check(d_.cuStreamBeginCapture(origin, CU_STREAM_CAPTURE_MODE_THREAD_LOCAL),
                 "cuStreamBeginCapture", "cuda: recording a CUDA graph"));
    for (int l = 1; l < static_cast<int>(streams_.size()); ++l)
      ANET_RETURN_IF_ERR(lane_wait(l, 0));
    return {};
  }

  /// Joins every other stream back into logical device 0's, ends the
  /// capture and instantiates the graph.
  Expected<std::unique_ptr<Recording>> end_recording() override {
    ANET_ASSIGN_OR_RETURN(CUstream origin, stream(0));
    Status joined;
    for (int l = 1; l < static_cast<int>(streams_.size()) && joined.ok(); ++l)
      joined = lane_wait(0, l);
    ANET_RETURN_IF_ERR(current(gpus_[0], "cuda"));
    CUgraph graph = nullptr;
    Status ended = d_.check(d_.cuStreamEndCapture(origin, &graph), "cuStreamEndCapture",
                            "cuda: recording a CUDA graph");
    ANET_RETURN_IF_ERR(joined);
    ANET_RETURN_IF_ERR(ended);
    CUgraphExec exec = nullptr;
    Status instantiated = d_.check(d_.cuGraphInstantiate(&exec, graph, 0), "cuGraphInstantiate",
                                   "cuda: instantiating a CUDA graph");
    d_.cuGraphDestroy(graph);
    ANET_RETURN_IF_ERR(instantiated);
    return std::unique_ptr<Recording>(std::make_unique<CudaRecording>(*this, exec));
  }

  /// Copies `src` into pinned memory and from there to the GPU, in
  /// logical device `lane`'s stream, a chunk at a time: the GPU fetches one
  /// chunk while the host copies the next.
  Status stage_in(int lane, const Buffer &dst, std::span<const float> src) override {
    constexpr size_t kChunk = size_t{4} << 20;
    ANET_ASSIGN_OR_RETURN(CUstream s, stream(lane));
    ANET_ASSIGN_OR_RETURN(char *pinned, staging(src.size_bytes()));
    ANET_RETURN_IF_ERR(current(gpu(lane), "cuda"));
    const auto *from = reinterpret_cast<const char *>(src.data());
    const auto to = reinterpret_cast<CUdeviceptr>(dst.data());
    for (size_t at = 0; at < src.size_bytes(); at += kChunk) {
      const size_t n = std::min(kChunk, src.size_bytes() - at);
      std::memcpy(pinned + at, from + at, n);
      ANET_RETURN_IF_ERR(d_.check(d_.cuMemcpyHtoDAsync(to + at, pinned + at, n, s),
                                  "cuMemcpyHtoDAsync", "cuda: copying to the GPU"));
    }
    return {};
  }

  /// Copies `src` into pinned memory in logical device `lane`'s stream;
  /// synchronize() copies it on to `dst`.
  Status stage_out(int lane, const Buffer &src, std::span<float> dst) override {
    ANET_ASSIGN_OR_RETURN(CUstream s, stream(lane));
    ANET_ASSIGN_OR_RETURN(char *pinned, staging(dst.size_bytes()));
    ANET_RETURN_IF_ERR(current(gpu(lane), "cuda"));
    ANET_RETURN_IF_ERR(
        d_.check(d_.cuMemcpyDtoHAsync(pinned, reinterpret_cast<CUdeviceptr>(src.data()),
                                      dst.size_bytes(), s),
                 "cuMemcpyDtoHAsync", "cuda: copying from the GPU"));
    pending_.push_back({pinned, dst});
    return {};
  }

  /// NVRTC on every distinct kernel of `nodes` at once, for the
  /// architecture of each one's GPU, one compile per core; compile() then
  /// finds the cubins.
  Status prepare(const Graph &graph, std::span<const NodeId> nodes) override {
    std::vector<cuda::CompileJob> jobs;
    std::vector<std::string> keys;
    {
      std::lock_guard lock(cubins_mutex_);
      std::set<std::string> seen;
      for (NodeId id : nodes) {
        const Node &node = graph.nodes[static_cast<size_t>(id)];
        if (crosses_gpus(graph, node))
          continue; // NCCL, no kernel
        ANET_ASSIGN_OR_RETURN(cuda::KernelSource k, cuda::emit_kernel(graph, id));
        const std::string &arch = gpu(node.device).arch;
        std::string key = cuda::kernel_key(k.source, arch);
        if (cubins_.count(key) || !seen.insert(key).second)
          continue;
        if (const CudaBinary *b = from_plan(k.source, arch))
          cubins_[key] = b->image;
        else {
          jobs.push_back({k.source, arch, node_label(node)});
          keys.push_back(std::move(key));
        }
      }
    }
    std::vector<Expected<cuda::CompiledKernel>> results = cuda::nvrtc_compile_all(jobs, cache_);
    std::lock_guard lock(cubins_mutex_);
    for (size_t i = 0; i < jobs.size(); ++i) {
      if (!results[i])
        return std::move(results[i]).take_error();
      cubins_[keys[i]] = std::move(results[i]->image);
    }
    return {};
  }

  Expected<std::unique_ptr<Kernel>> compile(const Graph &graph, NodeId id) override {
    const Node &node = graph.nodes[static_cast<size_t>(id)];
    const std::string where = node_label(node);
    const int lane = node.device;
    ANET_RETURN_IF_ERR(stream(lane)); // created now, not while recording
    if (crosses_gpus(graph, node)) {
      const int from = transfer_source(graph, node);
      ANET_RETURN_IF_ERR(stream(from));
      ANET_RETURN_IF_ERR(communicators(where));
      return std::unique_ptr<Kernel>(std::make_unique<NcclTransfer>(
          *this, static_cast<size_t>(graph.type(node.outputs[0]).numel()), from, lane, where));
    }
    const Gpu &g = gpu(lane);
    ANET_ASSIGN_OR_RETURN(cuda::KernelSource k, cuda::emit_kernel(graph, id));
    const std::string key = cuda::kernel_key(k.source, g.arch);
    std::string cubin;
    {
      std::lock_guard lock(cubins_mutex_);
      if (auto it = cubins_.find(key); it != cubins_.end())
        cubin = it->second;
    }
    if (cubin.empty())
      if (const CudaBinary *b = from_plan(k.source, g.arch))
        cubin = b->image;
    if (cubin.empty()) {
      const cuda::CompileJob job{k.source, g.arch, where};
      Expected<cuda::CompiledKernel> compiled =
          std::move(cuda::nvrtc_compile_all(std::span(&job, 1), cache_)[0]);
      if (!compiled)
        return std::move(compiled).take_error();
      cubin = std::move(compiled->image);
    }
    ANET_RETURN_IF_ERR(current(g, where));
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
        std::make_unique<CudaKernel>(*this, module, function, scratch, std::move(k), lane, where));
  }

  Expected<Buffer> allocate(int64_t numel) override { return allocate_on(0, numel); }

  Expected<Buffer> allocate_on(int lane, int64_t numel) override {
    const Gpu &g = gpu(lane);
    ANET_RETURN_IF_ERR(current(g, "cuda"));
    CUdeviceptr p = 0;
    const size_t bytes = static_cast<size_t>(std::max<int64_t>(numel, 1)) * sizeof(float);
    ANET_RETURN_IF_ERR(
        d_.check(d_.cuMemAlloc(&p, bytes), "cuMemAlloc",
                 "cuda: allocating " + std::to_string(bytes) + " bytes on " + g.name));
    std::lock_guard lock(owners_mutex_);
    owners_[p] = &g;
    return Buffer(*this, reinterpret_cast<float *>(p), numel);
  }

  // The streams do not wait for the legacy default stream's synchronous
  // copies, nor it for them: copy_in and copy_out wait for the GPUs first.
  Status copy_in(const Buffer &dst, std::span<const float> src) override {
    ANET_RETURN_IF_ERR(synchronize());
    ANET_RETURN_IF_ERR(current(holding(dst.data()), "cuda"));
    return d_.check(
        d_.cuMemcpyHtoD(reinterpret_cast<CUdeviceptr>(dst.data()), src.data(), src.size_bytes()),
        "cuMemcpyHtoD", "cuda: copying to the GPU");
  }

  Status copy_out(const Buffer &src, std::span<float> dst) override {
    ANET_RETURN_IF_ERR(synchronize());
    ANET_RETURN_IF_ERR(current(holding(src.data()), "cuda"));
    return d_.check(
        d_.cuMemcpyDtoH(dst.data(), reinterpret_cast<CUdeviceptr>(src.data()), dst.size_bytes()),
        "cuMemcpyDtoH", "cuda: copying from the GPU");
  }

  /// Waits for every stream of every GPU, then hands the outputs staged
  /// since the last call to their host memory; the pinned memory is free
  /// again.
  Status synchronize() override {
    for (const Gpu &g : gpus_) {
      ANET_RETURN_IF_ERR(current(g, "cuda"));
      ANET_RETURN_IF_ERR(d_.check(d_.cuCtxSynchronize(), "cuCtxSynchronize", "cuda: " + g.name));
    }
    for (const Pending &p : pending_)
      std::memcpy(p.dst.data(), p.pinned, p.dst.size_bytes());
    pending_.clear();
    staged_ = 0;
    return {};
  }

  /// Launches `function` in logical device `lane`'s stream. Launches are
  /// asynchronous: a fault in the kernel shows at the next synchronising
  /// call.
  Status launch(CUfunction function, unsigned grid, unsigned block, anet_cuda_args &args, int lane,
                const std::string &where) {
    ANET_ASSIGN_OR_RETURN(CUstream s, stream(lane));
    ANET_RETURN_IF_ERR(current(gpu(lane), where));
    void *params[] = {&args};
    return d_.check(d_.cuLaunchKernel(function, grid, 1, 1, block, 1, 1, 0, s, params, nullptr),
                    "cuLaunchKernel", where);
  }

  /// Sends `count` floats from logical device `from`'s GPU, in its stream,
  /// to `to`'s, received in its stream: one NCCL group, so neither call
  /// waits for the other to be issued.
  Status transfer(const float *in, float *out, size_t count, int from, int to,
                  const std::string &where) {
    ANET_ASSIGN_OR_RETURN(const nccl::Library *n, nccl::library());
    ANET_ASSIGN_OR_RETURN(CUstream sending, stream(from));
    ANET_ASSIGN_OR_RETURN(CUstream receiving, stream(to));
    const int sender = rank(from), receiver = rank(to);
    ANET_RETURN_IF_ERR(n->check(n->ncclGroupStart(), "ncclGroupStart", where));
    Status sent = n->check(n->ncclSend(in, count, nccl::kFloat32, receiver,
                                       comms_[static_cast<size_t>(sender)], sending),
                           "ncclSend", where);
    Status received = n->check(n->ncclRecv(out, count, nccl::kFloat32, sender,
                                           comms_[static_cast<size_t>(receiver)], receiving),
                               "ncclRecv", where);
    Status ended = n->check(n->ncclGroupEnd(), "ncclGroupEnd", where);
    ANET_RETURN_IF_ERR(sent);
    ANET_RETURN_IF_ERR(received);
    return ended;
  }

  Status launch_graph(CUgraphExec exec) {
    ANET_ASSIGN_OR_RETURN(CUstream origin, stream(0));
    ANET_RETURN_IF_ERR(current(gpus_[0], "cuda"));
    return d_.check(d_.cuGraphLaunch(exec, origin), "cuGraphLaunch",
                    "cuda: replaying a CUDA graph");
  }

  const Driver &driver() const { return d_; }

protected:
  void release(float *data, int64_t) noexcept override {
    const Gpu *g = nullptr;
    {
      std::lock_guard lock(owners_mutex_);
      auto it = owners_.find(reinterpret_cast<CUdeviceptr>(data));
      if (it == owners_.end())
        return;
      g = it->second;
      owners_.erase(it);
    }
    if (current(*g, "cuda").ok())
      d_.cuMemFree(reinterpret_cast<CUdeviceptr>(data));
  }

private:
  /// Logical device `lane`'s GPU.
  const Gpu &gpu(int lane) const {
    return gpus_[static_cast<size_t>(std::max(lane, 0)) % gpus_.size()];
  }
  /// Its index among the GPUs: its NCCL rank.
  int rank(int lane) const {
    return static_cast<int>(static_cast<size_t>(std::max(lane, 0)) % gpus_.size());
  }
  /// Whether `node` is a Transfer from a logical device on another GPU.
  bool crosses_gpus(const Graph &graph, const Node &node) const {
    return node.op == OpKind::Transfer && gpus_.size() > 1 &&
           rank(transfer_source(graph, node)) != rank(node.device);
  }
  /// The GPU whose memory holds `p` (a Buffer of allocate_on, or a view
  /// into one).
  const Gpu &holding(const float *p) {
    std::lock_guard lock(owners_mutex_);
    auto it = owners_.upper_bound(reinterpret_cast<CUdeviceptr>(p));
    return it == owners_.begin() ? gpus_[0] : *std::prev(it)->second;
  }

  /// The plan's kernel of `source` for `arch`: its cubin, else the PTX of
  /// the newest architecture the GPU runs (the driver compiles it).
  const CudaBinary *from_plan(const std::string &source, const std::string &arch) const {
    if (!carried_ || carried_->empty())
      return nullptr;
    if (auto it = carried_->find(cuda::kernel_key(source, arch)); it != carried_->end())
      return &it->second;
    const int mine = std::stoi(arch.substr(3));
    for (int ptx = mine; ptx >= 50; --ptx)
      if (auto it = carried_->find(cuda::kernel_key(source, "compute_" + std::to_string(ptx)));
          it != carried_->end())
        return &it->second;
    return nullptr;
  }

  /// Makes `g`'s context current on the calling thread.
  Status current(const Gpu &g, const std::string &where) const {
    return d_.check(d_.cuCtxSetCurrent(g.context), "cuCtxSetCurrent", where);
  }

  /// Logical device `lane`'s stream on its GPU (and the event lane_wait
  /// records in it), created on first use.
  Expected<CUstream> stream(int lane) {
    lane = std::max(lane, 0);
    std::lock_guard lock(streams_mutex_);
    while (static_cast<int>(streams_.size()) <= lane) {
      const int l = static_cast<int>(streams_.size());
      const std::string what = "cuda: the stream of logical device " + std::to_string(l);
      ANET_RETURN_IF_ERR(current(gpu(l), what));
      CUstream s = nullptr;
      ANET_RETURN_IF_ERR(
          d_.check(d_.cuStreamCreate(&s, CU_STREAM_NON_BLOCKING), "cuStreamCreate", what));
      CUevent e = nullptr;
      if (Status made =
              d_.check(d_.cuEventCreate(&e, CU_EVENT_DISABLE_TIMING), "cuEventCreate", what);
          !made) {
        d_.cuStreamDestroy(s);
        return made.error();
      }
      streams_.push_back(s);
      events_.push_back(e);
    }
    return streams_[static_cast<size_t>(lane)];
  }

  /// One NCCL communicator per GPU (rank r on gpus_[r]), made on the first
  /// Transfer between two GPUs.
  Status communicators(const std::string &where) {
    std::lock_guard lock(comms_mutex_);
    if (!comms_.empty())
      return {};
    ANET_ASSIGN_OR_RETURN(const nccl::Library *n, nccl::library());
    std::vector<int> ordinals;
    for (const Gpu &g : gpus_)
      ordinals.push_back(g.ordinal);
    std::vector<nccl::Comm> comms(gpus_.size());
    ANET_RETURN_IF_ERR(
        n->check(n->ncclCommInitAll(comms.data(), static_cast<int>(comms.size()), ordinals.data()),
                 "ncclCommInitAll", where + ": NCCL " + nccl::version_string(n->version)));
    comms_ = std::move(comms);
    return {};
  }

  /// `bytes` of pinned host memory for one staged copy, free again after
  /// the next synchronize(). The buffer grows (after waiting for the copies
  /// that use it) until one run's inputs and outputs fit. Portable: every
  /// GPU's copies may use it.
  Expected<char *> staging(size_t bytes) {
    const size_t need = (bytes + 255) / 256 * 256;
    if (staged_ + need > pinned_bytes_) {
      if (staged_ > 0)
        ANET_RETURN_IF_ERR(synchronize());
      if (need > pinned_bytes_) {
        const size_t grown = std::max(need, 2 * pinned_bytes_);
        if (pinned_)
          d_.cuMemFreeHost(pinned_);
        pinned_ = nullptr;
        pinned_bytes_ = 0;
        ANET_RETURN_IF_ERR(current(gpus_[0], "cuda"));
        void *p = nullptr;
        ANET_RETURN_IF_ERR(d_.check(
            d_.cuMemHostAlloc(&p, grown, CU_MEMHOSTALLOC_PORTABLE), "cuMemHostAlloc",
            "cuda: " + std::to_string(grown) + " bytes of pinned host memory for staging copies"));
        pinned_ = static_cast<char *>(p);
        pinned_bytes_ = grown;
      }
    }
    char *p = pinned_ + staged_;
    staged_ += need;
    return p;
  }

  /// A staged output waiting for synchronize().
  struct Pending {
    const char *pinned;
    std::span<float> dst;
  };

  const Driver &d_;
  const std::vector<Gpu> gpus_; ///< logical device d on gpus_[d % size]
  std::string cache_;           ///< NVRTC's disk cache ("": none)
  std::mutex streams_mutex_;
  std::vector<CUstream> streams_; ///< per logical device
  std::vector<CUevent> events_;   ///< per logical device, for lane_wait
  std::mutex comms_mutex_;
  std::vector<nccl::Comm> comms_; ///< per GPU, once a Transfer crosses GPUs
  std::mutex owners_mutex_;
  std::map<CUdeviceptr, const Gpu *> owners_; ///< allocations, by address
  // Staging: driven by the one thread that runs programs (Executor::run).
  char *pinned_ = nullptr;
  size_t pinned_bytes_ = 0;
  size_t staged_ = 0; ///< bytes of pinned_ in use since the last synchronize()
  std::vector<Pending> pending_;
  std::mutex cubins_mutex_;
  std::map<std::string, std::string> cubins_;        ///< by kernel_key(source, arch)
  const std::map<std::string, CudaBinary> *carried_; ///< the plan's (or null)
  bool graphs_; ///< record programs as CUDA graphs (DeviceOptions::graphs)
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
  return device_.launch(function_, grid_, block_, args, lane_, where_);
}

Status NcclTransfer::run(std::span<const float *const> inputs, std::span<float *const> outputs) {
  return device_.transfer(inputs[0], outputs[0], count_, from_, to_, where_);
}

CudaRecording::~CudaRecording() { device_.driver().cuGraphExecDestroy(exec_); }

Status CudaRecording::replay() { return device_.launch_graph(exec_); }

/// The GPUs `options` names: DeviceOptions::gpus, else $ANET_CUDA_DEVICE,
/// else the first. A GPU named twice or a negative ordinal is an
/// ExitCode::Usage error, found before the driver is asked.
Expected<std::vector<int>> gpu_ordinals(const DeviceOptions &options) {
  std::vector<int> ordinals = options.gpus;
  if (ordinals.empty()) {
    ordinals.push_back(0);
    if (const char *env = std::getenv("ANET_CUDA_DEVICE"); env && *env) {
      char *end = nullptr;
      const long v = std::strtol(env, &end, 10);
      if (*end || v < 0 || v > 1024)
        return make_error(ExitCode::Usage, "cuda: ANET_CUDA_DEVICE='", env,
                          "' is not a GPU number");
      ordinals[0] = static_cast<int>(v);
    }
  }
  std::set<int> seen;
  for (int o : ordinals) {
    if (o < 0)
      return make_error(ExitCode::Usage, "cuda: GPU ", o, " does not exist (GPUs count from 0)");
    if (!seen.insert(o).second)
      return make_error(ExitCode::Usage, "cuda: GPU ", o,
                        " is named twice; two logical devices share one GPU by streams, "
                        "so name it once");
  }
  return ordinals;
}

/// Looks GPU `ordinal` up and retains its primary context.
Expected<Gpu> open_gpu(const Driver &d, int ordinal, int count) {
  if (ordinal >= count)
    return make_error(ExitCode::Usage, "cuda: there is no GPU ", ordinal, ": the driver sees ",
                      count, count == 1 ? " GPU" : " GPUs", " (numbered from 0)");
  Gpu g;
  g.ordinal = ordinal;
  const std::string what = "cuda: GPU " + std::to_string(ordinal);
  ANET_RETURN_IF_ERR(d.check(d.cuDeviceGet(&g.device, ordinal), "cuDeviceGet", what));
  char name[256] = {};
  ANET_RETURN_IF_ERR(
      d.check(d.cuDeviceGetName(name, sizeof name, g.device), "cuDeviceGetName", what));
  int major = 0, minor = 0;
  ANET_RETURN_IF_ERR(d.check(
      d.cuDeviceGetAttribute(&major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, g.device),
      "cuDeviceGetAttribute", what));
  ANET_RETURN_IF_ERR(d.check(
      d.cuDeviceGetAttribute(&minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, g.device),
      "cuDeviceGetAttribute", what));
  g.arch = "sm_" + std::to_string(major) + std::to_string(minor);
  g.name = std::string(name) + " (" + g.arch + ")";
  ANET_RETURN_IF_ERR(
      d.check(d.cuDevicePrimaryCtxRetain(&g.context, g.device), "cuDevicePrimaryCtxRetain", what));
  return g;
}

} // namespace

Expected<std::unique_ptr<Device>> make_cuda_device(const DeviceOptions &options) {
  if (!cuda::nvrtc_available())
    return make_error(ExitCode::Runtime, "cuda: this anet was built without NVRTC");
  ANET_ASSIGN_OR_RETURN(std::vector<int> ordinals, gpu_ordinals(options));
  ANET_ASSIGN_OR_RETURN(const Driver *d, driver());
  int count = 0;
  ANET_RETURN_IF_ERR(d->check(d->cuDeviceGetCount(&count), "cuDeviceGetCount", "cuda"));
  if (count == 0)
    return make_error(ExitCode::Runtime,
                      "cuda: no GPU found (the driver sees none); use --device cpu");
  std::vector<Gpu> gpus;
  for (int o : ordinals) {
    Expected<Gpu> g = open_gpu(*d, o, count);
    if (!g) {
      for (const Gpu &opened : gpus)
        d->cuDevicePrimaryCtxRelease(opened.device);
      return std::move(g).take_error();
    }
    gpus.push_back(std::move(*g));
  }
  return std::unique_ptr<Device>(std::make_unique<CudaDevice>(*d, std::move(gpus), options));
}

} // namespace anet
