// Plan files on disk. Writing is atomic so that an interrupted or failed
// compile never leaves a half-written plan where a good one was: the bytes
// go to a temporary file beside the target, are flushed with fsync, and
// replace the target by rename, after which the directory is synced so the
// rename itself survives a crash.

#include <atomic>
#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ir/plan.h"

namespace anet {
namespace {

Error io_error(const char *what, const std::string &path, int err) {
  return make_error(ExitCode::IO, what, " '", path, "': ", std::strerror(err));
}

// Writes all of `data`, retrying short writes and interrupted calls;
// returns 0 or an errno value.
int write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return errno;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return 0;
}

std::string directory_of(const std::string &path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos)
    return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

} // namespace

Status write_plan_file(const Plan &plan, const std::string &path) {
  ANET_ASSIGN_OR_RETURN(std::string bytes, serialize_plan(plan));

  static std::atomic<unsigned> counter{0};
  std::string temp;
  int fd = -1;
  while (fd < 0) {
    temp = path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
    fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && errno != EEXIST)
      return io_error("cannot create a temporary file for plan", path, errno);
  }
  // From here on a failure removes the temporary file and leaves `path` as it was.
  auto fail = [&](const char *what, int err) {
    if (fd >= 0)
      ::close(fd);
    ::unlink(temp.c_str());
    return io_error(what, path, err);
  };
  if (int err = write_all(fd, bytes))
    return fail("cannot write plan", err);
  if (::fsync(fd) != 0)
    return fail("cannot flush plan", errno);
  int closed = ::close(fd);
  fd = -1;
  if (closed != 0)
    return fail("cannot write plan", errno);
  if (::rename(temp.c_str(), path.c_str()) != 0)
    return fail("cannot replace plan", errno);

  std::string dir = directory_of(path);
  int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0)
    return io_error("cannot open the directory to sync plan", path, errno);
  int synced = ::fsync(dir_fd);
  int err = errno;
  ::close(dir_fd);
  if (synced != 0)
    return io_error("cannot sync the directory of plan", path, err);
  return {};
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
