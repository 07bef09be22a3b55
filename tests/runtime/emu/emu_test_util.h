#pragma once
// Shared by the emulator's tests: an emulator per test, device buffers, and
// loading one entry of a CUDA source.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "runtime/emu/emulator.h"

namespace anet::emu::testing {

/// Device memory of n T's, freed with the emulator's free.
template <class T> class Buffer {
public:
  Buffer(Emulator &emu, size_t n) : emu_(emu), n_(n) {
    ptr_ = static_cast<T *>(emu.allocate(n * sizeof(T)));
  }
  Buffer(Emulator &emu, const std::vector<T> &values) : Buffer(emu, values.size()) {
    std::memcpy(ptr_, values.data(), values.size() * sizeof(T));
  }
  ~Buffer() { emu_.free(ptr_); }
  Buffer(const Buffer &) = delete;
  Buffer &operator=(const Buffer &) = delete;

  T *get() const { return ptr_; }
  std::vector<T> values() const { return std::vector<T>(ptr_, ptr_ + n_); }
  void fill(T v) { std::fill(ptr_, ptr_ + n_, v); }

private:
  Emulator &emu_;
  size_t n_;
  T *ptr_ = nullptr;
};

/// One emulator per checking mode, shared by a test binary's tests (the
/// JIT's precompiled header and loaded kernels are reused across tests).
inline Emulator &emulator(bool checking) {
  static std::unique_ptr<Emulator> emus[2];
  auto &e = emus[checking ? 1 : 0];
  if (!e) {
    EmuOptions o;
    o.threads = 2;
    o.checking = checking;
    auto made = Emulator::create(o);
    EXPECT_TRUE(made.ok()) << made.error().message;
    e = std::move(*made);
  }
  return *e;
}

/// The kernel `entry` of `source`; fails the test if it does not compile.
inline const anet_emu_kernel *load(Emulator &emu, const std::string &source,
                                   const std::string &entry) {
  cpu::KernelRequest r{source, "test kernel '" + entry + "'", entry};
  auto k = emu.load(std::span<const cpu::KernelRequest>(&r, 1));
  EXPECT_TRUE(k.ok()) << k.error().message;
  return k.ok() ? (*k)[0] : nullptr;
}

/// Launches with arguments given by value.
template <class... A>
Status launch(Emulator &emu, const anet_emu_kernel *k, Dim3 grid, Dim3 block, size_t shared,
              A... args) {
  void *ptrs[] = {static_cast<void *>(&args)...};
  return emu.launch(*k, grid, block, shared, std::span<void *const>(ptrs, sizeof...(A)));
}

} // namespace anet::emu::testing
