// Whole-file reads with POSIX calls, so errors carry the system's reason.

#include "ir/read_file.h"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace anet {
namespace {

Error io_error(const char *doing, const std::string &what, const std::string &path, int err) {
  return make_error(ExitCode::IO, doing, " ", what, " '", path, "': ", std::strerror(err));
}

} // namespace

Expected<std::string> read_whole_file(const std::string &path, const std::string &what) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return io_error("cannot open", what, path, errno);
  struct stat st {};
  if (::fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
    int err = S_ISDIR(st.st_mode) ? EISDIR : errno;
    ::close(fd);
    return io_error("cannot read", what, path, err);
  }
  std::string bytes;
  bytes.reserve(static_cast<size_t>(st.st_size));
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return io_error("cannot read", what, path, err);
    }
    if (n == 0)
      break;
    bytes.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return bytes;
}

} // namespace anet
