// NVRTC compilation of generated kernels; see nvrtc.h.

#include "codegen/cuda/nvrtc.h"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <optional>
#include <sstream>
#include <thread>

#include "ir/atomic_file.h"
#include "ir/read_file.h"
#include "ir/sha256.h"

#ifdef ANET_WITH_NVRTC
#include <regex>
#include <vector>

#include <nvrtc.h>

#include "codegen/cpu/kernel_library.h"
#endif

namespace anet::cuda {

#ifdef ANET_WITH_NVRTC

namespace {

// After --gpu-architecture. Functions without an execution space
// (ir/random.h, shared with the host) are device functions.
constexpr const char *kOptions[] = {"-std=c++20", "--device-as-default-execution-space",
                                    "--ptxas-options=-v", "-lineinfo"};

long number_before(const std::string &log, const char *what) {
  std::smatch m;
  if (std::regex_search(log, m, std::regex(std::string("(\\d+) ") + what)))
    return std::stol(m[1]);
  return 0;
}

} // namespace

bool nvrtc_available() { return true; }

std::string kernel_key(const std::string &source, const std::string &arch) {
  // What every key depends on besides the source, hashed once per process
  // (the kernel library is large; a plan's start looks up every kernel).
  static const std::string compiler = [] {
    std::string what = "anet-cuda-kernel-2\nNVRTC " + nvrtc_version() + "\n";
    for (const char *o : kOptions)
      what += std::string(o) + "\n";
    for (const cpu::LibraryFile &f : cpu::cuda_library())
      what += std::string(f.path) + "\n" + f.text + "\n";
    return sha256_hex(what);
  }();
  return arch + "/" + sha256_hex(compiler + "\n" + source);
}

std::string nvrtc_version() {
  int major = 0, minor = 0;
  if (nvrtcVersion(&major, &minor) != NVRTC_SUCCESS)
    return "unknown";
  return std::to_string(major) + "." + std::to_string(minor);
}

Expected<CompiledKernel> nvrtc_compile(const std::string &source, const std::string &arch,
                                       const std::string &where) {
  std::vector<const char *> names, texts;
  for (const cpu::LibraryFile &f : cpu::cuda_library()) {
    names.push_back(f.path);
    texts.push_back(f.text);
  }
  nvrtcProgram program = nullptr;
  nvrtcResult r = nvrtcCreateProgram(&program, source.c_str(), "kernel.cu",
                                     static_cast<int>(names.size()), texts.data(), names.data());
  if (r != NVRTC_SUCCESS)
    return make_error(ExitCode::Runtime, where,
                      ": NVRTC cannot create a program: ", nvrtcGetErrorString(r));
  const std::string arch_option = "--gpu-architecture=" + arch;
  std::vector<const char *> options = {arch_option.c_str()};
  for (const char *o : kOptions)
    options.push_back(o);
  r = nvrtcCompileProgram(program, static_cast<int>(options.size()), options.data());
  CompiledKernel k;
  size_t log_size = 0;
  nvrtcGetProgramLogSize(program, &log_size);
  k.log.resize(log_size);
  if (log_size)
    nvrtcGetProgramLog(program, k.log.data());
  while (!k.log.empty() && (k.log.back() == '\0' || k.log.back() == '\n'))
    k.log.pop_back();
  if (r != NVRTC_SUCCESS) {
    nvrtcDestroyProgram(&program);
    return make_error(ExitCode::Runtime, where, ": the CUDA kernel failed to compile for ", arch,
                      " (NVRTC ", nvrtc_version(), "):\n", k.log, "\nsource:\n", source);
  }
  size_t size = 0;
  if (arch.starts_with("compute_")) {
    nvrtcGetPTXSize(program, &size);
    k.image.resize(size);
    if (size)
      nvrtcGetPTX(program, k.image.data());
  } else {
    nvrtcGetCUBINSize(program, &size);
    k.image.resize(size);
    if (size)
      nvrtcGetCUBIN(program, k.image.data());
  }
  nvrtcDestroyProgram(&program);
  std::smatch m;
  if (std::regex_search(k.log, m, std::regex("Used (\\d+) registers")))
    k.registers = std::stoi(m[1]);
  k.spill_stores = number_before(k.log, "bytes spill stores");
  k.spill_loads = number_before(k.log, "bytes spill loads");
  k.shared_bytes = number_before(k.log, "bytes smem");
  k.constant_bytes = number_before(k.log, "bytes cmem\\[0\\]");
  return k;
}

#else

bool nvrtc_available() { return false; }
std::string kernel_key(const std::string &source, const std::string &arch) {
  return arch + "/" + sha256_hex("anet-cuda-kernel-2\nno NVRTC\n" + source);
}
std::string nvrtc_version() { return "none"; }
Expected<CompiledKernel> nvrtc_compile(const std::string &, const std::string &,
                                       const std::string &where) {
  return make_error(ExitCode::Runtime, where,
                    ": this anet was built without NVRTC (no CUDA toolkit found)");
}

#endif

namespace {

constexpr std::string_view kCacheMagic = "ANETNVRTC1\n";

/// The cache file of a kernel_key ("sm_90/<sha>" -> "sm_90-<sha>.cubin").
std::string cache_path(const std::string &dir, const std::string &key) {
  std::string name = key;
  std::replace(name.begin(), name.end(), '/', '-');
  return (std::filesystem::path(dir) / (name + (key.starts_with("compute_") ? ".ptx" : ".cubin")))
      .string();
}

/// The sealed payload (ir/sha256.h) of a cache file: "<registers> <spill
/// stores> <spill loads> <shared> <constant> <log bytes>\n", the log, the
/// image.
std::string cache_entry(const CompiledKernel &k) {
  return seal(kCacheMagic, std::to_string(k.registers) + ' ' + std::to_string(k.spill_stores) +
                               ' ' + std::to_string(k.spill_loads) + ' ' +
                               std::to_string(k.shared_bytes) + ' ' +
                               std::to_string(k.constant_bytes) + ' ' +
                               std::to_string(k.log.size()) + '\n' + k.log + k.image);
}

/// The kernel of a cache file, or nullopt where it is not one (damaged,
/// truncated, another format).
std::optional<CompiledKernel> from_cache_entry(const std::string &sealed) {
  const std::optional<std::string> body = unseal(kCacheMagic, sealed);
  if (!body)
    return std::nullopt;
  std::istringstream in(*body);
  CompiledKernel k;
  size_t log_size = 0;
  if (!(in >> k.registers >> k.spill_stores >> k.spill_loads >> k.shared_bytes >>
        k.constant_bytes >> log_size) ||
      in.get() != '\n')
    return std::nullopt;
  const size_t at = static_cast<size_t>(in.tellg());
  if (body->size() - at < log_size)
    return std::nullopt;
  k.log = body->substr(at, log_size);
  k.image = body->substr(at + log_size);
  return k;
}

} // namespace

std::vector<Expected<CompiledKernel>> nvrtc_compile_all(std::span<const CompileJob> jobs,
                                                        const std::string &cache_dir,
                                                        CompileCounts *counts) {
  std::vector<Expected<CompiledKernel>> results(jobs.size(), CompiledKernel{});
  std::atomic<size_t> next{0}, compiled{0}, cached{0};
  auto worker = [&] {
    for (size_t i; (i = next++) < jobs.size();) {
      const CompileJob &job = jobs[i];
      std::string path;
      if (!cache_dir.empty()) {
        path = cache_path(cache_dir, kernel_key(job.source, job.arch));
        if (auto sealed = read_whole_file(path, "cached CUDA kernel"); sealed.ok())
          if (std::optional<CompiledKernel> k = from_cache_entry(*sealed)) {
            results[i] = std::move(*k);
            ++cached;
            continue;
          }
      }
      results[i] = nvrtc_compile(job.source, job.arch, job.where);
      ++compiled;
      if (results[i].ok() && !path.empty()) {
        std::error_code ec;
        std::filesystem::create_directories(cache_dir, ec);
        (void)write_file_atomically(path, {cache_entry(*results[i])}, "cached CUDA kernel");
      }
    }
  };
  std::vector<std::thread> threads;
  const size_t helpers =
      std::min<size_t>(jobs.size(), std::max(1u, std::thread::hardware_concurrency()));
  for (size_t t = 1; t < helpers; ++t)
    threads.emplace_back(worker);
  worker();
  for (std::thread &t : threads)
    t.join();
  if (counts)
    *counts = {compiled.load(), cached.load()};
  return results;
}

} // namespace anet::cuda
