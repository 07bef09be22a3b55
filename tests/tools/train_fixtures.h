#pragma once
/// Helpers for the tests of `anetrun train`, `eval` and `export`
/// (train_cli_test.cpp, train_errors_test.cpp): the built tools as
/// functions, a run under a file-size limit (a full disk), a child process
/// that can be signalled while it trains, tiny datasets of known content in
/// both layouts (IDX and ImageFolder), and the checks of a failed run.

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "tests/tools/fixtures.h"

namespace anet::testing {

/// Runs the built anetc with `args` and waits for it.
RunResult anetc(const std::vector<std::string> &args);

/// Runs the built anetrun with `args` and waits for it.
RunResult anetrun(const std::vector<std::string> &args);

/// Runs anetrun with RLIMIT_FSIZE at `max_file_kib` KiB and SIGXFSZ
/// ignored, so that a write past the limit fails with EFBIG as it would on
/// a full disk.
RunResult anetrun_with_file_size_limit(int64_t max_file_kib, const std::vector<std::string> &args);

/// Whether `part` occurs in `s`.
bool contains(const std::string &s, const std::string &part);

/// Checks a failed anetrun or anetc run: its exit code, "anetrun: error: "
/// or "anetc: error: " on stderr with `part` in the message, and nothing
/// that looks like a crash.
void expect_failure(const RunResult &r, int code, const std::string &part);

/// A program started in the background with its output going to files, so
/// that a test can watch its side effects and signal it while it runs.
class Child {
public:
  /// Starts `program` with `args` (argv[1..]).
  Child(const std::string &program, const std::vector<std::string> &args);
  /// Kills and reaps the child if the test did not wait() for it.
  ~Child();
  Child(const Child &) = delete;
  Child &operator=(const Child &) = delete;

  /// Whether the child has not exited yet (reaps it when it has).
  bool running();
  /// Sends `signal` to the child.
  void send(int signal) const;
  /// Waits for the child to end; its exit status and output.
  RunResult wait();

private:
  ScratchDir io_;
  pid_t pid_ = -1;
  bool reaped_ = false;
  int status_ = 0;
};

/// A 28x28 grey picture of class `label` (a bright bar whose position
/// depends on the class, on faint noise that depends on `index`), HW bytes.
std::vector<uint8_t> class_picture(int label, int index);

/// An IDX dataset in the existing folder `dir`: `train` training images and
/// `test` test images (t10k-*), 28x28, labels cycling over `classes`.
void write_idx_dataset(const std::string &dir, int train, int test, int classes);

/// An ImageFolder dataset in the existing folder `dir`: train/ and val/,
/// each with `classes` folders class<c>/ of `per_class` 36x36 RGB PNGs
/// (train/class<c>/<i>.png), made from class_picture.
void write_image_folder(const std::string &dir, int classes, int per_class);

/// The lines of a text file ("" lines included; none if it cannot be read).
std::vector<std::string> read_lines(const std::string &path);

/// What the trainer suites share, made once per suite in `dir` (which also
/// becomes $HOME, so statistics caches stay inside it): alexnet-mini as
/// `mini.onnx`, compiled for training at batch 2 with the paper's
/// initialisation as `train.plan`, and a tiny IDX dataset in `idx/`.
/// Failures are reported as test failures.
void prepare_training_suite(const ScratchDir &dir);

} // namespace anet::testing
