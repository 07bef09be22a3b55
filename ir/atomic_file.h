#pragma once
/// Writing files so that a failure never loses what was there: the bytes go
/// to a temporary file beside the target, are flushed with fsync, and
/// replace the target by rename; the directory is then synced so the rename
/// survives a crash. Plans, .npy outputs, exported models and caches all
/// write this way.

#include <initializer_list>
#include <string>
#include <string_view>

#include "ir/error.h"

namespace anet {

/// One file being replaced. write() fills and flushes the temporary file,
/// commit() renames it over the target; a destroyed, uncommitted AtomicFile
/// removes its temporary file and leaves the target as it was. Errors are
/// ExitCode::IO: "cannot <do> <what> '<path>': <reason>".
class AtomicFile {
public:
  /// `what` names the file in errors ("plan", "model").
  AtomicFile(std::string path, std::string what);
  AtomicFile(const AtomicFile &) = delete;
  AtomicFile &operator=(const AtomicFile &) = delete;
  ~AtomicFile();

  /// Writes `parts` in order to the temporary file, fsyncs and closes it.
  Status write(std::initializer_list<std::string_view> parts);
  /// Renames the written temporary file over the target.
  Status commit();

private:
  Error io_error(const char *doing, int err) const;

  std::string path_;
  std::string what_;
  std::string temp_;
  int fd_ = -1;
};

/// fsyncs the directory holding `path`, so renames into it are durable.
Status sync_directory_of(const std::string &path, const std::string &what);

/// Replaces `path` by `parts` atomically and durably (write, commit, sync).
Status write_file_atomically(const std::string &path, std::initializer_list<std::string_view> parts,
                             const std::string &what);

} // namespace anet
