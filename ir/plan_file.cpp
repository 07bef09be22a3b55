// Plan files on disk. Writing is atomic (ir/atomic_file.h) so that an
// interrupted or failed compile never leaves a half-written plan where a
// good one was.

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ir/atomic_file.h"
#include "ir/plan.h"

namespace anet {
namespace {

Error io_error(const char *what, const std::string &path, int err) {
  return make_error(ExitCode::IO, what, " '", path, "': ", std::strerror(err));
}

} // namespace

Status write_plan_file(const Plan &plan, const std::string &path) {
  ANET_ASSIGN_OR_RETURN(std::string bytes, serialize_plan(plan));
  return write_file_atomically(path, {bytes}, "plan");
}

Expected<Plan> read_plan_file(const std::string &path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return io_error("cannot open plan", path, errno);
  struct stat st {};
  if (::fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
    int err = S_ISDIR(st.st_mode) ? EISDIR : errno;
    ::close(fd);
    return io_error("cannot read plan", path, err);
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
      return io_error("cannot read plan", path, err);
    }
    if (n == 0)
      break;
    bytes.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return deserialize_plan(bytes, path);
}

} // namespace anet
