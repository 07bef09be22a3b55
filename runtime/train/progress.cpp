// The progress display: line formatting, and when to draw.

#include "runtime/train/progress.h"

#include <algorithm>
#include <cassert>
#include <chrono>
#include <cmath>
#include <cstdio>

#include <unistd.h>

namespace anet {
namespace {

double steady_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// "0:07", "12:34", "3:02:09".
std::string duration_text(double seconds) {
  const auto s = static_cast<int64_t>(std::clamp(seconds, 0.0, 1e9) + 0.5);
  char buf[48];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", static_cast<long long>(s / 3600),
                  static_cast<long long>(s / 60 % 60), static_cast<long long>(s % 60));
  else
    std::snprintf(buf, sizeof buf, "%lld:%02lld", static_cast<long long>(s / 60),
                  static_cast<long long>(s % 60));
  return buf;
}

// Three significant digits or so: "4.52", "45.2", "452".
std::string rate_text(double rate) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*f", rate < 10 ? 2 : rate < 100 ? 1 : 0, rate);
  return buf;
}

} // namespace

bool is_terminal(std::FILE *file) { return ::isatty(::fileno(file)) == 1; }

Progress::Progress(std::string label, int64_t total, std::ostream &out, bool terminal,
                   ProgressOptions options)
    : label_(std::move(label)), total_(total), out_(out), terminal_(terminal),
      opt_(std::move(options)) {
  assert(total_ >= 0 && "a total of work is never negative");
  if (!opt_.clock)
    opt_.clock = steady_seconds;
  start_ = last_output_ = opt_.clock();
  done_ = opt_.initial;
}

Progress::~Progress() {
  if (terminal_ && drawn_ && !finished_)
    out_ << '\n' << std::flush;
}

std::string Progress::body(double now, const ProgressFields &fields, bool final) const {
  const double elapsed = now - start_;
  const int64_t progressed = done_ - opt_.initial;
  const double rate = elapsed > 0 && progressed > 0 ? progressed / elapsed : 0;
  std::string s;
  if (total_ > 0) {
    // Right-aligned on a terminal, so the bar does not jitter.
    char pct[32];
    std::snprintf(pct, sizeof pct, terminal_ ? "%5.1f%%" : "%.1f%%",
                  100.0 * std::clamp<int64_t>(done_, 0, total_) / total_);
    const std::string count = std::to_string(done_) + "/" + std::to_string(total_);
    s = terminal_ ? std::string(pct) + " " + count : count + " (" + pct + ")";
  } else {
    s = std::to_string(done_) + " " + opt_.unit;
  }
  s += " " + (rate > 0 ? rate_text(rate) : std::string("--")) + " " + opt_.unit + "/s";
  if (final)
    s += " in " + duration_text(elapsed);
  else if (total_ > 0 && rate > 0)
    s += " ETA " + duration_text(std::max<int64_t>(total_ - done_, 0) / rate);
  for (const auto &[name, value] : fields)
    s += "  " + name + " " + value;
  return s;
}

void Progress::draw(double now, const ProgressFields &fields, bool final) {
  last_output_ = now;
  if (!terminal_) {
    out_ << label_ << ' ' << body(now, fields, final) << '\n' << std::flush;
    return;
  }
  std::string line = label_ + ' ';
  if (total_ > 0) {
    const int width = std::max(opt_.bar_width, 1);
    const double fraction = std::clamp(static_cast<double>(done_) / total_, 0.0, 1.0);
    const int filled = static_cast<int>(fraction * width);
    std::string bar(static_cast<size_t>(width), ' ');
    std::fill_n(bar.begin(), filled, '=');
    if (filled < width && done_ > 0)
      bar[static_cast<size_t>(filled)] = '>';
    line += '[' + bar + "] ";
  }
  line += body(now, fields, final);
  // Blank out what is left of a longer previous line.
  const size_t width = line.size();
  if (line.size() < last_width_)
    line.append(last_width_ - line.size(), ' ');
  last_width_ = width;
  out_ << '\r' << line;
  if (final)
    out_ << '\n';
  out_ << std::flush;
  drawn_ = !final;
}

void Progress::update(int64_t done, const ProgressFields &fields) {
  assert(!finished_ && "update after finish");
  done_ = done;
  const double now = opt_.clock();
  const double interval = terminal_ ? opt_.redraw_interval_s : opt_.plain_interval_s;
  if ((terminal_ && !drawn_) || now - last_output_ >= interval)
    draw(now, fields, false);
}

void Progress::finish(const ProgressFields &fields) {
  assert(!finished_ && "finish twice");
  draw(opt_.clock(), fields, true);
  finished_ = true;
}

} // namespace anet
