// The host JIT. Design:
//
// - One translation unit per distinct kernel body: the body goes into an
//   anonymous namespace (so its parameter struct and template instances are
//   private to the object) and its kernel_info is exported under a symbol
//   derived from the cache key. Equal bodies (the two halves of a grouped
//   layer, the same layer in two programs) compile once.
// - Clang runs in process as `clang -cc1 -emit-obj` over an in-memory file
//   system that holds the kernel library (codegen/cpu/kernel_library.h) and
//   the source; no system header is ever read. Code is generated for the host
//   CPU with all its features, at -O3. The library is parsed once per process
//   into a precompiled header that every kernel's compile loads.
// - The language's shared translation unit (the library instances kernels
//   declare `extern template`) is compiled and cached like a kernel, once per
//   JIT, alongside the first kernels; it is linked into a JITDylib of its own
//   before any kernel, and every kernel links to it.
// - Objects are linked by ORC's LLJIT, each into a JITDylib of its own that
//   links to the shared one (if any) and the main one: the language's host
//   symbols, then the process's (the math functions kernels call, expf, ...,
//   resolve to its libm).
// - The cache key is a SHA-256 over the compiler version, the cc1 options
//   (which name the CPU and its features), the kernel library and the body.
//   A cached file holds a magic, the SHA-256 of the object, and the object;
//   a file that fails the check is recompiled and replaced.

#include "codegen/cpu/jit.h"

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <thread>

#include <unistd.h>

#include <clang/Basic/DiagnosticOptions.h>
#include <clang/Basic/Version.h>
#include <clang/CodeGen/CodeGenAction.h>
#include <clang/Frontend/CompilerInstance.h>
#include <clang/Frontend/CompilerInvocation.h>
#include <clang/Frontend/FrontendActions.h>
#include <clang/Frontend/TextDiagnosticPrinter.h>
#include <llvm/ExecutionEngine/Orc/ExecutionUtils.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/VirtualFileSystem.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/TargetParser/Host.h>

#include "codegen/cpu/kernel_library.h"
#include "ir/atomic_file.h"
#include "ir/read_file.h"
#include "ir/sha256.h"

namespace anet::cpu {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kObjectMagic = "ANETKOB1";
constexpr const char *kSourcePath = "/anet/kernel.cpp";
constexpr const char *kIncludeDir = "/anet/include";
constexpr const char *kPchPath = "/anet/all.pch";
constexpr const char *kPchSourcePath = "/anet/prelude_pch.h"; // what the PCH is built from
constexpr const char *kSharedWhere = "the kernel library's shared instances";

// The cc1 options every kernel is compiled with, for the host CPU, then the
// language's own.
std::vector<std::string> compiler_options(const JitLanguage &language) {
  std::vector<std::string> args = {
      "-triple",
      llvm::sys::getProcessTriple(),
      "-target-cpu",
      std::string(llvm::sys::getHostCPUName()),
      "-ffp-contract=on",
      "-std=c++20",
      "-mrelocation-model",
      "pic",
      "-pic-level",
      "2",
      "-fno-rtti",
      "-nostdsysteminc",
      "-nobuiltininc",
      "-nostdinc++",
      "-Wall",
  };
  std::vector<std::string> features;
  for (const auto &f : llvm::sys::getHostCPUFeatures())
    features.push_back((f.second ? "+" : "-") + f.first().str());
  std::sort(features.begin(), features.end());
  for (const std::string &f : features) {
    args.push_back("-target-feature");
    args.push_back(f);
  }
  args.insert(args.end(), language.options.begin(), language.options.end());
  return args;
}

// Resolves, through JitLanguage::resolve, the symbols nothing else defines.
class ResolveGenerator final : public llvm::orc::DefinitionGenerator {
public:
  explicit ResolveGenerator(std::function<const void *(std::string_view)> resolve)
      : resolve_(std::move(resolve)) {}

  llvm::Error tryToGenerate(llvm::orc::LookupState &, llvm::orc::LookupKind,
                            llvm::orc::JITDylib &dylib, llvm::orc::JITDylibLookupFlags,
                            const llvm::orc::SymbolLookupSet &symbols) override {
    llvm::orc::SymbolMap found;
    for (const auto &[name, flags] : symbols)
      if (const void *address = resolve_(std::string_view((*name).data(), (*name).size())))
        found[name] = {llvm::orc::ExecutorAddr::fromPtr(address), llvm::JITSymbolFlags::Exported};
    if (found.empty())
      return llvm::Error::success();
    return dylib.define(llvm::orc::absoluteSymbols(std::move(found)));
  }

private:
  std::function<const void *(std::string_view)> resolve_;
};

std::string llvm_message(llvm::Error e) { return llvm::toString(std::move(e)); }

} // namespace

std::shared_ptr<const JitLanguage> cpu_language() {
  static const auto language = [] {
    auto l = std::make_shared<JitLanguage>();
    l->abi = "anet-cpu-kernel-abi-1";
    l->library = kernel_library();
    l->prelude = "anet/all.h";
    l->options = {"-O3", "-vectorize-loops", "-vectorize-slp"};
    l->shared_source =
        "// The shared instances of the anet CPU kernel library (codegen/cpu/jit.cpp).\n"
        "#include \"anet/all.h\"\n\n"
        "namespace ak::sgemm {\nANET_GEMM_INSTANCES(template)\n}\n";
    l->translation_unit = [](const KernelRequest &r, const std::string &symbol) {
      return Jit::translation_unit(r.body, symbol);
    };
    return std::shared_ptr<const JitLanguage>(std::move(l));
  }();
  return language;
}

std::string Jit::translation_unit(const std::string &body, const std::string &symbol) {
  return "// An anet CPU kernel (codegen/cpu/jit.cpp).\n#include \"anet/all.h\"\n\nnamespace {\n" +
         body + (body.ends_with("\n") ? "" : "\n") +
         "} // namespace\n\nextern \"C\" constinit const anet_kernel_info " + symbol +
         " = kernel;\n";
}

struct Jit::Impl {
  JitOptions options;
  const JitLanguage *language = nullptr; // options.language, never null
  std::string pch_source;                // includes the language's prelude
  std::vector<std::string> cc1;
  /// SHA-256 (hex) of the compiler version, options and kernel library,
  /// hashed once and then into every key.
  std::string key_prefix;
  std::unique_ptr<llvm::orc::LLJIT> lljit;

  mutable std::mutex mutex;                   // guards everything below and lljit
  std::map<std::string, const void *> loaded; // by key
  KernelObjects objects;                      // of the loaded kernels, by key
  KernelObjects offered;
  JitStats stats;

  std::string shared_key;                ///< of language->shared_source ("": none)
  llvm::orc::JITDylib *shared = nullptr; ///< where it is linked, once it is

  std::once_flag pch_once;
  Expected<std::string> pch = std::string(); ///< the precompiled kernel library

  static std::string symbol_of(const std::string &key) { return "anet_k_" + key.substr(0, 32); }

  std::string key_of(const KernelRequest &r) const {
    return sha256_hex(key_prefix + '\0' + r.body + '\0' + r.entry);
  }

  std::string cache_path(const std::string &key) const {
    return (fs::path(options.cache_dir) / (key + ".o")).string();
  }

  // Runs Clang in process over `source` (at `path`, beside the kernel
  // library and, if given, its precompiled form) with `args` after the cc1
  // options; `action` writes the result. Returns Clang's diagnostics, or an
  // error carrying them.
  Expected<std::string> run_clang(const char *path, const std::string &source,
                                  std::vector<const char *> args, const std::string *pch,
                                  clang::FrontendAction &action, llvm::SmallString<0> *output,
                                  const std::string &what) const {
    std::string log;
    llvm::raw_string_ostream log_stream(log);
    auto diag_options = llvm::makeIntrusiveRefCnt<clang::DiagnosticOptions>();
    diag_options->ShowPresumedLoc = true; // honour #line (the emu's kernel.cu lines)
    auto *printer = new clang::TextDiagnosticPrinter(log_stream, diag_options.get());
    auto diags = clang::CompilerInstance::createDiagnostics(diag_options.get(), printer, true);
    const std::string kind = language->abi;

    std::vector<const char *> argv;
    for (const std::string &a : cc1)
      argv.push_back(a.c_str());
    argv.insert(argv.end(), {"-I", kIncludeDir});
    if (pch)
      argv.insert(argv.end(), {"-include-pch", kPchPath});
    argv.insert(argv.end(), args.begin(), args.end());
    auto invocation = std::make_shared<clang::CompilerInvocation>();
    if (!clang::CompilerInvocation::CreateFromArgs(*invocation, argv, *diags))
      return make_error(ExitCode::Runtime, what, ": the kernel compiler refused its options (",
                        kind, "): ", log);

    auto files = llvm::makeIntrusiveRefCnt<llvm::vfs::InMemoryFileSystem>();
    for (const LibraryFile &f : language->library)
      files->addFile(std::string(kIncludeDir) + "/" + f.path, 0,
                     llvm::MemoryBuffer::getMemBuffer(f.text, f.path));
    files->addFile(kPchSourcePath, 0, llvm::MemoryBuffer::getMemBuffer(pch_source, kPchSourcePath));
    if (path != kPchSourcePath)
      files->addFile(path, 0, llvm::MemoryBuffer::getMemBufferCopy(source, path));
    if (pch)
      files->addFile(kPchPath, 0, llvm::MemoryBuffer::getMemBuffer(*pch, kPchPath, false));

    clang::CompilerInstance compiler;
    if (language->passes && output)
      invocation->getCodeGenOpts().PassBuilderCallbacks.push_back(language->passes);
    compiler.setInvocation(std::move(invocation));
    compiler.setDiagnostics(diags.get());
    compiler.setVerboseOutputStream(log_stream); // "N errors generated." joins the log
    compiler.createFileManager(files);
    if (output)
      compiler.setOutputStream(std::make_unique<llvm::raw_svector_ostream>(*output));
    if (!compiler.ExecuteAction(action) || diags->hasErrorOccurred())
      return make_error(ExitCode::Runtime, what, ": the kernel failed to compile (", kind, "):\n",
                        log, "\nsource:\n", source);
    return log;
  }

  // The kernel library precompiled once per process, the first time a
  // kernel must be compiled: every kernel includes all of it, and parsing
  // it is most of the work of compiling a small kernel.
  Expected<const std::string *> precompiled_library() {
    std::call_once(pch_once, [&] {
      // Clang writes a PCH only to a file: a private one in $TMPDIR (mkstemp's
      // template), read back and removed.
      std::error_code ec;
      std::string path = (fs::temp_directory_path(ec) / "anet-kernel-library-XXXXXX").string();
      const int fd = ec ? -1 : ::mkstemp(path.data());
      if (fd < 0) {
        pch = make_error(ExitCode::IO,
                         "cpu: cannot create a temporary file for the kernel "
                         "library's precompiled header in ",
                         fs::temp_directory_path(ec).string());
        return;
      }
      ::close(fd);
      clang::GeneratePCHAction action;
      auto done = run_clang(kPchSourcePath, pch_source,
                            {"-emit-pch", "-x", "c++-header", kPchSourcePath, "-o", path.c_str()},
                            nullptr, action, nullptr, "the kernel library");
      if (!done)
        pch = std::move(done).take_error();
      else
        pch = read_whole_file(path, "the kernel library's precompiled header");
      ::unlink(path.c_str());
    });
    if (!pch)
      return pch.error();
    return &*pch;
  }

  // Clang, in process: source -> object file bytes.
  Expected<std::string> compile(const std::string &source, const std::string &where) {
    ANET_ASSIGN_OR_RETURN(const std::string *library, precompiled_library());
    llvm::SmallString<0> object;
    llvm::LLVMContext context;
    clang::EmitObjAction action(&context);
    ANET_RETURN_IF_ERR(run_clang(kSourcePath, source, {"-emit-obj", "-x", "c++", kSourcePath},
                                 library, action, &object, where));
    return std::string(object.str());
  }

  // Adds an object to a JITDylib of its own. Caller holds mutex.
  Expected<llvm::orc::JITDylib *> add(const std::string &key, const std::string &object,
                                      const std::string &where) {
    // Each object gets its own JITDylib, which links to the shared one and
    // the main one (host symbols): kernels may then define the same names (a
    // CUDA source's __global__ functions) without clashing.
    auto dylib = lljit->createJITDylib(symbol_of(key));
    if (!dylib)
      return make_error(ExitCode::Runtime, where,
                        ": the kernel failed to load: ", llvm_message(dylib.takeError()));
    // Not LLJIT's default order, which would put the process's symbols
    // first, before the language's host symbols that replace some.
    llvm::orc::JITDylibSearchOrder order;
    if (shared)
      order.push_back({shared, llvm::orc::JITDylibLookupFlags::MatchExportedSymbolsOnly});
    order.push_back(
        {&lljit->getMainJITDylib(), llvm::orc::JITDylibLookupFlags::MatchExportedSymbolsOnly});
    dylib->setLinkOrder(std::move(order));
    auto buffer = llvm::MemoryBuffer::getMemBufferCopy(object, symbol_of(key));
    if (llvm::Error e = lljit->addObjectFile(*dylib, std::move(buffer)))
      return make_error(ExitCode::Runtime, where,
                        ": the kernel failed to load: ", llvm_message(std::move(e)));
    objects[key] = object;
    return &*dylib;
  }

  // Links the shared translation unit's object; kernels linked afterwards
  // resolve its symbols. Caller holds mutex.
  Status link_shared(const std::string &object) {
    ANET_ASSIGN_OR_RETURN(llvm::orc::JITDylib * dylib, add(shared_key, object, kSharedWhere));
    shared = dylib;
    return {};
  }

  // Adds a kernel's object to the JIT and finds its exported symbol. Caller
  // holds mutex.
  Expected<const void *> link(const std::string &key, const std::string &object,
                              const std::string &where) {
    ANET_ASSIGN_OR_RETURN(llvm::orc::JITDylib * dylib, add(key, object, where));
    auto address = lljit->lookup(*dylib, symbol_of(key));
    if (!address)
      return make_error(ExitCode::Runtime, where,
                        ": the kernel failed to link: ", llvm_message(address.takeError()));
    const auto *info = address->toPtr<const void *>();
    loaded[key] = info;
    return info;
  }

  std::optional<std::string> cached_object(const std::string &key) const {
    if (auto it = offered.find(key); it != offered.end())
      return it->second;
    if (options.cache_dir.empty())
      return std::nullopt;
    auto sealed = read_whole_file(cache_path(key), "cached kernel");
    if (!sealed)
      return std::nullopt;
    return unseal(kObjectMagic, *sealed);
  }

  // Best effort: a cache that cannot be written only costs a recompile.
  void store(const std::string &key, const std::string &object) const {
    if (options.cache_dir.empty())
      return;
    std::error_code ec;
    fs::create_directories(options.cache_dir, ec);
    (void)write_file_atomically(cache_path(key), {seal(kObjectMagic, object)}, "cached kernel");
  }
};

Jit::Jit(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Jit::~Jit() = default;

Expected<std::unique_ptr<Jit>> Jit::create(JitOptions options) {
  static std::once_flag llvm_ready;
  std::call_once(llvm_ready, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    llvm::InitializeNativeTargetAsmParser();
  });
  auto impl = std::make_unique<Impl>();
  if (options.parallel <= 0)
    options.parallel = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (!options.language)
    options.language = cpu_language();
  impl->options = std::move(options);
  impl->language = impl->options.language.get();
  impl->pch_source = "#include \"" + impl->language->prelude + "\"\n";
  impl->cc1 = compiler_options(*impl->language);

  std::string prefix = impl->language->abi + "\n" CLANG_VERSION_STRING "\n";
  for (const std::string &a : impl->cc1)
    prefix += a + '\n';
  for (const LibraryFile &f : impl->language->library)
    prefix += std::string(f.path) + '\n' + f.text + '\n';
  impl->key_prefix = sha256_hex(prefix);
  if (!impl->language->shared_source.empty())
    impl->shared_key = sha256_hex(impl->key_prefix + "\0shared\0" + impl->language->shared_source);

  auto lljit = llvm::orc::LLJITBuilder().create();
  if (!lljit)
    return make_error(ExitCode::Runtime,
                      "cpu: cannot start the LLVM JIT: ", llvm_message(lljit.takeError()));
  impl->lljit = std::move(*lljit);
  auto process = llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(
      impl->lljit->getDataLayout().getGlobalPrefix());
  if (!process)
    return make_error(ExitCode::Runtime, "cpu: cannot resolve the host's symbols for the JIT: ",
                      llvm_message(process.takeError()));
  llvm::orc::JITDylib &dylib = impl->lljit->getMainJITDylib();
  if (!impl->language->host_symbols.empty()) {
    llvm::orc::SymbolMap host;
    for (const auto &[name, address] : impl->language->host_symbols)
      host[impl->lljit->mangleAndIntern(name)] = {llvm::orc::ExecutorAddr::fromPtr(address),
                                                  llvm::JITSymbolFlags::Exported};
    if (llvm::Error e = dylib.define(llvm::orc::absoluteSymbols(std::move(host))))
      return make_error(ExitCode::Runtime, "cpu: cannot define the kernels' host symbols: ",
                        llvm_message(std::move(e)));
  }
  dylib.addGenerator(std::move(*process));
  if (impl->language->resolve)
    dylib.addGenerator(std::make_unique<ResolveGenerator>(impl->language->resolve));
  return std::unique_ptr<Jit>(new Jit(std::move(impl)));
}

Expected<std::vector<const anet_kernel_info *>> Jit::load(std::span<const KernelRequest> requests) {
  ANET_ASSIGN_OR_RETURN(std::vector<const void *> symbols, load_symbols(requests));
  std::vector<const anet_kernel_info *> infos;
  for (const void *symbol : symbols)
    infos.push_back(static_cast<const anet_kernel_info *>(symbol));
  return infos;
}

Expected<std::vector<const void *>> Jit::load_symbols(std::span<const KernelRequest> requests) {
  Impl &im = *impl_;
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::string> keys;
  for (const KernelRequest &r : requests)
    keys.push_back(im.key_of(r));

  // 1. What is missing: loaded kernels and cached objects need no compiler.
  // The shared translation unit, if not linked yet, is the first job.
  constexpr size_t kShared = static_cast<size_t>(-1); // Job::request of the shared unit
  struct Job {
    std::string key;
    size_t request;
    Expected<std::string> object = std::string();
  };
  std::vector<Job> jobs, cached;
  {
    std::lock_guard lock(im.mutex);
    if (!im.shared_key.empty() && !im.shared) {
      Job shared{im.shared_key, kShared};
      if (std::optional<std::string> object = im.cached_object(im.shared_key)) {
        ++(im.offered.count(im.shared_key) ? im.stats.from_objects : im.stats.from_cache);
        shared.object = std::move(*object);
        cached.push_back(std::move(shared));
      } else {
        jobs.push_back(std::move(shared));
      }
    }
    std::map<std::string, bool> seen;
    for (size_t i = 0; i < requests.size(); ++i) {
      const std::string &key = keys[i];
      if (im.loaded.count(key) || seen.count(key)) {
        ++im.stats.from_memory;
        continue;
      }
      seen[key] = true;
      if (std::optional<std::string> object = im.cached_object(key)) {
        ++(im.offered.count(key) ? im.stats.from_objects : im.stats.from_cache);
        cached.push_back(Job{key, i, std::move(*object)});
        continue;
      }
      jobs.push_back(Job{key, i});
    }
  }

  // 2. Compile the rest, several at once.
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t j; (j = next++) < jobs.size();) {
      if (jobs[j].request == kShared) {
        jobs[j].object = im.compile(im.language->shared_source, kSharedWhere);
        continue;
      }
      const KernelRequest &r = requests[jobs[j].request];
      jobs[j].object =
          im.compile(im.language->translation_unit(r, Impl::symbol_of(jobs[j].key)), r.where);
    }
  };
  std::vector<std::thread> threads;
  const size_t helpers = std::min(jobs.size(), static_cast<size_t>(im.options.parallel)) - 1;
  for (size_t t = 0; !jobs.empty() && t < helpers; ++t)
    threads.emplace_back(worker);
  worker();
  for (std::thread &t : threads)
    t.join();

  // 3. Link what was read or compiled, the shared unit first; cache what was
  // compiled; answer every request.
  std::lock_guard lock(im.mutex);
  for (Job &job : jobs)
    if (!job.object)
      return std::move(job.object).take_error();
  // The shared unit first: the kernels link to it.
  for (const std::vector<Job> *list : {&cached, &jobs})
    for (const Job &job : *list)
      if (job.request == kShared && !im.shared)
        ANET_RETURN_IF_ERR(im.link_shared(*job.object));
  for (const Job &job : cached)
    if (job.request != kShared && !im.loaded.count(job.key) &&
        !im.link(job.key, *job.object, requests[job.request].where))
      return make_error(ExitCode::Runtime, requests[job.request].where,
                        ": a cached kernel failed to load; remove ", im.cache_path(job.key));
  for (const Job &job : jobs) {
    if (job.request != kShared && !im.loaded.count(job.key))
      ANET_RETURN_IF_ERR(im.link(job.key, *job.object, requests[job.request].where));
    im.store(job.key, *job.object);
    ++im.stats.compiled;
  }
  std::vector<const void *> infos;
  for (const std::string &key : keys)
    infos.push_back(im.loaded.at(key));
  im.stats.compile_seconds +=
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return infos;
}

void Jit::add_objects(const KernelObjects &objects) {
  std::lock_guard lock(impl_->mutex);
  for (const auto &[key, object] : objects)
    impl_->offered[key] = object;
}

KernelObjects Jit::objects() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->objects;
}

std::string Jit::target() const {
  const auto host = llvm::sys::getHostCPUFeatures();
  std::string features;
  for (const char *f : {"avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512vnni",
                        "avx512bf16", "amx-tile", "amx-bf16"})
    if (host.lookup(f))
      features += std::string(" +") + f;
  return std::string(llvm::sys::getHostCPUName()) + features + ", clang " CLANG_VERSION_STRING;
}

JitStats Jit::stats() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->stats;
}

} // namespace anet::cpu
