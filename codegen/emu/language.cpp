// The emu language and its checking pass; see language.h.

#include "codegen/emu/language.h"

#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

#include <llvm/Analysis/ValueTracking.h>
#include <llvm/IR/DebugInfoMetadata.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/IntrinsicInst.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/PassManager.h>
#include <llvm/Passes/PassBuilder.h>

#include "codegen/cpu/kernel_library.h"

namespace anet::emu {
namespace {

constexpr const char *kSourceName = "kernel.cu";

// The kernel source's line of `inst`: its own location if that is in the
// kernel source, else the innermost call site there (the line of the kernel
// that called into the emulation header); 0 without debug information.
unsigned source_line(const llvm::Instruction &inst) {
  for (const llvm::DILocation *loc = inst.getDebugLoc().get(); loc; loc = loc->getInlinedAt())
    if (loc->getFilename() == kSourceName)
      return loc->getLine();
  return 0;
}

// Puts anet_emu_check(address, bytes, write, line) before every load, store
// and memory intrinsic whose address is not the function's own stack.
// Atomic instructions are left alone: they are the kernel's atomics, never
// a race, and CUDA checks their bounds no differently from a plain access.
struct CheckAccesses : llvm::PassInfoMixin<CheckAccesses> {
  llvm::PreservedAnalyses run(llvm::Function &f, llvm::FunctionAnalysisManager &) {
    if (f.isDeclaration())
      return llvm::PreservedAnalyses::all();
    llvm::Module &m = *f.getParent();
    llvm::LLVMContext &context = m.getContext();
    const llvm::DataLayout &layout = m.getDataLayout();
    llvm::Type *i64 = llvm::Type::getInt64Ty(context), *i32 = llvm::Type::getInt32Ty(context);
    llvm::FunctionCallee check =
        m.getOrInsertFunction("anet_emu_check", llvm::Type::getVoidTy(context),
                              llvm::PointerType::getUnqual(context), i64, i32, i32);

    struct Access {
      llvm::Instruction *at;
      llvm::Value *address;
      llvm::Value *bytes;
      bool write;
    };
    std::vector<Access> accesses;
    auto add = [&](llvm::Instruction *at, llvm::Value *address, llvm::Value *bytes, bool write) {
      const llvm::Value *object = llvm::getUnderlyingObject(address);
      auto *global = llvm::dyn_cast<llvm::GlobalVariable>(object);
      if (llvm::isa<llvm::AllocaInst>(object) || (global && !global->isThreadLocal()))
        return; // the thread's own stack, or the module's constants (thread_local: __shared__)
      accesses.push_back({at, address, bytes, write});
    };
    for (llvm::BasicBlock &block : f)
      for (llvm::Instruction &inst : block) {
        if (auto *load = llvm::dyn_cast<llvm::LoadInst>(&inst)) {
          if (!load->isAtomic())
            add(load, load->getPointerOperand(),
                llvm::ConstantInt::get(i64, layout.getTypeStoreSize(load->getType())), false);
        } else if (auto *store = llvm::dyn_cast<llvm::StoreInst>(&inst)) {
          if (!store->isAtomic())
            add(store, store->getPointerOperand(),
                llvm::ConstantInt::get(
                    i64, layout.getTypeStoreSize(store->getValueOperand()->getType())),
                true);
        } else if (auto *transfer = llvm::dyn_cast<llvm::MemTransferInst>(&inst)) {
          add(transfer, transfer->getSource(), transfer->getLength(), false);
          add(transfer, transfer->getDest(), transfer->getLength(), true);
        } else if (auto *set = llvm::dyn_cast<llvm::MemSetInst>(&inst)) {
          add(set, set->getDest(), set->getLength(), true);
        }
      }
    for (const Access &a : accesses) {
      llvm::IRBuilder<> b(a.at);
      b.CreateCall(check, {a.address, b.CreateZExtOrTrunc(a.bytes, i64),
                           llvm::ConstantInt::get(i32, a.write ? 1 : 0),
                           llvm::ConstantInt::get(i32, source_line(*a.at))});
    }
    return accesses.empty() ? llvm::PreservedAnalyses::all() : llvm::PreservedAnalyses::none();
  }
};

// The library the kernels see: the embedded copy, or with
// $ANET_KERNEL_SOURCE_DIR (an anet source tree) the headers there as they are
// now, so that a kernel writer's edits take effect without a rebuild.
std::span<const cpu::LibraryFile> library() {
  const char *root = std::getenv("ANET_KERNEL_SOURCE_DIR");
  if (!root || !*root)
    return cpu::emu_library();
  static std::mutex mutex;
  static std::deque<std::string> texts; // owns what the LibraryFiles point at
  static std::map<std::string, std::vector<cpu::LibraryFile>> loaded;
  std::lock_guard lock(mutex);
  auto &files = loaded[root];
  if (!files.empty())
    return files;
  namespace fs = std::filesystem;
  auto add = [&](const fs::path &path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    texts.push_back("anet/" + path.filename().string());
    const char *name = texts.back().c_str();
    texts.push_back(text.str());
    files.push_back({name, texts.back().c_str()});
  };
  for (const char *dir : {"codegen/emu/kernels", "codegen/cuda/kernels"}) {
    std::error_code ec;
    for (const auto &entry : fs::directory_iterator(fs::path(root) / dir, ec))
      if (entry.path().extension() == ".h")
        add(entry.path());
  }
  add(fs::path(root) / "ir" / "random.h");
  return files;
}

} // namespace

std::string emu_translation_unit(const cpu::KernelRequest &request, const std::string &symbol) {
  return "// An anet CUDA kernel for the emu device (codegen/emu/language.cpp).\n"
         "#include \"anet/cuda_emu.h\"\n#line 1 \"" +
         std::string(kSourceName) + "\"\n" + request.body +
         (request.body.ends_with("\n") ? "" : "\n") +
         "extern \"C\" constinit const anet_emu_kernel " + symbol + " = ANET_EMU_KERNEL(" +
         request.entry + ", \"" + request.entry + "\");\n";
}

std::shared_ptr<const cpu::JitLanguage> emu_language(EmuLanguageOptions options) {
  auto l = std::make_shared<cpu::JitLanguage>();
  l->abi = options.checking ? "anet-emu-abi-1-checked" : "anet-emu-abi-1";
  l->library = library();
  l->prelude = "anet/cuda_emu.h";
  // -O1: emulated threads gain little from vectorised code, and compiling
  // is most of a test's time.
  l->options = {"-O1", "-femulated-tls"};
  if (options.checking)
    l->options.insert(l->options.end(), {"-debug-info-kind=line-tables-only", "-dwarf-version=5"});
  l->translation_unit = emu_translation_unit;
  l->host_symbols = std::move(options.host_symbols);
  l->resolve = std::move(options.resolve);
  if (options.checking)
    l->passes = [](llvm::PassBuilder &builder) {
      builder.registerOptimizerLastEPCallback(
          [](llvm::ModulePassManager &passes, llvm::OptimizationLevel) {
            passes.addPass(llvm::createModuleToFunctionPassAdaptor(CheckAccesses()));
          });
    };
  return l;
}

} // namespace anet::emu
