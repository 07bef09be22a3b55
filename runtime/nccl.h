#pragma once
/// NCCL, loaded at run time (dlopen of libnccl.so.2), never linked: the cuda
/// device moves Transfers between logical devices on different GPUs with
/// its point-to-point calls, and a machine without NCCL runs everything
/// else. The few declarations anet calls are written here from NCCL's C
/// API (stable since NCCL 2), so building needs no nccl.h;
/// tests/runtime/nccl_test.cpp checks them against nccl.h where it exists.

#include <cstddef>
#include <string>

#include "ir/error.h"

struct ncclComm;    // NCCL's communicator (opaque)
struct CUstream_st; // a CUDA stream (CUstream, cudaStream_t)

namespace anet::nccl {

using Comm = ncclComm *;
using Stream = CUstream_st *;
/// ncclResult_t: 0 is success.
using Result = int;
/// ncclDataType_t's ncclFloat32.
inline constexpr int kFloat32 = 7;

/// The NCCL functions anet calls, looked up in libnccl.so.2.
struct Library {
  Result (*ncclGetVersion)(int *version) = nullptr;
  const char *(*ncclGetErrorString)(Result result) = nullptr;
  const char *(*ncclGetLastError)(Comm comm) = nullptr; ///< null before NCCL 2.13
  Result (*ncclCommInitAll)(Comm *comms, int ndev, const int *devlist) = nullptr;
  Result (*ncclCommDestroy)(Comm comm) = nullptr;
  Result (*ncclGroupStart)() = nullptr;
  Result (*ncclGroupEnd)() = nullptr;
  Result (*ncclSend)(const void *sendbuff, size_t count, int datatype, int peer, Comm comm,
                     Stream stream) = nullptr;
  Result (*ncclRecv)(void *recvbuff, size_t count, int datatype, int peer, Comm comm,
                     Stream stream) = nullptr;
  /// NCCL_VERSION_CODE of the loaded library (22803 for 2.28.3).
  int version = 0;

  /// An ExitCode::Runtime error "<what>: <call> failed: <NCCL's text>
  /// (<its last error>)", or success for result 0.
  Status check(Result result, const char *call, const std::string &what) const;
};

/// The library, loaded once per process; an ExitCode::Runtime error says why
/// there is none (not installed, or older than the point-to-point calls).
Expected<const Library *> library();

/// "2.28.3" for NCCL_VERSION_CODE 22803 (and "2.9.9" for the old 2909).
std::string version_string(int code);

} // namespace anet::nccl
