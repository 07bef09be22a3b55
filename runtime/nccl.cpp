// Loading NCCL at run time: see nccl.h.

#include "runtime/nccl.h"

#include <dlfcn.h>

#include <type_traits>

namespace anet::nccl {

Status Library::check(Result result, const char *call, const std::string &what) const {
  if (result == 0)
    return {};
  const char *text = ncclGetErrorString ? ncclGetErrorString(result) : nullptr;
  const char *last = ncclGetLastError ? ncclGetLastError(nullptr) : nullptr;
  return make_error(ExitCode::Runtime, what, ": ", call,
                    " failed: ", text ? text : "NCCL error " + std::to_string(result),
                    last && *last ? std::string(" (") + last + ")" : std::string());
}

Expected<const Library *> library() {
  static const Expected<Library> loaded = []() -> Expected<Library> {
    void *handle = ::dlopen("libnccl.so.2", RTLD_NOW | RTLD_LOCAL);
    if (!handle)
      return make_error(ExitCode::Runtime,
                        "nccl: transfers between GPUs need NCCL, and libnccl.so.2 cannot be "
                        "loaded (",
                        ::dlerror(), ")");
    Library l;
    std::string missing; // the first function not found
    auto find = [&](auto &fn, const char *symbol) {
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(::dlsym(handle, symbol));
      if (!fn && missing.empty())
        missing = symbol;
    };
    find(l.ncclGetVersion, "ncclGetVersion");
    find(l.ncclGetErrorString, "ncclGetErrorString");
    find(l.ncclCommInitAll, "ncclCommInitAll");
    find(l.ncclCommDestroy, "ncclCommDestroy");
    find(l.ncclGroupStart, "ncclGroupStart");
    find(l.ncclGroupEnd, "ncclGroupEnd");
    find(l.ncclSend, "ncclSend");
    find(l.ncclRecv, "ncclRecv");
    // Optional (NCCL 2.13 on): the detail of the last error.
    l.ncclGetLastError =
        reinterpret_cast<decltype(l.ncclGetLastError)>(::dlsym(handle, "ncclGetLastError"));
    if (!missing.empty())
      return make_error(ExitCode::Runtime, "nccl: libnccl.so.2 lacks ", missing,
                        "; anet needs NCCL 2.7 or newer (point-to-point calls)");
    if (Status s = l.check(l.ncclGetVersion(&l.version), "ncclGetVersion", "nccl"); !s)
      return s.error();
    return l;
  }();
  if (!loaded.ok())
    return loaded.error();
  return &*loaded;
}

std::string version_string(int code) {
  // NCCL_VERSION(X, Y, Z): X*1000 + Y*100 + Z before 2.9, X*10000 + Y*100 + Z since.
  const int major = code >= 10000 ? code / 10000 : code / 1000;
  const int minor = code >= 10000 ? code / 100 % 100 : code / 100 % 10;
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(code % 100);
}

} // namespace anet::nccl
