#pragma once
/// Reading a whole file into memory, with errors that name it: the read
/// side of plans, checkpoints and metrics logs (ir/atomic_file.h is the
/// write side).

#include <string>

#include "ir/error.h"

namespace anet {

/// The bytes of `path`. Errors are ExitCode::IO: "cannot open <what>
/// '<path>': <reason>" or "cannot read ..." (a directory, a read error).
Expected<std::string> read_whole_file(const std::string &path, const std::string &what);

} // namespace anet
