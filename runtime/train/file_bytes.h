#pragma once
/// Reading a whole file into memory, with errors that name it: the read
/// side of checkpoints and metrics logs.

#include <string>

#include "ir/error.h"

namespace anet {

/// The bytes of `path`. Errors are ExitCode::IO: "cannot open <what>
/// '<path>': <reason>" or "cannot read ..." (a directory, a read error).
Expected<std::string> read_file_bytes(const std::string &path, const std::string &what);

} // namespace anet
