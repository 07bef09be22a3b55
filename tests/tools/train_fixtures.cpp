/// Helpers for the training CLI tests (see train_fixtures.h).

#include "tests/tools/train_fixtures.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

extern char **environ;

namespace anet::testing {

RunResult anetc(const std::vector<std::string> &args) { return run_program(ANETC_PATH, args); }

RunResult anetrun(const std::vector<std::string> &args) { return run_program(ANETRUN_PATH, args); }

RunResult anetrun_with_file_size_limit(int64_t max_file_kib, const std::vector<std::string> &args) {
  // bash counts -f in KiB; an ignored signal stays ignored across exec.
  std::vector<std::string> shell = {
      "-c", "trap '' XFSZ; ulimit -f " + std::to_string(max_file_kib) + "; exec \"$0\" \"$@\"",
      ANETRUN_PATH};
  shell.insert(shell.end(), args.begin(), args.end());
  return run_program("/bin/bash", shell);
}

bool contains(const std::string &s, const std::string &part) {
  return s.find(part) != std::string::npos;
}

void expect_failure(const RunResult &r, int code, const std::string &part) {
  EXPECT_EQ(r.signal, 0) << "crashed: " << r.err;
  EXPECT_EQ(r.exit_code, code) << r.err;
  EXPECT_TRUE(contains(r.err, "anetrun: error: ") || contains(r.err, "anetc: error: ")) << r.err;
  EXPECT_TRUE(contains(r.err, part)) << "expected '" << part << "' in: " << r.err;
}

Child::Child(const std::string &program, const std::vector<std::string> &args) {
  const std::string out = io_.path("stdout"), err = io_.path("stderr");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  std::vector<char *> argv;
  argv.push_back(const_cast<char *>(program.c_str()));
  for (const std::string &a : args)
    argv.push_back(const_cast<char *>(a.c_str()));
  argv.push_back(nullptr);
  const int rc = posix_spawn(&pid_, program.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0)
    throw std::runtime_error("cannot start " + program);
}

Child::~Child() {
  if (reaped_)
    return;
  ::kill(pid_, SIGKILL);
  while (::waitpid(pid_, &status_, 0) < 0 && errno == EINTR) {
  }
}

bool Child::running() {
  if (reaped_)
    return false;
  const pid_t done = ::waitpid(pid_, &status_, WNOHANG);
  if (done < 0 && errno != EINTR)
    throw std::runtime_error("waitpid failed");
  reaped_ = done == pid_;
  return !reaped_;
}

void Child::send(int signal) const {
  if (!reaped_)
    ::kill(pid_, signal);
}

RunResult Child::wait() {
  while (!reaped_) {
    if (::waitpid(pid_, &status_, 0) == pid_)
      reaped_ = true;
    else if (errno != EINTR)
      throw std::runtime_error("waitpid failed");
  }
  RunResult r;
  if (WIFEXITED(status_))
    r.exit_code = WEXITSTATUS(status_);
  if (WIFSIGNALED(status_))
    r.signal = WTERMSIG(status_);
  const auto out = read_bytes(io_.path("stdout")), err = read_bytes(io_.path("stderr"));
  r.out.assign(out.begin(), out.end());
  r.err.assign(err.begin(), err.end());
  return r;
}

std::vector<uint8_t> class_picture(int label, int index) {
  std::vector<uint8_t> p(28 * 28);
  uint32_t s = 2654435761u * static_cast<uint32_t>(index + 1);
  for (int y = 0; y < 28; ++y)
    for (int x = 0; x < 28; ++x) {
      s = s * 1103515245 + 12345;
      const bool bar = x >= 2 + 2 * label && x < 5 + 2 * label && y > 4 && y < 24;
      p[static_cast<size_t>(y * 28 + x)] = static_cast<uint8_t>((bar ? 200 : 0) + (s >> 27));
    }
  return p;
}

namespace {

void put_be32(std::vector<uint8_t> &out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<uint8_t>(v >> shift));
}

/// One split's IDX pair: <prefix>-images-idx3-ubyte and <prefix>-labels-idx1-ubyte.
void write_idx_split(const std::string &dir, const std::string &prefix, int count, int classes,
                     int first_index) {
  std::vector<uint8_t> images, labels;
  put_be32(images, 0x00000803);
  put_be32(images, static_cast<uint32_t>(count));
  put_be32(images, 28);
  put_be32(images, 28);
  put_be32(labels, 0x00000801);
  put_be32(labels, static_cast<uint32_t>(count));
  for (int i = 0; i < count; ++i) {
    const int label = i % classes;
    const std::vector<uint8_t> p = class_picture(label, first_index + i);
    images.insert(images.end(), p.begin(), p.end());
    labels.push_back(static_cast<uint8_t>(label));
  }
  write_bytes(dir + "/" + prefix + "-images-idx3-ubyte", images);
  write_bytes(dir + "/" + prefix + "-labels-idx1-ubyte", labels);
}

} // namespace

void write_idx_dataset(const std::string &dir, int train, int test, int classes) {
  write_idx_split(dir, "train", train, classes, 0);
  write_idx_split(dir, "t10k", test, classes, train);
}

void write_image_folder(const std::string &dir, int classes, int per_class) {
  for (const char *split : {"train", "val"})
    for (int c = 0; c < classes; ++c) {
      const std::string folder = dir + "/" + split + "/class" + std::to_string(c);
      std::filesystem::create_directories(folder);
      for (int i = 0; i < per_class; ++i) {
        // The 28x28 picture, nearest-neighbour scaled to 36x36, as RGB.
        const std::vector<uint8_t> grey = class_picture(c, i);
        std::vector<uint8_t> rgb;
        for (int y = 0; y < 36; ++y)
          for (int x = 0; x < 36; ++x) {
            const uint8_t v = grey[static_cast<size_t>(y * 28 / 36 * 28 + x * 28 / 36)];
            rgb.insert(rgb.end(), {v, static_cast<uint8_t>(v / 2), static_cast<uint8_t>(255 - v)});
          }
        write_bytes(folder + "/" + std::to_string(i) + ".png", encode_png_rgb8(36, 36, rgb));
      }
    }
}

std::vector<std::string> read_lines(const std::string &path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  return lines;
}

void prepare_training_suite(const ScratchDir &dir) {
  ::setenv("HOME", dir.dir().c_str(), 1);
  RunResult r = anetc({"model", "alexnet-mini", "-o", dir.path("mini.onnx"), "--seed", "7"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = anetc({"compile", dir.path("mini.onnx"), "-o", dir.path("train.plan"), "--mode", "train",
             "--batch", "2", "--init", "paper"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::filesystem::create_directory(dir.path("idx"));
  write_idx_dataset(dir.path("idx"), 8, 4, 4);
}

} // namespace anet::testing
