#pragma once
// Helpers for the training infrastructure's tests: scratch folders, whole
// files, and running a piece of a test in a forked child (for resource
// limits, signals that kill, and dropped privileges).

#include <grp.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

namespace anet::testing {

/// A fresh, empty temporary folder, removed with everything in it on destruction.
class ScratchDir {
public:
  ScratchDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "anet-train-test-XXXXXX").string();
    if (!mkdtemp(tmpl.data()))
      throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~ScratchDir() {
    std::error_code ec;
    // Give back permissions a test took away, so everything can be removed.
    for (auto it = std::filesystem::recursive_directory_iterator(path_, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec))
      if (it->is_directory(ec))
        ::chmod(it->path().c_str(), 0755);
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir &) = delete;
  ScratchDir &operator=(const ScratchDir &) = delete;

  /// The folder's path.
  const std::string &path() const { return path_; }
  /// path() + "/" + rel.
  std::string file(const std::string &rel) const { return path_ + "/" + rel; }

private:
  std::string path_;
};

/// The bytes of `path` ("" if it cannot be read).
inline std::string read_bytes(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

/// Writes `bytes` to `path`, replacing it.
inline void write_bytes(const std::string &path, const std::string &bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out)
    throw std::runtime_error("cannot write " + path);
}

/// The names of the files in `dir`, sorted.
inline std::vector<std::string> file_names(const std::string &dir) {
  std::vector<std::string> names;
  for (const auto &entry : std::filesystem::directory_iterator(dir))
    names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

/// How a forked child ended, and what its body returned.
struct ChildResult {
  bool exited = false; ///< ended by _exit (else by a signal)
  int exit_code = -1;  ///< when exited
  int signal = 0;      ///< when killed by a signal
  std::string output;  ///< the body's return value, when exited
};

/// Runs `body` in a forked child and reports how it ended. The child writes
/// body's result to a pipe and _exits with 0; nothing of gtest runs there.
inline ChildResult run_in_child(const std::function<std::string()> &body) {
  int fds[2];
  if (::pipe(fds) != 0)
    throw std::runtime_error("pipe failed");
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0)
    throw std::runtime_error("fork failed");
  if (pid == 0) {
    ::close(fds[0]);
    const std::string out = body();
    size_t written = 0;
    while (written < out.size()) {
      ssize_t n = ::write(fds[1], out.data() + written, out.size() - written);
      if (n <= 0)
        ::_exit(3);
      written += static_cast<size_t>(n);
    }
    ::_exit(0);
  }
  ::close(fds[1]);
  ChildResult result;
  char buf[4096];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;)
    result.output.append(buf, static_cast<size_t>(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  result.exited = WIFEXITED(status);
  result.exit_code = result.exited ? WEXITSTATUS(status) : -1;
  result.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  return result;
}

/// The user and group an unprivileged child runs as when the tests run as
/// root ("nobody" on most systems).
inline constexpr uid_t kUnprivilegedId = 65534;

/// In a forked child: gives up root, if the process has it, so that file
/// permissions apply (root ignores them). Returns "" or why it failed.
inline std::string drop_root() {
  if (::geteuid() != 0)
    return "";
  if (::setgroups(0, nullptr) != 0 || ::setgid(kUnprivilegedId) != 0 ||
      ::setuid(kUnprivilegedId) != 0)
    return "cannot drop root privileges";
  return "";
}

/// In a forked child: files written beyond `bytes` fail with EFBIG (as a
/// full disk fails with ENOSPC) instead of raising SIGXFSZ.
inline void limit_file_size(rlim_t bytes) {
  std::signal(SIGXFSZ, SIG_IGN);
  struct rlimit limit {
    bytes, bytes
  };
  ::setrlimit(RLIMIT_FSIZE, &limit);
}

} // namespace anet::testing
