#pragma once
/// Progress display for long work (training epochs, evaluation, dataset
/// statistics). On a terminal one line is redrawn in place with a bar, the
/// rate, the time left and the caller's fields (loss, error rates); in a
/// log file (not a terminal) a plain line is printed every few seconds and
/// at the end, so logs stay readable.

#include <cstdint>
#include <cstdio>
#include <functional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace anet {

/// Whether `file` is a terminal (isatty): what Progress's `terminal` should be.
bool is_terminal(std::FILE *file);

/// Seconds on a monotonic clock.
using ProgressClock = std::function<double()>;

/// Named values shown after the rate, in order: {"loss", "0.123"}.
using ProgressFields = std::vector<std::pair<std::string, std::string>>;

/// How a Progress reports.
struct ProgressOptions {
  std::string unit = "it";        ///< what a unit is called in the rate ("img" -> "img/s")
  int64_t initial = 0;            ///< units already done at construction (a resumed run)
  double redraw_interval_s = 0.1; ///< terminal: least time between redraws
  double plain_interval_s = 10.0; ///< not a terminal: time between lines
  int bar_width = 24;             ///< terminal: characters inside the bar
  ProgressClock clock = {};       ///< empty: std::chrono::steady_clock
};

/// Reports the progress of `total` units of work (0: unknown) to `out`.
///
/// Terminal line, redrawn with '\r' at most every redraw_interval_s:
///   `train [=========>              ]  40.0% 400/1000 12.5 img/s ETA 0:48  loss 0.123`
/// Plain line, every plain_interval_s and at finish():
///   `train 400/1000 (40.0%) 12.5 img/s ETA 0:48  loss 0.123`
/// With an unknown total there is no bar, percentage or ETA. The rate is
/// the units done since construction over the time since construction.
class Progress {
public:
  /// Starts the clock. `terminal`: redraw one line (see is_terminal).
  Progress(std::string label, int64_t total, std::ostream &out, bool terminal,
           ProgressOptions options = {});
  /// Ends an unfinished terminal line, so later output starts on its own.
  ~Progress();
  Progress(const Progress &) = delete;
  Progress &operator=(const Progress &) = delete;

  /// `done` units are finished; shows it if the interval has passed.
  void update(int64_t done, const ProgressFields &fields = {});

  /// Shows the final state (units done as of the last update, the elapsed
  /// time instead of the ETA) and ends the line.
  void finish(const ProgressFields &fields = {});

private:
  std::string body(double now, const ProgressFields &fields, bool final) const;
  void draw(double now, const ProgressFields &fields, bool final);

  std::string label_;
  int64_t total_;
  std::ostream &out_;
  bool terminal_;
  ProgressOptions opt_;
  double start_ = 0;
  double last_output_ = 0;
  int64_t done_ = 0;
  bool drawn_ = false;    ///< something is on the current terminal line
  size_t last_width_ = 0; ///< length of the last terminal line
  bool finished_ = false;
};

} // namespace anet
