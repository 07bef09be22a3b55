#include "ir/atomic_file.h"

#include <atomic>
#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <unistd.h>

namespace anet {
namespace {

Error io_error_for(const char *doing, const std::string &what, const std::string &path, int err) {
  return make_error(ExitCode::IO, doing, " ", what, " '", path, "': ", std::strerror(err));
}

std::string directory_of(const std::string &path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos)
    return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

} // namespace

AtomicFile::AtomicFile(std::string path, std::string what)
    : path_(std::move(path)), what_(std::move(what)) {}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0)
    ::close(fd_);
  if (!temp_.empty())
    ::unlink(temp_.c_str());
}

Error AtomicFile::io_error(const char *doing, int err) const {
  return io_error_for(doing, what_, path_, err);
}

Status AtomicFile::write(std::initializer_list<std::string_view> parts) {
  static std::atomic<unsigned> counter{0};
  while (fd_ < 0) {
    temp_ = path_ + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
    fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd_ < 0 && errno != EEXIST) {
      int err = errno;
      temp_.clear();
      return io_error("cannot create a temporary file for", err);
    }
  }
  for (std::string_view part : parts) {
    while (!part.empty()) {
      ssize_t n = ::write(fd_, part.data(), part.size());
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return io_error("cannot write", errno);
      part.remove_prefix(static_cast<size_t>(n));
    }
  }
  if (::fsync(fd_) != 0)
    return io_error("cannot flush", errno);
  int closed = ::close(fd_);
  fd_ = -1;
  if (closed != 0)
    return io_error("cannot write", errno);
  return {};
}

Status AtomicFile::commit() {
  if (::rename(temp_.c_str(), path_.c_str()) != 0)
    return io_error("cannot replace", errno);
  temp_.clear();
  return {};
}

Status sync_directory_of(const std::string &path, const std::string &what) {
  int fd = ::open(directory_of(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return io_error_for("cannot open the directory to sync", what, path, errno);
  int synced = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (synced != 0)
    return io_error_for("cannot sync the directory of", what, path, err);
  return {};
}

Status write_file_atomically(const std::string &path, std::initializer_list<std::string_view> parts,
                             const std::string &what) {
  AtomicFile file(path, what);
  ANET_RETURN_IF_ERR(file.write(parts));
  ANET_RETURN_IF_ERR(file.commit());
  return sync_directory_of(path, what);
}

} // namespace anet
