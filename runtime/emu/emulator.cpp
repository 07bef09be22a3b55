// The CUDA emulator; see emulator.h. Design:
//
// - A launch hands its blocks to the thread pool. A worker runs one block at
//   a time: it makes one fiber per CUDA thread (Boost.Context's fcontext, on
//   stacks the worker keeps) and resumes them in thread order, each until it
//   finishes or waits at a barrier or warp collective. The last thread to
//   arrive releases the others and goes on. A pass that resumes nothing
//   while threads are left is a deadlock, which is diagnosed and reported.
// - The kernel finds its thread through anet_emu_self(), which reads the
//   worker's current fiber (a thread_local of this file).
// - Shared memory: kernels are compiled with emulated TLS, so every access
//   to a __shared__ (thread_local) variable asks __emutls_get_address, which
//   is ours: it places the variable in the worker's arena on first use in a
//   block. Undefined __emutls_v.* symbols (extern __shared__ arrays) resolve
//   to one control that stands for the dynamic part.
// - Checking: the compiler pass calls anet_emu_check before accesses; the
//   arena keeps a shadow word per 4 bytes for the race check.

#include "runtime/emu/emulator.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <sstream>
#include <thread>

#include <sys/mman.h>
#include <unistd.h>

#include <boost/context/detail/fcontext.hpp>

#include "codegen/emu/language.h"
#include "runtime/thread_pool.h"

namespace anet::emu {

namespace fctx = boost::context::detail;

namespace {

constexpr size_t kRedZone = 256;                            // around device allocations
constexpr size_t kSharedRedZone = 64;                       // after each shared variable (checking)
constexpr size_t kDeviceAlign = 256;                        // as cudaMalloc
constexpr size_t kArenaBytes = kMaxSharedBytes + 64 * 1024; // room for red zones

/// An emulated-TLS control object as Clang emits it (__emutls_v.NAME).
struct EmutlsControl {
  size_t size;
  size_t align;
  void *unused;
  const void *initial; // nullptr: zero
};

/// What every undefined __emutls_v.* resolves to: extern __shared__ arrays,
/// which are all the block's dynamic shared memory.
EmutlsControl g_dynamic_shared{0, 16, nullptr, nullptr};

enum class State : uint8_t { Runnable, AtBarrier, AtWarp, Done, Abandoned };

struct Block;

struct Fiber {
  anet_emu_thread thread{};
  fctx::fcontext_t context = nullptr;
  State state = State::Runnable;
  Block *block = nullptr;
  unsigned warp_ops = 0;  // warp collectives begun
  unsigned wait_mask = 0; // of the collective it waits in
  int barrier_result = 0;
};

struct Warp {
  unsigned arrived[2] = {0, 0};
  uint32_t epoch = 1; // collectives completed + 1
  alignas(64) unsigned char slots[2][32][ANET_EMU_WARP_SLOT_BYTES];
};

/// Last write and read of a 4-byte word of shared memory in a block.
struct Shadow {
  uint32_t block = 0; // Worker::block_serial when recorded; other values: never
  uint32_t write_epoch = 0, read_epoch = 0;
  uint32_t write_warp_epoch = 0, read_warp_epoch = 0;
  uint16_t writer = 0, reader = 0;
};

struct SharedVariable {
  const EmutlsControl *control;
  size_t offset, size;
};

struct Launch;

/// What a pool worker keeps between blocks.
struct Worker {
  std::vector<void *> stacks; // each: a guard page, then the stack
  std::vector<Fiber> fibers;
  std::vector<Warp> warps;
  unsigned char *arena = nullptr; // shared memory, kArenaBytes
  size_t dynamic = 0, used = 0, static_bytes = 0;
  std::vector<SharedVariable> variables;
  std::vector<Shadow> shadow; // per 4 bytes of arena (checking)
  uint32_t block_serial = 0;
  size_t stack_bytes = 0;

  ~Worker() {
    for (void *s : stacks)
      ::munmap(s, stack_bytes + static_cast<size_t>(::getpagesize()));
    std::free(arena);
  }
};

struct Launch {
  Emulator::Impl *emu;
  const anet_emu_kernel *kernel;
  Dim3 grid, block;
  size_t dynamic;
  void *const *args;
  std::atomic<bool> failed{false};
  std::mutex mutex;
  std::string error;
  std::atomic<long long> threads_done{0};
};

struct Block {
  Launch *launch = nullptr;
  Worker *worker = nullptr;
  fctx::fcontext_t scheduler = nullptr;
  unsigned threads = 0, done = 0, arrived = 0;
  int reduce = ANET_EMU_REDUCE_NONE, reduce_true = 0;
  unsigned line = 0;  // kernel.cu line of the first arrival's __syncthreads
  uint32_t epoch = 1; // barriers completed + 1
  anet_emu_dim3 index{};
};

thread_local Fiber *t_fiber = nullptr;

std::string dim(anet_emu_dim3 d) {
  return "(" + std::to_string(d.x) + "," + std::to_string(d.y) + "," + std::to_string(d.z) + ")";
}

std::string hex(unsigned v) {
  char s[16];
  std::snprintf(s, sizeof s, "0x%08x", v);
  return s;
}

std::string at_line(unsigned line) {
  return line ? " (kernel.cu line " + std::to_string(line) + ")" : "";
}

/// Records the launch's first error, naming kernel, block and `thread`.
void record(Launch &l, const Fiber *thread, anet_emu_dim3 block, const std::string &what) {
  std::lock_guard lock(l.mutex);
  if (l.failed.exchange(true))
    return;
  l.error = "emu: kernel '" + std::string(l.kernel->name) + "', block " + dim(block) +
            (thread ? ", thread " + dim(thread->thread.thread_idx) : std::string()) + ": " + what;
}

/// Leaves the fiber for good: the scheduler sees the failed launch and
/// stops the block. Nothing on a kernel's stack needs destroying.
[[noreturn]] void abandon(Fiber &f) {
  f.state = State::Abandoned;
  fctx::jump_fcontext(f.block->scheduler, nullptr);
  __builtin_unreachable();
}

[[noreturn]] void fail(Fiber &f, const std::string &what) {
  record(*f.block->launch, &f, f.block->index, what);
  abandon(f);
}

/// Switches to the scheduler until it resumes this fiber.
void suspend(Fiber &f) {
  fctx::transfer_t back = fctx::jump_fcontext(f.block->scheduler, nullptr);
  f.block->scheduler = back.fctx;
}

void fiber_main(fctx::transfer_t from) {
  Fiber *f = static_cast<Fiber *>(from.data);
  Block &b = *f->block;
  b.scheduler = from.fctx;
  b.launch->kernel->run(b.launch->args);
  f->state = State::Done;
  ++b.done;
  fctx::jump_fcontext(b.scheduler, nullptr);
}

// ------------------------------------------------ what kernels call (abi.h)

const anet_emu_thread *emu_self() { return &t_fiber->thread; }

void release_barrier(Block &b) {
  int result = 0;
  switch (b.reduce) {
  case ANET_EMU_REDUCE_COUNT:
    result = b.reduce_true;
    break;
  case ANET_EMU_REDUCE_AND:
    result = b.reduce_true == static_cast<int>(b.threads);
    break;
  case ANET_EMU_REDUCE_OR:
    result = b.reduce_true > 0;
    break;
  default:
    break;
  }
  for (Fiber &f : std::span(b.worker->fibers.data(), b.threads))
    if (f.state == State::AtBarrier) {
      f.state = State::Runnable;
      f.barrier_result = result;
    }
  b.arrived = 0;
  b.reduce_true = 0;
  b.reduce = ANET_EMU_REDUCE_NONE;
  ++b.epoch;
}

bool checking(const Block &b);

int emu_barrier(int reduce, int predicate, unsigned line) {
  Fiber &f = *t_fiber;
  Block &b = *f.block;
  if (checking(b)) {
    if (b.arrived == 0)
      b.line = line;
    else if (line != b.line)
      fail(f, "divergent __syncthreads: this thread reached the one of kernel.cu line " +
                  std::to_string(line) + ", the " + std::to_string(b.arrived) +
                  " threads waiting that of line " + std::to_string(b.line));
  }
  b.reduce = reduce;
  b.reduce_true += predicate != 0;
  f.state = State::AtBarrier;
  if (++b.arrived == b.threads)
    release_barrier(b);
  else
    suspend(f);
  return f.barrier_result;
}

const void *emu_warp_exchange(unsigned mask, const void *value, unsigned bytes) {
  Fiber &f = *t_fiber;
  Block &b = *f.block;
  const unsigned lane = f.thread.lane, warp = f.thread.linear / 32;
  const unsigned lanes = std::min(32u, b.threads - warp * 32);
  const unsigned present = lanes == 32 ? ~0u : (1u << lanes) - 1;
  if (!(mask >> lane & 1))
    fail(f, "a warp collective's mask " + hex(mask) + " leaves out the calling lane " +
                std::to_string(lane));
  if (mask & ~present)
    fail(f, "a warp collective's mask " + hex(mask) + " names lanes that do not exist (warp " +
                std::to_string(warp) + " of a " + std::to_string(b.threads) +
                "-thread block has lanes " + hex(present) + ")");
  Warp &w = b.worker->warps[warp];
  const unsigned slot = f.warp_ops++ & 1;
  if (bytes)
    std::memcpy(w.slots[slot][lane], value, std::min<unsigned>(bytes, ANET_EMU_WARP_SLOT_BYTES));
  w.arrived[slot] |= 1u << lane;
  if ((w.arrived[slot] & mask) == mask) {
    w.arrived[slot] &= ~mask;
    ++w.epoch;
    for (unsigned l = 0; l < 32; ++l)
      if ((mask >> l & 1) && l != lane)
        b.worker->fibers[warp * 32 + l].state = State::Runnable;
  } else {
    f.state = State::AtWarp;
    f.wait_mask = mask;
    suspend(f);
  }
  return w.slots[slot];
}

void *emu_dynamic_shared() { return t_fiber->block->worker->arena; }

void emu_trap(const char *message) { fail(*t_fiber, message ? message : "trap"); }

void emu_check(const void *address, unsigned long bytes, int write, unsigned line);

void *emutls_get_address(EmutlsControl *control) {
  Fiber *f = t_fiber;
  if (!f) {
    std::fprintf(stderr, "anet emu: shared memory used outside a kernel\n");
    std::abort();
  }
  Worker &w = *f->block->worker;
  if (control == &g_dynamic_shared)
    return w.arena;
  for (const SharedVariable &v : w.variables)
    if (v.control == control)
      return w.arena + v.offset;
  const size_t align = std::max<size_t>(16, control->align);
  const size_t offset = (w.used + align - 1) / align * align;
  w.static_bytes += control->size;
  if (w.static_bytes + w.dynamic > kMaxSharedBytes || offset + control->size > kArenaBytes)
    fail(*f, "the block uses " + std::to_string(w.static_bytes + w.dynamic) +
                 " bytes of shared memory (" + std::to_string(w.dynamic) +
                 " dynamic); an H100 block has at most " + std::to_string(kMaxSharedBytes));
  if (control->initial)
    std::memcpy(w.arena + offset, control->initial, control->size);
  else
    std::memset(w.arena + offset, checking(*f->block) ? 0xff : 0, control->size);
  w.variables.push_back({control, offset, control->size});
  w.used = offset + control->size + (checking(*f->block) ? kSharedRedZone : 0);
  return w.arena + offset;
}

} // namespace

// ---------------------------------------------------------------- Emulator

struct Emulator::Impl {
  EmuOptions options;
  std::unique_ptr<cpu::Jit> jit;
  std::unique_ptr<ThreadPool> pool;
  std::vector<std::unique_ptr<Worker>> workers;
  std::mutex launch_mutex; // one launch at a time (the workers' state)

  mutable std::shared_mutex memory_mutex;
  std::map<uintptr_t, size_t> allocations; // user address -> bytes

  mutable std::mutex stats_mutex;
  EmuStats stats;

  /// The device allocation whose red zones or bytes hold `a`, if any.
  std::optional<std::pair<uintptr_t, size_t>> allocation_near(uintptr_t a) const {
    std::shared_lock lock(memory_mutex);
    auto it = allocations.upper_bound(a + kRedZone);
    if (it == allocations.begin())
      return std::nullopt;
    --it;
    if (a + kRedZone >= it->first && a < it->first + it->second + kRedZone)
      return *it;
    return std::nullopt;
  }
};

namespace {

bool checking(const Block &b) { return b.launch->emu->options.checking; }

/// "byte 4 of a 256-byte __shared__ variable": where arena offset `offset` is.
std::string shared_place(const Worker &w, size_t offset) {
  if (offset < w.dynamic)
    return "byte " + std::to_string(offset) + " of dynamic shared memory";
  for (const SharedVariable &v : w.variables)
    if (offset >= v.offset && offset < v.offset + v.size)
      return "byte " + std::to_string(offset - v.offset) + " of a " + std::to_string(v.size) +
             "-byte __shared__ variable";
  return "shared offset " + std::to_string(offset);
}

void check_shared(Fiber &f, uintptr_t a, unsigned long bytes, bool write, unsigned line) {
  Block &b = *f.block;
  Worker &w = *b.worker;
  const size_t offset = a - reinterpret_cast<uintptr_t>(w.arena);
  const char *what = write ? "write" : "read";
  // Inside the dynamic part, or inside one variable?
  bool inside = offset + bytes <= w.dynamic;
  for (const SharedVariable &v : w.variables)
    inside = inside || (offset >= v.offset && offset + bytes <= v.offset + v.size);
  if (!inside) {
    std::string where = "outside every shared variable";
    if (offset < w.dynamic + kSharedRedZone && w.dynamic > 0)
      where = std::to_string(offset + bytes - w.dynamic) + " bytes past the end of the " +
              std::to_string(w.dynamic) + " bytes of dynamic shared memory";
    else if (w.dynamic == 0 && offset < kSharedRedZone && w.variables.empty())
      where = "in dynamic shared memory, of which the launch gave 0 bytes";
    for (const SharedVariable &v : w.variables)
      if (offset >= v.offset && offset < v.offset + v.size + kSharedRedZone)
        where = std::to_string(offset + bytes - (v.offset + v.size)) + " bytes past the end of a " +
                std::to_string(v.size) + "-byte __shared__ variable";
    fail(f, std::string("out-of-bounds shared-memory ") + what + " of " + std::to_string(bytes) +
                " bytes, " + where + at_line(line));
  }
  // Races: the shadow of each 4-byte word.
  const unsigned tid = f.thread.linear, warp = tid / 32;
  const uint32_t warp_epoch = w.warps[warp].epoch;
  auto synced_in_warp = [&](unsigned other, uint32_t other_warp_epoch) {
    return other / 32 == warp && other_warp_epoch != warp_epoch;
  };
  for (size_t word = offset / 4; word <= (offset + bytes - 1) / 4; ++word) {
    Shadow &s = w.shadow[word];
    if (s.block != w.block_serial)
      s = Shadow{w.block_serial};
    auto race = [&](const char *earlier, unsigned other) {
      fail(f, std::string("shared-memory race: this thread ") + (write ? "writes" : "reads") +
                  " the word at " + shared_place(w, word * 4) + ", which thread " +
                  dim(b.worker->fibers[other].thread.thread_idx) + " " + earlier +
                  " with no __syncthreads in between" + at_line(line));
    };
    if (s.write_epoch == b.epoch && s.writer != tid &&
        !synced_in_warp(s.writer, s.write_warp_epoch))
      race("wrote", s.writer);
    if (write && s.read_epoch == b.epoch && s.reader != tid &&
        !synced_in_warp(s.reader, s.read_warp_epoch))
      race("read", s.reader);
    if (write) {
      s.writer = static_cast<uint16_t>(tid);
      s.write_epoch = b.epoch;
      s.write_warp_epoch = warp_epoch;
    } else {
      s.reader = static_cast<uint16_t>(tid);
      s.read_epoch = b.epoch;
      s.read_warp_epoch = warp_epoch;
    }
  }
}

void emu_check(const void *address, unsigned long bytes, int write, unsigned line) {
  Fiber &f = *t_fiber;
  if (bytes == 0)
    return;
  const auto a = reinterpret_cast<uintptr_t>(address);
  Worker &w = *f.block->worker;
  const auto arena = reinterpret_cast<uintptr_t>(w.arena);
  if (a >= arena && a < arena + kArenaBytes) {
    check_shared(f, a, bytes, write != 0, line);
    return;
  }
  auto near = f.block->launch->emu->allocation_near(a);
  if (!near)
    return; // not device memory: the host's, or a stack's
  const auto [base, size] = *near;
  if (a >= base && a + bytes <= base + size)
    return;
  const long long offset = static_cast<long long>(a) - static_cast<long long>(base);
  fail(f, std::string("out-of-bounds ") + (write ? "write" : "read") + " of " +
              std::to_string(bytes) + " bytes at byte offset " + std::to_string(offset) + " of a " +
              std::to_string(size) + "-byte device allocation" + at_line(line));
}

/// Why no fiber of `b` can go on: the message for a deadlocked block.
void diagnose_deadlock(Block &b) {
  std::span<Fiber> fibers(b.worker->fibers.data(), b.threads);
  const Fiber *at_warp = nullptr, *done = nullptr, *at_barrier = nullptr;
  for (const Fiber &f : fibers) {
    if (f.state == State::AtWarp && !at_warp)
      at_warp = &f;
    if (f.state == State::Done && !done)
      done = &f;
    if (f.state == State::AtBarrier && !at_barrier)
      at_barrier = &f;
  }
  Launch &l = *b.launch;
  if (at_warp) {
    // The first lane of its mask that is not waiting in a collective.
    const unsigned warp = at_warp->thread.linear / 32;
    for (unsigned lane = 0; lane < 32; ++lane) {
      if (!(at_warp->wait_mask >> lane & 1))
        continue;
      const Fiber &other = fibers[warp * 32 + lane];
      if (other.state == State::AtWarp)
        continue;
      const char *why = other.state == State::Done ? "returned" : "waits at __syncthreads";
      record(l, at_warp, b.index,
             "warp collective with mask " + hex(at_warp->wait_mask) + " never completes: lane " +
                 std::to_string(lane) + " (thread " + dim(other.thread.thread_idx) + ") " + why);
      return;
    }
    record(l, at_warp, b.index,
           "warp collectives never complete: the lanes of warp " + std::to_string(warp) +
               " wait with different masks");
    return;
  }
  unsigned waiting = 0;
  for (const Fiber &f : fibers)
    waiting += f.state == State::AtBarrier;
  record(l, done, b.index,
         "__syncthreads reached by " + std::to_string(waiting) + " of " +
             std::to_string(b.threads) + " threads: this thread and " +
             std::to_string(b.threads - waiting - 1) + " others returned without reaching it");
  (void)at_barrier;
}

void run_block(Launch &l, Worker &w, unsigned long long index) {
  Block b;
  b.launch = &l;
  b.worker = &w;
  b.threads = static_cast<unsigned>(l.block.count());
  b.index = {static_cast<unsigned>(index % l.grid.x),
             static_cast<unsigned>(index / l.grid.x % l.grid.y),
             static_cast<unsigned>(index / (1ull * l.grid.x * l.grid.y))};
  const bool check = checking(b);
  ++w.block_serial;
  w.dynamic = l.dynamic;
  w.used = l.dynamic + (check ? kSharedRedZone : 0);
  w.static_bytes = 0;
  w.variables.clear();
  if (check && l.dynamic)
    std::memset(w.arena, 0xff, l.dynamic);

  const size_t page = static_cast<size_t>(::getpagesize());
  while (w.stacks.size() < b.threads) {
    void *s = ::mmap(nullptr, w.stack_bytes + page, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (s == MAP_FAILED) {
      record(l, nullptr, b.index, "cannot map the stacks of the block's threads");
      return;
    }
    ::mprotect(s, page, PROT_NONE); // a stack overflow faults instead of corrupting
    w.stacks.push_back(s);
  }
  w.fibers.resize(b.threads);
  w.warps.resize((b.threads + 31) / 32);
  for (Warp &warp : w.warps) {
    warp.arrived[0] = warp.arrived[1] = 0;
    warp.epoch = 1;
  }
  const anet_emu_dim3 block_dim{l.block.x, l.block.y, l.block.z};
  const anet_emu_dim3 grid_dim{l.grid.x, l.grid.y, l.grid.z};
  for (unsigned t = 0; t < b.threads; ++t) {
    Fiber &f = w.fibers[t];
    f = Fiber{};
    f.thread.thread_idx = {t % l.block.x, t / l.block.x % l.block.y, t / (l.block.x * l.block.y)};
    f.thread.block_idx = b.index;
    f.thread.block_dim = block_dim;
    f.thread.grid_dim = grid_dim;
    f.thread.linear = t;
    f.thread.lane = t % 32;
    f.block = &b;
    f.context = fctx::make_fcontext(static_cast<char *>(w.stacks[t]) + page + w.stack_bytes,
                                    w.stack_bytes, &fiber_main);
  }

  while (b.done < b.threads) {
    bool resumed = false;
    for (Fiber &f : std::span(w.fibers.data(), b.threads)) {
      if (f.state != State::Runnable)
        continue;
      t_fiber = &f;
      fctx::transfer_t back = fctx::jump_fcontext(f.context, &f);
      t_fiber = nullptr;
      f.context = back.fctx;
      resumed = true;
      if (l.failed.load(std::memory_order_relaxed))
        return;
    }
    if (!resumed && b.done < b.threads) {
      diagnose_deadlock(b);
      return;
    }
  }
  l.threads_done += b.threads;
}

std::string as_text(Dim3 d) {
  return "(" + std::to_string(d.x) + "," + std::to_string(d.y) + "," + std::to_string(d.z) + ")";
}

} // namespace

Emulator::Emulator(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Emulator::~Emulator() {
  for (const auto &[address, bytes] : impl_->allocations)
    std::free(reinterpret_cast<char *>(address) - kRedZone);
}

Expected<std::unique_ptr<Emulator>> Emulator::create(EmuOptions options) {
  if (options.threads < 0)
    return make_error(ExitCode::Usage, "emu: --threads must be at least 1, got ", options.threads);
  auto impl = std::make_unique<Impl>();
  const int threads = options.threads > 0
                          ? options.threads
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  EmuLanguageOptions language;
  language.checking = options.checking;
  language.host_symbols = {
      {"anet_emu_self", reinterpret_cast<const void *>(&emu_self)},
      {"anet_emu_barrier", reinterpret_cast<const void *>(&emu_barrier)},
      {"anet_emu_warp_exchange", reinterpret_cast<const void *>(&emu_warp_exchange)},
      {"anet_emu_dynamic_shared", reinterpret_cast<const void *>(&emu_dynamic_shared)},
      {"anet_emu_trap", reinterpret_cast<const void *>(&emu_trap)},
      {"anet_emu_check", reinterpret_cast<const void *>(&emu_check)},
      {"__emutls_get_address", reinterpret_cast<const void *>(&emutls_get_address)},
  };
  language.resolve = [](std::string_view name) -> const void * {
    return name.starts_with("__emutls_v.") ? &g_dynamic_shared : nullptr;
  };
  cpu::JitOptions jit_options;
  jit_options.cache_dir = options.cache_dir;
  jit_options.parallel = threads;
  jit_options.language = emu_language(std::move(language));
  ANET_ASSIGN_OR_RETURN(impl->jit, cpu::Jit::create(jit_options));
  impl->pool = std::make_unique<ThreadPool>(threads);
  for (int i = 0; i < threads; ++i) {
    auto w = std::make_unique<Worker>();
    w->stack_bytes = (options.stack_bytes + 4095) / 4096 * 4096;
    w->arena = static_cast<unsigned char *>(std::aligned_alloc(128, kArenaBytes));
    if (!w->arena)
      return make_error(ExitCode::Runtime, "emu: out of host memory for shared memory");
    if (options.checking)
      w->shadow.resize(kArenaBytes / 4);
    impl->workers.push_back(std::move(w));
  }
  impl->options = std::move(options);
  return std::unique_ptr<Emulator>(new Emulator(std::move(impl)));
}

Expected<std::vector<const anet_emu_kernel *>>
Emulator::load(std::span<const cpu::KernelRequest> requests) {
  for (const cpu::KernelRequest &r : requests)
    if (r.entry.empty())
      return make_error(ExitCode::Runtime, r.where, ": an emu kernel request names no entry");
  ANET_ASSIGN_OR_RETURN(std::vector<const void *> symbols, impl_->jit->load_symbols(requests));
  std::vector<const anet_emu_kernel *> kernels;
  for (const void *s : symbols)
    kernels.push_back(static_cast<const anet_emu_kernel *>(s));
  return kernels;
}

void *Emulator::allocate(size_t bytes) {
  const size_t rounded = (bytes + kDeviceAlign - 1) / kDeviceAlign * kDeviceAlign;
  auto *block = static_cast<char *>(std::aligned_alloc(kDeviceAlign, rounded + 2 * kRedZone));
  if (!block)
    return nullptr;
  char *user = block + kRedZone;
  if (impl_->options.checking)
    std::memset(user, 0xff, rounded);
  std::unique_lock lock(impl_->memory_mutex);
  impl_->allocations[reinterpret_cast<uintptr_t>(user)] = bytes;
  return user;
}

void Emulator::free(void *pointer) {
  if (!pointer)
    return;
  std::unique_lock lock(impl_->memory_mutex);
  if (impl_->allocations.erase(reinterpret_cast<uintptr_t>(pointer)))
    std::free(static_cast<char *>(pointer) - kRedZone);
}

Status Emulator::launch(const anet_emu_kernel &kernel, Dim3 grid, Dim3 block, size_t dynamic_shared,
                        std::span<void *const> args) {
  const std::string what = std::string("emu: kernel '") + kernel.name + "'";
  if (grid.count() == 0 || block.count() == 0)
    return make_error(ExitCode::Runtime, what, ": empty launch, grid ", as_text(grid), " block ",
                      as_text(block));
  if (block.count() > kMaxBlockThreads || block.z > 64)
    return make_error(ExitCode::Runtime, what, ": block ", as_text(block),
                      " exceeds the H100's 1024 threads per block (z at most 64)");
  if (grid.y > 65535 || grid.z > 65535 || grid.x > 0x7fffffffu)
    return make_error(ExitCode::Runtime, what, ": grid ", as_text(grid),
                      " exceeds (2^31 - 1, 65535, 65535)");
  if (dynamic_shared > kMaxSharedBytes)
    return make_error(ExitCode::Runtime, what, ": ", dynamic_shared,
                      " bytes of dynamic shared memory; an H100 block has at most ",
                      kMaxSharedBytes);
  if (args.size() != kernel.params)
    return make_error(ExitCode::Runtime, what, " takes ", kernel.params, " parameters, given ",
                      args.size());
  for (size_t i = 0; i < args.size(); ++i)
    if (!args[i])
      return make_error(ExitCode::Runtime, what, ": parameter ", i, " has no value");

  std::lock_guard lock(impl_->launch_mutex);
  const auto start = std::chrono::steady_clock::now();
  Launch l;
  l.emu = impl_.get();
  l.kernel = &kernel;
  l.grid = grid;
  l.block = block;
  l.dynamic = dynamic_shared;
  l.args = args.data();
  const auto blocks = static_cast<long>(grid.count());
  impl_->pool->parallel_for(
      blocks, 1,
      [](void *ctx, long begin, long end, int worker) {
        auto &launch = *static_cast<Launch *>(ctx);
        Worker &w = *launch.emu->workers[static_cast<size_t>(worker)];
        for (long i = begin; i < end && !launch.failed.load(std::memory_order_relaxed); ++i)
          run_block(launch, w, static_cast<unsigned long long>(i));
      },
      &l);
  {
    std::lock_guard stats_lock(impl_->stats_mutex);
    ++impl_->stats.launches;
    impl_->stats.blocks += blocks;
    impl_->stats.threads += l.threads_done.load();
    impl_->stats.seconds +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  if (l.failed)
    return make_error(ExitCode::Runtime, l.error);
  return {};
}

bool Emulator::checking() const { return impl_->options.checking; }
int Emulator::workers() const { return static_cast<int>(impl_->workers.size()); }

EmuStats Emulator::stats() const {
  std::lock_guard lock(impl_->stats_mutex);
  return impl_->stats;
}

} // namespace anet::emu
